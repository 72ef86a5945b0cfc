//! A fresh PostgreSQL database per test, on the server `SWITCHBOARD_TEST_POSTGRES_URL`
//! names (the test command starts one: scripts/lib/postgres.sh). Without that variable
//! a test of the PostgreSQL backend fails when `CI` is set and is skipped, saying so,
//! on a developer's machine.

use std::sync::atomic::{AtomicU32, Ordering};

const URL_VAR: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

pub struct TestDatabase {
    /// The test's own database, in URL form.
    pub url: String,
    admin_url: String,
    name: String,
}

/// A new, empty database, or `None` (after saying why) when no server is configured.
pub async fn test_database(test: &str) -> Option<TestDatabase> {
    let Ok(admin_url) = std::env::var(URL_VAR) else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{URL_VAR} is not set: CI must test the PostgreSQL backend \
                 (./scripts/test.sh starts a server for it, scripts/lib/postgres.sh)"
            );
        }
        eprintln!(
            "SKIPPED {test}: no PostgreSQL ({URL_VAR} is not set; ./scripts/test.sh starts one)"
        );
        return None;
    };
    Some(TestDatabase::create(&admin_url, test).await)
}

impl TestDatabase {
    /// A new, empty database on the server `admin_url` names (its user needs
    /// `CREATEDB`), labelled after `label`: for tests, and for benchmarks that give a
    /// server of their own.
    pub async fn create(admin_url: &str, label: &str) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let mut label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        label.truncate(30);
        let name = format!(
            "sbt_{}_{}_{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(admin_url, &format!("CREATE DATABASE {name}")).await;
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url, String::new()),
        };
        let (server, _) = base
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("the PostgreSQL URL must end in a database name"));
        TestDatabase {
            url: format!("{server}/{name}{query}"),
            admin_url: admin_url.to_string(),
            name,
        }
    }
}

impl TestDatabase {
    /// Deletes the database (its connections are ended first). A test that panics
    /// leaves its database behind, named `sbt_…`, until the test server goes.
    pub async fn drop_database(self) {
        admin(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

async fn admin(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL: {e}"));
    let driver = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = driver.await;
}
