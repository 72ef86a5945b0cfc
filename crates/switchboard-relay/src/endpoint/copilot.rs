//! The agent's Copilot page and its API, on the endpoint listener (the one a tunnel or
//! reverse proxy exposes, so the 8x8 agent can open the link). Everything here is under
//! `/copilot/` and reveals one conversation to whoever holds its link:
//!
//! - `GET /copilot/`: the page (the UI's second entry, `copilot.html`), and
//!   `GET /copilot/assets/…`: only the files that page loads — never the admin app's.
//! - `GET /copilot/api/workspace`, `…/api/events` (SSE), `…/api/knowledge?q=`: each with
//!   the link's `sessionId`, `URLToken` (and `auth` for signed links), checked on every
//!   request by [`crate::copilot_links::check`]. Any refusal is the same 404.
//!
//! Every answer is rate-limited per client (a token bucket, [`RATE_PER_SECOND`] with a
//! burst of [`BURST`]; 429 with Retry-After) and carries strict headers
//! ([`security_headers`]). docs/copilot.md describes the whole.

use std::{
    collections::HashSet,
    convert::Infallible,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Query, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Json, Router,
};
use futures_util::{Stream, StreamExt};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;

use crate::copilot_links::{self, Presented, NOT_VALID};
use crate::relay::RelayState;
use crate::ui_assets;
use switchboard_settings::Settings;
use switchboard_store::Conversation;
use switchboard_types::{now_ms, RelayEvent};

/// Requests per second each client may make, on average …
pub const RATE_PER_SECOND: u32 = 20;
/// … and at once after a quiet spell.
pub const BURST: u32 = 40;
/// The most knowledge hits one search answers.
const MAX_HITS: usize = 10;
/// The longest search.
const MAX_QUERY: usize = 500;

#[derive(Clone)]
struct Copilot {
    state: Arc<RelayState>,
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// The flow's answers and the knowledge file, parsed once per settings save.
    parsed: Arc<Mutex<Option<ParsedFor>>>,
    /// The optional language model's answers (copilot_model.rs).
    model: Arc<super::copilot_model::ModelAnswers>,
}

/// What was parsed, and from which settings.
type ParsedFor = (Arc<Settings>, Arc<Parsed>);

struct Parsed {
    flow: Option<switchboard_copilot::FlowAnswers>,
    knowledge: switchboard_copilot::Knowledge,
}

pub fn router(state: Arc<RelayState>) -> Router {
    let quota = Quota::per_second(NonZeroU32::new(RATE_PER_SECOND).expect("non-zero"))
        .allow_burst(NonZeroU32::new(BURST).expect("non-zero"));
    let copilot = Copilot {
        state,
        limiter: Arc::new(RateLimiter::keyed(quota)),
        parsed: Arc::new(Mutex::new(None)),
        model: Arc::default(),
    };
    spawn_limiter_cleanup(&copilot);
    Router::new()
        .route("/copilot/", get(page))
        .route("/copilot", get(to_page))
        .route("/copilot/assets/{*file}", get(asset))
        .route("/copilot/api/workspace", get(workspace))
        .route("/copilot/api/events", get(events))
        .route("/copilot/api/knowledge", get(knowledge))
        .route("/copilot/{*rest}", get(not_valid))
        .layer(middleware::from_fn_with_state(copilot.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(
            copilot.clone(),
            security_headers,
        ))
        .with_state(copilot)
}

/// Forgets clients that have been quiet for a while, so the limiter's table stays small.
fn spawn_limiter_cleanup(copilot: &Copilot) {
    let limiter = Arc::downgrade(&copilot.limiter);
    let mut stopping = copilot.state.stopping.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            let Some(limiter) = limiter.upgrade() else {
                return;
            };
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    });
}

/// The same 404 for every refusal: wrong, expired, revoked, unknown or badly signed.
fn refused() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "message": NOT_VALID })),
    )
        .into_response()
}

async fn not_valid() -> Response {
    refused()
}

