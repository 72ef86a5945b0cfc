//! The two backends of tests/retention.rs: rows written as the relay writes them, and
//! the passes run, on SQLite and on PostgreSQL.

use std::time::Duration;

use rusqlite::params;
use switchboard_store::{
    pg::{PgDb, PgRetention},
    Db, Retention, RetentionPass,
};

use super::{NOW, POLICY};

/// What the tests ask of a backend.
pub trait Backend {
    async fn delivery(&self, at: i64, status: &str, duplicate_of: Option<i64>) -> i64;
    async fn outbox(&self, created: i64, status: &str, finished: Option<i64>) -> i64;
    async fn conversation(
        &self,
        id: &str,
        phase: &str,
        created: i64,
        updated: i64,
        ended: Option<i64>,
    );
    async fn line(
        &self,
        conversation: &str,
        at: i64,
        delivery: Option<i64>,
        outbox: Option<i64>,
    ) -> i64;
    async fn run(&self, batch: usize) -> RetentionPass;
    async fn last_pass(&self) -> Option<RetentionPass>;
    /// Every row's id (as text) of `table`, in id order.
    async fn ids(&self, table: &str) -> Vec<String>;
    /// Each transcript line's (delivery_id, outbox_id), in id order.
    async fn links(&self) -> Vec<(Option<i64>, Option<i64>)>;
}

pub struct Sqlite {
    pub db: Db,
    pub _dir: tempfile::TempDir,
}

impl Backend for Sqlite {
    async fn delivery(&self, at: i64, status: &str, duplicate_of: Option<i64>) -> i64 {
        let status = status.to_string();
        self.db.blocking(move |c| {
            c.execute(
                "INSERT INTO deliveries (received_at_ms, headers_json, body, event_id, signature,
                    http_status, duplicate_of, status)
                 VALUES (?1, '{}', x'7b7d', NULL, 'valid', 204, ?2, ?3)",
                params![at, duplicate_of, status],
            )
            .unwrap();
            c.last_insert_rowid()
        })
    }
    async fn outbox(&self, created: i64, status: &str, finished: Option<i64>) -> i64 {
        let status = status.to_string();
        self.db.blocking(move |c| {
            c.execute(
                "INSERT INTO outbox (ordering_key, operation, request_json, status,
                    next_attempt_at_ms, created_at_ms, updated_at_ms, finished_at_ms)
                 VALUES ('k', 'sendMessage', '{}', ?1, ?2, ?2, ?2, ?3)",
                params![status, created, finished],
            )
            .unwrap();
            c.last_insert_rowid()
        })
    }
    async fn conversation(
        &self,
        id: &str,
        phase: &str,
        created: i64,
        updated: i64,
        ended: Option<i64>,
    ) {
        let (id, phase) = (id.to_string(), phase.to_string());
        self.db.blocking(move |c| {
            c.execute(
                "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms,
                    ended_at_ms, search_text) VALUES (?1, 'endpoint', ?2, ?3, ?4, ?5, ?1)",
                params![id, phase, created, updated, ended],
            )
            .unwrap();
        })
    }
    async fn line(
        &self,
        conversation: &str,
        at: i64,
        delivery: Option<i64>,
        outbox: Option<i64>,
    ) -> i64 {
        let conversation = conversation.to_string();
        self.db.blocking(move |c| {
            c.execute(
                "INSERT INTO messages (conversation_id, direction, author_type, text,
                    delivery_id, outbox_id, created_at_ms)
                 VALUES (?1, 'in', 'user', 'hello', ?2, ?3, ?4)",
                params![conversation, delivery, outbox, at],
            )
            .unwrap();
            c.last_insert_rowid()
        })
    }
    async fn run(&self, batch: usize) -> RetentionPass {
        Retention::new(self.db.clone())
            .with_batches(batch, Duration::ZERO)
            .run(NOW, POLICY)
            .await
            .unwrap()
    }
    async fn last_pass(&self) -> Option<RetentionPass> {
        Retention::new(self.db.clone()).last_pass().await.unwrap()
    }
    async fn ids(&self, table: &str) -> Vec<String> {
        let sql = format!("SELECT CAST(id AS TEXT) FROM {table} ORDER BY id");
        self.db.blocking(move |c| {
            let mut stmt = c.prepare(&sql).unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        })
    }
    async fn links(&self) -> Vec<(Option<i64>, Option<i64>)> {
        self.db.blocking(|c| {
            let mut stmt = c
                .prepare("SELECT delivery_id, outbox_id FROM messages ORDER BY id")
                .unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            rows.map(Result::unwrap).collect()
        })
    }
}

