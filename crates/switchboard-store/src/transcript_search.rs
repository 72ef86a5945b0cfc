//! Search through whole transcripts: every line of every conversation in an SQLite FTS5
//! index, folded for case and accents exactly as the list's other fields are
//! (`crate::search_text::fold`, registered as the SQL function `search_fold`).
//!
//! The index (`transcript_search`) is contentless: it holds the folded words, not the
//! text (the text stays in `messages`), and `contentless_delete=1` lets a line be removed
//! by rowid. Lines are indexed behind the writers, not by them ([`DEFERRED`], version 16):
//! an insert trigger made every transaction that stored a line write a new FTS5 segment
//! (and merge them), a quarter of the database thread's work for each conversation under
//! load (bench-whole-path). The indexer ([`spawn_indexer`], started with every `Db`)
//! indexes the lines above `transcript_indexed.upto` in batches of up to [`BATCH`], so
//! no writer (the engine, a seeder) can forget it. Until then a search tests those lines
//! one by one ([`Matches::find_with`]), so a line is found the moment it is stored.
//! Triggers still keep indexed lines in step when a line is deleted or edited.
//!
//! A row's rowid says which line it is and which conversation the line belongs to,
//! without reading the line: `line id << 27 | key`, where `key` is the conversation's
//! number in `transcript_keys`. A search turns its matches into conversations with a
//! mask, however many lines match. The line id comes first so that rowids rise as lines
//! are written: FTS5 flushes what it holds in memory to a new segment whenever a rowid is
//! lower than the last one, and with the conversation first (interleaved conversations)
//! that happened at nearly every line, 30 times the cost of a write. Room for 2^27
//! (134 million) conversations and 2^36 (68 billion) lines over the database's life.
//!
//! A word in very many lines ("the") is not read from the index: past [`COMMON_AFTER`]
//! matching lines the search tests the lines of the conversations the list walks, newest
//! first, with the same rule FTS5 applies ([`Wanted`]), and stops when the page is full.
//!
//! Only this module and `conversations.rs` know the index exists; the engine and the
//! relay ask `ConversationStore::page`, so a second backend can answer the same query
//! its own way (PostgreSQL: a `tsvector` column and a GIN index).

use std::collections::HashMap;

