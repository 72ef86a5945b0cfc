//! The relay's SQLite database (WAL), opened once and migrated at start. Migrations are
//! embedded and ordered; `PRAGMA user_version` records how far a file has come, so a
//! database from an older build is upgraded in place and one from a newer build refused.
//!
//! Schema (version 14; 4, 5, 7, 8, 9 and 10 change indexes only, 6 adds the search column,
//! 11 the transcript search index, 12 the outbox's `exchange_json`, 13 the conversation's
//! `handover_offer`, 14 `copilot_sessions`; see the migrations):
//! - `app_meta(key, value)`: facts about this database (created_at, last_started_at).
//! - `deliveries`: every webhook delivery that reached `/endpoint/{token}` with the right
//!   token, accepted or not — the inspector's source and the inbox queue at once.
//!   `received_at_ms`, `headers_json` (the `x-8x8-*`, content-type and retry headers as
//!   received), `body` (raw bytes, exactly as signed), `event_id`, `event_type`,
//!   `conversation_id`, `signature` (`valid`, `invalid`, `unsigned`, `skipped`),
//!   `signature_reason` (a reason code such as `bad_signature`, `unknown_kid`, `stale`,
//!   `missing_header`, plus detail), `http_status` (what the receiver answered),
//!   `duplicate_of` (the first accepted delivery with the same event id), `status`
//!   (`pending` → queued for the conversation engine; `processed`, `failed`; `duplicate`,
//!   `ignored` (verify, unknown or legacy types), `unverified` (a verify event whose
//!   signature did not check out), `rejected`), `outcome` (free text from
//!   the engine or the receiver), `processed_at_ms`. At most one accepted, non-duplicate
//!   row per event id (partial unique index): that is the idempotency guarantee.
//! - `outbox`: every call that changes 8x8 state, written before it is sent.
//!   `ordering_key` (calls with the same key go out in id order — normally the
//!   conversation), `operation` (e.g. `sendMessage`), `request_json` (the typed call),
//!   `status` (`pending`, `sending`, `delivered`, `failed`), `attempts`,
//!   `next_attempt_at_ms`, `last_error`, `last_status`, `response_json` (e.g. the
//!   `conversationId` of a create), `created_at_ms`, `updated_at_ms`, `finished_at_ms`,
//!   `exchange_json` (version 12: the last attempt on the wire, `HttpExchange`).
//! - `conversations`, `messages`: the conversation engine's record of 8x8 conversations
//!   (role, state, assignment) and of the messages relayed in both directions, linked to
//!   the delivery or outbox row they came from. Version 3 adds the engine's columns:
//!   `gateway_id` (8x8's id; equal to `id` for conversations 8x8 routed to the bot,
//!   set after the create for handovers), `phase` (`bot`, `handover` (requested),
//!   `queued`, `agent`, `transferred`, `ended`), `user_json`, `bot_session_json`,
//!   `greeted`, `queue_id`, `queue_name`, `agent_id`, `transfer_pending`,
//!   `handover_json` (exactly what was sent to 8x8), `queued_at_ms`,
//!   `agent_joined_at_ms`, `first_agent_reply_at_ms`, `ended_at_ms`, `last_user_at_ms`,
//!   `last_text`; version 6 adds `search_text` (what a list search looks through, folded
//!   for case and accents by `crate::search_text`). In `messages`, `author_type` is the
//!   transcript lane (`user`, `bot`, `agent`, `system`) and `direction` is `in` (from
//!   8x8), `out` (to 8x8) or `local`.
//! - `transcript_search` (version 11): an FTS5 index of every transcript line, folded like
//!   `search_text`, contentless (the text stays in `messages`). `transcript_keys(key,
//!   conversation_id)` numbers the conversations that have lines; a line's rowid in the
//!   index is `line id << 27 | key` (`crate::transcript_search`). Since version 16 a
//!   thread of every `Db` indexes new lines in batches, and `transcript_indexed.upto` says
//!   how far; triggers on `messages` that call `search_fold` (registered on every
//!   connection this crate opens, so a bare `sqlite3` shell cannot delete or edit an
//!   indexed line) keep indexed lines in step.
//!
//! - `copilot_sessions(conversation_id, token_hash, created_at_ms, revoked_at_ms)`
//!   (version 14): the agent's Copilot link per conversation, only its token's SHA-256
//!   (`crate::copilot`); a trigger deletes a session with its conversation.
//!
//! Files are created with `auto_vacuum=INCREMENTAL`, so the pages that retention
//! (`crate::retention`) frees can be handed back to the file system a few at a time
//! (`PRAGMA incremental_vacuum`) instead of by a full `VACUUM`, which rewrites the whole
//! file while it holds the write lock. A file from before that setting is converted once,
//! when it is opened (see [`Db::open`]).

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
    "CREATE TABLE deliveries (
        id               INTEGER PRIMARY KEY,
        received_at_ms   INTEGER NOT NULL,
        headers_json     TEXT NOT NULL,
        body             BLOB NOT NULL,
        event_id         TEXT,
        event_type       TEXT,
        conversation_id  TEXT,
        signature        TEXT NOT NULL,
        signature_reason TEXT,
        http_status      INTEGER NOT NULL,
        duplicate_of     INTEGER REFERENCES deliveries(id),
        status           TEXT NOT NULL,
        outcome          TEXT,
        processed_at_ms  INTEGER
    );
    CREATE UNIQUE INDEX deliveries_event_once ON deliveries(event_id)
        WHERE event_id IS NOT NULL AND status NOT IN ('duplicate', 'rejected');
    CREATE INDEX deliveries_pending ON deliveries(id) WHERE status = 'pending';
    CREATE INDEX deliveries_conversation ON deliveries(conversation_id, id);
    CREATE TABLE outbox (
        id                 INTEGER PRIMARY KEY,
        ordering_key       TEXT NOT NULL,
        operation          TEXT NOT NULL,
        request_json       TEXT NOT NULL,
        status             TEXT NOT NULL,
        attempts           INTEGER NOT NULL DEFAULT 0,
        next_attempt_at_ms INTEGER NOT NULL,
        last_error         TEXT,
        last_status        INTEGER,
        response_json      TEXT,
        created_at_ms      INTEGER NOT NULL,
        updated_at_ms      INTEGER NOT NULL,
        finished_at_ms     INTEGER
    );
    CREATE INDEX outbox_open ON outbox(ordering_key, id) WHERE status IN ('pending', 'sending');
    CREATE TABLE conversations (
        id               TEXT PRIMARY KEY,
        role             TEXT NOT NULL,
        state            TEXT,
        assignment_type  TEXT,
        assignment_id    TEXT,
        channel_id       TEXT,
        data_json        TEXT NOT NULL DEFAULT '{}',
        created_at_ms    INTEGER NOT NULL,
        updated_at_ms    INTEGER NOT NULL
    );
    CREATE TABLE messages (
        id               INTEGER PRIMARY KEY,
        conversation_id  TEXT NOT NULL,
        direction        TEXT NOT NULL,
        author_type      TEXT NOT NULL,
        text             TEXT,
        payload_json     TEXT NOT NULL DEFAULT '{}',
        delivery_id      INTEGER REFERENCES deliveries(id),
        outbox_id        INTEGER REFERENCES outbox(id),
        created_at_ms    INTEGER NOT NULL
    );
    CREATE INDEX messages_conversation ON messages(conversation_id, id);",
    // The conversation engine's view: where each conversation is (with the bot, queued,
    // with an agent …), the bot's memory, what was sent to 8x8 on handover, and the
    // timestamps that give time in queue and time to the first agent reply.
    "ALTER TABLE conversations ADD COLUMN gateway_id TEXT;
    ALTER TABLE conversations ADD COLUMN phase TEXT NOT NULL DEFAULT 'bot';
    ALTER TABLE conversations ADD COLUMN user_json TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE conversations ADD COLUMN bot_session_json TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE conversations ADD COLUMN greeted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN queue_id TEXT;
    ALTER TABLE conversations ADD COLUMN queue_name TEXT;
    ALTER TABLE conversations ADD COLUMN agent_id TEXT;
    ALTER TABLE conversations ADD COLUMN transfer_pending INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN handover_json TEXT;
    ALTER TABLE conversations ADD COLUMN queued_at_ms INTEGER;
    ALTER TABLE conversations ADD COLUMN agent_joined_at_ms INTEGER;
    ALTER TABLE conversations ADD COLUMN first_agent_reply_at_ms INTEGER;
    ALTER TABLE conversations ADD COLUMN ended_at_ms INTEGER;
    ALTER TABLE conversations ADD COLUMN last_user_at_ms INTEGER;
    ALTER TABLE conversations ADD COLUMN last_text TEXT;
    CREATE UNIQUE INDEX conversations_gateway ON conversations(gateway_id) WHERE gateway_id IS NOT NULL;
    CREATE INDEX conversations_newest ON conversations(created_at_ms DESC);",
    // The conversation list (engine/store.rs, `Store::page`): pages by keyset on
    // (created_at_ms, id), and searches one lower-cased text per conversation read from
    // this index (the same expression as the query's) instead of each row's JSON; the
    // phase filter and the inactivity sweep use their own index.
    "DROP INDEX conversations_newest;
    CREATE INDEX conversations_list ON conversations(created_at_ms, id,
        lower(ifnull(user_json ->> '$.name', '') || char(10) || ifnull(user_json ->> '$.email', '')
            || char(10) || ifnull(last_text, '') || char(10) || id || char(10)
            || ifnull(gateway_id, '') || char(10) || ifnull(queue_name, '') || char(10)
            || ifnull(agent_id, '')));
    CREATE INDEX conversations_phase ON conversations(phase, created_at_ms, id);",
    // The inspector groups deliveries by event id (a retry beside its original); the
    // partial unique index cannot answer that, as it leaves duplicates out.
    "CREATE INDEX deliveries_event ON deliveries(event_id);",
    // Search that ignores accents as well as case: SQLite's `lower` folds ASCII only, so
    // the folded text is computed in Rust (`search_text`) and kept in a column, written
    // with every save; existing rows are filled in by `after_migration`. The list index
    // holds it, so a search still reads no row.
    "ALTER TABLE conversations ADD COLUMN search_text TEXT;
    DROP INDEX conversations_list;
    CREATE INDEX conversations_list ON conversations(created_at_ms, id, search_text);",
    // Deliveries whose signature did not check out (`unverified`) no longer hold their
    // event id: only an authentic delivery makes a later one a duplicate.
    "DROP INDEX deliveries_event_once;
    CREATE UNIQUE INDEX deliveries_event_once ON deliveries(event_id)
        WHERE event_id IS NOT NULL AND status NOT IN ('duplicate', 'rejected', 'unverified');",
    // Rejected deliveries are capped (deliveries::MAX_REJECTED): finding the oldest to
    // delete reads this index, never the table.
    "CREATE INDEX deliveries_rejected ON deliveries(id) WHERE status = 'rejected';",
    // Deleting a delivery or an outbox entry (retention, the rejected cap) makes SQLite
    // look for the rows that still point at it (foreign keys): without these it reads
    // every transcript line and every delivery for each row deleted. Retention also
    // clears a transcript line's link to a delivery it deletes through them.
    "CREATE INDEX messages_delivery ON messages(delivery_id) WHERE delivery_id IS NOT NULL;
    CREATE INDEX messages_outbox ON messages(outbox_id) WHERE outbox_id IS NOT NULL;
    CREATE INDEX deliveries_duplicate ON deliveries(duplicate_of) WHERE duplicate_of IS NOT NULL;",
    // An 8x8 conversation id the engine does not know yet may be a handover whose create
    // answer is still being recorded (`Outbox::key_of_created`): without this index that
    // question read the whole outbox history backwards for every new customer.
    // And whether a create is still on its way: without the second index that read
    // every open outbox entry (thousands in a burst) for every new customer. The last
    // two let the outbox worker find due heads without grouping every open entry.
    "CREATE INDEX outbox_created ON outbox(json_extract(response_json, '$.conversationId'))
        WHERE operation = 'createConversation' AND status = 'delivered';
    CREATE INDEX outbox_creating ON outbox(id)
        WHERE operation = 'createConversation' AND status IN ('pending', 'sending');
    CREATE INDEX outbox_pending ON outbox(id) WHERE status = 'pending';
    CREATE INDEX outbox_pending_next ON outbox(next_attempt_at_ms) WHERE status = 'pending';",
    // Search through whole transcripts: an FTS5 index of every line, kept by triggers and
    // filled from the stored lines here (crate::transcript_search).
    crate::transcript_search::MIGRATION,
    // What the last attempt of an outbox entry looked like on the wire (method, URL,
    // status, duration, the answer cut to a few kB; never a header), for the inspector.
    "ALTER TABLE outbox ADD COLUMN exchange_json TEXT;",
    // The handover the bot offered and the customer has not answered yet (a long queue,
    // no agent available: wait or keep talking to the bot); the reason it asked for it.
    "ALTER TABLE conversations ADD COLUMN handover_offer TEXT;",
    // The agent's Copilot sessions (the hash of each link's token), deleted with their
    // conversation by a trigger (crate::copilot).
    crate::copilot::MIGRATION,
    // The analytics page's transcript figures: the rule a bot line names as a column of
    // its own (kept by a trigger) with a partial index, and a partial index of the
    // handover notes (crate::analytics).
    crate::analytics::MIGRATION,
    // Transcript lines indexed for search behind the writers, in batches, rather than by
    // a trigger in every transaction that stores one (crate::transcript_search).
    crate::transcript_search::DEFERRED,
];

