//! Tauri's build step embeds the config and the blank page.
fn main() {
    tauri_build::build()
}
