//! Matches concrete request paths (`/chat-gateway/v1/webhooks/12`) to the document's
//! templates (`/chat-gateway/v1/webhooks/{webhookId}`), because callers only know the
//! former.

use std::collections::BTreeMap;

/// A successful match; more literal segments means a more specific template, which is
/// how `/webhooks/verify` wins over `/webhooks/{webhookId}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMatch {
    pub literal_segments: usize,
    pub params: BTreeMap<String, String>,
}

pub(crate) fn match_template(template: &str, path: &str) -> Option<PathMatch> {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut m = PathMatch {
        literal_segments: 0,
        params: BTreeMap::new(),
    };
    for (ts, ps) in t.iter().zip(p.iter()) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            m.params.insert(name.to_string(), ps.to_string());
        } else if ts == ps {
            m.literal_segments += 1;
        } else {
            return None;
        }
    }
    Some(m)
}
