//! Reading a relay's SQLite file from the test, beside the relay or after it died: the
//! deliveries table is the relay's own word on what it stored, deduplicated and
//! processed; the messages table on what the engine recorded.

use std::{collections::HashMap, path::Path, time::Duration};

use rusqlite::{Connection, OpenFlags};

/// One row of `deliveries`.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub status: String,
    pub http_status: u16,
    pub duplicate_of: Option<i64>,
    pub outcome: Option<String>,
}

pub struct RelayDb {
    conn: Connection,
}

impl RelayDb {
    /// A connection of the test's own, read and write (WAL needs the shared-memory file
    /// writable even to read), waiting out the relay's short write locks.
    pub fn open(path: &Path) -> Self {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("the relay's database opens");
        conn.busy_timeout(Duration::from_secs(30))
            .expect("busy timeout");
        Self { conn }
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn deliveries(&self) -> Vec<DeliveryRow> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, event_id, event_type, status, http_status, duplicate_of, outcome
                 FROM deliveries ORDER BY id",
            )
            .expect("deliveries query");
        stmt.query_map([], |r| {
            Ok(DeliveryRow {
                id: r.get(0)?,
                event_id: r.get(1)?,
                event_type: r.get(2)?,
                status: r.get(3)?,
                http_status: r.get(4)?,
                duplicate_of: r.get(5)?,
                outcome: r.get(6)?,
            })
        })
        .and_then(|rows| rows.collect())
        .expect("deliveries rows")
    }

    /// Rows per event id.
    pub fn deliveries_by_event(&self) -> HashMap<String, Vec<DeliveryRow>> {
        let mut map: HashMap<String, Vec<DeliveryRow>> = HashMap::new();
        for row in self.deliveries() {
            if let Some(eid) = row.event_id.clone() {
                map.entry(eid).or_default().push(row);
            }
        }
        map
    }

    /// How many transcript lines of `lane` carry exactly `text`, per text.
    pub fn lines_by_text(&self, lane: &str) -> HashMap<String, i64> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT text, COUNT(*) FROM messages WHERE author_type = ?1 AND text IS NOT NULL
                 GROUP BY text",
            )
            .expect("messages query");
        stmt.query_map([lane], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .expect("messages rows")
    }
}
