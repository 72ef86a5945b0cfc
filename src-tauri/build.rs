//! Tauri needs its build step to embed the app context (config, icons, boot page).
//!
//! Optimised builds also lay out the functions a start runs side by side
//! (`start.order`, written by `scripts/bench/start-order.sh`): the kernel maps a
//! binary's code 64 kB around every page a start touches, so scattered start code kept
//! nearly all 12.5 MB of code resident in an idle app. Names the build does not have any
//! more are skipped, so a stale list costs only that layout, never the build.
fn main() {
    println!("cargo:rerun-if-changed=start.order");
    println!("cargo:rerun-if-env-changed=SWITCHBOARD_NO_START_ORDER");
    println!("cargo:rerun-if-env-changed=SWITCHBOARD_LINK_MAP");
    let optimised = std::env::var("PROFILE").as_deref() == Ok("release");
    let wanted = std::env::var_os("SWITCHBOARD_NO_START_ORDER").is_none();
    // The flags below are LLD's, which rustc links x86_64 Linux binaries with by default;
    // another linker set up there may refuse them: SWITCHBOARD_NO_START_ORDER=1 turns off
    // both the ordering and the packed relocations then.
    let lld = std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu");
    if optimised && wanted && lld {
        let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("start.order");
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        // The 50,000 relative relocations of a position-independent binary, packed
        // (DT_RELR, glibc 2.36 and later): the loader read 1.1 MB of `.rela.dyn` at every
        // start and that stayed mapped; packed it is a few kB.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        // Where each function landed, for the start trace: a build with its symbols kept
        // would not do, since cargo gives it other crate hashes and so other names.
        if let Some(map) = std::env::var_os("SWITCHBOARD_LINK_MAP") {
            println!(
                "cargo:rustc-link-arg-bins=-Wl,-Map={}",
                map.to_string_lossy()
            );
            // The names as the ordering file needs them.
            println!("cargo:rustc-link-arg-bins=-Wl,--no-demangle");
        }
    }
    tauri_build::build()
}
