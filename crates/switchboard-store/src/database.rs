//! The database a relay runs on: SQLite in one file (the embedded default, the desktop
//! app and a single server) or PostgreSQL shared by several relays (`docs/postgres.md`).
//! Each store type is made from it and keeps the backend it was made on; nothing above
//! the store asks which one it is, except to start the parts only several relays need
//! (lease renewal, `LISTEN`).

use std::path::Path;

use crate::{
    db::{Db, DbError},
    pg::PgDb,
};

#[derive(Clone)]
pub enum Database {
    Sqlite(Db),
    Postgres(PgDb),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(db) => write!(f, "SQLite at {}", db.path().display()),
            // The URL's Display hides the password.
            Database::Postgres(db) => write!(f, "PostgreSQL at {}", db.url()),
        }
    }
}

impl From<Db> for Database {
    fn from(db: Db) -> Self {
        Database::Sqlite(db)
    }
}

impl From<PgDb> for Database {
    fn from(db: PgDb) -> Self {
        Database::Postgres(db)
    }
}

impl Database {
    /// Opens (and migrates) the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        Ok(Database::Sqlite(Db::open(path)?))
    }

    /// Connects to PostgreSQL and migrates it under the schema lock.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Ok(Database::Postgres(PgDb::connect(url).await?))
    }

    pub fn sqlite(&self) -> Option<&Db> {
        match self {
            Database::Sqlite(db) => Some(db),
            Database::Postgres(_) => None,
        }
    }

    pub fn postgres(&self) -> Option<&PgDb> {
        match self {
            Database::Postgres(db) => Some(db),
            Database::Sqlite(_) => None,
        }
    }

    /// Whether other relays may share this database (and change rows this one cached).
    pub fn is_shared(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

/// The operator's gauges, read together (`/metrics`): each on an index.
#[derive(Debug, Clone, Default)]
pub struct Levels {
    /// Conversations by phase name.
    pub phases: Vec<(String, i64)>,
    pub outbox_open: i64,
    pub inbox_pending: i64,
    pub oldest_pending_ms: Option<i64>,
}

const PHASE_COUNTS: &str = "SELECT phase, COUNT(*) FROM conversations GROUP BY phase";
const OUTBOX_OPEN: &str = "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')";
const INBOX_PENDING: &str =
    "SELECT COUNT(*), MIN(received_at_ms) FROM deliveries WHERE status = 'pending'";

impl Database {
    /// Where it is, for the Status page: the file, or the URL without its password.
    pub fn location(&self) -> String {
        match self {
            Database::Sqlite(db) => db.path().display().to_string(),
            Database::Postgres(db) => db.url().to_string(),
        }
    }

    /// The schema version this build migrates the database to.
    pub fn schema_version(&self) -> usize {
        match self {
            Database::Sqlite(_) => Db::schema_version(),
            Database::Postgres(_) => crate::pg::migrate::latest_version(),
        }
    }

    pub async fn levels(&self) -> Result<Levels, DbError> {
        match self {
            Database::Sqlite(db) => {
                db.call(|c| {
                    let phases = c
                        .prepare_cached(PHASE_COUNTS)?
                        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<Vec<_>, _>>()?;
                    let outbox_open = c.query_row(OUTBOX_OPEN, [], |r| r.get(0))?;
                    let (inbox_pending, oldest_pending_ms) =
                        c.query_row(INBOX_PENDING, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    Ok(Levels {
                        phases,
                        outbox_open,
                        inbox_pending,
                        oldest_pending_ms,
                    })
                })
                .await
            }
            Database::Postgres(db) => {
                let c = db.client().await?;
                let phases = c
                    .query(PHASE_COUNTS, &[])
                    .await
                    .map_err(crate::pg::PgError::from)?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                let outbox_open = c
                    .query_one(OUTBOX_OPEN, &[])
                    .await
                    .map_err(crate::pg::PgError::from)?
                    .get(0);
                let inbox = c
                    .query_one(INBOX_PENDING, &[])
                    .await
                    .map_err(crate::pg::PgError::from)?;
                Ok(Levels {
                    phases,
                    outbox_open,
                    inbox_pending: inbox.get(0),
                    oldest_pending_ms: inbox.get(1),
                })
            }
        }
    }
}
