//! `GET /api/analytics?from=&to=&mode=&tz=`: the analytics page's figures for the
//! conversations started in `[from, to)` (milliseconds since the epoch), computed by the
//! store in SQL (switchboard_store::analytics says what each figure counts).

use std::sync::Arc;

use axum::{extract::State, routing::get, Json, Router};
use serde::Deserialize;

use super::error::{ApiError, ErrorCode, QueryParams};
use crate::relay::RelayState;
use switchboard_store::analytics::{self, Analytics, AnalyticsQuery};
use switchboard_types::{now_ms, Mode};

/// The longest period one request may ask for.
const MAX_DAYS: i64 = 400;
const DAY_MS: i64 = 86_400_000;

pub fn router() -> Router<Arc<RelayState>> {
    Router::new().route("/analytics", get(get_analytics))
}

/// Strings rather than numbers, so that a bad value is refused naming its parameter.
#[derive(Deserialize)]
struct Params {
    from: Option<String>,
    to: Option<String>,
    mode: Option<String>,
    /// The caller's offset from UTC in minutes, east positive (JavaScript's
    /// `-new Date().getTimezoneOffset()`), for hours of the day and days.
    tz: Option<String>,
}

fn bad(message: String) -> ApiError {
    ApiError::new(ErrorCode::BadQuery, message)
}

fn number(name: &str, value: Option<&str>, what: &str) -> Result<Option<i64>, ApiError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(format!("\"{name}\" must be {what}; it is \"{s}\"."))),
    }
}

fn query(p: &Params, now: i64) -> Result<AnalyticsQuery, ApiError> {
    let ms = "a whole number of milliseconds since 1970 (e.g. Date.now())";
    let to = number("to", p.to.as_deref(), ms)?.unwrap_or(now);
    let from = number("from", p.from.as_deref(), ms)?.unwrap_or(to - 30 * DAY_MS);
    if from >= to {
        return Err(bad(format!(
            "\"from\" ({from}) must be before \"to\" ({to}): the period is [from, to)."
        )));
    }
    if to - from > MAX_DAYS * DAY_MS {
        return Err(bad(format!(
            "The period from \"from\" to \"to\" is longer than {MAX_DAYS} days: choose a shorter one."
        )));
    }
    let mode = match p.mode.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("both") => None,
        Some(s) => Some(Mode::from_name(s).ok_or_else(|| {
            bad(format!(
                "Unknown \"mode\" \"{s}\": use endpoint, handover or both."
            ))
        })?),
    };
    let tz = number(
        "tz",
        p.tz.as_deref(),
        "the offset from UTC in minutes, between -840 and 840",
    )?
    .unwrap_or(0);
    if !(-840..=840).contains(&tz) {
        return Err(bad(format!(
            "\"tz\" must be the offset from UTC in minutes, between -840 and 840; it is {tz}."
        )));
    }
    Ok(AnalyticsQuery {
        from_ms: from,
        to_ms: to,
        mode,
        utc_offset_min: tz as i32,
        now_ms: now,
    })
}

async fn get_analytics(
    State(state): State<Arc<RelayState>>,
    QueryParams(p): QueryParams<Params>,
) -> Result<Json<Analytics>, ApiError> {
    let q = query(&p, now_ms())?;
    Ok(Json(analytics::analytics_of(&state.db, q).await?))
}
