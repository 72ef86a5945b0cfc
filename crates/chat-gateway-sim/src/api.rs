//! Plumbing shared by the Chat Gateway handlers: authorisation, body parsing and turning
//! results into 8x8-shaped responses.

use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::auth::{authorize, Caller};
use crate::errors::{ApiError, ErrorStyle};
use crate::state::Sim;

/// Authorises the call and runs `f`, rendering any failure in `style`.
pub fn run<F>(sim: &Sim, headers: &HeaderMap, style: ErrorStyle, f: F) -> Response
where
    F: FnOnce(Caller) -> Result<Response, ApiError>,
{
    run_inner(sim, headers, style, false, f)
}

/// As [`run`], for the two operations whose 403 is the generic shape
/// (`POST /channels`, `POST …/attachments`).
pub fn run_generic_403<F>(sim: &Sim, headers: &HeaderMap, style: ErrorStyle, f: F) -> Response
where
    F: FnOnce(Caller) -> Result<Response, ApiError>,
{
    run_inner(sim, headers, style, true, f)
}

fn run_inner<F>(
    sim: &Sim,
    headers: &HeaderMap,
    style: ErrorStyle,
    generic_403: bool,
    f: F,
) -> Response
where
    F: FnOnce(Caller) -> Result<Response, ApiError>,
{
    let caller = match authorize(&sim.seed, headers) {
        Ok(c) => c,
        Err(ApiError::Forbidden(m)) if generic_403 => {
            return ApiError::ForbiddenGeneric(m).render(style, "")
        }
        Err(e) => return e.render(style, ""),
    };
    let tenant = caller.tenant.clone();
    match f(caller) {
        Ok(r) => r,
        Err(e) => e.render(style, &tenant),
    }
}

/// A required JSON body.
pub fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "invalid_json_object",
            "Required request body is missing",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(
            "invalid_json_object",
            format!("Malformed JSON request: {e}"),
        )
    })
}

/// An optional JSON body (thinking): `None` when empty.
pub fn optional_json_body(body: &Bytes) -> Result<Option<Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    json_body(body).map(Some)
}
