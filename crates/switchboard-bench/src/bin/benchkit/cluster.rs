//! What bench-cluster needs beside the rest of benchkit: the load spread over several
//! relays, the PostgreSQL server's CPU, and its transaction count for one database.

use std::time::Duration;

/// Linux's USER_HZ (see cpu.rs).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time of one PostgreSQL server: its postmaster and every process it started (the
/// backends, the checkpointer, the WAL writer …), utime + stime, plus the postmaster's
/// cutime + cstime, so that a backend that ended (a pool's connection closed) still
/// counts. Other servers on the machine (another test run's) are not counted.
pub fn postgres_cpu(postmaster: u32) -> Duration {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    let ticks: u64 = procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the command name: state, ppid, …; utime, stime, cutime,
            // cstime are the 14th to 17th of the line.
            let fields: Vec<i64> = stat[stat.rfind(')')? + 2..]
                .split_whitespace()
                .map(|f| f.parse::<i64>().unwrap_or(0))
                .collect();
            let field = |i: usize| fields.get(i).copied().unwrap_or(0).max(0) as u64;
            if pid == postmaster {
                Some(field(11) + field(12) + field(13) + field(14))
            } else if field(1) == u64::from(postmaster) {
                Some(field(11) + field(12))
            } else {
                None
            }
        })
        .sum();
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// The postmaster of the server this connection's backend runs in (its parent), when
/// the server is on this machine.
fn postmaster_of(backend: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{backend}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))?
        .trim()
        .parse()
        .ok()
}

/// A connection to the benchmark's database, for the server's own counts.
pub struct PgStats {
    client: tokio_postgres::Client,
    /// `None` when the server is not on this machine: its CPU cannot be read.
    pub postmaster: Option<u32>,
}

impl PgStats {
    pub async fn connect(url: &str) -> PgStats {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the benchmark's database: {e}"));
        tokio::spawn(connection);
        let backend: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        let postmaster = postmaster_of(backend as u32);
        PgStats { client, postmaster }
    }

    /// The server's CPU so far (zero when it is not on this machine).
    pub fn cpu(&self) -> Duration {
        self.postmaster.map_or(Duration::ZERO, postgres_cpu)
    }

    /// Transactions committed and rolled back in this database so far. Backends report
    /// them at most once a second, so wait that long after the work before reading.
    pub async fn transactions(&self) -> i64 {
        self.client
            .query_one(
                "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database
                 WHERE datname = current_database()",
                &[],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(-1)
    }

    /// Conversations leased by a relay now (`None`: the table cannot be read).
    pub async fn leases(&self) -> Option<i64> {
        self.client
            .query_one("SELECT count(*) FROM inbox_leases", &[])
            .await
            .ok()
            .map(|r| r.get(0))
    }
}
