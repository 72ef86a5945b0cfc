//! The emulator as a program: for trying the relay by hand with curl.

use std::net::SocketAddr;
use std::path::PathBuf;

use chat_gateway_sim::{ApiKeySeed, QueueSeed, Seed, SimConfig};
use clap::Parser;

#[derive(Parser)]
#[command(
    about = "An emulator of the 8x8 Chat Gateway v1 API (the Switchboard sandbox)",
    long_about = "An emulator of the 8x8 Chat Gateway v1 API (the Switchboard sandbox).\n\n\
        The API is served under {base}/chat-gateway/v1/... as at https://api.8x8.com; the \
        control API (mock agent, web-chat customer, faults, event log) under {base}/sim/... \
        (see the crate's README.md). Without --config the sandbox seed is used: API key \
        'sandbox-key', tenant 'sandbox-tenant', queues 101 and 102 with mock agents."
)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        default_value = "127.0.0.1:8088",
        env = "CHAT_GATEWAY_SIM_LISTEN"
    )]
    listen: SocketAddr,
    /// A YAML/JSON seed file: customerId, apiKeys, queues (with agent scripts), webhooks,
    /// channels. Replaces the sandbox seed.
    #[arg(long, env = "CHAT_GATEWAY_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Extra API key, as KEY or KEY=TENANT1,TENANT2 (repeatable).
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// Extra queue without a mock agent, as ID=NAME (repeatable).
    #[arg(long = "queue")]
    queues: Vec<String>,
    /// Customer id sent as x-8x8-customer-id.
    #[arg(long)]
    customer_id: Option<String>,
    /// Waits before webhook retries, in ms, comma-separated (default 1000,10000,30000,90000).
    #[arg(long, value_delimiter = ',')]
    retry_schedule_ms: Option<Vec<u64>>,
    /// Do not send WEB_HOOK_VERIFY on webhook create/update.
    #[arg(long)]
    no_verify_webhooks: bool,
    /// Send the WEB_HOOK_VERIFY event unsigned.
    #[arg(long)]
    unsigned_verify: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "chat_gateway_sim=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut seed = match &args.config {
        Some(path) => match Seed::from_file(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
        },
        None => Seed::sandbox(),
    };
    let default_tenant = seed.tenant_id().to_string();
    for spec in &args.api_keys {
        let (key, tenants) = match spec.split_once('=') {
            Some((k, t)) => (k, t.split(',').map(str::to_string).collect()),
            None => (spec.as_str(), vec![default_tenant.clone()]),
        };
        seed.api_keys.push(ApiKeySeed {
            key: key.to_string(),
            tenants,
        });
    }
    for spec in &args.queues {
        let (id, name) = spec
            .split_once('=')
            .unwrap_or((spec.as_str(), spec.as_str()));
        seed.queues.push(QueueSeed {
            id: id.to_string(),
            name: name.to_string(),
            tenant: None,
            agent: None,
        });
    }
    if let Some(c) = args.customer_id {
        seed.customer_id = c;
    }
    let mut config = SimConfig::new(args.listen, seed);
    if let Some(s) = args.retry_schedule_ms {
        config.settings.retry_schedule_ms = s;
    }
    config.settings.verify_webhooks = !args.no_verify_webhooks;
    config.settings.sign_verify_events = !args.unsigned_verify;
    let keys: Vec<String> = config
        .seed
        .api_keys
        .iter()
        .map(|k| format!("{} (tenants: {})", k.key, k.tenants.join(", ")))
        .collect();
    match chat_gateway_sim::start(config).await {
        Ok(handle) => {
            eprintln!("API keys: {}", keys.join("; "));
            println!("chat-gateway-sim ready at {}", handle.base_url());
            let _ = tokio::signal::ctrl_c().await;
            handle.shutdown().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
