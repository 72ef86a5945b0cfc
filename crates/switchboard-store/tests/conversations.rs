//! Conversations and transcripts, one test body run on both backends: SQLite's
//! `ConversationStore` and PostgreSQL's `PgConversations` store the same rows, page the
//! list alike and find the same conversations and lines for what a user types.

mod common;

use serde_json::json;
use switchboard_store::{
    conversations::{
        Conversation, ConversationStore, Cursor, Direction, Entry, HandoverBookkeeping,
        HandoverRecord, Lane, ListQuery, Mode, Phase, PhaseFilter, Route, Summary,
    },
    pg::{PgConversations, PgDb},
    Db,
};

/// What the tests ask of a conversation store, whichever the backend.
trait Store {
    async fn save(&self, c: &Conversation);
    async fn get(&self, id: &str) -> Option<Conversation>;
    async fn by_gateway_id(&self, gateway_id: &str) -> Option<Conversation>;
    async fn routes_of(&self, ids: Vec<String>) -> std::collections::HashMap<String, Route>;
    async fn add_entry(&self, conversation: &str, lane: Lane, text: &str, at_ms: i64) -> Entry;
    async fn transcript(&self, conversation: &str, after: i64, limit: u32) -> Vec<Entry>;
    async fn mark_sent(&self, entry_id: i64, outbox_id: i64);
    async fn page_with(&self, q: ListQuery, common_after: usize) -> Vec<Summary>;
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<Conversation>;
    async fn awaiting_create(&self) -> Vec<Conversation>;
    async fn idle_handovers(&self, before_ms: i64) -> Vec<Conversation>;
    async fn queued(&self) -> Vec<Conversation>;
    /// A row of the outbox (for a line's `outbox_id`).
    async fn outbox_entry(&self) -> i64;

    async fn page(&self, q: ListQuery) -> Vec<Summary> {
        self.page_with(q, switchboard_store::transcript_search::COMMON_AFTER)
            .await
    }
}

struct Sqlite {
    store: ConversationStore,
    db: Db,
    _dir: tempfile::TempDir,
}

