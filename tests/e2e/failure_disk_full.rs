//! Disk full: the relay's data directory is on a small tmpfs the test fills to the last
//! page. A delivery that cannot be stored is answered 503 (so 8x8 retries), never 2xx;
//! the relay logs why; once there is room again 8x8's next retry is stored and
//! processed, without a restart. And a bot message 8x8 accepted just as the disk filled
//! up (so its outcome could not be written) is not sent a second time.
//!
//! A real full filesystem rather than SQLite's `max_page_count`: that pragma belongs to
//! the connection that sets it and is not stored in the file, so a second connection
//! cannot limit the relay's own.

use std::time::Instant;

use chat_gateway_sim::{Faults, WebchatTarget};
use switchboard_e2e::{
    agent_chat::{AgentChat, GUARD},
    emulator::{self, seed_for},
    eventually, one_failure_test_at_a_time,
    process::{ServerConfig, ServerProcess},
    relay_db::RelayDb,
    small_disk::SmallDisk,
    Seen,
};

/// A tmpfs for the relay's data, or why there cannot be one here.
fn small_disk() -> Option<SmallDisk> {
    match SmallDisk::mount(8 * 1024) {
        Ok(d) => Some(d),
        Err(why) => {
            // Only root (CAP_SYS_ADMIN) can mount; the test command runs as root.
            eprintln!("SKIPPED: no filesystem of the test's own to fill: {why}");
            None
        }
    }
}

/// Everything into the database file and the WAL emptied, so the relay's next commit
/// must grow a file.
fn checkpoint(db: &RelayDb) {
    let (busy, _, _): (i64, i64, i64) = db
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0, "the checkpoint was blocked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_8x8s_retry_is_processed_once_there_is_room() {
    let _turn = one_failure_test_at_a_time().await;
    let Some(disk) = small_disk() else { return };
    let chat = AgentChat::start(
        disk.path(),
        emulator::settings(150, 200, 10_000),
        None,
        |_| {},
    )
    .await;

    checkpoint(&chat.db());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_8x8_accepted_as_the_disk_filled_up_is_not_sent_again() {
    let _turn = one_failure_test_at_a_time().await;
    let Some(disk) = small_disk() else { return };
    let mut config = ServerConfig::new(disk.path(), "http://127.0.0.1:9");
    // The bot greets as soon as 8x8 says the conversation is active.
    config.accept_active_event = true;
    let sim = emulator::start(
        "127.0.0.1:0",
        seed_for(&config.endpoint_url()),
        emulator::settings(150, 200, 10_000),
        None,
    )
    .await;
    config.base_url = sim.base_url();
    let relay = ServerProcess::start(&config);
    let db = RelayDb::open(&relay.db_path());
    let (conversation, _) = sim
        .start_webchat(None, WebchatTarget::Webhook(emulator::WEBHOOK.into()), None)
        .unwrap();
    let accepted = |text: &str| {
        let path = format!("POST /chat-gateway/v1/conversations/{conversation}/messages");
        let needle = serde_json::to_string(text).unwrap();
        sim.log()
            .iter()
            .filter(|r| {
                r.record_type == path
                    && r.status_code.is_some_and(|s| (200..300).contains(&s))
                    && r.request_body.contains(&needle)
            })
            .count()
    };
    let outbox_status = |id: i64| -> String {
        db.conn()
            .query_row("SELECT status FROM outbox WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let seen = Seen::new("the greeting delivered");
    eventually(&seen, GUARD, async || {
        let n = db.count("SELECT COUNT(*) FROM outbox WHERE status = 'delivered'");
        seen.check(n == 1, n)
    })
    .await;

    // 8x8 takes two seconds over each call: time to fill the disk while the bot's
    // answer is on its way.
    sim.set_faults(Faults {
        api_latency_ms: 2_000,
        ..Faults::default()
    });
    sim.customer_say(&conversation, "hello").unwrap();
    let reply: i64 = eventually("the bot's answer being sent", GUARD, async || {
        let id: Option<i64> = db
            .conn()
            .query_row(
                "SELECT id FROM outbox WHERE status = 'sending' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok();
        let processed = db.count(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'processed'
             AND json_extract(body, '$.data.text') = 'hello'",
        );
        id.filter(|_| processed == 1)
    })
    .await;
    let text: String = db
        .conn()
        .query_row(
            "SELECT json_extract(request_json, '$.message.text') FROM outbox WHERE id = ?1",
            [reply],
            |r| r.get(0),
        )
        .unwrap();
    checkpoint(&db);
    let filler = disk.fill();
    assert_eq!(disk.available(), 0);

    eventually("8x8 accepted the answer", GUARD, async || {
        (accepted(&text) == 1).then_some(())
    })
    .await;
    let logged = relay
        .wait_for_log(&["outbox_worker", "disk is full"], GUARD)
        .await;
    assert_eq!(outbox_status(reply), "sending", "nothing could be written");
    sim.set_faults(Faults::default());
    filler.release();
    let seen = Seen::new("the answer recorded as delivered");
    eventually(&seen, GUARD, async || {
        let status = outbox_status(reply);
        seen.check(status == "delivered", status)
    })
    .await;
    // Sent again, the entry would be `delivered` only after the second send.
    let sends = accepted(&text);
    println!("a bot message 8x8 accepted while the disk filled up:");
    println!("  accepted by 8x8 {sends} time(s); outbox entry {reply} delivered");
    println!("  relay log: {logged}");
    assert_eq!(
        sends, 1,
        "the answer was sent again after the disk had room"
    );
    relay.stop();
    sim.shutdown().await;
}
