//! The text a conversation search looks through, folded so that neither case nor accents
//! matter: "zoe" finds "Zoë", "åsa" finds "ÅSA", "MULLER" finds "Müller". Decomposed
//! (NFD), combining marks dropped, then lower-cased with Unicode's rules. The UI folds
//! the same way (ui/src/lib/conversations/store.svelte.ts, `fold`), so a search finds
//! the same conversations among those the page holds as the relay's search does.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// `s` folded for search.
pub fn fold(s: &str) -> String {
    // Most text is ASCII, where decomposing changes nothing and there are no marks to
    // drop: the same result without the normalizer, which costs microseconds a line.
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// What a conversation search looks through: the user's name and email, the last text,
/// the local and 8x8 ids, the queue and the agent. Kept in its own column and index
/// (db.rs), written with every save (engine/store.rs) and by the migration that added it.
pub fn conversation(
    name: Option<&str>,
    email: Option<&str>,
    last_text: Option<&str>,
    id: &str,
    gateway_id: Option<&str>,
    queue_name: Option<&str>,
    agent_id: Option<&str>,
) -> String {
    haystack([
        name,
        email,
        last_text,
        Some(id),
        gateway_id,
        queue_name,
        agent_id,
    ])
}

/// Fields one per line (a match stays inside one field), folded.
fn haystack<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let fields: Vec<&str> = fields
        .into_iter()
        .flatten()
        .filter(|f| !f.is_empty())
        .collect();
    fold(&fields.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_accents_do_not_matter() {
        assert_eq!(
            fold("Zoë ÅSA Müller Łódź İstanbul ΟΔΥΣΣΕΑΣ"),
            "zoe asa muller łodz istanbul οδυσσεας"
        );
        assert!(fold("Ms Zoë Ångström").contains(&fold("ANGSTROM")));
        assert!(fold("Sørensen").contains(&fold("sørensen")));
        // Scripts without case or marks pass through.
        assert_eq!(fold("山田 太郎"), "山田 太郎");
    }

    #[test]
    fn ascii_folds_as_the_full_rule_folds_it() {
        let all: String = (0u8..128).map(char::from).collect();
        let full: String = all
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .collect::<String>()
            .to_lowercase();
        assert_eq!(fold(&all), full);
    }

    #[test]
    fn fields_stay_on_their_own_lines() {
        let hay = haystack([Some("Ana Ruiz"), None, Some(""), Some("ana@example.com")]);
        assert_eq!(hay, "ana ruiz\nana@example.com");
    }
}
