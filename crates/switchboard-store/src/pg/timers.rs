//! Periodic jobs that run once per period across the cluster (retention, the inactivity
//! sweep): every relay ticks, and before it runs the job it asks [`PgTimers::due`],
//! which says yes to one relay per period. The answer is one statement on the job's row:
//! the first relay to move `last_run_at_ms` forward wins; another relay ticking at the
//! same moment waits on the row, sees the new time and is told no. No leader to elect or
//! to lose: if the relay that ran a job dies, the next period's tick runs it on another.
//! The jobs themselves stay safe to run twice (they act on what is due at that moment),
//! since a run cut short is not resumed until the next period.

use std::time::Duration;

use super::{PgDb, PgError};

const NOW_MS: &str = "(extract(epoch FROM statement_timestamp()) * 1000)::BIGINT";

/// One relay's access to the cluster's job clock; cheap to clone.
#[derive(Clone, Debug)]
pub struct PgTimers {
    db: PgDb,
}

impl PgTimers {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }

    /// Whether this relay should run job `name` now: `Some(run_at_ms)` (the database's
    /// time, recorded as the job's last run) when it last ran `period` or more ago
    /// anywhere in the cluster, or never; `None` when another relay has it.
    pub async fn due(&self, name: &str, period: Duration) -> Result<Option<i64>, PgError> {
        let period_ms = period.as_millis().min(i64::MAX as u128) as i64;
        let row = self
            .db
            .client()
            .await?
            .query_opt(
                &format!(
                    "INSERT INTO cluster_timers AS t (name, last_run_at_ms, run_by)
                     VALUES ($1, {NOW_MS}, $3)
                     ON CONFLICT (name) DO UPDATE
                        SET last_run_at_ms = EXCLUDED.last_run_at_ms, run_by = EXCLUDED.run_by
                        WHERE t.last_run_at_ms + $2 <= EXCLUDED.last_run_at_ms
                     RETURNING last_run_at_ms"
                ),
                &[&name, &period_ms, &self.db.instance()],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Forgets the timers named `prefix…` that last ran `older_than` ago or more (the
    /// per-conversation ones of conversations long gone); how many.
    pub async fn forget(&self, prefix: &str, older_than: Duration) -> Result<u64, PgError> {
        let older_ms = older_than.as_millis().min(i64::MAX as u128) as i64;
        Ok(self
            .db
            .client()
            .await?
            .execute(
                &format!(
                    "DELETE FROM cluster_timers
                     WHERE starts_with(name, $1) AND last_run_at_ms < {NOW_MS} - $2"
                ),
                &[&prefix, &older_ms],
            )
            .await?)
    }
}
