//! The web UI, embedded at build time from `ui/dist` (see build.rs).

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// Shown when the binary was built before the UI; says how to fix it.
pub const NOT_BUILT_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Switchboard</title>\
<h1>The web UI is not built into this binary</h1>\
<p>Build it first with <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, \
then rebuild the relay. The admin API itself is running.</p>";

pub fn get(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

pub fn is_built() -> bool {
    get("index.html").is_some()
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}