use rusqlite::{functions::FunctionFlags, params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

pub use switchboard_types::Lane;

/// The migration that adds the index (db.rs, version 11). `after_migration` has nothing
/// to do: the last statements fill the index from the lines already stored.
pub const MIGRATION: &str = "
    CREATE TABLE transcript_keys (
        key             INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL UNIQUE
    );
    CREATE VIRTUAL TABLE transcript_search USING fts5(
        text, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER transcript_search_insert AFTER INSERT ON messages
    WHEN new.text IS NOT NULL AND new.text <> '' BEGIN
        INSERT INTO transcript_keys (conversation_id)
            SELECT new.conversation_id WHERE NOT EXISTS
                (SELECT 1 FROM transcript_keys WHERE conversation_id = new.conversation_id);
        INSERT INTO transcript_search (rowid, text) VALUES (
            (new.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = new.conversation_id),
            search_fold(new.text));
    END;
    CREATE TRIGGER transcript_search_delete AFTER DELETE ON messages
    WHEN old.text IS NOT NULL AND old.text <> '' BEGIN
        DELETE FROM transcript_search WHERE rowid =
            (old.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = old.conversation_id);
    END;
    CREATE TRIGGER transcript_search_update AFTER UPDATE OF text, conversation_id ON messages BEGIN
        DELETE FROM transcript_search WHERE old.text IS NOT NULL AND old.text <> '' AND rowid =
            (old.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = old.conversation_id);
        INSERT INTO transcript_keys (conversation_id)
            SELECT new.conversation_id WHERE new.text IS NOT NULL AND new.text <> '' AND NOT EXISTS
                (SELECT 1 FROM transcript_keys WHERE conversation_id = new.conversation_id);
        INSERT INTO transcript_search (rowid, text)
            SELECT (new.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = new.conversation_id),
                search_fold(new.text)
            WHERE new.text IS NOT NULL AND new.text <> '';
    END;
    INSERT INTO transcript_keys (conversation_id)
        SELECT conversation_id FROM messages WHERE text IS NOT NULL AND text <> ''
        GROUP BY conversation_id ORDER BY MIN(id);
    INSERT INTO transcript_search (rowid, text)
        SELECT (m.id << 27) | k.key, search_fold(m.text)
        FROM messages m JOIN transcript_keys k ON k.conversation_id = m.conversation_id
        WHERE m.text IS NOT NULL AND m.text <> '' ORDER BY m.id;
    INSERT INTO transcript_search (transcript_search) VALUES ('optimize');";

/// Lines are indexed behind the writers from here on (db.rs, version 16): the insert
/// trigger goes, the delete and edit triggers act only on lines already indexed, and
/// `transcript_indexed.upto` says which those are (every line stored so far, indexed by
/// the trigger being dropped). SQLite hands the id of a deleted top line out again, so
/// deleting the top lines brings the mark down to the top that is left: an id above
/// the mark is always a line still to index.
pub const DEFERRED: &str = "
    CREATE TABLE transcript_indexed (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        upto INTEGER NOT NULL
    );
    INSERT INTO transcript_indexed (only, upto) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
    DROP TRIGGER transcript_search_insert;
    DROP TRIGGER transcript_search_delete;
    DROP TRIGGER transcript_search_update;
    CREATE TRIGGER transcript_search_delete AFTER DELETE ON messages BEGIN
        DELETE FROM transcript_search WHERE old.text IS NOT NULL AND old.text <> ''
            AND old.id <= (SELECT upto FROM transcript_indexed) AND rowid =
            (old.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = old.conversation_id);
        UPDATE transcript_indexed SET upto = (SELECT COALESCE(MAX(id), 0) FROM messages)
            WHERE upto > (SELECT COALESCE(MAX(id), 0) FROM messages);
    END;
    CREATE TRIGGER transcript_search_update AFTER UPDATE OF text, conversation_id ON messages
    WHEN old.id <= (SELECT upto FROM transcript_indexed) BEGIN
        DELETE FROM transcript_search WHERE old.text IS NOT NULL AND old.text <> '' AND rowid =
            (old.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = old.conversation_id);
        INSERT INTO transcript_keys (conversation_id)
            SELECT new.conversation_id WHERE new.text IS NOT NULL AND new.text <> '' AND NOT EXISTS
                (SELECT 1 FROM transcript_keys WHERE conversation_id = new.conversation_id);
        INSERT INTO transcript_search (rowid, text)
            SELECT (new.id << 27) | (SELECT key FROM transcript_keys WHERE conversation_id = new.conversation_id),
                search_fold(new.text)
            WHERE new.text IS NOT NULL AND new.text <> '';
    END;";

/// Most lines one indexing step takes: one FTS5 segment each, ~10 ms of the connection,
/// so writers waiting behind it are not held long.
pub const BATCH: i64 = 2_000;

/// How long the indexer rests once it has caught up: a few hundred lines per step under
/// load, one segment for all of them, and a search tests at most this long's lines itself.
const REST: std::time::Duration = std::time::Duration::from_millis(250);
const RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Indexes the lines stored since the last step, up to `batch` line ids past it, in one
/// transaction: their conversations' keys first (in line order), then the lines, then the
/// mark. Gives how many line ids it went past (`batch` when there may be more).
pub fn index_step(c: &mut Connection, batch: i64) -> rusqlite::Result<i64> {
    let waiting = |c: &Connection| -> rusqlite::Result<(i64, i64)> {
        c.prepare_cached(
            "SELECT upto, (SELECT COALESCE(MAX(id), 0) FROM messages) FROM transcript_indexed",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
    };
    // Looked at before taking the write lock: an idle relay's indexer writes nothing.
    let (from, top) = waiting(c)?;
    if top <= from {
        return Ok(0);
    }
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (from, top) = waiting(&tx)?;
    let upto = top.min(from.saturating_add(batch));
    if upto <= from {
        return Ok(0);
    }
    tx.prepare_cached(
        "INSERT INTO transcript_keys (conversation_id)
         SELECT conversation_id FROM messages
         WHERE id > ?1 AND id <= ?2 AND text IS NOT NULL AND text <> ''
           AND conversation_id NOT IN (SELECT conversation_id FROM transcript_keys)
         GROUP BY conversation_id ORDER BY MIN(id)",
    )?
    .execute(params![from, upto])?;
    tx.prepare_cached(
        "INSERT INTO transcript_search (rowid, text)
         SELECT (m.id << 27) | k.key, search_fold(m.text)
         FROM messages m JOIN transcript_keys k ON k.conversation_id = m.conversation_id
         WHERE m.id > ?1 AND m.id <= ?2 AND m.text IS NOT NULL AND m.text <> ''
         ORDER BY m.id",
    )?
    .execute(params![from, upto])?;
    tx.prepare_cached("UPDATE transcript_indexed SET upto = ?1")?
        .execute([upto])?;
    tx.commit()?;
    Ok(upto - from)
}

/// Indexes every line stored so far (the benchmarks after seeding, tests).
pub fn index_all(c: &mut Connection) -> rusqlite::Result<()> {
    while index_step(c, BATCH)? == BATCH {}
    Ok(())
}

/// The indexer's thread: a step whenever lines are waiting, a rest once it has caught up;
/// it takes the connection between the database thread's turns. Ends with the last `Db`
/// handle. A step that fails is logged and tried again after a rest (its transaction
/// rolled back: nothing half-indexed).
pub(crate) fn spawn_indexer(alive: std::sync::Weak<std::sync::Mutex<Connection>>) {
    let mut failing = false;
    let run = move || loop {
        let Some(conn) = alive.upgrade() else { return };
        let went = {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            index_step(&mut guard, BATCH)
        };
        drop(conn);
        match went {
            Ok(n) => {
                failing = false;
                if n == BATCH {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(REST);
                }
            }
            // A full disk or a file made read-only: said once, tried again now and then
            // (searches still find the waiting lines one by one meanwhile).
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "indexing transcript lines for search failed; trying again every 5 s");
                }
                failing = true;
                std::thread::sleep(RETRY);
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("sqlite-index".into())
        .spawn(run)
    {
        tracing::error!(error = %e, "the transcript search indexer did not start; new lines are searched one by one");
    }
}

/// Bits of a rowid that hold the conversation's key (the line id is above them).
const KEY_BITS: u32 = 27;
const KEY_MASK: i64 = (1 << KEY_BITS) - 1;

/// Registers `search_fold(text)` on a connection (the triggers and the migration call
/// it) and `transcript_match(text, typed)` (a common word's search, [`Matches::Common`]).
pub fn register(c: &Connection) -> rusqlite::Result<()> {
    c.create_scalar_function(
        "search_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|s| crate::search_text::fold(&s)))
        },
    )?;
    c.create_scalar_function(
        "transcript_match",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            // What was typed is the same for every line of a query: parsed once.
            let wanted = ctx.get_or_create_aux(1, |typed| {
                Ok::<_, rusqlite::types::FromSqlError>(Wanted::parse(typed.as_str()?))
            })?;
            Ok(ctx
                .get::<Option<String>>(0)?
                .is_some_and(|text| wanted.matches(&text)))
        },
    )
}

/// What was typed, as [`fts_query`] puts it to FTS5, tested against one line's text
/// without the index: every word must be in the line as its tokens in a row, the last
/// word's last token only as the start of a token. Tokens are runs of letters and digits
/// of the folded text, as FTS5's `unicode61` tokenizer cuts the folded lines.
pub struct Wanted {
    phrases: Vec<Vec<String>>,
}

pub(crate) fn tokens(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
}

impl Wanted {
    pub fn parse(typed: &str) -> Self {
        let folded = crate::search_text::fold(typed);
        let phrases = folded
            .split_whitespace()
            .map(|w| tokens(w).map(str::to_string).collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .collect();
        Self { phrases }
    }

    pub fn matches(&self, text: &str) -> bool {
        let folded = crate::search_text::fold(text);
        // Most lines lack a word altogether: a substring test says so before the tokens.
        if !self.phrases.iter().all(|p| folded.contains(p[0].as_str())) {
            return false;
        }
        let line: Vec<&str> = tokens(&folded).collect();
        let last = self.phrases.len().saturating_sub(1);
        !self.phrases.is_empty()
            && self.phrases.iter().enumerate().all(|(i, phrase)| {
                line.windows(phrase.len()).any(|run| {
                    run.iter().zip(phrase).enumerate().all(|(j, (got, want))| {
                        if i == last && j == phrase.len() - 1 {
                            got.starts_with(want.as_str())
                        } else {
                            got == want
                        }
                    })
                })
            })
    }
}

/// The FTS5 query for what the user typed: every word must occur in the same line, the
/// last one as the start of a word there (it may still be being typed: "where is my parc"
/// finds "parcel"), a word of several parts as those parts in a row ("INV-991" finds
/// "inv 991" and "INV-991"). Only the last word is a prefix: FTS5 answers a prefix by
/// merging the lists of every word it starts, which for a short one ("no") costs more
/// than the rest of the search. Quoted, so nothing typed is read as FTS5 syntax. `None`
/// when no word has a letter or digit: only the other fields are searched then.
pub fn fts_query(typed: &str) -> Option<String> {
    let folded = crate::search_text::fold(typed);
    let words: Vec<String> = folded
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" ") + "*")
}

