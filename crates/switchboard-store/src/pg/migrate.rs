//! Brings a PostgreSQL database up to this build's schema at start, under a lock: several
//! relays started together on an empty database all wait for the first, which runs the
//! migrations; the others then find them done. A relay that dies while migrating closes
//! its connection, which rolls back its open migration and frees the lock.

use tokio_postgres::Client;

use super::{schema::MIGRATIONS, PgError};

/// The advisory lock of the schema (single 64-bit key space; per database). The
/// conversations' locks use the two-key space, which never overlaps it.
const MIGRATION_LOCK: i64 = 0x5357_4244_4d49_4752; // "SWBDMIGR"

/// The schema version this build brings a database to.
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}

/// Runs the migrations the database lacks; returns how many this call ran (0 when
/// another relay had run them). `instance` is recorded beside each version.
pub(crate) async fn run(client: &mut Client, instance: &str) -> Result<usize, PgError> {
    let free: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?
        .get(0);
    if !free {
        tracing::info!("another relay is migrating the PostgreSQL schema; waiting for it");
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await?;
    }
    let ran = run_locked(client, instance).await;
    // On an error the connection may be gone, and the lock with it.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    ran
}

async fn run_locked(client: &mut Client, instance: &str) -> Result<usize, PgError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS switchboard_migrations (
                version    INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                applied_by TEXT NOT NULL
            )",
        )
        .await?;
    let current = current_version(client).await?;
    if current > MIGRATIONS.len() {
        return Err(PgError::TooNew {
            found: current,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i + 1;
        let failed = |source| PgError::Migrate { version, source };
        // PostgreSQL's DDL is transactional: a migration is all there or not at all.
        let tx = client.transaction().await.map_err(failed)?;
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO switchboard_migrations (version, applied_by) VALUES ($1, $2)",
            &[&(version as i32), &instance],
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    Ok(MIGRATIONS.len() - current)
}

pub(crate) async fn current_version(client: &Client) -> Result<usize, PgError> {
    let version: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM switchboard_migrations",
            &[],
        )
        .await?
        .get(0);
    Ok(version as usize)
}