/// Who a request counts against: the connecting address, or — when that is this
/// machine (a tunnel client or a reverse proxy on the same host) — the address the
/// proxy added last to `X-Forwarded-For`.
fn client_of(req: &Request) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if peer.is_loopback() {
        if let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return forwarded;
        }
    }
    peer
}

async fn rate_limit(State(c): State<Copilot>, req: Request, next: Next) -> Response {
    match c.limiter.check_key(&client_of(&req)) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, seconds.max(1).to_string()),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                Json(json!({ "message": "Too many requests from this address: wait a moment and try again." })),
            )
                .into_response()
        }
    }
}

/// What the page may do: load its own files and call its own API, nothing else. It may
/// be framed by the admin UI (the sandbox's agent console shows it beside the chat) and,
/// with signed links on, by any https page — an agent desktop that verified the link's
/// JWT before embedding it. Never cached (a link is a credential), never sniffed, and
/// its address (which holds the token) never sent on as a Referer.
async fn security_headers(State(c): State<Copilot>, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/copilot/api/");
    let is_asset = req.uri().path().starts_with("/copilot/assets/");
    let mut response = next.run(req).await;
    let mut ancestors = format!(
        "http://127.0.0.1:{0} http://localhost:{0}",
        c.state.admin_port
    );
    if c.state.settings().handover.copilot.signed_links {
        ancestors.push_str(" https:");
    }
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors {ancestors}"
    );
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !is_asset || is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn to_page(uri: axum::http::Uri) -> Response {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, format!("copilot/{query}"))],
    )
        .into_response()
}

/// The page itself holds no data: served to anyone, it asks the API, which checks.
async fn page() -> Response {
    match ui_assets::get("copilot.html") {
        Some(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><meta charset=utf-8><title>Copilot</title><p>The Copilot page is not built into this relay.",
        )
            .into_response(),
    }
}

/// The files `copilot.html` loads, found by following the names each of them mentions
/// (scripts import their chunks by file name): the admin app's own files are not among
/// them, so they are not served here.
fn page_files() -> &'static HashSet<&'static str> {
    static FILES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut found = HashSet::new();
        let mut queue = vec!["copilot.html"];
        while let Some(path) = queue.pop() {
            let Some(body) = ui_assets::get(path) else {
                continue;
            };
            let text = String::from_utf8_lossy(body);
            for (asset, _) in ui_assets::ASSETS {
                let Some(name) = asset.strip_prefix("assets/") else {
                    continue;
                };
                if !found.contains(asset) && text.contains(name) {
                    found.insert(*asset);
                    queue.push(asset);
                }
            }
        }
        found
    })
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let path = format!("assets/{file}");
    match page_files()
        .get(path.as_str())
        .and_then(|p| ui_assets::get(p).map(|b| (*p, b)))
    {
        Some((p, body)) => (
            [
                (header::CONTENT_TYPE, ui_assets::content_type(p)),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

impl Copilot {
    fn parsed(&self) -> Arc<Parsed> {
        let settings = self.state.settings();
        let mut cache = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, parsed)) = cache.as_ref() {
            if Arc::ptr_eq(at, &settings) {
                return parsed.clone();
            }
        }
        let flow = (settings.bot.kind == switchboard_bot::BotKind::Builtin)
            .then(|| switchboard_copilot::FlowAnswers::parse(&settings.bot.flow).ok())
            .flatten();
        let knowledge = switchboard_copilot::Knowledge::parse(&settings.handover.copilot.knowledge)
            .unwrap_or_default();
        let parsed = Arc::new(Parsed { flow, knowledge });
        *cache = Some((settings, parsed.clone()));
        parsed
    }

    async fn workspace(&self, conv: &Conversation) -> Option<switchboard_copilot::Workspace> {
        let transcript = self
            .state
            .engine
            .store
            .transcript(&conv.id, 0, 100_000)
            .await
            .ok()?;
        let parsed = self.parsed();
        let mut workspace =
            switchboard_copilot::build_workspace(switchboard_copilot::WorkspaceInput {
                conversation: conv,
                transcript: &transcript,
                flow: parsed.flow.as_ref(),
                now_ms: now_ms(),
            });
        let mark = transcript.last().map_or(0, |e| e.id);
        self.model
            .apply(&self.state, &conv.id, mark, &mut workspace);
        Some(workspace)
    }
}

/// `GET /copilot/api/workspace?sessionId=…&URLToken=…[&auth=…]`: the page's tiles.
async fn workspace(State(c): State<Copilot>, Query(p): Query<Presented>) -> Response {
    let Some(conv) = copilot_links::check(&c.state, &p).await else {
        return refused();
    };
    match c.workspace(&conv).await {
        Some(w) => Json(w).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "message": "The conversation could not be read just now; the page tries again." })),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct Search {
    #[serde(flatten)]
    link: Presented,
    #[serde(default)]
    q: String,
}