impl Store for Sqlite {
    async fn save(&self, c: &Conversation) {
        self.store.save(c).await.unwrap()
    }
    async fn get(&self, id: &str) -> Option<Conversation> {
        self.store.get(id).await.unwrap()
    }
    async fn by_gateway_id(&self, gateway_id: &str) -> Option<Conversation> {
        self.store.by_gateway_id(gateway_id).await.unwrap()
    }
    async fn routes_of(&self, ids: Vec<String>) -> std::collections::HashMap<String, Route> {
        self.store.routes_of(ids).await.unwrap()
    }
    async fn add_entry(&self, conversation: &str, lane: Lane, text: &str, at_ms: i64) -> Entry {
        let payload = json!({ "lane": lane.as_str() });
        self.store
            .add_entry(
                conversation,
                lane,
                Direction::In,
                text,
                payload,
                None,
                None,
                at_ms,
            )
            .await
            .unwrap()
    }
    async fn transcript(&self, conversation: &str, after: i64, limit: u32) -> Vec<Entry> {
        self.store
            .transcript(conversation, after, limit)
            .await
            .unwrap()
    }
    async fn mark_sent(&self, entry_id: i64, outbox_id: i64) {
        self.store.mark_sent(entry_id, outbox_id).await.unwrap()
    }
    async fn page_with(&self, q: ListQuery, common_after: usize) -> Vec<Summary> {
        self.store.page_with(q, common_after).await.unwrap()
    }
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<Conversation> {
        self.store.list(limit, before).await.unwrap()
    }
    async fn awaiting_create(&self) -> Vec<Conversation> {
        self.store.awaiting_create().await.unwrap()
    }
    async fn idle_handovers(&self, before_ms: i64) -> Vec<Conversation> {
        self.store.idle_handovers(before_ms).await.unwrap()
    }
    async fn queued(&self) -> Vec<Conversation> {
        self.store.queued().await.unwrap()
    }
    async fn outbox_entry(&self) -> i64 {
        self.db
            .call(|c| {
                c.execute(
                    "INSERT INTO outbox (ordering_key, operation, request_json, status,
                        next_attempt_at_ms, created_at_ms, updated_at_ms)
                     VALUES ('k', 'sendMessage', '{}', 'pending', 0, 0, 0)",
                    [],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await
            .unwrap()
    }
}

impl Store for PgConversations {
    async fn save(&self, c: &Conversation) {
        PgConversations::save(self, c).await.unwrap()
    }
    async fn get(&self, id: &str) -> Option<Conversation> {
        PgConversations::get(self, id).await.unwrap()
    }
    async fn by_gateway_id(&self, gateway_id: &str) -> Option<Conversation> {
        PgConversations::by_gateway_id(self, gateway_id)
            .await
            .unwrap()
    }
    async fn routes_of(&self, ids: Vec<String>) -> std::collections::HashMap<String, Route> {
        PgConversations::routes_of(self, ids).await.unwrap()
    }
    async fn add_entry(&self, conversation: &str, lane: Lane, text: &str, at_ms: i64) -> Entry {
        let payload = json!({ "lane": lane.as_str() });
        PgConversations::add_entry(
            self,
            conversation,
            lane,
            Direction::In,
            text,
            payload,
            None,
            None,
            at_ms,
        )
        .await
        .unwrap()
    }
    async fn transcript(&self, conversation: &str, after: i64, limit: u32) -> Vec<Entry> {
        PgConversations::transcript(self, conversation, after, limit)
            .await
            .unwrap()
    }
    async fn mark_sent(&self, entry_id: i64, outbox_id: i64) {
        PgConversations::mark_sent(self, entry_id, outbox_id)
            .await
            .unwrap()
    }
    async fn page_with(&self, q: ListQuery, common_after: usize) -> Vec<Summary> {
        PgConversations::page_with(self, q, common_after)
            .await
            .unwrap()
    }
    async fn list(&self, limit: u32, before: Option<i64>) -> Vec<Conversation> {
        PgConversations::list(self, limit, before).await.unwrap()
    }
    async fn awaiting_create(&self) -> Vec<Conversation> {
        PgConversations::awaiting_create(self).await.unwrap()
    }
    async fn idle_handovers(&self, before_ms: i64) -> Vec<Conversation> {
        PgConversations::idle_handovers(self, before_ms)
            .await
            .unwrap()
    }
    async fn queued(&self) -> Vec<Conversation> {
        PgConversations::queued(self).await.unwrap()
    }
    async fn outbox_entry(&self) -> i64 {
        switchboard_store::pg::PgOutbox::new(self.db().clone(), std::time::Duration::from_secs(30))
            .add("k", "sendMessage", "{}", 0)
            .await
            .unwrap()
    }
}

fn conv(id: &str, mode: Mode, phase: Phase, at: i64, name: &str) -> Conversation {
    let mut c = Conversation::new(id.into(), mode, at);
    c.phase = phase;
    c.user = json!({ "name": name, "email": format!("{id}@example.com") });
    c
}

fn ids(page: &[Summary]) -> Vec<&str> {
    page.iter().map(|s| s.id.as_str()).collect()
}

fn conv_ids(convs: &[Conversation]) -> Vec<&str> {
    convs.iter().map(|c| c.id.as_str()).collect()
}

/// Every column reads back as saved, a save replaces the whole row, and (as SQLite's
/// `INSERT OR REPLACE`) a row of another conversation holding the same 8x8 id goes.
async fn a_conversation_reads_back_with_every_column(s: &impl Store) {
    let mut c = conv("c-all", Mode::Handover, Phase::Agent, 1_000, "Zoë Müller");
    c.gateway_id = Some("gw-1".into());
    c.state = Some("active".into());
    c.channel_id = Some("web".into());
    c.user["phone"] = json!("+44 20 7946 0000");
    c.bot_session = json!({ "step": 3, "answers": ["a", "b"] });
    c.greeted = true;
    c.queue_id = Some("q1".into());
    c.queue_name = Some("Billing".into());
    c.agent_id = Some("agent-7".into());
    c.transfer_pending = true;
    c.handover = Some(HandoverRecord {
        request: Default::default(),
        local: HandoverBookkeeping {
            outbox_id: Some(42),
            handback: true,
            earlier_gateway_ids: vec!["gw-0".into()],
        },
    });
    c.updated_at_ms = 2_000;
    c.queued_at_ms = Some(1_100);
    c.agent_joined_at_ms = Some(1_200);
    c.first_agent_reply_at_ms = Some(1_300);
    c.ended_at_ms = Some(1_900);
    c.last_user_at_ms = Some(1_800);
    c.last_text = Some("Danke schön".into());
    c.handover_offer = Some("long queue".into());
    s.save(&c).await;
    let got = s.get("c-all").await.expect("the row");
    let same = |a: &Conversation, b: &Conversation| {
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap()
        );
        assert_eq!(a.bot_session, b.bot_session);
        assert_eq!(a.handover, b.handover);
    };
    same(&got, &c);
    same(&s.by_gateway_id("gw-1").await.expect("by 8x8 id"), &c);
    assert!(s.get("nope").await.is_none());

    // A save replaces the row whole: fields set to nothing are nothing.
    let mut plain = Conversation::new("c-all".into(), Mode::Endpoint, 1_000);
    plain.gateway_id = Some("gw-1".into());
    s.save(&plain).await;
    same(&s.get("c-all").await.unwrap(), &plain);

    // Another conversation takes the 8x8 id over: the older row goes.
    let mut other = conv("c-other", Mode::Endpoint, Phase::Bot, 3_000, "O");
    other.gateway_id = Some("gw-1".into());
    s.save(&other).await;
    assert!(s.get("c-all").await.is_none());
    assert_eq!(s.by_gateway_id("gw-1").await.unwrap().id, "c-other");
}

/// The engine starts a new customer's actor knowing there is no row only when the look-up
/// says so: a row under the id itself counts, whatever its 8x8 id.
async fn a_route_says_whether_a_row_has_the_id_itself(s: &impl Store) {
    let mut own = conv("gw-own", Mode::Endpoint, Phase::Bot, 1, "A");
    own.gateway_id = Some("gw-own".into());
    let mut moved = conv("gw-moved", Mode::Endpoint, Phase::Bot, 2, "B");
    moved.gateway_id = Some("gw-elsewhere".into());
    let mut handed = conv("local-1", Mode::Handover, Phase::Queued, 3, "C");
    handed.gateway_id = Some("gw-8x8".into());
    for c in [own, moved, handed] {
        s.save(&c).await;
    }
    let routes = s
        .routes_of(vec![
            "gw-own".into(),
            "gw-moved".into(),
            "gw-new".into(),
            "gw-8x8".into(),
        ])
        .await;
    assert_eq!(routes["gw-own"].local.as_deref(), Some("gw-own"));
    assert_eq!(routes["gw-8x8"].local.as_deref(), Some("local-1"));
    assert_eq!(routes["gw-moved"].local, None);
    assert!(routes["gw-moved"].row_under_id);
    assert_eq!(routes["gw-new"].local, None);
    assert!(!routes["gw-new"].row_under_id);
    assert!(!routes["gw-new"].creates_in_flight);
}

/// The engine's own look-ups: handovers waiting for their create however old, the
/// queued, the idle, and the plain list by creation time.
async fn the_engines_lookups_find_their_conversations(s: &impl Store) {
    let waiting = conv("old-waiting", Mode::Handover, Phase::Handover, 1, "W");
    let mut created = conv("created", Mode::Handover, Phase::Handover, 2, "C");
    created.gateway_id = Some("8x8-conv".into());
    let mut queued = conv("queued", Mode::Handover, Phase::Queued, 3, "Q");
    queued.last_user_at_ms = Some(5_000);
    let ended = conv("ended", Mode::Handover, Phase::Ended, 4, "E");
    let endpoint = conv("endpoint-q", Mode::Endpoint, Phase::Queued, 5, "P");
    for c in [waiting, created, queued, ended, endpoint] {
        s.save(&c).await;
    }
    for i in 0..20 {
        s.save(&conv(
            &format!("b{i:02}"),
            Mode::Endpoint,
            Phase::Bot,
            10 + i,
            "B",
        ))
        .await;
    }
    assert_eq!(conv_ids(&s.awaiting_create().await), ["old-waiting"]);
    let mut queued = conv_ids(&s.queued().await)
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    queued.sort();
    assert_eq!(queued, ["endpoint-q", "queued"]);
    // Silent since 100: the queued one spoke at 5,000; ended and endpoint ones never count.
    assert!(conv_ids(&s.idle_handovers(100).await).is_empty());
    assert_eq!(conv_ids(&s.idle_handovers(6_000).await), ["queued"]);
    assert_eq!(conv_ids(&s.list(3, None).await), ["b19", "b18", "b17"]);
    assert_eq!(conv_ids(&s.list(2, Some(11)).await), ["b00", "endpoint-q"]);
}

async fn all_pages(s: &impl Store, mut query: ListQuery, common_after: usize) -> Vec<Summary> {
    let mut all = Vec::new();
    loop {
        let page = s.page_with(query.clone(), common_after).await;
        let Some(last) = page.last() else {
            return all;
        };
        query.after = Some(Cursor {
            created_at_ms: last.created_at_ms,
            id: Some(last.id.clone()),
        });
        all.extend(page);
    }
}

async fn pages_by_keyset_without_gaps_or_repeats(s: &impl Store) {
    // Five conversations in one millisecond straddle every page boundary of size 2.
    for i in 0..9 {
        let at = if (2..7).contains(&i) { 500 } else { i * 100 };
        s.save(&conv(&format!("c{i}"), Mode::Endpoint, Phase::Bot, at, "A"))
            .await;
    }
    let pages = all_pages(s, ListQuery::newest(2), usize::MAX).await;
    assert_eq!(
        ids(&pages),
        ["c8", "c7", "c6", "c5", "c4", "c3", "c2", "c1", "c0"],
        "newest first, ties by id, each once"
    );
    // The cursor without an id starts strictly before its time.
    let mut q = ListQuery::newest(10);
    q.after = Some(Cursor {
        created_at_ms: 500,
        id: None,
    });
    assert_eq!(ids(&s.page(q).await), ["c1", "c0"]);
}

async fn filters_and_search_cover_every_conversation(s: &impl Store) {
    let mut handed = conv("h1", Mode::Handover, Phase::Ended, 100, "Åsa Lindqvist");
    handed.handover = Some(HandoverRecord::default());
    let mut queued = conv("e1", Mode::Endpoint, Phase::Queued, 200, "Ben Smith");
    queued.queue_name = Some("Billing".into());
    let mut talking = conv("e2", Mode::Endpoint, Phase::Bot, 300, "Carla Rossi");
    talking.last_text = Some("Where is my PARCEL?".into());
    let plain = conv("h2", Mode::Handover, Phase::Bot, 400, "Dan Lindqvist");
    let accented = conv("e3", Mode::Endpoint, Phase::Bot, 500, "ZOË MÜLLER");
    let mut percent = conv("w1", Mode::Endpoint, Phase::Bot, 600, "José 50%_off");
    percent.last_text = Some("back\\slash".into());
    let lookalike = conv("w2", Mode::Endpoint, Phase::Bot, 700, "Jose 50x-off");
    for c in [handed, queued, talking, plain, accented, percent, lookalike] {
        s.save(&c).await;
    }
    let found = |q: ListQuery| async move {
        s.page(q)
            .await
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    let mut q = ListQuery::newest(50);
    q.phase = PhaseFilter::parse("queued");
    assert_eq!(found(q).await, ["e1"]);
    let mut q = ListQuery::newest(50);
    q.phase = PhaseFilter::parse("handedOver");
    assert_eq!(
        found(q).await,
        ["e1", "h1"],
        "queued now, or a handover record"
    );
    let mut q = ListQuery::newest(50);
    q.mode = Mode::from_name("handover");
    assert_eq!(found(q).await, ["h2", "h1"]);
    // Any field, in any case, with or without accents; not across two fields; what
    // looks like a wildcard is only itself.
    for (words, want) in [
        ("lindqvist", vec!["h2", "h1"]),
        ("parcel", vec!["e2"]),
        ("billing", vec!["e1"]),
        ("e2@EXAMPLE", vec!["e2"]),
        ("ÅSA LIND", vec!["h1"]),
        ("åsa", vec!["h1"]),
        ("asa lindqvist", vec!["h1"]),
        ("zoë müller", vec!["e3"]),
        ("Zoe Muller", vec!["e3"]),
        ("rossi e2", vec![]),
        ("Jose", vec!["w2", "w1"]),
        ("JOSÉ 50", vec!["w2", "w1"]),
        ("50%_off", vec!["w1"]),
        ("50%", vec!["w1"]),
        ("%", vec!["w1"]),
        ("_", vec!["w1"]),
        ("k\\s", vec!["w1"]),
        ("\\", vec!["w1"]),
    ] {
        let mut q = ListQuery::newest(50);
        q.search = Some(words.into());
        assert_eq!(found(q).await, want, "search {words:?}");
    }
    let mut q = ListQuery::newest(50);
    q.search = Some("lindqvist".into());
    q.mode = Mode::from_name("handover");
    q.phase = PhaseFilter::parse("ended");
    assert_eq!(found(q).await, ["h1"]);
    let summary = s.page(ListQuery::newest(50)).await;
    assert!(summary.iter().find(|s| s.id == "h1").unwrap().handed_over);
    assert!(!summary.iter().find(|s| s.id == "h2").unwrap().handed_over);
}

/// A conversation with these lines (user, bot, user …), the last one its `last_text`.
async fn talk(s: &impl Store, id: &str, at: i64, phase: Phase, lines: &[&str]) {
    let mut c = Conversation::new(id.into(), Mode::Endpoint, at);
    c.phase = phase;
    c.user = json!({ "name": format!("User {id}") });
    c.last_text = lines.last().map(|l| l.to_string());
    s.save(&c).await;
    for (i, text) in lines.iter().enumerate() {
        let lane = if i % 2 == 0 { Lane::User } else { Lane::Bot };
        s.add_entry(id, lane, text, at + i as i64).await;
    }
}

async fn search(s: &impl Store, words: &str) -> Vec<(String, Option<String>)> {
    let mut q = ListQuery::newest(50);
    q.search = Some(words.into());
    s.page(q)
        .await
        .into_iter()
        .map(|s| (s.id, s.matched_line.map(|l| l.text)))
        .collect()
}

async fn a_transcript_reads_back_in_order_and_a_held_line_is_marked_sent(s: &impl Store) {
    talk(
        s,
        "t1",
        100,
        Phase::Bot,
        &["Hello", "Hi, how can I help?", "Où est mon colis"],
    )
    .await;
    talk(s, "t2", 200, Phase::Bot, &["Other"]).await;
    let all = s.transcript("t1", 0, 100).await;
    let texts: Vec<&str> = all.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["Hello", "Hi, how can I help?", "Où est mon colis"]);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "in id order");
    assert_eq!(
        all.iter().map(|e| e.lane).collect::<Vec<_>>(),
        [Lane::User, Lane::Bot, Lane::User]
    );
    assert_eq!(all[1].payload, json!({ "lane": "bot" }));
    assert_eq!((all[1].at_ms, all[1].direction), (101, Direction::In));
    assert_eq!(all[0].conversation_id, "t1");
    let after = s.transcript("t1", all[0].id, 1).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, all[1].id);
    let outbox_id = s.outbox_entry().await;
    s.mark_sent(all[2].id, outbox_id).await;
    let again = s.transcript("t1", 0, 100).await;
    assert_eq!(again[2].direction, Direction::Out);
    assert_eq!(again[1].direction, Direction::In);
}