/// A file brought up to `version` only, as an older build left it (tests of a migration).
#[cfg(test)]
pub(crate) fn migrate_up_to(conn: &mut Connection, version: usize) {
    for (i, sql) in MIGRATIONS.iter().take(version).enumerate() {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        after_migration(i + 1, &tx).unwrap();
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
        tx.commit().unwrap();
    }
}

/// The version a migration brings a file to.
#[cfg(test)]
pub(crate) fn version_of(migration: &str) -> usize {
    MIGRATIONS.iter().position(|m| *m == migration).unwrap() + 1
}

/// What a migration needs beyond SQL, run in the same transaction.
fn after_migration(version: usize, tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    if version == 6 {
        let rows: Vec<(String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT id, user_json ->> '$.name', user_json ->> '$.email', last_text,
                    gateway_id, queue_name, agent_id FROM conversations",
            )?;
            let rows = stmt.query_map([], |r| {
                let id: String = r.get(0)?;
                let f: Vec<Option<String>> = (1..7).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                let text = crate::search_text::conversation(
                    f[0].as_deref(),
                    f[1].as_deref(),
                    f[2].as_deref(),
                    &id,
                    f[3].as_deref(),
                    f[4].as_deref(),
                    f[5].as_deref(),
                );
                Ok((id, text))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut update = tx.prepare("UPDATE conversations SET search_text = ?1 WHERE id = ?2")?;
        for (id, text) in rows {
            update.execute(rusqlite::params![text, id])?;
        }
    }
    Ok(())
}

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
    #[error(transparent)]
    Postgres(#[from] crate::pg::PgError),
}

/// A shared handle. Async callers' queries and writes run on one thread of the
/// database's own ([`Db::call`], [`Db::write`]), the inbox's group commits on the inbox
/// writer's thread ([`Db::blocking`]); both take turns on the one connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    work: std::sync::mpsc::Sender<Work>,
    path: PathBuf,
}

/// A query handed to the database thread; it sends its own answer back.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Writes that must commit together; several of them share one transaction.
pub type Writes = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

enum Work {
    Query(Job),
    Write(Writes, tokio::sync::oneshot::Sender<Result<(), DbError>>),
}

/// Most pieces of work taken under one hold of the connection before the inbox writer
/// gets its turn.
const WORK_PER_TURN: usize = 64;

impl Db {
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let shown = path.display().to_string();
        let open_err = |source| DbError::Open {
            path: shown.clone(),
            source,
        };
        let mut conn = connect(path).map_err(open_err)?;
        migrate(&mut conn, &shown)?;
        convert_to_incremental_vacuum(&conn, &shown);
        conn.execute(
            "INSERT INTO app_meta (key, value) VALUES ('last_started_at', strftime('%Y-%m-%dT%H:%M:%fZ','now'))
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [],
        )?;
        // Checkpoints run on their own thread (below), never inside a writer's commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let conn = Arc::new(Mutex::new(conn));
        spawn_checkpointer(path, Arc::downgrade(&conn));
        crate::transcript_search::spawn_indexer(Arc::downgrade(&conn));
        let work = spawn_worker(conn.clone()).map_err(|e| DbError::Task(e.to_string()))?;
        Ok(Self {
            conn,
            work,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the shared connection from a thread that may block (a dedicated
    /// writer thread). Every writer goes through this one connection, so writers queue
    /// on a mutex and are woken in turn, instead of meeting SQLITE_BUSY and sleeping in
    /// SQLite's busy handler (which waits up to 100 ms at a time).
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// [`Db::blocking`] if the connection is free right now; `None` if anyone holds it.
    pub fn try_blocking<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> Option<T> {
        let mut guard = match self.conn.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(f(&mut guard))
    }

    pub fn schema_version() -> usize {
        MIGRATIONS.len()
    }

    /// Runs `f` on the database thread and waits for its answer without blocking the
    /// async task. One thread rather than the blocking pool: with a pool, every query
    /// woke a thread of its own that then queued on the connection's mutex, and under
    /// load those wake-ups and hand-overs cost more than the queries (bench-whole-path).
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, DbError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |c| {
            let _ = tx.send(f(c).map_err(DbError::from));
        });
        self.work.send(Work::Query(job)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Commits `writes` atomically: all of them or, on an error, none. Writes waiting
    /// together share one transaction (each in a savepoint of its own, so one that fails
    /// is undone alone): under load a commit, which appends every page it changed to the
    /// WAL, carries many units of work instead of one.
    pub async fn write(&self, writes: Writes) -> Result<(), DbError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.work
            .send(Work::Write(writes, tx))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

fn stopped() -> DbError {
    DbError::Task("the database thread has stopped".into())
}

/// The database thread. Each turn takes what is waiting (up to [`WORK_PER_TURN`]),
/// commits the writes among it in one transaction, then answers the queries, so a query
/// never sees a write that could still be rolled back. A piece of work that panics
/// answers nothing (its caller gets "stopped") and the thread goes on. Ends when the
/// last handle is dropped.
fn spawn_worker(conn: Arc<Mutex<Connection>>) -> std::io::Result<std::sync::mpsc::Sender<Work>> {
    let (tx, rx) = std::sync::mpsc::channel::<Work>();
    std::thread::Builder::new()
        .name("sqlite-work".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut turn = vec![first];
                while turn.len() < WORK_PER_TURN {
                    match rx.try_recv() {
                        Ok(w) => turn.push(w),
                        Err(_) => break,
                    }
                }
                let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
                let (mut writes, mut queries) = (Vec::new(), Vec::new());
                for w in turn {
                    match w {
                        Work::Write(f, reply) => writes.push((f, reply)),
                        Work::Query(job) => queries.push(job),
                    }
                }
                if !writes.is_empty() {
                    let run = std::panic::AssertUnwindSafe(|| commit_together(&guard, writes));
                    if std::panic::catch_unwind(run).is_err() {
                        tracing::error!("a database write panicked");
                        let _ = guard.execute_batch("ROLLBACK");
                    }
                }
                for job in queries {
                    let run = std::panic::AssertUnwindSafe(|| job(&mut guard));
                    if std::panic::catch_unwind(run).is_err() {
                        tracing::error!("a database query panicked");
                    }
                }
            }
        })?;
    Ok(tx)
}

type Reply = tokio::sync::oneshot::Sender<Result<(), DbError>>;

/// One transaction for every write of the turn, a savepoint per write. The answers go
/// out after the commit: a caller told "stored" can rely on it.
fn commit_together(c: &Connection, writes: Vec<(Writes, Reply)>) {
    let (writes, replies): (Vec<Writes>, Vec<Reply>) = writes.into_iter().unzip();
    match in_one_transaction(c, writes, |c, f| f(c), |_| {}) {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result.map_err(DbError::from));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(DbError::Task(message.clone())));
            }
        }
    }
}