/// The condition a list query adds for a search whose lines were read from the index:
/// the conversation's own fields hold the folded words (`?` 1), or it is one of the
/// conversations whose lines matched (`?` 2, a JSON array of their keys in the index and
/// the ids of those whose lines matched before they were indexed).
const LINES_CONDITION: &str = " AND (instr(search_text, ?) > 0 OR id IN (
    SELECT CASE j.type WHEN 'integer'
        THEN (SELECT conversation_id FROM transcript_keys WHERE key = j.value)
        ELSE j.value END
    FROM json_each(?) j))";

/// The condition for a common word's search: the conversation's own fields, or one of its
/// lines (`?` 2, what was typed). The list walks conversations newest first and stops when
/// the page is full, so with a common word it asks this of a few hundred conversations, most
/// of which match within their first lines.
const COMMON_CONDITION: &str = " AND (instr(search_text, ?) > 0 OR EXISTS (
    SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id
    AND transcript_match(m.text, ?)))";

/// How many matching lines a search reads from the index before it takes the word for a
/// common one. Reading a rowid costs ~0.2 µs, so this bounds the index pass at a few ms;
/// a word in more lines than this ("the", "order") is in most conversations, which the
/// list then finds by asking its newest conversations one by one.
pub const COMMON_AFTER: usize = 20_000;

