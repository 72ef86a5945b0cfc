//! Search on PostgreSQL, with SQLite's semantics (`crate::transcript_search`):
//!
//! - **The list's fields:** what was typed, folded (`crate::search_text::fold`), anywhere
//!   in `conversations.search_text`: `LIKE '%…%'` with the user's `%`, `_` and `\` taken
//!   literally, served by the trigram index `conversations_search`.
//! - **Transcript lines:** each line's `search_text` is its folded words one space apart,
//!   cut exactly as on SQLite ([`crate::transcript_search::tokens`]: runs of letters and
//!   digits), so `search_words` (`to_tsvector('simple', …)`, no stemming, no stop words)
//!   holds the same tokens FTS5 holds. What was typed becomes the same query as FTS5's:
//!   every word in one line, a word of several parts as a phrase (`<->`), the last token
//!   of the last word a prefix (`:*`). The lexemes are quoted, so nothing typed is read as
//!   query syntax.
//! - **A common word:** past `common_after` matching lines the search stops reading the
//!   index and the list tests the lines of the conversations it walks (`@@` on their
//!   stored tsvector, the same test), as SQLite's `Matches::Common` does.

use std::collections::HashMap;

use deadpool_postgres::Object;

use crate::conversations::{Lane, MatchedLine};
use crate::search_text::fold;
use crate::transcript_search::tokens;

use super::{write::Param, PgError};

/// What a line's `search_text` holds: its folded words, one space apart.
pub fn line_words(text: &str) -> String {
    tokens(&fold(text)).collect::<Vec<_>>().join(" ")
}

/// The `LIKE` pattern for what was typed: folded, its wildcards escaped, anywhere.
pub fn like_pattern(typed: &str) -> String {
    let mut pattern = String::from("%");
    for c in fold(typed).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The `to_tsquery('simple', …)` text for what was typed (as `fts_query` makes FTS5's);
/// `None` when no word has a letter or digit: only the other fields are searched then.
pub fn tsquery(typed: &str) -> Option<String> {
    let folded = fold(typed);
    let phrases: Vec<Vec<&str>> = folded
        .split_whitespace()
        .map(|w| tokens(w).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    let last = phrases.len().checked_sub(1)?;
    let parts: Vec<String> = phrases
        .iter()
        .enumerate()
        .map(|(i, phrase)| {
            let lexemes: Vec<String> = phrase
                .iter()
                .enumerate()
                .map(|(j, t)| {
                    let quoted = format!("'{}'", t.replace('\\', "\\\\").replace('\'', "''"));
                    if i == last && j == phrase.len() - 1 {
                        quoted + ":*"
                    } else {
                        quoted
                    }
                })
                .collect();
            format!("({})", lexemes.join(" <-> "))
        })
        .collect();
    Some(parts.join(" & "))
}

/// Which conversations a search's lines are in.
pub enum Matches {
    /// Few enough lines matched to read them all: each conversation's newest matching
    /// line id.
    Lines {
        newest: HashMap<String, i64>,
        query: String,
    },
    /// More than `common_after` lines matched: the list tests the lines of the
    /// conversations it walks instead.
    Common { query: String },
}

impl Matches {
    pub async fn find(c: &Object, query: &str, common_after: usize) -> Result<Self, PgError> {
        // Each matching line read costs a heap visit on PostgreSQL (2-8 µs, against
        // SQLite's 0.2 µs for a rowid): when the planner's estimate, from the lexemes'
        // statistics, already says a common word, the lines are not read at all.
        if estimate(c, query).await? > common_after as f64 {
            return Ok(Self::Common {
                query: query.to_string(),
            });
        }
        let limit = i64::try_from(common_after)
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        let rows = c
            .query(
                "SELECT conversation_id, id FROM messages
                 WHERE search_words @@ to_tsquery('simple', $1) LIMIT $2",
                &[&query, &limit],
            )
            .await?;
        if rows.len() > common_after {
            return Ok(Self::Common {
                query: query.to_string(),
            });
        }
        let mut newest: HashMap<String, i64> = HashMap::new();
        for r in &rows {
            let id: i64 = r.get(1);
            let at = newest.entry(r.get(0)).or_insert(id);
            *at = (*at).max(id);
        }
        Ok(Self::Lines {
            newest,
            query: query.to_string(),
        })
    }

    /// The list's condition beside the fields' (`$?` stands for its one parameter).
    pub fn condition(&self) -> (&'static str, Param) {
        match self {
            Self::Lines { newest, .. } => (
                "id = ANY($?::TEXT[])",
                Box::new(newest.keys().cloned().collect::<Vec<String>>()),
            ),
            // A test per conversation walked, through the conversation's own lines: `OFFSET
            // 0` keeps the planner from hashing every matching line of the table first, and
            // `IS TRUE` from intersecting each probe with the words' index (both are the
            // cost the walk avoids; the second made a two-word search take seconds).
            Self::Common { query } => (
                "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id
                    AND (m.search_words @@ to_tsquery('simple', $?::TEXT)) IS TRUE OFFSET 0)",
                Box::new(query.clone()),
            ),
        }
    }

    /// The newest matching line of each of `conversation_ids` a line of which matched,
    /// in one query.
    pub async fn lines(
        &self,
        c: &Object,
        conversation_ids: &[String],
    ) -> Result<HashMap<String, MatchedLine>, PgError> {
        let rows = match self {
            Self::Lines { newest, .. } => {
                let ids: Vec<i64> = conversation_ids
                    .iter()
                    .filter_map(|id| newest.get(id).copied())
                    .collect();
                if ids.is_empty() {
                    return Ok(HashMap::new());
                }
                c.query(
                    "SELECT conversation_id, id, author_type, COALESCE(text, ''), created_at_ms
                     FROM messages WHERE id = ANY($1)",
                    &[&ids],
                )
                .await?
            }
            Self::Common { query } => {
                // Each conversation's lines newest first, stopping at the first match (a
                // long transcript is not read whole for a word near its end).
                c.query(
                    "SELECT page.id, m.id, m.author_type, COALESCE(m.text, ''), m.created_at_ms
                     FROM unnest($1::TEXT[]) AS page(id)
                     CROSS JOIN LATERAL (SELECT id, author_type, text, created_at_ms
                         FROM messages WHERE conversation_id = page.id
                           AND (search_words @@ to_tsquery('simple', $2)) IS TRUE
                         ORDER BY id DESC LIMIT 1) m",
                    &[&conversation_ids, &query],
                )
                .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    MatchedLine {
                        id: r.get(1),
                        lane: Lane::parse(r.get(2)),
                        text: r.get(3),
                        at_ms: r.get(4),
                    },
                )
            })
            .collect())
    }
}

