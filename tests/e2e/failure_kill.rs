//! kill -9 in the middle of a burst: a headless relay takes 5,000 signed deliveries from
//! the emulator (50 conversations side by side, 100 agent messages each, 8x8's retries
//! on), is killed with SIGKILL a third of the way in and started again on the same
//! ports and data directory. Then every event is stored once and processed once: what
//! 8x8 saw acknowledged was committed before the answer, what it did not see
//! acknowledged came again by retry, and a retry of something already committed is
//! deduplicated rather than processed again. The transcript lines are counted too.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use switchboard_e2e::{
    emulator::{self, open_agent_conversations, seed_for},
    eventually, one_failure_test_at_a_time,
    process::{ServerConfig, ServerProcess},
    relay_db::RelayDb,
    Seen,
};

const CONVERSATIONS: usize = 50;
const PER_CONVERSATION: usize = 100;
const EVENTS: usize = CONVERSATIONS * PER_CONVERSATION;
/// Kill once this many of the burst's deliveries are stored.
const KILL_AFTER: i64 = (EVENTS / 3) as i64;
/// 8x8's retries: enough of them, close enough together, to outlast the restart.
const RETRIES: usize = 120;
const RETRY_EVERY_MS: u64 = 250;
/// Hang guard for each wait (never a speed bound).
const GUARD: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_burst_loses_nothing_and_processes_nothing_twice() {
    let _turn = one_failure_test_at_a_time().await;
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // Ports and token first: 8x8's webhook points at the relay before either runs.
    let mut config = ServerConfig::new(dir.path(), "http://127.0.0.1:9");
    let sim = emulator::start(
        "127.0.0.1:0",
        seed_for(&config.endpoint_url()),
        // A generous per-attempt timeout: a loaded debug relay answers late, not never.
        emulator::settings(RETRIES, RETRY_EVERY_MS, 20_000),
        None,
    )
    .await;
    config.base_url = sim.base_url();
    let relay = ServerProcess::start(&config);
    let db = RelayDb::open(&relay.db_path());

    let conversations = open_agent_conversations(&sim, CONVERSATIONS, "agent-kim").await;
    let seen = Seen::new("every conversation with its agent in the relay");
    eventually(&seen, GUARD, async || {
        let n = db.count("SELECT COUNT(*) FROM conversations WHERE phase = 'agent'");
        seen.check(n == CONVERSATIONS as i64, n)
    })
    .await;
    let before_burst = db.count("SELECT COUNT(*) FROM deliveries WHERE event_type = 'MESSAGE'");
    let setup_seq = sim.log().last().map(|r| r.seq).unwrap_or(0);

    // The burst: every message queued at 8x8 at once; each conversation's lane delivers
    // its events one after another, the 50 lanes side by side.
    let burst_started = Instant::now();
    for i in 0..PER_CONVERSATION {
        for c in &conversations {
            sim.agent_say(c, &format!("{c} #{i}")).unwrap();
        }
    }
    let seen = Seen::new("a third of the burst stored");
    eventually(&seen, GUARD, async || {
        let n =
            db.count("SELECT COUNT(*) FROM deliveries WHERE event_type = 'MESSAGE'") - before_burst;
        seen.check(n >= KILL_AFTER, n)
    })
    .await;
    relay.kill9();
    let killed_at = Instant::now();
    // 8x8 stamps each attempt with the time it was sent (x-8x8-transmission-time).
    let killed_at_ms = switchboard_types::events::now_ms() as u64;
    let relay = ServerProcess::start(&config);
    let restart_took = killed_at.elapsed();

    // First the relay's count (a cheap query), then 8x8's log (a copy of thousands of
    // records, so read once the end is near): until 8x8 has a final outcome for every
    // event, delivered or out of retries, and the relay has nothing pending.
    let seen = Seen::new("the burst processed by the relay");
    eventually(&seen, GUARD, async || {
        let n = db.count(
            "SELECT COUNT(*) FROM deliveries WHERE event_type = 'MESSAGE'
             AND status = 'processed' AND duplicate_of IS NULL",
        ) - before_burst;
        seen.note(format_args!("{n} processed"));
        (n >= EVENTS as i64).then_some(())
    })
    .await;
    let seen = Seen::new("8x8 done with every event");
    let log = eventually(&seen, GUARD, async || {
        let log = sim.log();
        let mut outcome: HashMap<&str, bool> = HashMap::new();
        for r in burst_records(&log, setup_seq) {
            let done = outcome.entry(r.event_id.as_deref().unwrap()).or_default();
            *done |= r.status == "delivered" || r.retry as usize >= RETRIES;
        }
        let finished = outcome.values().filter(|d| **d).count();
        seen.note(format_args!(
            "{} events seen, {finished} finished",
            outcome.len()
        ));
        (outcome.len() == EVENTS && finished == EVENTS).then_some(log)
    })
    .await;
    let seen = Seen::new("nothing pending in the relay");
    eventually(&seen, GUARD, async || {
        let n = db.count("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'");
        seen.note(format_args!("{n} pending"));
        (n == 0).then_some(())
    })
    .await;
    let burst_took = burst_started.elapsed();
    assert_eq!(
        log.first().map(|r| r.seq),
        Some(1),
        "the emulator's Event Log overflowed; the counts below would be partial"
    );

    // The 8x8 side: what was acknowledged before the kill, what was sent and not.
    let mut acked_before_kill = HashSet::new();
    let mut tried_before_kill = HashSet::new();
    for r in burst_records(&log, setup_seq).filter(|r| r.timestamp < killed_at_ms) {
        let eid = r.event_id.clone().unwrap();
        if r.status == "delivered" {
            acked_before_kill.insert(eid.clone());
        }
        tried_before_kill.insert(eid);
    }
    let mut delivered_by_retry = HashSet::new();
    let mut delivered = HashSet::new();
    let mut failed_attempts = 0;
    for r in burst_records(&log, setup_seq) {
        let eid = r.event_id.clone().unwrap();
        if r.status == "delivered" {
            if r.retry > 0 {
                delivered_by_retry.insert(eid.clone());
            }
            delivered.insert(eid);
        } else {
            failed_attempts += 1;
        }
    }
    let event_ids: HashSet<String> = burst_records(&log, setup_seq)
        .map(|r| r.event_id.clone().unwrap())
        .collect();
    assert_eq!(event_ids.len(), EVENTS);
    let never_acked: Vec<_> = event_ids.difference(&delivered).collect();
    assert!(
        never_acked.is_empty(),
        "8x8 ran out of retries for {} events, e.g. {:?}",
        never_acked.len(),
        never_acked.first()
    );
    let unacked_tried: HashSet<_> = tried_before_kill
        .difference(&acked_before_kill)
        .cloned()
        .collect();
    for eid in &unacked_tried {
        assert!(
            delivered_by_retry.contains(eid),
            "{eid} was tried before the kill, unanswered, and not delivered by a retry"
        );
    }

    // The relay's side: one accepted row per event, processed; retries deduplicated.
    let rows = db.deliveries_by_event();
    let mut duplicates = 0;
    let mut lost = Vec::new();
    let mut processed_twice = Vec::new();
    for eid in &event_ids {
        let rows = rows.get(eid).cloned().unwrap_or_default();
        let originals: Vec<_> = rows.iter().filter(|r| r.duplicate_of.is_none()).collect();
        duplicates += rows.len() - originals.len();
        match originals.as_slice() {
            [] => lost.push(eid.clone()),
            [one] => assert_eq!(
                one.status,
                "processed",
                "{eid}: {one:?} (acked before the kill: {})",
                acked_before_kill.contains(eid)
            ),
            _ => processed_twice.push(eid.clone()),
        }
        for dup in rows.iter().filter(|r| r.duplicate_of.is_some()) {
            assert_eq!(dup.status, "duplicate", "{dup:?}");
            assert_eq!(dup.duplicate_of, originals.first().map(|o| o.id));
        }
    }
    assert!(
        lost.is_empty(),
        "lost: {} events, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    assert!(
        processed_twice.is_empty(),
        "stored twice: {processed_twice:?}"
    );

    // The engine's side: each agent message is in its transcript exactly once.
    let lines = db.lines_by_text("agent");
    let mut missing = 0;
    let mut shown_twice = Vec::new();
    for c in &conversations {
        for i in 0..PER_CONVERSATION {
            let text = format!("{c} #{i}");
            match lines.get(&text).copied().unwrap_or(0) {
                0 => missing += 1,
                1 => {}
                n => shown_twice.push((text, n)),
            }
        }
    }

    println!("kill -9 during a burst of {EVENTS} signed deliveries ({CONVERSATIONS} conversations × {PER_CONVERSATION}):");
    println!(
        "  acknowledged before the kill          {:>6}",
        acked_before_kill.len()
    );
    println!(
        "  sent but unacknowledged at the kill   {:>6}  (all delivered later by a retry)",
        unacked_tried.len()
    );
    println!(
        "  not yet sent at the kill              {:>6}",
        EVENTS - tried_before_kill.len()
    );
    println!(
        "  delivered by a retry (retry ≥ 1)      {:>6}",
        delivered_by_retry.len()
    );
    println!(
        "  failed attempts (relay down or busy)  {:>6}",
        failed_attempts
    );
    println!("  retries deduplicated by the relay     {:>6}", duplicates);
    println!("  lost                                  {:>6}", lost.len());
    println!(
        "  processed twice                       {:>6}",
        processed_twice.len()
    );
    println!("  transcript lines missing              {:>6}", missing);
    println!(
        "  transcript lines recorded twice       {:>6}",
        shown_twice.len()
    );
    println!(
        "  restart took {:.2} s; burst done after {:.1} s; test {:.1} s",
        restart_took.as_secs_f64(),
        burst_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(missing, 0, "agent messages missing from transcripts");
    // An event's effects (here its transcript line) commit together with its
    // "processed" mark, so one handed out again after the restart had no effect yet.
    assert!(
        shown_twice.is_empty(),
        "transcript lines recorded twice: {shown_twice:?}"
    );

    relay.stop();
    sim.shutdown().await;
}

/// The emulator's delivery attempts of the burst (agent messages after the setup).
fn burst_records(
    log: &[chat_gateway_sim::LogRecord],
    after_seq: u64,
) -> impl Iterator<Item = &chat_gateway_sim::LogRecord> {
    log.iter().filter(move |r| {
        r.seq > after_seq
            && r.direction == "outbound"
            && r.record_type == "MESSAGE"
            && r.event_id.is_some()
    })
}
