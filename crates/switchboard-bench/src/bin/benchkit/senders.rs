//! The closed-loop load: `concurrency` senders, each posting its next delivery as soon
//! as the last one is answered.

use std::{
    ops::Range,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use super::deliveries::{self, Delivery};

/// What became of one delivery: its index, the answer's status (`None`: no answer),
/// how long the answer took and when it came.
pub struct Answer {
    pub index: usize,
    pub status: Option<u16>,
    pub took: Duration,
    pub at: Instant,
}

impl Answer {
    pub fn accepted(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends `deliveries[range]` to `url` and returns every answer and the time it all took.
pub async fn closed_loop(
    http: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Vec<Delivery>>,
    range: Range<usize>,
    concurrency: usize,
) -> (Vec<Answer>, Duration) {
    closed_loop_over(http, &[url.to_string()], deliveries, range, concurrency).await
}

/// As [`closed_loop`], with sender `k` posting to `urls[k % urls.len()]`: a load
/// balancer's round robin, one sender's connection staying on one relay.
pub async fn closed_loop_over(
    http: &reqwest::Client,
    urls: &[String],
    deliveries: &Arc<Vec<Delivery>>,
    range: Range<usize>,
    concurrency: usize,
) -> (Vec<Answer>, Duration) {
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|k| {
            let (http, url, deliveries, next) = (
                http.clone(),
                urls[k % urls.len()].clone(),
                deliveries.clone(),
                next.clone(),
            );
            let end = range.end;
            tokio::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= end {
                        return answers;
                    }
                    let t = Instant::now();
                    let status = deliveries::send(&http, &url, &deliveries[index]).await;
                    answers.push(Answer {
                        index,
                        status,
                        took: t.elapsed(),
                        at: Instant::now(),
                    });
                }
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(range.len());
    for t in tasks {
        answers.extend(t.await.expect("a sender runs to its end"));
    }
    (answers, started.elapsed())
}
