//! The relay's SQLite database (WAL), opened once and migrated at start. Migrations are
//! embedded and ordered; `PRAGMA user_version` records how far a file has come, so a
//! database from an older build is upgraded in place and one from a newer build refused.
//!
//! Schema (version 1):
//! - `app_meta(key, value)`: facts about this database (created_at, last_started_at).

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use rusqlite::Connection;

/// Each entry moves the schema one version up. Never edit a released entry; add one.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE app_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO app_meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ','now'));",
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the database {path} is at schema version {found}, newer than this build knows ({known}); use a newer Switchboard or another data directory")]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
    #[error("database migration {version} failed: {source}")]
    Migrate {
        version: usize,
        source: rusqlite::Error,
    },
    #[error("database query failed: {0}")]
    Query(#[from] rusqlite::Error),
    #[error("database task failed: {0}")]
    Task(String),
}

/// A shared handle; queries run on the blocking pool so async tasks never wait on disk.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Db {
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let shown = path.display().to_string();
        let open_err = |source| DbError::Open {
            path: shown.clone(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        migrate(&mut conn, &shown)?;
        conn.execute(
            "INSERT INTO app_meta (key, value) VALUES ('last_started_at', strftime('%Y-%m-%dT%H:%M:%fZ','now'))
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [],
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version() -> usize {
        MIGRATIONS.len()
    }

    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, DbError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard).map_err(DbError::from)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }
}

fn migrate(conn: &mut Connection, path: &str) -> Result<(), DbError> {
    let current: usize = conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(|source| DbError::Open {
            path: path.into(),
            source,
        })? as usize;
    if current > MIGRATIONS.len() {
        return Err(DbError::TooNew {
            path: path.into(),
            found: current,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i + 1;
        let tx = conn
            .transaction()
            .map_err(|source| DbError::Migrate { version, source })?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", version as i64))
            .and_then(|_| tx.commit())
            .map_err(|source| DbError::Migrate { version, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open(&path).unwrap();
        let mode: String = db
            .call(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let created: String = db
            .call(|c| {
                c.query_row(
                    "SELECT value FROM app_meta WHERE key='created_at'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        drop(db);
        // A second open keeps the data and does not re-run migrations.
        let db = Db::open(&path).unwrap();
        let again: String = db
            .call(|c| {
                c.query_row(
                    "SELECT value FROM app_meta WHERE key='created_at'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        assert_eq!(created, again);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        let err = Db::open(&path).err().unwrap();
        assert!(err.to_string().contains("newer than this build"), "{err}");
    }
}