async fn a_word_in_the_middle_of_a_transcript_finds_its_conversation_and_line(s: &impl Store) {
    let middle = "Where is my parcel? The invoice INV-991 says Zürich.";
    talk(s, "c1", 100, Phase::Bot, &["Hello", middle, "Thanks, bye"]).await;
    talk(s, "c2", 200, Phase::Bot, &["Hi", "Nothing to see", "Bye"]).await;
    talk(
        s,
        "c3",
        300,
        Phase::Bot,
        &["José here", "Où est mon colis ?", "Merci"],
    )
    .await;
    talk(s, "c4", 400, Phase::Bot, &["hi", "a 100% sure_thing", "ok"]).await;
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
        assert_eq!(search(s, words).await, c1, "search {words:?}");
    }
    assert_eq!(
        search(s, "ou est").await,
        [("c3".to_string(), Some("Où est mon colis ?".to_string()))]
    );
    assert_eq!(
        search(s, "Jose").await,
        [("c3".to_string(), Some("José here".to_string()))]
    );
    // Words of one line, not spread over two; only the last word may be a prefix; a
    // word's middle is not a word's start.
    assert_eq!(search(s, "parcel thanks").await, []);
    assert_eq!(search(s, "parc invoice").await, []);
    assert_eq!(search(s, "arcel").await, []);
    // The other fields still match, with no line to show.
    assert_eq!(search(s, "user c2").await, [("c2".to_string(), None)]);
    assert_eq!(search(s, "\"").await, []);
    // Query syntax typed by the user (FTS5's, tsquery's) is only text.
    assert_eq!(search(s, "parcel OR NEAR(").await, []);
    assert_eq!(search(s, "my parcel*").await, c1);
    assert_eq!(search(s, "parcel & !zurich | x:*").await, []);
    assert_eq!(search(s, "'parcel'").await, c1);
    // Wildcards are letters like any other: "100%" is the word "100", "sure_th" two words.
    let c4 = vec![("c4".to_string(), Some("a 100% sure_thing".to_string()))];
    assert_eq!(search(s, "100%").await, c4);
    assert_eq!(search(s, "sure_th").await, c4);
    assert_eq!(search(s, "%").await, []);
}

