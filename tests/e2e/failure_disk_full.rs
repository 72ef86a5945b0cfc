//! Disk full: the relay's data directory is on a small tmpfs the test fills to the last
//! page. A delivery that cannot be stored is answered 503 (so 8x8 retries), never 2xx;
//! the relay logs why; once there is room again 8x8's next retry is stored and
//! processed, without a restart.
//!
//! A real full filesystem rather than SQLite's `max_page_count`: that pragma belongs to
//! the connection that sets it and is not stored in the file, so a second connection
//! cannot limit the relay's own.

use std::time::Instant;

use switchboard_e2e::{
    agent_chat::{AgentChat, GUARD},
    emulator,
    small_disk::SmallDisk,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_8x8s_retry_is_processed_once_there_is_room() {
    let disk = match SmallDisk::mount(8 * 1024) {
        Ok(d) => d,
        Err(why) => {
            // Only root (CAP_SYS_ADMIN) can mount; the test command runs as root.
            eprintln!("SKIPPED: no filesystem of the test's own to fill: {why}");
            return;
        }
    };
    let chat = AgentChat::start(
        disk.path(),
        emulator::settings(150, 200, 10_000),
        None,
        |_| {},
    )
    .await;

    // Everything into the database file and the WAL emptied, so the next commit must
    // grow a file; then not one page left.
    let checkpoint: (i64, i64, i64) = chat
        .db()
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(checkpoint.0, 0, "checkpoint blocked: {checkpoint:?}");
    let filler = disk.fill();
    assert_eq!(disk.available(), 0);
    let full_since = Instant::now();

    let text = "said while the disk is full";
    let eid = chat.say(text).await;
    let refused = chat.wait_refused(&eid, 3).await;
    let logged = chat
        .relay
        .wait_for_log(&["could not be stored", "disk is full"], GUARD)
        .await;
    let filler_bytes = filler.written;
    filler.release();
    let room_again = Instant::now();
    let attempts = chat.wait_processed(&eid, text).await;
    let recovered_after = room_again.elapsed();
    let delivered = attempts.iter().find(|a| a.status == "delivered").unwrap();
    assert!(delivered.retry > 0, "delivered by a retry: {delivered:?}");
    // And the relay goes on as before.
    chat.say_and_wait_processed("said after the disk has room again")
        .await;

    println!("disk full (a tmpfs of 8 MiB, {filler_bytes} bytes of filler):");
    println!(
        "  8x8's attempts refused while full     {:>4}  (status {:?})",
        refused.len(),
        refused
            .iter()
            .map(|a| a.status_code.unwrap_or(0))
            .collect::<std::collections::BTreeSet<_>>()
    );
    println!(
        "  delivered by retry #{} and processed {:.2} s after the space came back (full for {:.2} s)",
        delivered.retry,
        recovered_after.as_secs_f64(),
        (room_again - full_since).as_secs_f64()
    );
    println!("  relay log: {logged}");
    chat.relay.stop();
    chat.sim.shutdown().await;
    drop(disk);
}