pub struct Postgres {
    pub db: PgDb,
}

impl Backend for Postgres {
    async fn delivery(&self, at: i64, status: &str, duplicate_of: Option<i64>) -> i64 {
        let c = self.db.client().await.unwrap();
        c.query_one(
            "INSERT INTO deliveries (received_at_ms, headers_json, body, event_id, signature,
                http_status, duplicate_of, status)
             VALUES ($1, '{}', '\\x7b7d', NULL, 'valid', 204, $2, $3) RETURNING id",
            &[&at, &duplicate_of, &status],
        )
        .await
        .unwrap()
        .get(0)
    }
    async fn outbox(&self, created: i64, status: &str, finished: Option<i64>) -> i64 {
        let c = self.db.client().await.unwrap();
        c.query_one(
            "INSERT INTO outbox (ordering_key, operation, request_json, status,
                next_attempt_at_ms, created_at_ms, updated_at_ms, finished_at_ms)
             VALUES ('k', 'sendMessage', '{}', $1, $2, $2, $2, $3) RETURNING id",
            &[&status, &created, &finished],
        )
        .await
        .unwrap()
        .get(0)
    }
    async fn conversation(
        &self,
        id: &str,
        phase: &str,
        created: i64,
        updated: i64,
        ended: Option<i64>,
    ) {
        let c = self.db.client().await.unwrap();
        c.execute(
            "INSERT INTO conversations (id, role, phase, created_at_ms, updated_at_ms,
                ended_at_ms, search_text) VALUES ($1, 'endpoint', $2, $3, $4, $5, $1)",
            &[&id, &phase, &created, &updated, &ended],
        )
        .await
        .unwrap();
    }
    async fn line(
        &self,
        conversation: &str,
        at: i64,
        delivery: Option<i64>,
        outbox: Option<i64>,
    ) -> i64 {
        let c = self.db.client().await.unwrap();
        c.query_one(
            "INSERT INTO messages (conversation_id, direction, author_type, text,
                delivery_id, outbox_id, created_at_ms)
             VALUES ($1, 'in', 'user', 'hello', $2, $3, $4) RETURNING id",
            &[&conversation, &delivery, &outbox, &at],
        )
        .await
        .unwrap()
        .get(0)
    }
    async fn run(&self, batch: usize) -> RetentionPass {
        PgRetention::new(self.db.clone())
            .with_batches(batch, Duration::ZERO)
            .run(NOW, POLICY)
            .await
            .unwrap()
    }
    async fn last_pass(&self) -> Option<RetentionPass> {
        PgRetention::new(self.db.clone()).last_pass().await.unwrap()
    }
    async fn ids(&self, table: &str) -> Vec<String> {
        let c = self.db.client().await.unwrap();
        let sql = format!("SELECT id::TEXT FROM {table} ORDER BY {table}.id");
        let rows = c.query(&sql, &[]).await.unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    }
    async fn links(&self) -> Vec<(Option<i64>, Option<i64>)> {
        let c = self.db.client().await.unwrap();
        let rows = c
            .query(
                "SELECT delivery_id, outbox_id FROM messages ORDER BY id",
                &[],
            )
            .await
            .unwrap();
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }
}