// A common word's search tests the lines of the conversations the list walks instead of
// reading the index: both ways find the same conversations, pages and lines.
async fn a_common_word_is_found_as_the_index_finds_it(s: &impl Store) {
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
        talk(s, &format!("c{i}"), 100 * i as i64, Phase::Bot, l).await;
    }
    let found = |v: Vec<Summary>| {
        v.into_iter()
            .map(|s| (s.id, s.matched_line.map(|l| l.text)))
            .collect::<Vec<_>>()
    };
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
        let mut q = ListQuery::newest(3);
        q.search = Some(words.into());
        let from_index = found(all_pages(s, q.clone(), usize::MAX).await);
        let walked = found(all_pages(s, q, 0).await);
        assert_eq!(walked, from_index, "{words:?}");
    }
    let ids_of = |words: &str| {
        let mut q = ListQuery::newest(3);
        q.search = Some(words.into());
        async move {
            all_pages(s, q, 0)
                .await
                .into_iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids_of("inv-991").await, ["c1"]);
    assert_eq!(ids_of("parcel").await, ["c7", "c4", "c2", "c0"]);
    assert_eq!(ids_of("zoe angstrom").await, ["c4"]);
}

async fn a_search_pages_by_keyset_and_keeps_its_filters(s: &impl Store) {
    for i in 0..9 {
        let phase = if i % 3 == 0 { Phase::Ended } else { Phase::Bot };
        let at = if (3..6).contains(&i) { 500 } else { i * 100 };
        let middle = if i == 4 {
            "no match here"
        } else {
            "about the parcel, please"
        };
        talk(s, &format!("c{i}"), at, phase, &["hi", middle, "ok"]).await;
    }
    let mut q = ListQuery::newest(2);
    q.search = Some("parcel".into());
    let pages = all_pages(s, q, usize::MAX).await;
    assert!(pages.iter().all(|s| s.matched_line.is_some()));
    assert_eq!(
        ids(&pages),
        ["c8", "c7", "c6", "c5", "c3", "c2", "c1", "c0"]
    );
    let mut q = ListQuery::newest(50);
    q.search = Some("parcel".into());
    q.phase = PhaseFilter::parse("ended");
    assert_eq!(ids(&s.page(q).await), ["c6", "c3", "c0"]);
}