/// A transcript line a search matched, shown in the list under the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MatchedLine {
    /// The line's id in the transcript.
    pub id: i64,
    pub lane: Lane,
    pub text: String,
    pub at_ms: i64,
}

/// Which conversations a search's lines are in.
pub enum Matches {
    /// Few enough lines matched to read them all from the index (the rowids alone, in
    /// rowid order, which is line order): each conversation they are in, with its newest
    /// matching line. One FTS5 query rather than one per conversation shown: a prefix
    /// word ("parcel" also finds "parcels") makes FTS5 merge the lists of every word it
    /// starts, and that is the cost of each query.
    /// `recent`: lines not indexed yet that match, by conversation id, the newest of each
    /// (newer than any line in the index).
    Lines {
        newest: HashMap<i64, i64>,
        recent: HashMap<String, i64>,
    },
    /// More than [`COMMON_AFTER`] lines matched: reading them all would cost more than
    /// the page (half a million rowids for "the", ~100 ms), so the list query tests lines
    /// of the conversations it walks instead ([`Wanted`], the same test FTS5 makes).
    Common { typed: String },
}

impl Matches {
    pub fn find(c: &Connection, fts: &str, typed: &str) -> rusqlite::Result<Self> {
        Self::find_with(c, fts, typed, COMMON_AFTER)
    }

