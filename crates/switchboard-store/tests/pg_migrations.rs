//! The PostgreSQL schema is brought up to date once, however many relays start together,
//! and a database from a newer build is refused. Runs against a real PostgreSQL
//! (common/mod.rs).

mod common;

use switchboard_store::pg::{migrate::latest_version, PgDb, PgError};

/// Eight relays start at the same moment on an empty database: every one of them comes
/// up, each migration ran once, all by the same relay (the first to take the lock), and
/// the schema is at this build's version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relays_starting_together_migrate_an_empty_database_once() {
    let Some(test_db) = common::test_database("migrate_together").await else {
        return;
    };
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let relays: Vec<_> = (0..8)
        .map(|_| {
            let (url, start) = (test_db.url.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                PgDb::connect(&url).await
            })
        })
        .collect();
    let mut dbs = Vec::new();
    for relay in relays {
        dbs.push(relay.await.unwrap().expect("every relay starts"));
    }
    let instances: Vec<&str> = dbs.iter().map(|d| d.instance()).collect();
    let client = dbs[0].client().await.unwrap();
    let rows = client
        .query(
            "SELECT version, applied_by FROM switchboard_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let expected: Vec<i32> = (1..=latest_version() as i32).collect();
    assert_eq!(versions, expected, "each migration recorded once");
    let by: std::collections::BTreeSet<String> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(by.len(), 1, "one relay ran them all: {by:?}");
    assert!(instances.contains(&by.iter().next().unwrap().as_str()));
    for db in &dbs {
        assert_eq!(db.schema_version().await.unwrap(), latest_version());
    }
    // The schema is usable: the tables of every migration are there.
    let tables: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'
             AND table_name IN ('app_meta', 'deliveries', 'inbox_leases')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 3);
    drop((client, dbs));
    test_db.drop_database().await;
}

/// Starting again on a migrated database runs nothing and keeps the data.
#[tokio::test]
async fn a_second_start_runs_no_migration_and_keeps_the_data() {
    let Some(test_db) = common::test_database("migrate_again").await else {
        return;
    };
    let first = PgDb::connect(&test_db.url).await.unwrap();
    let created = |db: PgDb| async move {
        let value: String = db
            .client()
            .await
            .unwrap()
            .query_one("SELECT value FROM app_meta WHERE key = 'created_at'", &[])
            .await
            .unwrap()
            .get(0);
        value
    };
    let before = created(first.clone()).await;
    let second = PgDb::connect(&test_db.url).await.unwrap();
    assert_eq!(created(second.clone()).await, before);
    let runs: i64 = second
        .client()
        .await
        .unwrap()
        .query_one("SELECT COUNT(*) FROM switchboard_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(runs as usize, latest_version());
    drop((first, second));
    test_db.drop_database().await;
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused() {
    let Some(test_db) = common::test_database("migrate_newer").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    db.client()
        .await
        .unwrap()
        .execute(
            "INSERT INTO switchboard_migrations (version, applied_by) VALUES (999, 'future')",
            &[],
        )
        .await
        .unwrap();
    let err = PgDb::connect(&test_db.url).await.unwrap_err();
    assert!(matches!(err, PgError::TooNew { found: 999, .. }), "{err:?}");
    assert!(err.to_string().contains("newer than this build"), "{err}");
    drop(db);
    test_db.drop_database().await;
}

/// A wrong password or an unreachable server: the error says what failed and where,
/// and never shows the password (nor does `Debug`).
#[tokio::test]
async fn connection_errors_name_the_server_but_never_the_password() {
    let Some(test_db) = common::test_database("migrate_password").await else {
        return;
    };
    let secret = "not-the-password-4f1c";
    let (scheme, rest) = test_db.url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    let wrong = format!("{scheme}://{user}:{secret}@{host}");
    let err = PgDb::connect(&wrong).await.unwrap_err();
    let (shown, debug) = (err.to_string(), format!("{err:?}"));
    assert!(
        shown.contains("password authentication failed") && shown.contains(":***@"),
        "{shown}"
    );
    assert!(
        !shown.contains(secret) && !debug.contains(secret),
        "{shown} / {debug}"
    );

    let unreachable = format!("postgres://{user}:{secret}@127.0.0.1:1/none");
    let err = PgDb::connect(&unreachable).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("cannot connect to PostgreSQL at postgres://"),
        "{shown}"
    );
    assert!(!shown.contains(secret) && !format!("{err:?}").contains(secret));

    let db = PgDb::connect(&test_db.url).await.unwrap();
    let real_password = userinfo.split_once(':').map(|(_, p)| p).unwrap_or("");
    let debug = format!("{db:?} {}", db.url());
    assert!(
        real_password.is_empty() || !debug.contains(real_password),
        "{debug}"
    );
    drop(db);
    test_db.drop_database().await;
}
