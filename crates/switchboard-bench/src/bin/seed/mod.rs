//! Fills a relay database with conversations shaped like the ones the engine records:
//! both modes, every phase, varied users, weeks of timestamps, transcripts in lanes with
//! quick replies and attachments, handover records with the history sent to 8x8, and a
//! few conversations of 1,000 messages and more. For the store and UI benchmarks only;
//! the relay itself never runs this.
//!
//! Conversations are written through the engine's own `Store::save`; transcript lines with
//! the same insert `Store::add_entry` makes, batched in one transaction (a million
//! separate calls would take minutes and measure nothing of interest). Deterministic: the
//! same plan gives the same database, apart from `now`.

mod text;

use std::time::Instant;

use chat_gateway_client::types::{
    Assignment, ConversationUser, CreateConversation, History, KeyValue, SendMessage,
};
use rusqlite::params;
use serde_json::{json, Value};
use switchboard_bot::BotSession;
use switchboard_store::db::{Db, DbError};
use switchboard_store::{
    Conversation, ConversationStore as Store, HandoverBookkeeping, HandoverRecord, Mode, Phase,
};

use text::Rng;

/// What to generate.
pub struct Plan {
    pub conversations: usize,
    pub messages: usize,
    /// Sizes of the long conversations (each ≥ 1,000 lines), placed among the newest.
    pub long: Vec<usize>,
    /// The newest conversation is about this old; the oldest `span_days` older.
    pub now_ms: i64,
    pub span_days: i64,
}

impl Plan {
    pub fn new(conversations: usize, messages: usize, now_ms: i64) -> Self {
        // A few long ones, as long as the total leaves every other conversation ≥ 2 lines.
        let long: Vec<usize> = [1_000, 1_000, 1_200, 1_500, 2_000, 3_000, 5_000]
            .into_iter()
            .take(conversations / 10)
            .collect();
        let long = if long.iter().sum::<usize>() + 2 * conversations <= messages {
            long
        } else {
            Vec::new()
        };
        Self {
            conversations,
            messages,
            long,
            now_ms,
            span_days: 28,
        }
    }
}

/// What was written, for the benchmarks to aim at.
pub struct Seeded {
    pub conversations: usize,
    pub messages: usize,
    /// A conversation with exactly 1,000 lines (when the plan had one), among the newest.
    pub thousand: Option<String>,
    pub longest: (String, usize),
    /// A surname that occurs in some hundred conversations, for searches.
    pub surname: &'static str,
    pub per_phase: Vec<(&'static str, usize)>,
    pub seconds: f64,
}

/// One conversation being generated, with its transcript lines.
struct Gen {
    conv: Conversation,
    lines: Vec<Line>,
}

struct Line {
    lane: &'static str,
    direction: &'static str,
    text: String,
    payload: Value,
    at_ms: i64,
}

const PHASES: [&str; 6] = ["bot", "handover", "queued", "agent", "transferred", "ended"];

pub async fn seed(db: &Db, plan: &Plan) -> Result<Seeded, DbError> {
    let began = Instant::now();
    let mut rng = Rng::new(0x5b_5eed);
    let counts = message_counts(plan, &mut rng);
    let n = plan.conversations;
    let span_ms = plan.span_days * 86_400_000;
    let step = (span_ms / n.max(1) as i64).max(1);
    let store = Store::new(db.clone());
    let mut per_phase = [0usize; 6];
    let mut thousand = None;
    let mut longest = (String::new(), 0);
    let mut created = plan.now_ms - span_ms;
    let mut total = 0;
    // Written in slices, so a million lines never sit in memory at once.
    let mut batch: Vec<Gen> = Vec::new();
    for (i, &count) in counts.iter().enumerate() {
        // Bursts happen: now and then two conversations start in the same millisecond.
        if i % 500 != 1 {
            created = plan.now_ms - span_ms + i as i64 * step + rng.below(step as u64 / 2) as i64;
        }
        let age_rank = n - 1 - i; // 0 = newest
        let g = generate(&mut rng, i, age_rank, created, count, plan.now_ms);
        per_phase[PHASES
            .iter()
            .position(|p| *p == g.conv.phase.as_str())
            .unwrap_or(0)] += 1;
        if count == 1_000 && thousand.is_none() {
            thousand = Some(g.conv.id.clone());
        }
        if count > longest.1 {
            longest = (g.conv.id.clone(), count);
        }
        total += g.lines.len();
        batch.push(g);
        if batch.len() == 500 || i + 1 == n {
            write(db, &store, std::mem::take(&mut batch)).await?;
        }
    }
    // The WAL back into the database file, so the figures read a settled database. The
    // relay's own checkpointer may be busy copying at that moment: try again.
    for _ in 0..100 {
        let busy: i64 = db
            .call(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)))
            .await?;
        if busy == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(Seeded {
        conversations: n,
        messages: total,
        thousand,
        longest,
        surname: text::SEARCHED_SURNAME,
        per_phase: PHASES.iter().copied().zip(per_phase).collect(),
        seconds: began.elapsed().as_secs_f64(),
    })
}