/// Runs `run` on each of `items` in one IMMEDIATE transaction, each in a savepoint of
/// its own so that one that fails is undone alone; `before_commit` runs last, inside it.
/// Gives each item's outcome, or the transaction's own error (it could not begin or
/// commit), in which case nothing of it was stored. The transaction statements stay
/// prepared: parsing them for every batch cost as much as a small batch's writes.
pub(crate) fn in_one_transaction<I, T>(
    c: &Connection,
    items: impl IntoIterator<Item = I>,
    mut run: impl FnMut(&Connection, I) -> rusqlite::Result<T>,
    before_commit: impl FnOnce(&Connection),
) -> rusqlite::Result<Vec<rusqlite::Result<T>>> {
    let exec = |sql: &str| {
        c.prepare_cached(sql)
            .and_then(|mut s| s.execute([]).map(|_| ()))
    };
    exec("BEGIN IMMEDIATE")?;
    let results = items
        .into_iter()
        .map(|item| {
            exec("SAVEPOINT item")?;
            match run(c, item) {
                Ok(t) => exec("RELEASE item").map(|_| t),
                Err(e) => {
                    exec("ROLLBACK TO item")?;
                    exec("RELEASE item")?;
                    Err(e)
                }
            }
        })
        .collect();
    before_commit(c);
    if let Err(e) = exec("COMMIT") {
        let _ = c.execute_batch("ROLLBACK");
        return Err(e);
    }
    Ok(results)
}