/// Each test body as two tests: `sqlite::name` on a file in a temporary directory,
/// `postgres::name` on a fresh database of the test server.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = super::Db::open(&dir.path().join("t.db")).unwrap();
                    let store = super::ConversationStore::new(db.clone());
                    super::$name(&super::Sqlite { store, db, _dir: dir }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(test_db) = super::common::test_database(stringify!($name)).await else {
                        return;
                    };
                    let db = super::PgDb::connect(&test_db.url).await.unwrap();
                    super::$name(&super::PgConversations::new(db)).await;
                    test_db.drop_database().await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_conversation_reads_back_with_every_column,
    a_route_says_whether_a_row_has_the_id_itself,
    the_engines_lookups_find_their_conversations,
    pages_by_keyset_without_gaps_or_repeats,
    filters_and_search_cover_every_conversation,
    a_transcript_reads_back_in_order_and_a_held_line_is_marked_sent,
    a_word_in_the_middle_of_a_transcript_finds_its_conversation_and_line,
    a_common_word_is_found_as_the_index_finds_it,
    a_search_pages_by_keyset_and_keeps_its_filters,
);

/// The writes as data: a save and two lines collected in a write unit, under ids taken
/// from the sequence first, commit together and read back as the immediate methods
/// write them; a later save of the same row in the unit replaces the earlier one.
#[tokio::test]
async fn the_writes_as_data_commit_in_a_unit() {
    use switchboard_store::pg::{conversations as pgc, PgUnit};
    let Some(test_db) = common::test_database("conversation_writes_in_a_unit").await else {
        return;
    };
    let db = PgDb::connect(&test_db.url).await.unwrap();
    let store = PgConversations::new(db.clone());
    let ids = store.next_entry_ids(2).await.unwrap();
    assert!(ids[0] < ids[1]);
    let mut c = conv("u1", Mode::Endpoint, Phase::Bot, 10, "Zoë");
    let mut unit = PgUnit::new();
    unit.write_row("conversations u1", pgc::save_write(&c));
    let lines: Vec<Entry> = ids
        .iter()
        .zip(["Bonjour", "Où est mon colis ?"])
        .map(|(id, text)| Entry {
            id: *id,
            conversation_id: "u1".into(),
            lane: Lane::User,
            direction: Direction::In,
            text: text.into(),
            payload: serde_json::Value::Null,
            at_ms: 11,
        })
        .collect();
    for line in &lines {
        unit.write(pgc::add_entry_write(line, None, None));
    }
    c.phase = Phase::Queued;
    unit.write_row("conversations u1", pgc::save_write(&c));
    assert!(
        store.get("u1").await.unwrap().is_none(),
        "nothing before the commit"
    );
    unit.commit(&db).await.unwrap();
    assert_eq!(store.get("u1").await.unwrap().unwrap().phase, Phase::Queued);
    let read: Vec<(i64, String)> = store
        .transcript("u1", 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.text))
        .collect();
    assert_eq!(
        read,
        [
            (ids[0], "Bonjour".into()),
            (ids[1], "Où est mon colis ?".into())
        ]
    );
    assert_eq!(search(&store, "colis").await.len(), 1);
    // The next line the store adds on its own takes the sequence's next id.
    let next = Store::add_entry(&store, "u1", Lane::Bot, "ok", 12).await;
    assert!(next.id > ids[1]);
    drop((store, db));
    test_db.drop_database().await;
}
