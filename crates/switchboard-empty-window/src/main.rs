//! An empty Tauri 2 window: the floor of what any Tauri app on this WebKitGTK costs to
//! start and to keep open. scripts/bench/footprint.sh starts it beside the desktop app
//! and gives the app's start time and idle memory as ratios to it. It is built only by
//! that script (not a default member of the workspace), in the same `cargo build` and
//! release profile as the app, so both link the same tauri, with the same features.
//!
//! What it shares with the app: the rendering switches (the very same source file,
//! src-tauri/src/rendering.rs) and the window's size. What it leaves out is what the
//! benchmark charges to the app: the relay, the plugins, the UI.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[path = "../../../src-tauri/src/rendering.rs"]
mod rendering;

use tauri::{WebviewUrl, WebviewWindowBuilder};

fn main() {
    rendering::configure_before_start();
    tauri::Builder::default()
        .setup(|app| {
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title("Empty window")
                .inner_size(1100.0, 760.0)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the empty Tauri window runs");
}
