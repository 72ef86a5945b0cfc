//! The PostgreSQL schema, as ordered migrations. Its versions are its own (SQLite's `db`
//! numbers its file's migrations separately): version n here is `MIGRATIONS[n - 1]`, and
//! `switchboard_migrations` records which ran (see `migrate`). Never edit a released
//! entry; add one. Nothing here is released yet: until the PostgreSQL backend ships, the
//! next engineer may still fold new tables into these entries.
//!
//! The tables mirror SQLite's (`crate::db` documents the columns) with PostgreSQL types:
//! `BIGINT` ids from an identity sequence, `BYTEA` bodies, times in epoch milliseconds as
//! everywhere else in the relay.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: facts about this database, and the delivery ledger (crate::deliveries).
    "CREATE TABLE app_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO app_meta (key, value)
        VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'));
    CREATE TABLE deliveries (
        id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at_ms   BIGINT NOT NULL,
        headers_json     TEXT NOT NULL,
        body             BYTEA NOT NULL,
        event_id         TEXT,
        event_type       TEXT,
        conversation_id  TEXT,
        signature        TEXT NOT NULL,
        signature_reason TEXT,
        http_status      INTEGER NOT NULL,
        duplicate_of     BIGINT REFERENCES deliveries(id),
        status           TEXT NOT NULL,
        outcome          TEXT,
        processed_at_ms  BIGINT,
        -- What the inbox orders and leases by: events without a conversation form one group.
        conversation_key TEXT GENERATED ALWAYS AS (COALESCE(conversation_id, '')) STORED
    );
    -- At most one accepted, non-duplicate row per event id, whichever relay stored it:
    -- the idempotency guarantee (the same partial index as SQLite's).
    CREATE UNIQUE INDEX deliveries_event_once ON deliveries(event_id)
        WHERE event_id IS NOT NULL AND status NOT IN ('duplicate', 'rejected', 'unverified');
    CREATE INDEX deliveries_event ON deliveries(event_id);
    CREATE INDEX deliveries_pending ON deliveries(conversation_key, id) WHERE status = 'pending';
    CREATE INDEX deliveries_conversation ON deliveries(conversation_id, id);
    CREATE INDEX deliveries_rejected ON deliveries(id) WHERE status = 'rejected';
    CREATE INDEX deliveries_duplicate ON deliveries(duplicate_of) WHERE duplicate_of IS NOT NULL;",
    // 2: which relay processes which conversation's events now (crate::pg::inbox): a
    // lease per conversation, taken for a while and renewed while the relay works; a
    // relay that dies leaves it to expire. `generation` grows with every take, so a
    // relay whose lease was taken over cannot complete events under it.
    "CREATE TABLE inbox_leases (
        conversation_key TEXT PRIMARY KEY,
        holder           TEXT NOT NULL,
        generation       BIGINT NOT NULL DEFAULT 1,
        expires_at_ms    BIGINT NOT NULL
    );",
];