/// How many lines each conversation gets, oldest first: the long ones among the newest,
/// the rest drawn from an exponential distribution (most chats short, some long) and
/// scaled so the total is exactly the plan's.
fn message_counts(plan: &Plan, rng: &mut Rng) -> Vec<usize> {
    let n = plan.conversations;
    let mut counts = vec![0usize; n];
    // Long conversations sit at ranks 2, 9, 40, 120, … from the newest: the first one is
    // on the list's first screen, the others spread through the first pages.
    let ranks = [2usize, 9, 40, 120, 300, 700, 1_500];
    let mut fixed = vec![false; n];
    for (size, rank) in plan.long.iter().zip(ranks) {
        if rank < n {
            counts[n - 1 - rank] = *size;
            fixed[n - 1 - rank] = true;
        }
    }
    let free: Vec<usize> = (0..n).filter(|i| !fixed[*i]).collect();
    let left = plan.messages.saturating_sub(counts.iter().sum::<usize>());
    let min = 2usize.min(left / free.len().max(1));
    let spare = left - min * free.len();
    let weights: Vec<f64> = free.iter().map(|_| -(1.0 - rng.unit()).ln()).collect();
    let sum: f64 = weights.iter().sum();
    let mut given = 0;
    for (k, &i) in free.iter().enumerate() {
        let extra = (weights[k] / sum * spare as f64) as usize;
        counts[i] = min + extra;
        given += extra;
    }
    // Rounding left a few lines over: one more each for the first conversations.
    for &i in free.iter().take(spare - given) {
        counts[i] += 1;
    }
    counts
}

fn pick_phase(rng: &mut Rng, mode: Mode, age_rank: usize, count: usize) -> Phase {
    // The newest few hundred are still running; older ones ended, or were left with the
    // bot (nothing ends those but the user).
    if age_rank >= 300 {
        return if rng.below(10) == 0 {
            Phase::Bot
        } else {
            Phase::Ended
        };
    }
    // A conversation that grew long was handed over at some point.
    let r = if count >= 1_000 {
        30 + rng.below(70)
    } else {
        rng.below(100)
    };
    match (mode, r) {
        (_, 0..=29) => Phase::Bot,
        (Mode::Endpoint, 30..=34) => Phase::Handover,
        (_, 30..=49) => Phase::Queued,
        (_, 50..=79) => Phase::Agent,
        (_, 80..=84) => Phase::Transferred,
        _ => Phase::Ended,
    }
}