/// `synchronous=NORMAL` in WAL mode: a commit survives the process being killed (the
/// WAL is in the OS page cache), only an OS crash or power cut can lose the last
/// transactions. That is the durability "written before acknowledged" promises here;
/// FULL would add an fsync per commit.
fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    // Before WAL: switching a new, empty file to WAL writes its header, and from then on
    // only a VACUUM changes the vacuum mode. On an existing file this only says what the
    // next VACUUM should do.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Statement journals in memory: every write of a shared transaction runs in a
    // savepoint, which copies each page it touches first into the statement journal.
    // On a file (the default past 64 kB) that was a write system call per page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Every statement the relay runs stays prepared: with rusqlite's default of 16 the
    // ~60 distinct statements pushed each other out and were parsed again and again.
    conn.set_prepared_statement_cache_capacity(256);
    // Before any migration: the transcript index's triggers fold lines with it.
    crate::transcript_search::register(&conn)?;
    Ok(conn)
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A PASSIVE checkpoint on a connection of its own: it copies committed pages while
/// writers go on appending to the WAL, so the fsync it ends with never sits inside a
/// commit (with autocheckpoint, the commit that crosses ~1000 pages pays for it). Ends
/// when the database handle is dropped.
fn spawn_checkpointer(path: &Path, alive: std::sync::Weak<Mutex<Connection>>) {
    let path = path.to_path_buf();
    let run = move || {
        let conn = match connect(&path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the WAL checkpointer cannot open the database");
                return;
            }
        };
        while alive.strong_count() > 0 {
            std::thread::sleep(CHECKPOINT_EVERY);
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
        // A last full checkpoint leaves a compact database behind.
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    };
    if let Err(e) = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(run)
    {
        tracing::error!(error = %e, "cannot start the WAL checkpointer");
    }
}

