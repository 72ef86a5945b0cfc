//! Tauri needs its build step to embed the app context (config, icons, boot page).
fn main() {
    tauri_build::build()
}
