//! `LISTEN/NOTIFY` between relays: what one relay commits that the others must hear of
//! at once — live events for admin UIs connected to another relay, a settings change,
//! new work in the inbox or the outbox. A notification is sent inside the transaction
//! that makes the change ([`notify_in`]), so PostgreSQL delivers it only if that commits.
//!
//! Each relay listens on one connection of its own ([`PgListener`]). Notifications sent
//! while that connection is down are lost, so its loss is reported ([`Notice::Lost`]):
//! the relay then treats what it holds in memory as stale (the admin UI gets its
//! `lagged` event and fetches again) while the listener reconnects by itself.

use std::time::Duration;

use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};
use tokio_postgres::{AsyncMessage, GenericClient};

use super::{PgDb, PgError};

/// The listeners' `application_name`, so an operator can tell them apart.
pub const LISTENER_NAME: &str = "switchboard-listener";

/// What a listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Message {
        channel: String,
        payload: String,
        /// Sent by this relay itself (it has published the event already).
        from_self: bool,
    },
    /// The listening connection was lost: notifications may have been missed. The
    /// listener reconnects on its own and goes on.
    Lost,
}

/// Sends `payload` on `channel` from relay `instance` when the transaction `c` commits
/// (at once, outside a transaction). PostgreSQL limits a payload to 8,000 bytes: a large
/// event sends its ids and the listener reads the rest.
pub async fn notify_in(
    c: &impl GenericClient,
    instance: &str,
    channel: &str,
    payload: &str,
) -> Result<(), PgError> {
    c.execute(
        "SELECT pg_notify($1, $2)",
        &[&channel, &format!("{instance}\n{payload}")],
    )
    .await?;
    Ok(())
}

/// One relay's listening connection; stops when dropped.
/// Sends each of `payloads` on `channel` in one statement, outside any transaction:
/// what this relay has already committed and published (its live events) for the other
/// relays to publish too.
pub async fn notify_all(db: &PgDb, channel: &str, payloads: &[String]) -> Result<(), PgError> {
    if payloads.is_empty() {
        return Ok(());
    }
    let tagged: Vec<String> = payloads
        .iter()
        .map(|p| format!("{}\n{p}", db.instance()))
        .collect();
    db.client()
        .await?
        .execute(
            "SELECT pg_notify($1, p) FROM unnest($2::TEXT[]) AS p",
            &[&channel, &tagged],
        )
        .await?;
    Ok(())
}

pub struct PgListener {
    rx: mpsc::UnboundedReceiver<Notice>,
    task: JoinHandle<()>,
}

impl Drop for PgListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PgListener {
    /// Listens on `channels` (lower-case names and `_`); fails when the first connection
    /// cannot be made, so a wrong setup shows at start.
    pub async fn start(db: &PgDb, channels: &[&str]) -> Result<Self, PgError> {
        for c in channels {
            assert!(
                !c.is_empty() && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "a channel name is lower-case letters and _: {c:?}"
            );
        }
        let listen: String = channels.iter().map(|c| format!("LISTEN {c};")).collect();
        let (tx, rx) = mpsc::unbounded_channel();
        let first = listen_once(db, &listen, tx.clone()).await?;
        let (db, instance) = (db.clone(), db.instance().to_string());
        // Aborting this task (the listener dropped) drops the client, which closes the
        // connection and so ends its driver.
        let task = tokio::spawn(async move {
            let mut current = first;
            loop {
                let (client, ended) = current;
                let _ = ended.await;
                drop(client);
                if tx.send(Notice::Lost).is_err() {
                    return;
                }
                let mut wait = Duration::from_millis(100);
                current = loop {
                    match listen_once(&db, &listen, tx.clone()).await {
                        Ok(next) => break next,
                        Err(e) => {
                            tracing::warn!(error = %e, "the PostgreSQL listener cannot reconnect yet");
                            tokio::time::sleep(wait).await;
                            wait = (wait * 2).min(Duration::from_secs(5));
                        }
                    }
                };
                tracing::info!(instance, "the PostgreSQL listener is connected again");
            }
        });
        Ok(Self { rx, task })
    }

    /// The next notice; `None` only if the listener has stopped.
    pub async fn recv(&mut self) -> Option<Notice> {
        self.rx.recv().await
    }
}

/// Connects and listens; notifications are forwarded to `tx` until the connection ends,
/// which the receiver returned hears of. The connection lives as long as the client.
async fn listen_once(
    db: &PgDb,
    listen: &str,
    tx: mpsc::UnboundedSender<Notice>,
) -> Result<(tokio_postgres::Client, oneshot::Receiver<()>), PgError> {
    let mut config = (*db.config).clone();
    config.application_name(LISTENER_NAME);
    let (client, mut connection) = config
        .connect(db.tls.clone())
        .await
        .map_err(|e| db.connect_error(&e))?;
    let instance = db.instance().to_string();
    let (ended_tx, ended) = oneshot::channel::<()>();
    // The connection is driven here (its messages read), the client kept alive beside it.
    let driver = tokio::spawn(async move {
        loop {
            let message = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
            match message {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    let (from, payload) = n.payload().split_once('\n').unwrap_or(("", n.payload()));
                    let notice = Notice::Message {
                        channel: n.channel().to_string(),
                        payload: payload.to_string(),
                        from_self: from == instance,
                    };
                    if tx.send(notice).is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
        let _ = ended_tx.send(());
    });
    if let Err(e) = client.batch_execute(listen).await {
        driver.abort();
        return Err(PgError::Query(e));
    }
    Ok((client, ended))
}
