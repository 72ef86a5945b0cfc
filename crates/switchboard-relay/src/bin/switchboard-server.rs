//! The relay without a window: for servers, containers and the browser tests. Settings
//! live in a JSON file in the data directory; API keys come from the OS keychain or from
//! environment variables.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;
use switchboard_relay::server_config::{self as cfg, ConfigError, ConfigFile, SecretsSource};
use switchboard_relay::{RelayConfig, SandboxMode};
use switchboard_settings::secrets::Secrets;
use switchboard_settings::settings::JsonFileSettings;

const AFTER_HELP: &str = "\
Precedence: flags, then environment variables, then the config file, then defaults.

Config file (JSON, every field optional):
  {\"dataDir\": \"/var/lib/switchboard\", \"endpointBind\": \"0.0.0.0:8787\", \"adminPort\": 8788,
   \"publicBaseUrl\": \"https://relay.example.com\", \"sandbox\": \"auto\", \"secrets\": \"env\",
   \"log\": \"info\", \"metricsBind\": \"0.0.0.0:9787\"}

Secrets (never in the config file):
  SWITCHBOARD_API_KEY           8x8 API key (x-api-key) for the endpoint role
  SWITCHBOARD_HANDOVER_API_KEY  8x8 API key for the handover role, if different
  SWITCHBOARD_COPILOT_JWT_SECRET      secret that signs the Copilot links, when signed links are on
  SWITCHBOARD_COPILOT_MODEL_API_KEY   API key of the Copilot's language model, if one is set
  SWITCHBOARD_METRICS_TOKEN     scrape token for /metrics (>= 32 characters, e.g. from
                                `openssl rand -hex 32`); unlike the admin token it survives
                                restarts and opens /metrics only

The admin UI listens on 127.0.0.1 only; open the printed link, which carries this
launch's access token. The endpoint listener is what 8x8 (through a tunnel or reverse
proxy) reaches: it serves only the webhook route.

Limits (README.md, \"Limits and timeouts\", lists them all): on both listeners a
request's headers must arrive within 10 s, which is also how long a kept-alive
connection may sit idle (then it is closed), and its body within 10 s (else 400). A
webhook body takes at most 1 MiB, an admin API body at most 2 MiB (else 413). Each
listener serves at most (open-files limit - 256) / 2 connections, between 32 and 16,384
(the soft open-files limit is raised to the hard one at start); at the cap a new
connection replaces the longest-idle one. A new signing key must be fetched within 5 s,
else the delivery gets 503 and 8x8 retries. Of rejected deliveries the newest 5,000 are
kept, with 4 KiB of body each.";

#[derive(Parser, Debug)]
#[command(
    name = "switchboard-server",
    version,
    about = "Switchboard relay without a window: connects a chatbot to the 8x8 Contact Center",
    after_help = AFTER_HELP
)]
struct Args {
    /// JSON config file.
    #[arg(long, env = "SWITCHBOARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where settings.json and the database live [default: $XDG_DATA_HOME/switchboard].
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL instead of the SQLite file in the data directory, shared by several
    /// relays (postgres://user:password@host:5432/db?sslmode=verify-full). Better from
    /// the environment: a flag's password shows in the process list. Never in the config
    /// file, never logged.
    #[arg(
        long,
        env = "SWITCHBOARD_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,
    /// Address of the endpoint listener (webhooks from 8x8) [default: 127.0.0.1:8787].
    #[arg(long, env = "SWITCHBOARD_ENDPOINT_BIND", value_name = "ADDR")]
    endpoint_bind: Option<String>,
    /// Port of the admin listener on 127.0.0.1; 0 picks a free port [default: 0].
    #[arg(long, env = "SWITCHBOARD_ADMIN_PORT", value_name = "PORT")]
    admin_port: Option<u16>,
    /// Public base URL of a tunnel or reverse proxy in front of the endpoint listener.
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Use the built-in 8x8 emulator: auto (when no API key is set), on, off [default: auto].
    #[arg(long, env = "SWITCHBOARD_SANDBOX", value_name = "MODE")]
    sandbox: Option<String>,
    /// Where API keys come from: keychain (environment variables win) or env [default: keychain].
    #[arg(long, env = "SWITCHBOARD_SECRETS", value_name = "SOURCE")]
    secrets: Option<String>,
    /// Log filter, e.g. info or switchboard_relay=debug [default: info].
    #[arg(long, env = "SWITCHBOARD_LOG", value_name = "FILTER")]
    log: Option<String>,
    /// Log lines on stderr as text, or as one JSON object a line for a log shipper
    /// (journald, Loki, Elasticsearch) [default: text].
    #[arg(
        long,
        env = "SWITCHBOARD_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum
    )]
    log_format: Option<LogFormat>,
    /// Also serve /metrics, and nothing else, on this address for a scraper on another
    /// machine; only to SWITCHBOARD_METRICS_TOKEN, which it then requires [default: off].
    #[arg(long, env = "SWITCHBOARD_METRICS_BIND", value_name = "ADDR")]
    metrics_bind: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LogFormat {
    #[default]
    Text,
    Json,
}