/// `PRAGMA auto_vacuum` of a file that hands free pages back a few at a time.
const INCREMENTAL: i64 = 2;

/// A database created before files were made with `auto_vacuum=INCREMENTAL` is rewritten
/// once by a full `VACUUM`, at open, before the listeners take any traffic: it takes about
/// as long as copying the file and needs as much free disk space again. If it cannot run
/// (a full disk), the relay starts all the same: retention still deletes old rows and
/// SQLite reuses their pages, only the file does not shrink; the next start tries again.
fn convert_to_incremental_vacuum(conn: &Connection, path: &str) {
    let mode: i64 = conn
        .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
        .unwrap_or(INCREMENTAL);
    if mode == INCREMENTAL {
        return;
    }
    let started = std::time::Instant::now();
    tracing::info!(
        path,
        "converting the database to incremental vacuum (once; the whole file is rewritten)"
    );
    let converted = conn
        .pragma_update(None, "auto_vacuum", "INCREMENTAL")
        .and_then(|_| conn.execute_batch("VACUUM"))
        // VACUUM wrote the whole database to the WAL: copy it back and empty the WAL.
        .and_then(|_| conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())));
    match converted {
        Ok(()) => tracing::info!(
            path,
            took_ms = started.elapsed().as_millis() as u64,
            "database converted to incremental vacuum"
        ),
        Err(e) => tracing::warn!(
            path,
            error = %e,
            "the database could not be converted to incremental vacuum; retention frees space inside the file but the file will not shrink"
        ),
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
            .and_then(|_| after_migration(version, &tx))
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

    #[tokio::test]
    async fn a_database_from_before_the_search_column_gets_it_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        for (i, sql) in MIGRATIONS.iter().take(5).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO conversations (id, role, user_json, queue_name, created_at_ms, updated_at_ms)
             VALUES ('c1', 'handover', '{\"name\": \"Zoë Müller\"}', 'Billing', 1, 1)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        drop(conn);

        let db = Db::open(&path).unwrap();
        let text: String = db
            .call(|c| c.query_row("SELECT search_text FROM conversations", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(text, "zoe muller\nc1\nbilling");
    }

    #[tokio::test]
    async fn a_new_file_is_incremental_and_an_old_one_is_converted_once_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mode = |db: &Db| {
            db.blocking(|c| {
                c.pragma_query_value(None, "auto_vacuum", |r| r.get::<_, i64>(0))
                    .unwrap()
            })
        };
        let fresh = Db::open(&dir.path().join("new.db")).unwrap();
        assert_eq!(mode(&fresh), INCREMENTAL);

        // A file as an earlier build made it: WAL first, so no incremental vacuum.
        let path = dir.path().join("old.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        for (i, sql) in MIGRATIONS.iter().take(8).enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
            tx.commit().unwrap();
        }
        conn.execute(
            "INSERT INTO conversations (id, role, created_at_ms, updated_at_ms) VALUES ('kept', 'endpoint', 1, 1)",
            [],
        )
        .unwrap();
        assert_eq!(
            conn.pragma_query_value(None, "auto_vacuum", |r| r.get::<_, i64>(0))
                .unwrap(),
            0
        );
        drop(conn);

        let db = Db::open(&path).unwrap();
        assert_eq!(mode(&db), INCREMENTAL);
        let (ids, version): (String, i64) = db.blocking(|c| {
            (
                c.query_row("SELECT group_concat(id) FROM conversations", [], |r| {
                    r.get(0)
                })
                .unwrap(),
                c.pragma_query_value(None, "user_version", |r| r.get(0))
                    .unwrap(),
            )
        });
        assert_eq!(ids, "kept");
        assert_eq!(version as usize, MIGRATIONS.len());
        let indexes: i64 = db.blocking(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN
                 ('messages_delivery', 'messages_outbox', 'deliveries_duplicate')",
                [],
                |r| r.get(0),
            )
            .unwrap()
        });
        assert_eq!(indexes, 3);
    }

    /// Writes waiting together share a transaction; one that fails is undone alone, and
    /// every caller hears of its own write only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_committed_together_stand_or_fall_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|i: i64| {
                let db = db.clone();
                tokio::spawn(async move {
                    let outcome = db
                        .write(Box::new(move |c| {
                            c.execute(
                                "INSERT INTO app_meta (key, value) VALUES (?1, 'x')",
                                [format!("k{i}")],
                            )?;
                            if i % 5 == 0 {
                                // After its insert: the insert must be undone too.
                                c.execute("INSERT INTO no_such_table VALUES (1)", [])?;
                            }
                            Ok(())
                        }))
                        .await;
                    (i, outcome.is_ok())
                })
            })
            .collect();
        for t in tasks {
            let (i, ok) = t.await.unwrap();
            assert_eq!(ok, i % 5 != 0, "write {i}");
        }
        let stored: Vec<String> = db
            .call(|c| {
                let mut stmt =
                    c.prepare("SELECT key FROM app_meta WHERE key LIKE 'k%' ORDER BY key")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect()
            })
            .await
            .unwrap();
        assert_eq!(stored.len(), 160);
        assert!(!stored.contains(&"k5".to_string()) && stored.contains(&"k6".to_string()));
    }

    #[tokio::test]
    async fn a_query_that_panics_does_not_stop_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let failed = db
            .call(|_| -> rusqlite::Result<()> { panic!("boom") })
            .await;
        assert!(failed.is_err());
        let write = db.write(Box::new(|_| panic!("boom"))).await;
        assert!(write.is_err());
        let n: i64 = db
            .call(|c| c.query_row("SELECT COUNT(*) FROM app_meta", [], |r| r.get(0)))
            .await
            .unwrap();
        assert!(n >= 1);
        db.write(Box::new(|c| {
            c.execute(
                "INSERT INTO app_meta (key, value) VALUES ('after', 'x')",
                [],
            )?;
            Ok(())
        }))
        .await
        .unwrap();
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
