//! Knowledge search over the flow's answers and a fixture knowledge file, each hit with
//! its source; parse errors with their lines.

use switchboard_copilot::{search_knowledge, Knowledge, MAX_HITS};

use crate::fixture::flow;

const MARKDOWN: &str = include_str!("fixtures/knowledge.md");
const FAQ: &str = include_str!("fixtures/faq.yaml");

fn sources(hits: &[switchboard_copilot::KnowledgeHit]) -> Vec<&str> {
    hits.iter().map(|h| h.source.as_str()).collect()
}

#[test]
fn markdown_sections_are_found_with_their_heading_as_the_source() {
    let k = Knowledge::parse(MARKDOWN).unwrap();
    let titles: Vec<&str> = k.docs().iter().map(|d| d.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Introduction",
            "Returns",
            "Europe",
            "United States",
            "Invoices"
        ]
    );
    let hits = search_knowledge(
        &k,
        None,
        "how long do REFUNDS take after a return",
        Some("en"),
        5,
    );
    assert_eq!(hits[0].source, "knowledge file § Returns", "{hits:#?}");
    assert_eq!(hits[0].title, "Returns");
    assert!(
        hits[0].text.contains("within 30 days of delivery"),
        "{}",
        hits[0].text
    );
    assert!(
        !hits[0].text.contains("**"),
        "markup is removed: {}",
        hits[0].text
    );
    // Accents and case fold as in the conversation search.
    let hits = search_knowledge(&k, None, "DOUANE customs États-Unis", Some("en"), 5);
    assert_eq!(hits[0].source, "knowledge file § Europe");
    assert!(search_knowledge(&k, None, "etats", None, 5).is_empty());
}

#[test]
fn faq_answers_and_flow_rules_are_searched_together() {
    let k = Knowledge::parse(FAQ).unwrap();
    let flow = flow();
    let hits = search_knowledge(&k, Some(&flow), "gift card", Some("en"), 5);
    // The gift-card answer first; the student card shares a word.
    assert_eq!(
        sources(&hits),
        ["knowledge file, question 2", "knowledge file, question 3"]
    );
    assert_eq!(hits[0].title, "Do we sell gift cards?");
    assert!(hits[0]
        .text
        .starts_with("Gift cards of 25, 50 and 100 euros"));
    let hits = search_knowledge(&k, Some(&flow), "when are you open", Some("en"), 5);
    assert_eq!(hits[0].source, "flow rule opening_hours");
    assert_eq!(hits[0].text, "We are open Monday to Friday, 9 to 5.");
    // Best first, every hit scored above zero.
    let hits = search_knowledge(
        &k,
        Some(&flow),
        "change the delivery address of my order",
        Some("en"),
        5,
    );
    assert_eq!(hits[0].source, "knowledge file, question 1", "{hits:#?}");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(hits.iter().all(|h| h.score > 0.0));
    assert!(
        sources(&hits).contains(&"flow rule order_status"),
        "{hits:#?}"
    );
}

#[test]
fn a_search_respects_its_limit_and_ignores_an_empty_query() {
    let k = Knowledge::parse(MARKDOWN).unwrap();
    let flow = flow();
    assert_eq!(
        search_knowledge(&k, Some(&flow), "working days", None, 2).len(),
        2
    );
    assert!(search_knowledge(&k, Some(&flow), "   ", None, 5).is_empty());
    assert!(search_knowledge(&k, Some(&flow), "days", None, 0).is_empty());
    assert!(search_knowledge(&k, Some(&flow), "the a to", None, 1_000).len() <= MAX_HITS);
    // Stop words alone still search (nothing else to go by).
    assert!(!search_knowledge(&k, Some(&flow), "the", None, 5).is_empty());
    // Without a knowledge file the flow alone is searched.
    let hits = search_knowledge(&Knowledge::default(), Some(&flow), "invoice", Some("en"), 5);
    assert_eq!(sources(&hits), ["flow rule billing"]);
}

#[test]
fn knowledge_files_that_cannot_be_used_are_refused_with_the_line_to_fix() {
    let e = |t: &str| Knowledge::parse(t).unwrap_err();
    let m = e("- q: Can I pay later?\n  a: Yes.\n- q: And in cash?\n");
    assert!(
        m.starts_with("line 3, column 3: question 2 needs both"),
        "{m}"
    );
    let m = e("questions:\n  - q: A?\n    a: B.\n  - q: C?\n    answer:\n");
    assert!(
        m.starts_with("line 5, column 5: in question 2, \"answer\" needs a text"),
        "{m}"
    );
    let m = e("- q: A?\n  a: B.\n   c: wrong indent\n");
    assert!(
        m.starts_with("line 3, column ") && m.contains("not valid YAML"),
        "{m}"
    );
    let m = e("No heading here.\nJust notes.");
    assert!(m.contains("no heading"), "{m}");
}

/// Not a benchmark: the times are printed (`--nocapture`), not asserted. A file near the
/// size limit is indexed once when it is uploaded; each search then touches only the
/// sections sharing a word with the query.
#[test]
fn a_knowledge_file_near_the_limit_parses_once_and_searches_in_milliseconds() {
    let mut md = String::new();
    let mut i = 0;
    while md.len() < switchboard_copilot::MAX_KNOWLEDGE_BYTES - 1_000 {
        md.push_str(&format!(
            "# Topic {i}\n\nParcel {i} takes {} working days; refunds for item {i} reach the card within a week.\n\n",
            i % 7
        ));
        i += 1;
    }
    let started = std::time::Instant::now();
    let k = Knowledge::parse(&md).unwrap();
    let parsed = started.elapsed();
    let flow = flow();
    let started = std::time::Instant::now();
    let hits = search_knowledge(&k, Some(&flow), "refund for item 1234", Some("en"), 10);
    let searched = started.elapsed();
    println!(
        "knowledge file of {} KB, {} sections: parsed in {:.0} ms, searched in {:.1} ms",
        md.len() / 1024,
        k.docs().len(),
        parsed.as_secs_f64() * 1000.0,
        searched.as_secs_f64() * 1000.0
    );
    assert_eq!(hits[0].source, "knowledge file § Topic 1234");
    assert_eq!(hits.len(), 10);
}
