//! The agent's Copilot links: one session per handed-over conversation, its token, the
//! optional signed `auth` JWT, and the one check every Copilot request passes
//! (docs/copilot.md).
//!
//! The token is HMAC-SHA256 over the conversation id and the session's start, keyed by a
//! 256-bit link key kept in a file beside the database (owner-only); the database holds
//! only the token's SHA-256. So the relay can show the same link again (the admin's
//! conversation view, a transfer) without storing it, and a copy of the database opens
//! nothing. Revoking marks the session; the next handover opens a new one (new start,
//! new token).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::relay::RelayState;
use switchboard_settings::secrets::{Secret, SecretName};
use switchboard_store::{Conversation, CopilotSession, CopilotSessions, Phase};
use switchboard_types::now_ms;

/// The one answer to every refused Copilot request: it never says which check failed.
pub const NOT_VALID: &str = "This Copilot link is not valid: it may have expired or been revoked. Ask for a new one from the conversation.";

/// A signed link's JWT lasts this long past its issue on top of the link's own expiry
/// after the end: conversations rarely stay open longer than a week (Cognigy's Copilot
/// sessions live 7 days too). A later request with it is refused like any bad link.
pub const JWT_LIFETIME_MS: i64 = 7 * 24 * 3_600_000;

/// Query values longer than this are not ours (a token is 43 characters).
const MAX_PARAM: usize = 4_096;

/// The claims of a signed link's `auth` JWT (HS256).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "sessionId")]
    pub session_id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "URLToken")]
    pub url_token: String,
    /// Seconds since the epoch.
    pub iat: i64,
    pub exp: i64,
}

/// What a Copilot request presents: the link's query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Presented {
    #[serde(rename = "sessionId")]
    pub session_id: Option<String>,
    #[serde(rename = "URLToken")]
    pub url_token: Option<String>,
    pub auth: Option<String>,
}

/// The link key, per database file (tests run several relays in one process).
static LINK_KEYS: Mutex<Option<HashMap<PathBuf, [u8; 32]>>> = Mutex::new(None);

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("copilot-link.key")
}

/// The link key for this database, made on first use.
fn link_key(state: &RelayState) -> std::io::Result<[u8; 32]> {
    let path = key_path(&state.data_dir);
    let mut keys = LINK_KEYS.lock().unwrap_or_else(|p| p.into_inner());
    let keys = keys.get_or_insert_with(HashMap::new);
    if let Some(k) = keys.get(&path) {
        return Ok(*k);
    }
    let key = match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 32 => bytes.try_into().expect("32 bytes"),
        Ok(_) | Err(_) => {
            let mut k = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut k);
            write_private(&path, &k)?;
            k
        }
    };
    keys.insert(path, key);
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

fn token_for(key: &[u8; 32], conversation_id: &str, created_at_ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(b"switchboard copilot link\0");
    mac.update(conversation_id.as_bytes());
    mac.update(b"\0");
    mac.update(created_at_ms.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sessions(state: &RelayState) -> CopilotSessions {
    CopilotSessions::on(&state.db)
}

/// Where the endpoint listener is reached from outside: the public base URL when set,
/// else its own address.
pub fn public_base(state: &RelayState) -> String {
    let settings = state.settings();
    match settings.endpoint.public_base_url.as_deref() {
        Some(public) => public.trim_end_matches('/').to_string(),
        None => {
            let mut addr = state.endpoint_addr;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        }
    }
}

/// The user id the link names: the customer's id when known, else the conversation's.
fn user_id(conv: &Conversation) -> String {
    ["userId", "id"]
        .iter()
        .find_map(|k| conv.user[*k].as_str().filter(|s| !s.is_empty()))
        .unwrap_or(&conv.id)
        .to_string()
}

/// The link for an open session, or `None` when the session's token cannot be rebuilt
/// (the link key file was replaced) or the signed link cannot be signed.
pub async fn link_for(
    state: &RelayState,
    conv: &Conversation,
    session: &CopilotSession,
) -> Option<String> {
    let key = link_key(state).ok()?;
    let token = token_for(&key, &conv.id, session.created_at_ms);
    if !bool::from(hash(&token).as_bytes().ct_eq(session.token_hash.as_bytes())) {
        return None;
    }
    let user = user_id(conv);
    let mut url = url::Url::parse(&format!("{}/copilot/", public_base(state))).ok()?;
    url.query_pairs_mut()
        .append_pair("userId", &user)
        .append_pair("sessionId", &conv.id)
        .append_pair("URLToken", &token);
    if state.settings().handover.copilot.signed_links {
        let secret = state
            .secrets
            .get(SecretName::CopilotJwtSecret)
            .await
            .ok()??;
        let now = now_ms() / 1000;
        let expiry_s = i64::from(state.settings().handover.copilot.expiry_hours) * 3600;
        let claims = Claims {
            session_id: conv.id.clone(),
            user_id: user,
            url_token: token,
            iat: now,
            exp: now + JWT_LIFETIME_MS / 1000 + expiry_s,
        };
        let jwt = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.expose().as_bytes()),
        )
        .ok()?;
        url.query_pairs_mut().append_pair("auth", &jwt);
    }
    Some(url.into())
}