fn generate(
    rng: &mut Rng,
    index: usize,
    age_rank: usize,
    created: i64,
    count: usize,
    now_ms: i64,
) -> Gen {
    let mode = if rng.below(10) < 6 {
        Mode::Endpoint
    } else {
        Mode::Handover
    };
    let id = match mode {
        Mode::Endpoint => text::uuid(rng),
        Mode::Handover => format!("hc-{}", text::token(rng, 16)),
    };
    let phase = pick_phase(rng, mode, age_rank, count);
    let user = text::user(rng, index);
    let mut conv = Conversation::new(id.clone(), mode, created);
    conv.phase = phase;
    conv.greeted = true;
    conv.user = user.clone();
    let mut session = BotSession::new(id.clone());
    session.name = user["name"].as_str().map(str::to_string);
    session.email = user["email"].as_str().map(str::to_string);
    session.language = user["language"].as_str().map(str::to_string);
    session.fallbacks = rng.below(2) as u32;
    conv.bot_session = serde_json::to_value(&session).unwrap_or(Value::Null);
    // Ended conversations were handed over more often than not.
    let handed = match phase {
        Phase::Bot => false,
        Phase::Ended => rng.below(100) < 60,
        _ => true,
    };
    let with_agent = matches!(phase, Phase::Agent | Phase::Transferred)
        || (phase == Phase::Ended && handed && rng.below(100) < 85);
    if mode == Mode::Endpoint {
        conv.gateway_id = Some(id.clone());
        conv.channel_id = Some("chatapi-web".into());
    }
    conv.state = Some(
        if phase == Phase::Ended {
            "idle"
        } else {
            "active"
        }
        .into(),
    );

    // The transcript runs from the start to its last line: minutes ago for a running
    // conversation (so the inactivity sweep has nothing to end), a few seconds a line
    // after the start for a finished one.
    let running = phase != Phase::Ended && age_rank < 300;
    let end = if running {
        (now_ms - rng.below(300_000) as i64).max(created + count as i64)
    } else {
        created + count as i64 * (4_000 + rng.below(30_000) as i64)
    };
    // The last line falls on `end`.
    let gap = ((end - created) / (count.max(2) - 1) as i64).max(1);
    // Where the handover falls: after the bot's part, at most 200 lines in, and before
    // the last line.
    let handover_at = if handed {
        (count / 3).clamp(1, 200).min(count.saturating_sub(2))
    } else {
        usize::MAX
    };
    let mut lines = Vec::with_capacity(count);
    let queue = text::queue(rng);
    for k in 0..count {
        let at_ms = created + k as i64 * gap;
        let line = if k == handover_at {
            Line {
                lane: "system",
                direction: "local",
                text: format!(
                    "Handover to queue {}: the user asked for a person.",
                    queue.1
                ),
                payload: Value::Null,
                at_ms,
            }
        } else if k + 1 == count && running {
            // The user spoke last, minutes ago: a running conversation is not idle.
            user_line(rng, mode, k > handover_at && with_agent, at_ms)
        } else if k + 1 == count && phase == Phase::Ended {
            Line {
                lane: "system",
                direction: "local",
                text: "The conversation ended.".into(),
                payload: Value::Null,
                at_ms,
            }
        } else if k < handover_at || !with_agent {
            // With the bot (or waiting in the queue): the user and the bot take turns.
            if k % 2 == 0 {
                bot_line(rng, mode, at_ms)
            } else {
                user_line(rng, mode, k > handover_at, at_ms)
            }
        } else if rng.below(2) == 0 {
            Line {
                lane: "agent",
                direction: "in",
                text: text::agent(rng),
                payload: Value::Null,
                at_ms,
            }
        } else {
            user_line(rng, mode, true, at_ms)
        };
        lines.push(line);
    }

    conv.updated_at_ms = lines.last().map_or(created, |l| l.at_ms);
    conv.last_text = lines
        .iter()
        .rev()
        .find(|l| l.lane != "system")
        .map(|l| l.text.clone());
    conv.last_user_at_ms = lines
        .iter()
        .rev()
        .find(|l| l.lane == "user")
        .map(|l| l.at_ms);
    if handed {
        let at = lines.get(handover_at).map_or(created, |l| l.at_ms);
        conv.queue_id = Some(queue.0.into());
        conv.queue_name = Some(queue.1.into());
        conv.queued_at_ms = Some(at + 800);
        if mode == Mode::Handover {
            conv.gateway_id = Some(text::uuid(rng));
            conv.channel_id = Some("chatapi-web".into());
            conv.handover = Some(handover_record(
                &conv,
                &lines[..handover_at],
                queue.0,
                index,
            ));
        }
        if with_agent {
            conv.agent_id = Some(format!("agent-{}", 1 + rng.below(40)));
            conv.agent_joined_at_ms = Some(at + 5_000 + rng.below(600_000) as i64);
            conv.first_agent_reply_at_ms = lines
                .iter()
                .skip(handover_at)
                .find(|l| l.lane == "agent")
                .map(|l| l.at_ms);
        }
        conv.transfer_pending = phase == Phase::Transferred && rng.below(2) == 0;
    }
    if phase == Phase::Ended {
        conv.ended_at_ms = Some(conv.updated_at_ms);
    }
    Gen { conv, lines }
}

