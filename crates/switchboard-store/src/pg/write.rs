//! One write to PostgreSQL as data: a statement and its parameters. The engine's write
//! unit collects these while it handles an event and runs them, in order, in one
//! transaction that ends with the event's fenced "processed" mark
//! ([`super::inbox::complete_in`]), so a relay that lost its lease commits none of them.
//! On SQLite the same unit collects closures over the connection
//! (`crate::write_unit::Write`); a closure over a PostgreSQL transaction would have to
//! borrow it across `.await`s, which data does not.

use std::borrow::Cow;

use deadpool_postgres::GenericClient;
use tokio_postgres::{types::ToSql, Statement};

use super::PgError;

/// A parameter owned by the write, so the write can wait in a unit and cross threads.
pub type Param = Box<dyn ToSql + Send + Sync>;

pub struct PgWrite {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

impl std::fmt::Debug for PgWrite {
    // The statement only: parameters are customer text and tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgWrite")
            .field("sql", &self.sql)
            .field("params", &self.params.len())
            .finish()
    }
}

impl PgWrite {
    pub fn new(sql: impl Into<Cow<'static, str>>, params: Vec<Param>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }

    /// Runs it on `client` (a pooled connection or a transaction); the rows it changed.
    /// The statement is prepared once per connection (the pool's cache): a statement
    /// given as text would be parsed again each time, a round trip of its own.
    pub async fn run<C: GenericClient + Sync>(&self, client: &C) -> Result<u64, PgError> {
        let statement = client.prepare_cached(&self.sql).await?;
        self.run_prepared(client, &statement).await
    }

    /// Runs it as `statement` (this write's SQL, prepared on `client`). Writes whose
    /// statements are prepared go out one after another without waiting for each
    /// other's answers when their futures are polled together (the driver pipelines
    /// them, in the order they were first polled).
    pub async fn run_prepared<C: GenericClient + Sync>(
        &self,
        client: &C,
        statement: &Statement,
    ) -> Result<u64, PgError> {
        let params: Vec<&(dyn ToSql + Sync)> = self
            .params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        Ok(client.execute(statement, &params).await?)
    }
}

/// Boxes one parameter: `pg_params![a, b]` instead of `vec![Box::new(a), Box::new(b)]`.
#[macro_export]
macro_rules! pg_params {
    ($($p:expr),* $(,)?) => {
        vec![$(Box::new($p) as $crate::pg::write::Param),*]
    };
}
