//! Database locked: another process's connection holds SQLite's write lock for longer
//! than the relay's busy timeout. The delivery that cannot be stored meanwhile is
//! answered 503 (so 8x8 retries), never 2xx; the relay logs why; once the lock is gone
//! 8x8's next retry is stored and processed, without a restart.

use std::{sync::mpsc, time::Instant};

use switchboard_e2e::{
    agent_chat::{AgentChat, GUARD},
    emulator, one_failure_test_at_a_time,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_answers_503_and_8x8s_retry_is_processed_once_it_is_free() {
    let _turn = one_failure_test_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    // 8x8 waits for answers far longer than the relay waits for the lock, so what it
    // records is the relay's answer, not its own timeout.
    let chat = AgentChat::start(
        dir.path(),
        emulator::settings(150, 200, 60_000),
        None,
        |_| {},
    )
    .await;

    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let path = chat.relay.db_path();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        // EXCLUSIVE in WAL mode: the write lock; readers go on, writers wait.
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let since = Instant::now();
        locked_tx.send(()).unwrap();
        let _ = release_rx.recv();
        conn.execute_batch("ROLLBACK").unwrap();
        since.elapsed()
    });
    locked_rx.recv().unwrap();

    let text = "said while the database is locked";
    let eid = chat.say(text).await;
    let refused = chat.wait_refused(&eid, 1).await;
    let logged = chat
        .relay
        .wait_for_log(&["could not be stored", "database is locked"], GUARD)
        .await;
    release_tx.send(()).unwrap();
    let held_for = holder.join().unwrap();
    let released = Instant::now();
    let attempts = chat.wait_processed(&eid, text).await;
    let recovered_after = released.elapsed();
    let delivered = attempts.iter().find(|a| a.status == "delivered").unwrap();
    assert!(delivered.retry > 0, "delivered by a retry: {delivered:?}");
    chat.say_and_wait_processed("said after the lock is gone")
        .await;

    println!("database locked by another connection:");
    println!(
        "  lock held for                          {:.2} s",
        held_for.as_secs_f64()
    );
    println!(
        "  the relay answered {:?} after            {:.2} s (its busy timeout)",
        refused[0].status_code.unwrap_or(0),
        refused[0].duration_ms as f64 / 1000.0
    );
    println!(
        "  delivered by retry #{} and processed {:.2} s after the lock was released",
        delivered.retry,
        recovered_after.as_secs_f64()
    );
    println!("  relay log: {logged}");
    chat.relay.stop();
    chat.sim.shutdown().await;
}