struct Resolved {
    relay: RelayConfig,
    metrics_bind: Option<std::net::SocketAddr>,
    log: String,
    log_format: LogFormat,
}

fn resolve(args: Args) -> Result<Resolved, ConfigError> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let endpoint_bind = cfg::parse_endpoint_bind(
        args.endpoint_bind
            .or(file.endpoint_bind)
            .as_deref()
            .unwrap_or(cfg::DEFAULT_ENDPOINT_BIND),
    )?;
    let sandbox = match args.sandbox.or(file.sandbox) {
        Some(s) => cfg::parse_sandbox(&s)?,
        None => SandboxMode::Auto,
    };
    let secrets_source = match args.secrets.or(file.secrets) {
        Some(s) => cfg::parse_secrets(&s)?,
        None => SecretsSource::Keychain,
    };
    let metrics_bind = args
        .metrics_bind
        .or(file.metrics_bind)
        .map(|raw| cfg::parse_metrics_bind(&raw))
        .transpose()?;
    let public_base_url = args.public_url.or(file.public_base_url);
    if let Some(url) = &public_base_url {
        switchboard_settings::settings::check_public_base_url(url).map_err(|message| {
            ConfigError::Invalid {
                field: "publicUrl",
                message,
            }
        })?;
    }
    let database_url = args
        .database
        .map(|url| cfg::check_database_url(&url).map(|()| url))
        .transpose()?;
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(cfg::default_data_dir);
    let secrets = match secrets_source {
        SecretsSource::Keychain => Secrets::system(),
        SecretsSource::Env => Secrets::in_memory(),
    }
    .with_env_overrides();
    Ok(Resolved {
        metrics_bind,
        log_format: args.log_format.unwrap_or_default(),
        log: args.log.or(file.log).unwrap_or_else(|| "info".into()),
        relay: RelayConfig {
            endpoint_bind,
            admin_port: args.admin_port.or(file.admin_port).unwrap_or(0),
            settings_store: Arc::new(JsonFileSettings::new(data_dir.join("settings.json"))),
            data_dir,
            secrets: Arc::new(secrets),
            sandbox,
            public_base_url,
            shell: "server".into(),
            database_url,
        },
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let resolved = match resolve(Args::parse()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchboard-server: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&resolved.log).unwrap_or_else(|e| {
        eprintln!(
            "switchboard-server: ignoring the log filter {:?}: {e}",
            resolved.log
        );
        tracing_subscriber::EnvFilter::new("info")
    });
    // Colours only for a terminal: the journal and a log file would keep the escape codes.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    switchboard_relay::log_destination::set(
        switchboard_relay::log_destination::LogDestination::Stderr {
            format: match resolved.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }
            .into(),
        },
    );
    match resolved.log_format {
        LogFormat::Text => logs.init(),
        // Span fields would repeat on every line; the event's own fields and its target
        // are what a shipper indexes.
        LogFormat::Json => logs.json().with_current_span(false).init(),
    }

    // A weak scrape token is refused before anything listens, whether or not the
    // scrape listener is on: the admin listener's /metrics takes it too.
    if let Err(e) = switchboard_relay::scrape::configured_token(&resolved.relay.secrets).await {
        eprintln!("switchboard-server: {e}");
        return ExitCode::from(2);
    }
    let metrics_bind = resolved.metrics_bind;
    let data_dir = resolved.relay.data_dir.clone();
    // Listening for the stop signals before anything says "ready": a supervisor (or a
    // test) that sends SIGTERM as soon as it reads the ready lines must get a clean stop,
    // not the default action of the signal.
    let stop = stop_signal();
    let handle = match switchboard_relay::start(resolved.relay).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("switchboard-server: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scrape = match metrics_bind {
        Some(addr) => match switchboard_relay::scrape::start(addr, handle.state.clone()).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                eprintln!("switchboard-server: cannot start: {e}");
                handle.shutdown().await;
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let status = switchboard_relay::admin::status_of(&handle.state).await;
    println!("Switchboard relay is ready.");
    println!("  Admin UI:     {}", handle.admin_url());
    println!("  Endpoint URL: {}", status.endpoint.url);
    if status.endpoint.local_only {
        println!("                (local only: 8x8's cloud cannot reach it; put a tunnel or reverse proxy in front and pass --public-url)");
    }
    match &status.sandbox.base_url {
        Some(url) => println!("  Sandbox:      on, 8x8 emulator at {url}"),
        None => println!(
            "  Sandbox:      off, calling {}",
            status.connection.effective_base_url
        ),
    }
    if let Some(scrape) = &scrape {
        println!(
            "  Metrics:      http://{}/metrics (scrape token required)",
            scrape.addr
        );
    }
    println!("  Data:         {}", data_dir.display());
    println!("Press Ctrl+C to stop.");

    stop.await;
    eprintln!("switchboard-server: stopping");
    if let Some(scrape) = scrape {
        scrape.stop().await;
    }
    handle.shutdown().await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl+C or SIGTERM. The handlers are installed when this is called, not
/// when it is awaited.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).expect("SIGTERM handler installs"),
            signal(SignalKind::interrupt()).expect("SIGINT handler installs"),
        )
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(());
    });
    async move {
        let _ = rx.await;
    }
}
