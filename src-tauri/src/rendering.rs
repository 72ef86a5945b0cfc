//! How the window's page is drawn. WebKitGTK composites pages on the GPU by default and
//! keeps layers for it; where no GPU driver is loaded (a VM, a remote desktop, Xvfb) that
//! means Mesa's software OpenGL, with LLVM, in the page's process. For a page of forms
//! and lists that buys nothing and costs most of the desktop app's idle memory
//! (crates/switchboard-bench/BENCHMARKS.md, "Footprint"), so the window draws without it.
//! `SWITCHBOARD_GPU_COMPOSITING=1` keeps WebKit's default, for anyone who wants it back.
//! Its script runs the same way: without JavaScriptCore's compilers (below).
//!
//! The empty window the footprint benchmark measures the app against compiles this very
//! file (crates/switchboard-empty-window, `#[path]`), so both draw alike: it must stay
//! free of anything else of the app's (std only).

/// WebKit's own switch, read by the app's process and inherited by the page's process
/// when WebKit starts it. It has to be set before GTK and WebKit initialise: the
/// webview's hardware-acceleration policy, changed once the page exists, did not leave
/// compositing mode (measured: no change in memory).
const WEBKIT_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// JavaScriptCore's own switch, read by every process of WebKit's that runs script. Its
/// just-in-time compilers keep their code and profiles in the page's process for the life
/// of the page; the admin UI's script is small and mostly waits on the network and the
/// DOM, which the interpreter drives as well (Safari's Lockdown Mode runs the web without
/// them too). Measured: 8 MB less idle memory over the app's processes (6.3 MB of it the
/// page's), start unchanged (BENCHMARKS.md, "Footprint"). `SWITCHBOARD_JIT=1` gives the
/// compilers back.
const JIT_SWITCH: &str = "JSC_useJIT";

/// First thing in `main`, before any other thread exists (the environment is process-wide).
pub fn configure_before_start() {
    if !cfg!(target_os = "linux") {
        return;
    }
    if std::env::var("SWITCHBOARD_GPU_COMPOSITING").as_deref() != Ok("1")
        && std::env::var_os(WEBKIT_SWITCH).is_none()
    {
        std::env::set_var(WEBKIT_SWITCH, "1");
    }
    if std::env::var("SWITCHBOARD_JIT").as_deref() != Ok("1")
        && std::env::var_os(JIT_SWITCH).is_none()
    {
        std::env::set_var(JIT_SWITCH, "false");
    }
}
