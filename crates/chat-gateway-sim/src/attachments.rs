//! Attachments (chat-gateway.md §3.8): multipart upload (step 1; a message referencing the id
//! shows it to the agent), metadata and download.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::api::run;
use crate::auth::authorize;
use crate::clock::{now_ms, random_id};
use crate::errors::{hal, ApiError, ErrorStyle};
use crate::paging::ListQuery;
use crate::state::Sim;
use crate::store::Attachment;

pub async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let query = ListQuery::parse(q.as_deref(), "id:asc", &["id", "filename", "createdAt"])?;
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let items = c.attachments.iter().map(|a| (a.seq, a.to_json())).collect();
        let href = format!(
            "{}/chat-gateway/v1/conversations/{id}/attachments",
            sim.base_url
        );
        Ok(hal(
            StatusCode::OK,
            query.page(items, "attachments", Some(href)),
        ))
    })
}

pub async fn get(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path((id, att)): Path<(String, String)>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let a = c
            .attachments
            .iter()
            .find(|a| a.id == att)
            .ok_or_else(|| ApiError::not_found("Attachment", &att))?;
        Ok(hal(StatusCode::OK, a.to_json()))
    })
}

pub async fn content(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path((id, att)): Path<(String, String)>,
) -> Response {
    run(&sim, &headers, ErrorStyle::Generic, |caller| {
        let store = sim.lock();
        let c = store
            .conversation(&caller.tenant, &id)
            .ok_or_else(|| ApiError::not_found("Conversation", &id))?;
        let a = c
            .attachments
            .iter()
            .find(|a| a.id == att)
            .ok_or_else(|| ApiError::not_found("Attachment", &att))?;
        Ok(download(a))
    })
}

/// The raw bytes with a Content-Disposition, as the content endpoint and pre-signed URLs
/// serve them.
pub fn download(a: &Attachment) -> Response {
    let mut r = (StatusCode::OK, a.bytes.clone()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let safe: String = a
        .filename
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub async fn upload(State(sim): State<Arc<Sim>>, Path(id): Path<String>, req: Request) -> Response {
    let style = ErrorStyle::Generic;
    let headers = req.headers().clone();
    let caller = match authorize(&sim.seed, &headers) {
        Ok(c) => c,
        Err(ApiError::Forbidden(m)) => return ApiError::ForbiddenGeneric(m).render(style, ""),
        Err(e) => return e.render(style, ""),
    };
    if sim.lock().conversation(&caller.tenant, &id).is_none() {
        return ApiError::not_found("Conversation", &id).render(style, &caller.tenant);
    }
    let parsed = parse_multipart(req).await;
    let (filename, content_type, bytes, author_type) = match parsed {
        Ok(p) => p,
        Err(e) => return e.render(style, &caller.tenant),
    };
    let mut store = sim.lock();
    let seq = store.next_seq();
    let Some(c) = store.conversation_mut(&caller.tenant, &id) else {
        return ApiError::not_found("Conversation", &id).render(style, &caller.tenant);
    };
    let a = Attachment {
        id: random_id(64),
        seq,
        filename,
        content_type,
        bytes,
        created_ms: now_ms(),
        author_type,
    };
    let json = a.to_json();
    c.attachments.push(a);
    hal(StatusCode::OK, json)
}

async fn parse_multipart(req: Request) -> Result<(String, String, Bytes, String), ApiError> {
    let bad = |m: String| ApiError::invalid("invalid_attachment", m);
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| bad(format!("Expected multipart/form-data: {e}")))?;
    let mut file = None;
    let mut author_type = "user".to_string();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| bad(format!("Malformed multipart body: {e}")))?
    {
        match field.name() {
            Some("attachment") => {
                let filename = field.file_name().unwrap_or("attachment").to_string();
                let ct = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| bad(format!("Cannot read the attachment: {e}")))?;
                file = Some((filename, ct, data));
            }
            Some("authorType") => {
                let v = field.text().await.unwrap_or_default();
                if v != "user" && v != "bot" {
                    return Err(bad(format!(
                        "Invalid authorType={v}, has to be one of user, bot"
                    )));
                }
                author_type = v;
            }
            _ => {}
        }
    }
    let (filename, ct, data) = file.ok_or_else(|| bad("The attachment part is missing".into()))?;
    if data.is_empty() {
        return Err(bad("The attachment is empty".into()));
    }
    Ok((filename, ct, data, author_type))
}
