//! What the relays on one PostgreSQL stored, read by the test straight from the tables:
//! the same questions `relay_db` asks a SQLite file.

use std::collections::HashMap;

use tokio_postgres::{Client, NoTls};

use crate::relay_db::DeliveryRow;

pub struct PgRelayDb {
    url: String,
    /// Connected again after the outage test stopped the server under it.
    client: tokio::sync::Mutex<Client>,
}

impl PgRelayDb {
    pub async fn connect(url: &str) -> Self {
        Self {
            url: url.to_string(),
            client: tokio::sync::Mutex::new(connect(url).await),
        }
    }

    async fn client(&self) -> tokio::sync::MutexGuard<'_, Client> {
        let mut client = self.client.lock().await;
        if client.is_closed() {
            *client = connect(&self.url).await;
        }
        client
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client()
            .await
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }

    /// The MESSAGE deliveries of these 8x8 conversations, by event id, oldest first.
    pub async fn deliveries_by_event_in(
        &self,
        conversations: &[String],
    ) -> HashMap<String, Vec<DeliveryRow>> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT id, event_id, event_type, status, http_status, duplicate_of, outcome
                 FROM deliveries WHERE event_id IS NOT NULL AND event_type = 'MESSAGE'
                   AND conversation_id = ANY($1) ORDER BY id",
                &[&conversations],
            )
            .await
            .expect("deliveries read");
        let mut by_event: HashMap<String, Vec<DeliveryRow>> = HashMap::new();
        for r in rows {
            let row = DeliveryRow {
                id: r.get(0),
                event_id: r.get(1),
                event_type: r.get(2),
                status: r.get(3),
                http_status: r.get::<_, i32>(4) as u16,
                duplicate_of: r.get(5),
                outcome: r.get(6),
            };
            by_event
                .entry(row.event_id.clone().unwrap_or_default())
                .or_default()
                .push(row);
        }
        by_event
    }

    /// Per ordering key (the conversation), the outbox's `sendMessage` entries delivered
    /// and those of them whose relay was interrupted while sending (taken over and sent
    /// again: the one case where 8x8 may have got the call twice).
    pub async fn messages_sent_by_key(&self) -> HashMap<String, (i64, i64)> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT ordering_key,
                        COUNT(*) FILTER (WHERE status = 'delivered'),
                        COUNT(*) FILTER (WHERE status = 'delivered'
                                           AND last_error LIKE 'interrupted%')
                 FROM outbox WHERE operation = 'sendMessage' GROUP BY ordering_key",
                &[],
            )
            .await
            .expect("the outbox reads");
        rows.iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect()
    }

    /// The texts of a lane's transcript lines per conversation (the 8x8 id), in the
    /// order the transcript shows them (line id).
    pub async fn lines_in_order(&self, lane: &str) -> HashMap<String, Vec<String>> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT c.gateway_id, m.text FROM messages m
                 JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.author_type = $1 AND c.gateway_id IS NOT NULL ORDER BY m.id",
                &[&lane],
            )
            .await
            .expect("transcripts read");
        let mut lines: HashMap<String, Vec<String>> = HashMap::new();
        for r in rows {
            lines.entry(r.get(0)).or_default().push(r.get(1));
        }
        lines
    }
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("the test PostgreSQL connects");
    tokio::spawn(connection);
    client
}
