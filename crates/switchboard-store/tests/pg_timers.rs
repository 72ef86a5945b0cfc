//! Periodic jobs run once per period across the cluster, whichever relays tick. Runs
//! against a real PostgreSQL (common/mod.rs).

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use switchboard_store::pg::{PgDb, PgTimers};

/// Four relays tick every 10 ms for 1.2 s on a job of period 200 ms: the job runs about
/// six times in all (not six times per relay), never twice within a period (on the
/// database's clock, which is what the times compare).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_runs_once_per_period_across_relays() {
    let Some(test_db) = common::test_database("timers_once").await else {
        return;
    };
    let period = Duration::from_millis(200);
    let runs: Arc<Mutex<Vec<(i64, usize)>>> = Default::default();
    let mut relays = Vec::new();
    for relay in 0..4 {
        let timers = PgTimers::new(PgDb::connect(&test_db.url).await.unwrap());
        let runs = runs.clone();
        relays.push(tokio::spawn(async move {
            let until = tokio::time::Instant::now() + Duration::from_millis(1200);
            while tokio::time::Instant::now() < until {
                if let Some(at) = timers.due("retention", period).await.unwrap() {
                    runs.lock().unwrap().push((at, relay));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    for r in relays {
        r.await.unwrap();
    }
    let mut runs = std::mem::take(&mut *runs.lock().unwrap());
    runs.sort();
    // About six; fewer only if the machine is so busy that ticks come late.
    assert!(runs.len() >= 2, "{runs:?}");
    for pair in runs.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= 200,
            "two runs within one period: {runs:?}"
        );
    }
    // Another job keeps its own clock.
    let timers = PgTimers::new(PgDb::connect(&test_db.url).await.unwrap());
    assert!(timers.due("inactivity", period).await.unwrap().is_some());
    assert!(timers.due("inactivity", period).await.unwrap().is_none());
    drop(timers);
    test_db.drop_database().await;
}
