//! The desktop shell: starts the embedded relay and opens a window on the UI its admin
//! listener serves, so the window shows exactly what the headless server and the browser
//! tests show. Everything else lives in the crates under crates/ (the relay wires them).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod log_file;
mod malloc;
mod notifications;
mod rendering;
mod settings_store;
#[cfg(test)]
mod window_csp;

use std::sync::{Arc, Mutex};

use switchboard_relay::{RelayConfig, RelayHandle, SandboxMode};
use switchboard_settings::secrets::Secrets;
use tauri::{Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_store::StoreExt;

/// The relay outlives no window: it is stopped when the app exits.
struct Relay(Mutex<Option<RelayHandle>>);

fn main() {
    malloc::limit_arenas();
    rendering::configure_before_start();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            // A second launch brings the running window forward instead of a second relay.
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_store::Builder::default().build())
        // Used from Rust only: the window (the relay's admin UI, an http origin) is given
        // no permission to call it, so no capability names it, and it gets no page script.
        .plugin(notifications::WithoutScript(
            tauri_plugin_notification::init(),
        ))
        .setup(|app| {
            let log_dir = app.path().app_log_dir().map_err(|e| e.to_string());
            log_file::init(log_dir.as_deref().map_err(Clone::clone));
            // The window opens at once on the boot page ("Starting…") while the relay
            // starts beside it (key generation, the sandbox's webhook registration): the
            // two no longer add up before anything is on screen (BENCHMARKS.md, Footprint).
            app.manage(Relay(Mutex::new(None)));
            let handle = app.handle().clone();
            let window =
                WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                    .title("Switchboard")
                    .inner_size(1100.0, 760.0)
                    .min_inner_size(720.0, 480.0)
                    .on_new_window(move |url, features| new_window(&handle, &url, features))
                    .build()?;
            let app = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let target = match start_relay(&app).await {
                    Ok(handle) => {
                        let admin = handle.admin_url();
                        println!("Switchboard relay is ready.\n  Admin UI: {admin}");
                        notifications::start(&app, &handle);
                        if let Ok(mut relay) = app.state::<Relay>().0.lock() {
                            *relay = Some(handle);
                        }
                        admin.parse::<tauri::Url>().map_err(|e| e.to_string())
                    }
                    Err(message) => {
                        eprintln!("switchboard: {message}");
                        // The boot page shows the reason it finds in its fragment.
                        window.url().map_err(|e| e.to_string()).map(|mut url| {
                            url.set_fragment(Some(&encode_fragment(&message)));
                            url
                        })
                    }
                };
                match target {
                    Ok(url) => match window.navigate(url) {
                        Ok(()) => malloc::give_back_after_start(),
                        Err(e) => eprintln!("switchboard: the window cannot show the relay: {e}"),
                    },
                    Err(e) => eprintln!("switchboard: the window cannot show the relay: {e}"),
                }
            });
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the Tauri app builds");
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            let handle = app
                .state::<Relay>()
                .0
                .lock()
                .ok()
                .and_then(|mut h| h.take());
            if let Some(handle) = handle {
                tauri::async_runtime::block_on(handle.shutdown());
            }
        }
    });
}

async fn start_relay(app: &tauri::AppHandle) -> Result<RelayHandle, String> {
    let data_dir = app
        .path()
        .app_data_dir()
        .map_err(|e| format!("no data directory: {e}"))?;
    let store = app
        .store("settings.json")
        .map_err(|e| format!("cannot open the settings store: {e}"))?;
    let settings = settings_store::PluginStoreSettings {
        store,
        location: data_dir.join("settings.json").display().to_string(),
    };
    let config = RelayConfig {
        endpoint_bind: env_or("SWITCHBOARD_ENDPOINT_BIND", "127.0.0.1:8787")?,
        admin_port: env_or("SWITCHBOARD_ADMIN_PORT", "0")?,
        data_dir,
        settings_store: Arc::new(settings),
        secrets: Arc::new(Secrets::system()),
        sandbox: env_or::<SandboxMode>("SWITCHBOARD_SANDBOX", "auto")?,
        public_base_url: std::env::var("SWITCHBOARD_PUBLIC_URL").ok(),
        shell: "desktop".into(),
        // The desktop app keeps its embedded SQLite file; PostgreSQL is for servers.
        database_url: None,
    };
    switchboard_relay::start(config)
        .await
        .map_err(|e| e.to_string())
}

/// The desktop app takes the same environment overrides as the headless server.
fn env_or<T: std::str::FromStr>(name: &str, default: &str) -> Result<T, String> {
    let raw = std::env::var(name).unwrap_or_else(|_| default.to_string());
    raw.parse()
        .map_err(|_| format!("{name}={raw:?} is not valid"))
}

fn encode_fragment(message: &str) -> String {
    message
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A link the UI opens in a new tab (the agent's Copilot page, "New tab" in the console)
/// opens in a window of its own: without this handler WebKitGTK opens nothing at all.
/// Only web pages; the window is related to the one that asked, as WebKitGTK requires.
fn new_window(
    app: &tauri::AppHandle,
    url: &tauri::Url,
    features: tauri::webview::NewWindowFeatures,
) -> tauri::webview::NewWindowResponse<tauri::Wry> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tauri::webview::NewWindowResponse;
    static OPENED: AtomicUsize = AtomicUsize::new(0);
    if !matches!(url.scheme(), "http" | "https") {
        return NewWindowResponse::Deny;
    }
    let label = format!("opened-{}", OPENED.fetch_add(1, Ordering::Relaxed));
    // WebKitGTK loads the requested page into the new view itself.
    let blank = WebviewUrl::External("about:blank".parse().expect("about:blank is a URL"));
    let built = WebviewWindowBuilder::new(app, label, blank)
        .window_features(features)
        .title(format!("Switchboard — {}", url.path()))
        .inner_size(1000.0, 760.0)
        .on_document_title_changed(|window, title| {
            let _ = window.set_title(&title);
        })
        .build();
    match built {
        Ok(window) => NewWindowResponse::Create { window },
        Err(e) => {
            // The address may carry a Copilot token: it is not logged.
            eprintln!("switchboard: a new window could not be opened: {e}");
            NewWindowResponse::Deny
        }
    }
}
