//! A client of the admin API's live channel (`GET /api/events`, server-sent events), as
//! the UI is: each relay event is handed over with the instant its frame arrived.

use std::{net::SocketAddr, time::Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

#[derive(Debug)]
pub enum Live {
    /// A `relay` event's JSON and when its frame was read.
    Event(Value, Instant),
    /// The relay said this client fell behind by this many events (they are lost).
    Lagged(u64),
}

/// Connects and returns once the stream is open (the relay's `hello` arrived), so nothing
/// published afterwards is missed.
pub async fn subscribe(admin: SocketAddr, token: &str) -> mpsc::UnboundedReceiver<Live> {
    let response = reqwest::Client::new()
        .get(format!("http://{admin}/api/events"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the admin API answers /api/events");
    assert!(
        response.status().is_success(),
        "/api/events answered {}",
        response.status()
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        let mut stream = response.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            let at = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                let sent = match event.as_str() {
                    "hello" => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                        Ok(())
                    }
                    "relay" => match serde_json::from_str(&data) {
                        Ok(v) => tx.send(Live::Event(v, at)),
                        Err(_) => Ok(()),
                    },
                    "lagged" => tx.send(Live::Lagged(data.trim().parse().unwrap_or(0))),
                    _ => Ok(()),
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    });
    ready_rx.await.expect("the live channel says hello");
    rx
}
