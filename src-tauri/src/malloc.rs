//! glibc's allocator, set for an app that is idle most of its life. Both settings were
//! measured by scripts/bench/footprint.sh (crates/switchboard-bench/BENCHMARKS.md,
//! "Footprint"). Elsewhere than glibc both do nothing.

/// How long after the window is sent to the relay's page the start's leftovers go back:
/// by then the page has loaded and opened its live feed (≈ 0.2 s here).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const SETTLED: std::time::Duration = std::time::Duration::from_secs(3);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::os::raw::c_int;

    extern "C" {
        pub fn mallopt(param: c_int, value: c_int) -> c_int;
        pub fn malloc_trim(pad: usize) -> c_int;
    }

    /// From glibc's malloc.h.
    pub const M_ARENA_MAX: c_int = -8;
}

/// glibc gives each thread that allocates an arena of its own (up to 8 per core), each
/// keeping the pages it touched; the app's process runs some twenty threads (GTK, WebKit's
/// UI side, D-Bus, the relay's runtime), nearly all idle. Two arenas: 1–2.5 MB less idle
/// PSS. Called before any thread exists; MALLOC_ARENA_MAX in the environment still wins.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread runs yet.
        unsafe {
            glibc::mallopt(glibc::M_ARENA_MAX, 2);
        }
    }
}

/// The start frees most of what it allocates (the database's schema check, the settings
/// and the bot's flow parsed, TLS set-up, Tauri's permission manifests), and glibc keeps
/// those pages for later allocations: its heaps shrink by themselves only from their top.
/// Once the window shows the relay, the free pages inside them go back to the system,
/// once: 1.7 MB less idle PSS of the app's own process, measured.
pub fn give_back_after_start() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| {
                std::thread::sleep(SETTLED);
                // SAFETY: malloc_trim only returns free pages; it takes the arenas' locks
                // like any allocation.
                unsafe {
                    glibc::malloc_trim(0);
                }
            });
        if let Err(e) = spawned {
            tracing::debug!(error = %e, "the start's free memory stays with the allocator");
        }
    }
}