/// How many lines the planner expects `query` to match (`EXPLAIN`'s row estimate).
async fn estimate(c: &Object, query: &str) -> Result<f64, PgError> {
    let plan = c
        .query(
            "EXPLAIN SELECT 1 FROM messages WHERE search_words @@ to_tsquery('simple', $1)",
            &[&query],
        )
        .await?;
    let top: String = plan.first().map(|r| r.get(0)).unwrap_or_default();
    Ok(plan_rows(&top).unwrap_or(0.0))
}

/// `rows=N` of a plan line.
fn plan_rows(line: &str) -> Option<f64> {
    let rest = &line[line.find(" rows=")? + 6..];
    rest[..rest.find(' ').unwrap_or(rest.len())].parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_plans_row_estimate_is_read() {
        assert_eq!(
            super::plan_rows(
                "Bitmap Heap Scan on messages  (cost=323.30..49452.35 rows=31910 width=4)"
            ),
            Some(31910.0)
        );
        assert_eq!(super::plan_rows("Result"), None);
    }

    use super::*;

    #[test]
    fn what_is_typed_becomes_quoted_lexemes_the_last_a_prefix() {
        assert_eq!(tsquery("Parcel").as_deref(), Some("('parcel':*)"));
        assert_eq!(
            tsquery("  INV-991  Zoë ").as_deref(),
            Some("('inv' <-> '991') & ('zoe':*)")
        );
        assert_eq!(
            tsquery("say 'hi' | !x").as_deref(),
            Some("('say') & ('hi') & ('x':*)")
        );
        assert_eq!(tsquery(" -- ?! "), None);
        assert_eq!(tsquery(""), None);
    }

    #[test]
    fn a_line_is_stored_as_its_folded_words() {
        assert_eq!(
            line_words("Où est mon colis? INV-991, 50%_off"),
            "ou est mon colis inv 991 50 off"
        );
        assert_eq!(line_words(""), "");
    }

    #[test]
    fn wildcards_typed_are_literal() {
        assert_eq!(like_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }
}