/// `GET /copilot/api/knowledge?q=…&sessionId=…&URLToken=…[&auth=…]`: the hits for `q`
/// in the flow's answers and the knowledge file, best first, each naming its source.
async fn knowledge(State(c): State<Copilot>, Query(s): Query<Search>) -> Response {
    let Some(conv) = copilot_links::check(&c.state, &s.link).await else {
        return refused();
    };
    let q: String = s.q.chars().take(MAX_QUERY).collect();
    let parsed = c.parsed();
    // The conversation's language picks the stop words left out of the query.
    let language = conv.user["language"].as_str();
    let hits = switchboard_copilot::search_knowledge(
        &parsed.knowledge,
        parsed.flow.as_ref(),
        &q,
        language,
        MAX_HITS,
    );
    Json(hits).into_response()
}

/// The conversation an event is about, if it is about one.
fn conversation_of(event: &RelayEvent) -> Option<&str> {
    match event {
        RelayEvent::ConversationChanged {
            conversation_id, ..
        }
        | RelayEvent::Typing {
            conversation_id, ..
        } => Some(conversation_id),
        RelayEvent::TranscriptEntry { entry } => entry["conversationId"].as_str(),
        _ => None,
    }
}

/// `GET /copilot/api/events?sessionId=…&URLToken=…[&auth=…]`: server-sent events for
/// this conversation only — `changed` whenever it or its transcript changes (the page
/// refetches the workspace), `typing` (`{who, typing}`) for typing hints. The link is checked again at
/// each event; once it is no longer valid the stream ends (the page's next request gets
/// the 404).
async fn events(State(c): State<Copilot>, Query(p): Query<Presented>) -> Response {
    let Some(conv) = copilot_links::check(&c.state, &p).await else {
        return refused();
    };
    let id = conv.id.clone();
    let state = c.state.clone();
    let link = Arc::new(p);
    let updates = BroadcastStream::new(c.state.bus.subscribe())
        .filter_map(move |item| {
            let id = id.clone();
            async move {
                match item {
                    Ok(envelope) if conversation_of(&envelope.event) == Some(id.as_str()) => {
                        Some(envelope.event)
                    }
                    Ok(_) => None,
                    // Fallen behind: whatever was missed, a refetch catches up.
                    Err(_) => Some(RelayEvent::ConversationChanged {
                        conversation_id: id,
                        phase: "",
                    }),
                }
            }
        })
        .then(move |event| {
            let state = state.clone();
            let link = link.clone();
            async move {
                let still = copilot_links::check(&state, &link).await.is_some();
                (still, event)
            }
        })
        .take_while(|(still, _)| std::future::ready(*still))
        .map(|(_, event)| -> Result<Event, Infallible> {
            Ok(match event {
                RelayEvent::Typing { who, typing, .. } => Event::default()
                    .event("typing")
                    .data(json!({ "who": who, "typing": typing }).to_string()),
                _ => Event::default().event("changed").data("{}"),
            })
        });
    let mut stopping = c.state.stopping.clone();
    let until_stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(updates.take_until(until_stop));
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, Sse::new(stream).keep_alive(KeepAlive::default())).into_response()
}