fn bot_line(rng: &mut Rng, mode: Mode, at_ms: i64) -> Line {
    let (text, quick) = text::bot(rng);
    Line {
        lane: "bot",
        direction: if mode == Mode::Endpoint {
            "out"
        } else {
            "local"
        },
        text,
        // Every bot line names a rule (the engine names one per turn): the analytics
        // figures read at least as many lines as a real transcript gives them.
        payload: {
            const RULES: [&str; 6] = ["hours", "orders", "billing", "menu", "thanks", "fallback"];
            // From the time rather than the generator: the rest of the seed stays as it was.
            let rule = RULES[at_ms.rem_euclid(RULES.len() as i64) as usize];
            if quick.is_empty() {
                json!({ "rule": rule })
            } else {
                json!({ "quickReplies": quick, "rule": rule })
            }
        },
        at_ms,
    }
}

fn user_line(rng: &mut Rng, mode: Mode, to_agent: bool, at_ms: i64) -> Line {
    let direction = match (mode, to_agent) {
        (Mode::Endpoint, _) => "in",
        (Mode::Handover, true) => "out",
        (Mode::Handover, false) => "local",
    };
    let payload = if rng.below(100) == 0 {
        json!({ "attachments": [{
            "fileName": "receipt.pdf", "type": "application/pdf",
            "preSignedUrl": format!("https://files.example.com/{}", text::token(rng, 24)),
        }]})
    } else {
        Value::Null
    };
    Line {
        lane: "user",
        direction,
        text: text::user_words(rng),
        payload,
        at_ms,
    }
}

/// What the engine keeps of a handover: the create sent to 8x8 with the bot transcript
/// (the latest 200 user and bot lines) as history.
fn handover_record(
    conv: &Conversation,
    before: &[Line],
    queue: &str,
    index: usize,
) -> HandoverRecord {
    let field = |k: &str| conv.user[k].as_str().map(str::to_string);
    let mut messages: Vec<SendMessage> = before
        .iter()
        .filter(|l| l.lane == "user" || l.lane == "bot")
        .map(|l| SendMessage::text(l.lane, &l.text))
        .collect();
    if messages.len() > 200 {
        messages.drain(..messages.len() - 200);
    }
    let request = CreateConversation {
        channel_id: "chatapi-web".into(),
        user: ConversationUser {
            name: field("name"),
            email: field("email"),
            phone: field("phone"),
            language: field("language"),
            additional_properties: vec![KeyValue {
                key: "intent".into(),
                value: "support".into(),
            }],
            ..ConversationUser::default()
        },
        assignment: Some(Assignment::queue(queue)),
        history: Some(History { messages }),
    };
    HandoverRecord {
        request,
        local: HandoverBookkeeping {
            outbox_id: Some(100_000 + index as i64),
            ..HandoverBookkeeping::default()
        },
    }
}

async fn write(db: &Db, store: &Store, batch: Vec<Gen>) -> Result<(), DbError> {
    for g in &batch {
        store.save(&g.conv).await?;
    }
    // In the order they happened, so one conversation's lines are spread over the table
    // among the others' as a running relay leaves them.
    let mut lines: Vec<(&str, &Line)> = batch
        .iter()
        .flat_map(|g| g.lines.iter().map(|l| (g.conv.id.as_str(), l)))
        .collect();
    lines.sort_by_key(|(_, l)| l.at_ms);
    let rows: Vec<(String, &'static str, &'static str, String, String, i64)> = lines
        .into_iter()
        .map(|(id, l)| {
            (
                id.to_string(),
                l.direction,
                l.lane,
                l.text.clone(),
                l.payload.to_string(),
                l.at_ms,
            )
        })
        .collect();
    db.call(move |c| {
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO messages (conversation_id, direction, author_type, text, payload_json, \
                 delivery_id, outbox_id, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, ?6)",
            )?;
            for (id, direction, lane, text, payload, at_ms) in &rows {
                stmt.execute(params![id, direction, lane, text, payload, at_ms])?;
            }
        }
        tx.commit()
    })
    .await
}
