//! The notification plugin without the script it adds to every page.
//!
//! tauri-plugin-notification's script replaces the page's `Notification` and, on every
//! page load, asks the plugin over IPC whether notifications are allowed. The answer comes
//! back through JavaScriptCore in the app's own process, which that one call brings into
//! memory: 2.3 MB of an idle app (BENCHMARKS.md, Footprint). The app shows its
//! notifications from Rust, and the window's page (the relay's admin UI) may not call the
//! plugin (no capability names it), so the script only ever cost that memory.

use serde_json::Value;
use tauri::ipc::Invoke;
use tauri::plugin::Plugin;
use tauri::webview::PageLoadPayload;
use tauri::{AppHandle, RunEvent, Runtime, Url, Webview, Window};

/// Every hook of the plugin but its page script: `initialization_script` keeps the
/// trait's default, none.
pub struct WithoutScript<P>(pub P);

impl<R: Runtime, P: Plugin<R>> Plugin<R> for WithoutScript<P> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn initialize(
        &mut self,
        app: &AppHandle<R>,
        config: Value,
    ) -> Result<(), Box<dyn std::error::Error>> {
        self.0.initialize(app, config)
    }

    fn window_created(&mut self, window: Window<R>) {
        self.0.window_created(window)
    }

    fn webview_created(&mut self, webview: Webview<R>) {
        self.0.webview_created(webview)
    }

    fn on_navigation(&mut self, webview: &Webview<R>, url: &Url) -> bool {
        self.0.on_navigation(webview, url)
    }

    fn on_page_load(&mut self, webview: &Webview<R>, payload: &PageLoadPayload<'_>) {
        self.0.on_page_load(webview, payload)
    }

    fn on_event(&mut self, app: &AppHandle<R>, event: &RunEvent) {
        self.0.on_event(app, event)
    }

    fn extend_api(&mut self, invoke: Invoke<R>) -> bool {
        self.0.extend_api(invoke)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_keeps_its_name_and_loses_only_its_page_script() {
        let plain = tauri_plugin_notification::init::<tauri::Wry>();
        assert!(
            Plugin::initialization_script_2(&plain).is_some(),
            "the plugin no longer adds a page script: this wrapper can go"
        );
        let wrapped = WithoutScript(tauri_plugin_notification::init::<tauri::Wry>());
        assert!(Plugin::<tauri::Wry>::initialization_script_2(&wrapped).is_none());
        assert_eq!(Plugin::<tauri::Wry>::name(&wrapped), "notification");
    }
}