/// Opens the conversation's session (or reuses the one it has) and builds its link.
/// `None` when the Copilot is off, signed links have no secret yet, or the store fails
/// (the handover goes on without a link; the log says why).
/// The Copilot page's sentiment lexicon and phone-number metadata (≈ 0.1 s of CPU and a
/// few MB) load with the first link handed out, which the agent opens only after it: the
/// first agent still does not wait for them, and a start no longer pays for them while
/// the window loads its first page, nor keeps them in a relay that never hands over
/// (crates/switchboard-bench/BENCHMARKS.md, "Footprint").
fn warm_up_once() {
    static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !STARTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tokio::task::spawn_blocking(switchboard_copilot::warm_up);
    }
}

pub async fn open_link(state: &RelayState, conv: &Conversation) -> Option<String> {
    if !state.settings().handover.copilot.enabled {
        return None;
    }
    warm_up_once();
    let sessions = sessions(state);
    let existing = match sessions.get(&conv.id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "the Copilot session could not be read");
            return None;
        }
    };
    if let Some(session) = existing.as_ref().filter(|s| s.revoked_at_ms.is_none()) {
        if let Some(link) = link_for(state, conv, session).await {
            return Some(link);
        }
    }
    let key = match link_key(state) {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(error = %e, "the Copilot link key could not be written");
            return None;
        }
    };
    // A new start means a new token, even within the same millisecond.
    let created_at_ms = existing.map_or(0, |s| s.created_at_ms + 1).max(now_ms());
    let session = CopilotSession {
        conversation_id: conv.id.clone(),
        token_hash: hash(&token_for(&key, &conv.id, created_at_ms)),
        created_at_ms,
        revoked_at_ms: None,
    };
    if let Err(e) = sessions.open(session.clone()).await {
        tracing::warn!(error = %e, "the Copilot session could not be stored");
        return None;
    }
    let link = link_for(state, conv, &session).await;
    if link.is_none() {
        tracing::warn!("no Copilot link: signed links are on but no JWT secret is set (Handover settings, Copilot)");
    }
    link
}

/// When the session's link stops working: `expiry_hours` after the conversation ended
/// (`None` while it goes on).
pub fn expires_at_ms(conv: &Conversation, expiry_hours: u32) -> Option<i64> {
    (conv.phase == Phase::Ended).then(|| {
        conv.ended_at_ms.unwrap_or(conv.updated_at_ms) + i64::from(expiry_hours) * 3_600_000
    })
}

/// The check every Copilot request passes: the conversation the link opens, or `None`
/// for any reason at all (wrong, expired, revoked, unknown, bad JWT). The token is
/// hashed and compared in constant time whether or not the session exists, so the
/// refusals take about as long as each other.
pub async fn check(state: &RelayState, p: &Presented) -> Option<Conversation> {
    let session_id = p.session_id.as_deref().unwrap_or("");
    let url_token = p.url_token.as_deref().unwrap_or("");
    let given = hash(url_token);
    if session_id.is_empty() || session_id.len() > MAX_PARAM || url_token.len() > MAX_PARAM {
        return None;
    }
    let session = sessions(state).get(session_id).await.ok().flatten();
    let expected = session
        .as_ref()
        .map(|s| s.token_hash.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let token_ok: bool = given.as_bytes().ct_eq(expected.as_bytes()).into();
    let session = session?;
    if !token_ok || session.revoked_at_ms.is_some() {
        return None;
    }
    let conv = state.engine.store.get(session_id).await.ok().flatten()?;
    let copilot = state.settings().handover.copilot.clone();
    if expires_at_ms(&conv, copilot.expiry_hours).is_some_and(|at| at <= now_ms()) {
        return None;
    }
    if copilot.signed_links && !jwt_ok(state, p, session_id, url_token).await {
        return None;
    }
    Some(conv)
}

async fn jwt_ok(state: &RelayState, p: &Presented, session_id: &str, url_token: &str) -> bool {
    let Some(auth) = p.auth.as_deref().filter(|a| a.len() <= MAX_PARAM) else {
        return false;
    };
    let Ok(Some(secret)) = state.secrets.get(SecretName::CopilotJwtSecret).await else {
        return false;
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iat"]);
    validation.leeway = 30;
    match jsonwebtoken::decode::<Claims>(
        auth,
        &DecodingKey::from_secret(secret.expose().as_bytes()),
        &validation,
    ) {
        Ok(data) => {
            data.claims.session_id == session_id
                && bool::from(data.claims.url_token.as_bytes().ct_eq(url_token.as_bytes()))
        }
        Err(_) => false,
    }
}

/// A new JWT shared secret: 256 random bits, base64url.
pub fn new_jwt_secret() -> Secret {
    Secret::new(switchboard_types::token::generate())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_stable() {
        let key = [7u8; 32];
        let a = token_for(&key, "c1", 1);
        assert_eq!(a, token_for(&key, "c1", 1));
        assert_ne!(a, token_for(&key, "c2", 1));
        assert_ne!(a, token_for(&key, "c1", 2));
        assert_ne!(a, token_for(&[8u8; 32], "c1", 1));
        // 256 bits of HMAC, base64url.
        assert_eq!(a.len(), 43);
        assert_eq!(hash(&a).len(), 64);
    }
}