    /// [`Matches::find`] with another bound (tests run both ways on small data).
    pub fn find_with(
        c: &Connection,
        fts: &str,
        typed: &str,
        common_after: usize,
    ) -> rusqlite::Result<Self> {
        let mut stmt = c.prepare_cached(
            "SELECT rowid FROM transcript_search WHERE transcript_search MATCH ?1 LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![
            fts,
            i64::try_from(common_after)
                .unwrap_or(i64::MAX)
                .saturating_add(1)
        ])?;
        let mut newest = HashMap::new();
        let mut read = 0;
        while let Some(r) = rows.next()? {
            read += 1;
            if read > common_after {
                return Ok(Self::Common {
                    typed: typed.to_string(),
                });
            }
            let rowid: i64 = r.get(0)?;
            newest.insert(rowid & KEY_MASK, rowid);
        }
        // The lines stored since the indexer's last step (a few hundred under load), each
        // tested as FTS5 would: in id order, so the last one kept is the newest.
        let mut recent = HashMap::new();
        let mut stmt = c.prepare_cached(
            "SELECT id, conversation_id FROM messages
             WHERE id > (SELECT upto FROM transcript_indexed)
               AND text IS NOT NULL AND text <> '' AND transcript_match(text, ?1)
             ORDER BY id",
        )?;
        let mut rows = stmt.query([typed])?;
        while let Some(r) = rows.next()? {
            recent.insert(r.get::<_, String>(1)?, r.get::<_, i64>(0)?);
        }
        Ok(Self::Lines { newest, recent })
    }

    /// The condition for the list query and its parameter.
    pub fn condition(&self) -> (&'static str, rusqlite::types::Value) {
        use rusqlite::types::Value as P;
        match self {
            Self::Lines { newest, recent } => {
                let keys = newest.keys().map(|k| serde_json::Value::from(*k));
                let ids = recent.keys().map(|id| serde_json::Value::from(id.as_str()));
                let all = serde_json::Value::Array(keys.chain(ids).collect());
                (LINES_CONDITION, P::Text(all.to_string()))
            }
            Self::Common { typed } => (COMMON_CONDITION, P::Text(typed.clone())),
        }
    }

    /// The newest matching line of `conversation_id`, if a line of it matched.
    pub fn line(
        &self,
        c: &Connection,
        conversation_id: &str,
    ) -> rusqlite::Result<Option<MatchedLine>> {
        let read = |r: &rusqlite::Row<'_>| {
            Ok(MatchedLine {
                id: r.get(0)?,
                lane: Lane::parse(&r.get::<_, String>(1)?),
                text: r.get(2)?,
                at_ms: r.get(3)?,
            })
        };
        let by_id = |line: i64| {
            c.prepare_cached(
                "SELECT id, author_type, text, created_at_ms FROM messages
                 WHERE id = ?1 AND conversation_id = ?2",
            )?
            .query_row(params![line, conversation_id], read)
            .optional()
        };
        match self {
            // A line not indexed yet is newer than every indexed one.
            Self::Lines { recent, newest } => match recent.get(conversation_id) {
                Some(line) => by_id(*line),
                None => {
                    let key: Option<i64> = c
                        .prepare_cached(
                            "SELECT key FROM transcript_keys WHERE conversation_id = ?1",
                        )?
                        .query_row([conversation_id], |r| r.get(0))
                        .optional()?;
                    match key.and_then(|k| newest.get(&k)) {
                        Some(rowid) => by_id(rowid >> KEY_BITS),
                        None => Ok(None),
                    }
                }
            },
            Self::Common { typed } => c
                .prepare_cached(
                    "SELECT id, author_type, text, created_at_ms FROM messages
                     WHERE conversation_id = ?1 AND transcript_match(text, ?2)
                     ORDER BY id DESC LIMIT 1",
                )?
                .query_row(params![conversation_id, typed], read)
                .optional(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::{
        Conversation, ConversationStore, Cursor, Direction, ListQuery, Mode, Phase, PhaseFilter,
    };
    use crate::db::Db;
    use crate::retention::{Policy, Retention};

    const DAY_MS: i64 = 24 * 60 * 60 * 1000;

    async fn store() -> (tempfile::TempDir, Db, ConversationStore) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        (dir, db.clone(), ConversationStore::new(db))
    }

    /// A conversation with these lines (user, bot, user …), the last one its `last_text`.
    async fn talk(store: &ConversationStore, id: &str, at: i64, phase: Phase, lines: &[&str]) {
        let mut c = Conversation::new(id.into(), Mode::Endpoint, at);
        c.phase = phase;
        c.user = serde_json::json!({ "name": format!("User {id}") });
        c.last_text = lines.last().map(|l| l.to_string());
        if phase == Phase::Ended {
            c.ended_at_ms = Some(at);
        }
        store.save(&c).await.unwrap();
        for (i, text) in lines.iter().enumerate() {
            let lane = if i % 2 == 0 { Lane::User } else { Lane::Bot };
            store
                .add_entry(
                    id,
                    lane,
                    Direction::In,
                    text,
                    serde_json::Value::Null,
                    None,
                    None,
                    at + i as i64,
                )
                .await
                .unwrap();
        }
    }

    async fn search(store: &ConversationStore, words: &str) -> Vec<(String, Option<String>)> {
        let mut q = ListQuery::newest(50);
        q.search = Some(words.into());
        store
            .page(q)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.id, s.matched_line.map(|l| l.text)))
            .collect()
    }

    #[tokio::test]
    async fn a_word_in_the_middle_of_a_transcript_finds_its_conversation_and_line() {
        let (_dir, _db, store) = store().await;
        let middle = "Where is my parcel? The invoice INV-991 says Zürich.";
        talk(
            &store,
            "c1",
            100,
            Phase::Bot,
            &["Hello", middle, "Thanks, bye"],
        )
        .await;
        talk(
            &store,
            "c2",
            200,
            Phase::Bot,
            &["Hi", "Nothing to see", "Bye"],
        )
        .await;
        talk(
            &store,
            "c3",
            300,
            Phase::Bot,
            &["Zoë here", "Où est mon colis ?", "Merci"],
        )
        .await;
        let c1 = vec![("c1".to_string(), Some(middle.to_string()))];
        for words in [
            "parcel",
            "PARCEL",
            "invoice",
            "INV-991",
            "inv-991",
            "parc",
            "zurich",
            "ZÜRICH",
            "invoice parcel",
        ] {
            assert_eq!(search(&store, words).await, c1, "search {words:?}");
        }
        // Accents and case fold as in the other fields, both ways.
        assert_eq!(
            search(&store, "ou est").await,
            [("c3".to_string(), Some("Où est mon colis ?".to_string()))]
        );
        assert_eq!(
            search(&store, "ZOE").await,
            [("c3".to_string(), Some("Zoë here".to_string()))]
        );
        // Words of one line, not spread over two; a word's middle is not a word's start.
        assert_eq!(search(&store, "parcel thanks").await, []);
        // Only the last word may be the start of a longer one.
        assert_eq!(search(&store, "parc invoice").await, []);
        assert_eq!(search(&store, "arcel").await, []);
        // The other fields still match, with no line to show when no line matched.
        assert_eq!(search(&store, "user c2").await, [("c2".to_string(), None)]);
        assert_eq!(search(&store, "\"").await, []);
        // FTS5 syntax typed by the user is only text.
        assert_eq!(search(&store, "parcel OR NEAR(").await, []);
        assert_eq!(search(&store, "my parcel*").await, c1);
    }

    /// Every page of a search, with each row's matched line, reading at most
    /// `common_after` lines from the index (0: always as a common word).
    async fn all_pages(
        store: &ConversationStore,
        words: &str,
        common_after: usize,
    ) -> Vec<(String, Option<String>)> {
        let mut q = ListQuery::newest(3);
        q.search = Some(words.into());
        let mut found = Vec::new();
        loop {
            let page = store.page_with(q.clone(), common_after).await.unwrap();
            let Some(last) = page.last() else { break };
            q.after = Some(Cursor {
                created_at_ms: last.created_at_ms,
                id: Some(last.id.clone()),
            });
            found.extend(
                page.into_iter()
                    .map(|s| (s.id, s.matched_line.map(|l| l.text))),
            );
        }
        found
    }

    // A common word's search tests the lines of the conversations the list walks instead of
    // reading the index: both ways find the same conversations, pages and lines.
    #[tokio::test]
    async fn a_common_word_is_found_as_the_index_finds_it() {
        let (_dir, _db, store) = store().await;
        let lines: [&[&str]; 8] = [
            &["Hello", "Where is my parcel?", "It left Zürich"],
            &["The invoice INV-991 is wrong", "Which invoice?", "inv 991"],
            &["parcels, parcels everywhere", "ok"],
            &["Nothing here", "Still nothing", "bye"],
            &["PARCEL-TRACKING 4451 2367", "Zoë Ångström wrote"],
            &["the the the", "invoice991", "in voice"],
            &["Müller ordered", "order number 20261203", "ORDER again"],
            &["Let me check the parcel", "the parcel arrived", "thanks"],
        ];
        for (i, l) in lines.iter().enumerate() {
            talk(&store, &format!("c{i}"), 100 * i as i64, Phase::Bot, l).await;
        }
        for words in [
            "parcel",
            "parc",
            "the",
            "the parcel",
            "invoice",
            "inv-991",
            "INV 99",
            "inv",
            "zurich",
            "zoe angstrom",
            "muller",
            "order",
            "2026120",
            "4451 2367",
            "parcel-tracking",
            "nothing",
            "voice",
            "xyz",
            "parcels",
            "ordered again",
        ] {
            let from_index = all_pages(&store, words, usize::MAX).await;
            let walked = all_pages(&store, words, 0).await;
            assert_eq!(walked, from_index, "{words:?}");
        }
        // And what both find is right.
        let ids =
            |v: Vec<(String, Option<String>)>| v.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(ids(all_pages(&store, "inv-991", 0).await), ["c1"]);
        assert_eq!(
            ids(all_pages(&store, "parcel", 0).await),
            ["c7", "c4", "c2", "c0"]
        );
        assert_eq!(ids(all_pages(&store, "zoe angstrom", 0).await), ["c4"]);
    }

    #[tokio::test]
    async fn a_search_pages_by_keyset_and_keeps_its_filters() {
        let (_dir, _db, store) = store().await;
        for i in 0..9 {
            let phase = if i % 3 == 0 { Phase::Ended } else { Phase::Bot };
            // Three in one millisecond straddle the page boundaries.
            let at = if (3..6).contains(&i) { 500 } else { i * 100 };
            let middle = if i == 4 {
                "no match here"
            } else {
                "about the parcel, please"
            };
            talk(&store, &format!("c{i}"), at, phase, &["hi", middle, "ok"]).await;
        }
        let mut q = ListQuery::newest(2);
        q.search = Some("parcel".into());
        let mut ids = Vec::new();
        loop {
            let page = store.page(q.clone()).await.unwrap();
            let Some(last) = page.last() else { break };
            assert!(page.iter().all(|s| s.matched_line.is_some()));
            q.after = Some(Cursor {
                created_at_ms: last.created_at_ms,
                id: Some(last.id.clone()),
            });
            ids.extend(page.into_iter().map(|s| s.id));
        }
        assert_eq!(ids, ["c8", "c7", "c6", "c5", "c3", "c2", "c1", "c0"]);
        let mut q = ListQuery::newest(50);
        q.search = Some("parcel".into());
        q.phase = PhaseFilter::parse("ended");
        let ended: Vec<String> = store
            .page(q)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ended, ["c6", "c3", "c0"]);
    }

    #[tokio::test]
    async fn retention_takes_the_index_rows_with_the_lines() {
        let (_dir, db, store) = store().await;
        let now = 1_000 * DAY_MS;
        talk(
            &store,
            "old",
            now - 200 * DAY_MS,
            Phase::Ended,
            &["hi", "my parcel", "bye"],
        )
        .await;
        talk(
            &store,
            "new",
            now - DAY_MS,
            Phase::Ended,
            &["hi", "your parcel", "bye"],
        )
        .await;
        let indexed = |db: &Db| {
            db.blocking(|c| {
                c.query_row(
                    "SELECT (SELECT COUNT(*) FROM transcript_search WHERE transcript_search MATCH 'parcel'),
                            (SELECT group_concat(conversation_id) FROM transcript_keys)",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .unwrap()
            })
        };
        db.blocking(index_all).unwrap();
        assert_eq!(indexed(&db), (2, "old,new".to_string()));
        let policy = Policy {
            deliveries_days: 14,
            outbox_days: 30,
            conversations_days: 90,
        };
        let pass = Retention::new(db.clone()).run(now, policy).await.unwrap();
        assert_eq!((pass.conversations, pass.transcript_lines), (1, 3));
        assert_eq!(indexed(&db), (1, "new".to_string()));
        assert_eq!(
            search(&store, "parcel").await,
            [("new".to_string(), Some("your parcel".to_string()))]
        );
        // A line edited in place is found by its new words only.
        db.blocking(|c| {
            c.execute(
                "UPDATE messages SET text = 'a letter' WHERE text = 'your parcel'",
                [],
            )
        })
        .unwrap();
        assert_eq!(search(&store, "parcel").await, []);
        assert_eq!(search(&store, "letter").await.len(), 1);
    }

    /// (lines in the index, how far the index goes)
    fn index_state(db: &Db) -> (i64, i64) {
        db.blocking(|c| {
            c.query_row(
                "SELECT (SELECT COUNT(*) FROM transcript_search WHERE transcript_search MATCH 'parcel OR letter OR hello'),
                        (SELECT upto FROM transcript_indexed)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        })
    }

    // A line is searchable the moment it is stored, before the indexer has taken it, and
    // the same after; an unindexed line edited or deleted leaves nothing wrong behind.
    #[tokio::test]
    async fn a_line_is_found_before_and_after_it_is_indexed() {
        let (_dir, db, store) = store().await;
        talk(
            &store,
            "c1",
            100,
            Phase::Bot,
            &["Hello", "my parcel is late"],
        )
        .await;
        talk(&store, "c2", 200, Phase::Bot, &["where is the parcel"]).await;
        // The indexer runs on its own too: holding the connection from the write to the
        // search keeps it out, so these lines are certainly not indexed yet.
        let found = db.blocking(|c| {
            c.execute_batch(
                "INSERT INTO messages (conversation_id, direction, author_type, text, created_at_ms)
                 VALUES ('c1', 'in', 'user', 'parcel here', 150), ('c3', 'in', 'user', 'parcels', 160)",
            )
            .unwrap();
            let upto: i64 = c
                .query_row("SELECT upto FROM transcript_indexed", [], |r| r.get(0))
                .unwrap();
            match Matches::find(c, &fts_query("parcel").unwrap(), "parcel").unwrap() {
                Matches::Lines { recent, .. } => {
                    // (the first lines may or may not have been indexed meanwhile)
                    let mut recent: Vec<_> = recent.into_iter().filter(|(_, id)| *id > 3).collect();
                    recent.sort();
                    (upto < 4, recent)
                }
                Matches::Common { .. } => panic!("a rare word read as common"),
            }
        });
        assert_eq!(
            found,
            (true, vec![("c1".to_string(), 4), ("c3".to_string(), 5)])
        );
        db.blocking(|c| c.execute("DELETE FROM messages WHERE id >= 4", []))
            .unwrap();
        let both = vec![
            ("c2".to_string(), Some("where is the parcel".to_string())),
            ("c1".to_string(), Some("my parcel is late".to_string())),
        ];
        assert_eq!(search(&store, "parcel").await, both);
        db.blocking(index_all).unwrap();
        assert_eq!(index_state(&db), (3, 3));
        assert_eq!(search(&store, "parcel").await, both);

        // A conversation with lines on both sides of the mark: its newest match is shown.
        db.blocking(|c| {
            c.execute_batch(
                "INSERT INTO messages (conversation_id, direction, author_type, text, created_at_ms)
                 VALUES ('c1', 'in', 'user', 'parcel again', 300),
                        ('c1', 'in', 'user', 'a parcel typo', 301),
                        ('c2', 'in', 'user', 'gone soon: parcel', 302)",
            )
        })
        .unwrap();
        // Edited and deleted before the indexer saw them: the edit is what gets indexed.
        db.blocking(|c| {
            c.execute_batch(
                "UPDATE messages SET text = 'a letter' WHERE text = 'a parcel typo';
                 DELETE FROM messages WHERE text = 'gone soon: parcel';",
            )
        })
        .unwrap();
        let found = vec![
            ("c2".to_string(), Some("where is the parcel".to_string())),
            ("c1".to_string(), Some("parcel again".to_string())),
        ];
        assert_eq!(search(&store, "parcel").await, found);
        assert_eq!(search(&store, "letter").await.len(), 1);
        db.blocking(index_all).unwrap();
        // Ids 4 and 5 were handed out again after the first delete; the deleted top line
        // (6) was never indexed, and the mark stays at the top that is left.
        assert_eq!(index_state(&db), (5, 5));
        assert_eq!(search(&store, "parcel").await, found);
        assert_eq!(
            search(&store, "letter").await,
            [("c1".to_string(), Some("a letter".to_string()))]
        );
        // The top lines deleted, their ids are handed out again: the new line is indexed.
        db.blocking(|c| {
            c.execute_batch(
                "DELETE FROM messages WHERE id >= 5;
                 INSERT INTO messages (conversation_id, direction, author_type, text, created_at_ms)
                 VALUES ('c2', 'in', 'user', 'hello parcel', 303);",
            )
        })
        .unwrap();
        assert_eq!(index_state(&db).1, 4);
        db.blocking(index_all).unwrap();
        assert_eq!(index_state(&db), (5, 5));
        assert_eq!(
            search(&store, "hello parcel").await,
            [("c2".to_string(), Some("hello parcel".to_string()))]
        );
    }

    // Nobody has to ask: the `Db`'s own indexer takes new lines within its rest.
    #[tokio::test]
    async fn the_indexer_takes_new_lines_by_itself() {
        let (_dir, db, store) = store().await;
        talk(
            &store,
            "c1",
            100,
            Phase::Bot,
            &["Hello", "my parcel", "a letter"],
        )
        .await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while index_state(&db) != (3, 3) {
            assert!(
                std::time::Instant::now() < deadline,
                "not indexed in 10 s: {:?}",
                index_state(&db)
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn the_migration_indexes_the_lines_already_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::db::migrate_up_to(&mut conn, crate::db::version_of(MIGRATION) - 1);
        conn.execute_batch(
            "INSERT INTO conversations (id, role, user_json, created_at_ms, updated_at_ms, search_text)
                VALUES ('c1', 'endpoint', '{}', 1, 1, 'c1'), ('c2', 'endpoint', '{}', 2, 2, 'c2');
             INSERT INTO messages (conversation_id, direction, author_type, text, created_at_ms) VALUES
                ('c1', 'in', 'user', 'Hello', 1), ('c2', 'in', 'user', 'Hi', 2),
                ('c1', 'in', 'user', 'the parcel INV-991', 3), ('c1', 'out', 'bot', '', 4),
                ('c1', 'out', 'bot', 'bye', 5)",
        )
        .unwrap();
        drop(conn);
        let store = ConversationStore::new(Db::open(&path).unwrap());
        assert_eq!(
            search(&store, "inv-991").await,
            [("c1".to_string(), Some("the parcel INV-991".to_string()))]
        );
        assert_eq!(
            search(&store, "hi").await,
            [("c2".to_string(), Some("Hi".to_string()))]
        );
    }

    #[test]
    fn what_is_typed_becomes_quoted_prefix_phrases() {
        assert_eq!(fts_query("Parcel"), Some("\"parcel\"*".into()));
        assert_eq!(
            fts_query("  INV-991  Zoë "),
            Some("\"inv-991\" \"zoe\"*".into())
        );
        assert_eq!(
            fts_query("say \"hi\" OR NEAR(x"),
            Some("\"say\" \"\"\"hi\"\"\" \"or\" \"near(x\"*".into())
        );
        assert_eq!(fts_query(" -- ?! "), None);
        assert_eq!(fts_query(""), None);
    }
}
