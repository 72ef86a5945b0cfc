//! The list conventions of 8x8's API (chat-gateway.md §1.6): `size`/`page`/`sort`/`filter` query
//! parameters and the HAL page envelope, shared by every list endpoint.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::errors::ApiError;

/// A parsed list query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub size: usize,
    pub page: usize,
    pub sort_field: String,
    pub descending: bool,
    filter: Vec<Vec<Term>>,
}

#[derive(Debug, Clone)]
struct Term {
    path: Vec<String>,
    negate: bool,
    value: String,
}

impl ListQuery {
    /// Parses the raw query string. `default_sort` is e.g. `id:asc`; `sortable` lists the
    /// fields 8x8 allows to sort by for this list.
    pub fn parse(
        raw: Option<&str>,
        default_sort: &str,
        sortable: &[&str],
    ) -> Result<Self, ApiError> {
        let mut size = 20usize;
        let mut page = 0usize;
        let mut sort = default_sort.to_string();
        let mut filter = Vec::new();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "size" => {
                    size = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        ApiError::invalid("invalid_parameter", format!("Invalid page size: {v}"))
                    })?
                }
                "page" => {
                    page = v.parse().map_err(|_| {
                        ApiError::invalid("invalid_parameter", format!("Invalid page index: {v}"))
                    })?
                }
                "sort" => sort = v.to_string(),
                "filter" => filter = parse_filter(&v)?,
                _ => {}
            }
        }
        let (field, dir) = sort.split_once(':').unwrap_or((sort.as_str(), "asc"));
        let descending = match dir.to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            _ => {
                return Err(ApiError::invalid(
                    "invalid_sort",
                    format!("Invalid sort direction: {dir}"),
                ))
            }
        };
        if !sortable.contains(&field) {
            return Err(ApiError::invalid(
                "invalid_sort",
                format!(
                    "Sorting by {field} is not supported; use one of {}",
                    sortable.join(", ")
                ),
            ));
        }
        Ok(Self {
            size,
            page,
            sort_field: field.to_string(),
            descending,
            filter,
        })
    }

    /// Filters, sorts and cuts one page out of `items` (`(insertion order, item)`), and
    /// wraps it in the envelope under `_embedded.<embedded>`.
    pub fn page(
        &self,
        mut items: Vec<(u64, Value)>,
        embedded: &str,
        self_href: Option<String>,
    ) -> Value {
        items.retain(|(_, v)| self.matches(v));
        items.sort_by(|(sa, a), (sb, b)| {
            let ord = cmp_values(
                lookup(a, std::slice::from_ref(&self.sort_field)),
                lookup(b, std::slice::from_ref(&self.sort_field)),
            )
            .then(sa.cmp(sb));
            if self.descending {
                ord.reverse()
            } else {
                ord
            }
        });
        let total = items.len();
        let total_pages = total.div_ceil(self.size);
        let slice: Vec<Value> = items
            .into_iter()
            .skip(self.page.saturating_mul(self.size))
            .take(self.size)
            .map(|(_, v)| v)
            .collect();
        let mut body = json!({
            "_embedded": { embedded: slice },
            "page": {
                "size": self.size,
                "number": self.page,
                "totalElements": total,
                "totalPages": total_pages,
            }
        });
        if let Some(href) = self_href {
            body["_links"] = json!({"self": {"href": href}});
        }
        body
    }

    fn matches(&self, item: &Value) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        self.filter.iter().any(|all| {
            all.iter().all(|t| {
                let actual = match lookup(item, &t.path) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(v) => v.to_string(),
                };
                let hit = wildcard_eq(&t.value, &actual);
                hit != t.negate
            })
        })
    }
}

/// FIQL as 8x8 documents it: `,` is OR, `;` is AND (binding tighter), `==`/`!=`,
/// `*` wildcards. Parentheses are accepted and ignored, which is exact for the
/// documented examples.
fn parse_filter(raw: &str) -> Result<Vec<Vec<Term>>, ApiError> {
    let cleaned: String = raw.chars().filter(|c| *c != '(' && *c != ')').collect();
    let mut groups = Vec::new();
    for group in cleaned.split(',') {
        let mut terms = Vec::new();
        for term in group.split(';') {
            let term = term.trim();
            let (field, negate, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, false, v)
            } else {
                return Err(ApiError::invalid(
                    "invalid_filter",
                    format!("Invalid filter expression: {term}"),
                ));
            };
            if field.is_empty() {
                return Err(ApiError::invalid(
                    "invalid_filter",
                    format!("Invalid filter expression: {term}"),
                ));
            }
            terms.push(Term {
                path: field.split('.').map(str::to_string).collect(),
                negate,
                value: value.trim_matches(|c| c == '"' || c == '\'').to_string(),
            });
        }
        groups.push(terms);
    }
    Ok(groups)
}

fn wildcard_eq(pattern: &str, actual: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == actual;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = actual;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(part) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    Some(cur)
}

/// Ids such as "2" and "10" sort numerically when both are numbers.
fn cmp_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => {
            match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(nx), Ok(ny)) => nx.cmp(&ny),
                _ => x.cmp(y),
            }
        }
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<(u64, Value)> {
        (1..=25)
            .map(|i| (i, json!({"id": i.to_string(), "name": format!("n{}", i % 3), "routingOptions": {"id": "101"}})))
            .collect()
    }

    #[test]
    fn pages_and_sorts() {
        let q = ListQuery::parse(Some("size=10&page=2&sort=id:desc"), "id:asc", &["id"]).unwrap();
        let body = q.page(items(), "things", Some("/x".into()));
        let ids: Vec<_> = body["_embedded"]["things"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, vec!["5", "4", "3", "2", "1"]);
        assert_eq!(body["page"]["totalPages"], 3);
        assert_eq!(body["page"]["totalElements"], 25);
    }

    #[test]
    fn filters_fiql() {
        let q = ListQuery::parse(Some("filter=name==n1;id==1,(id==2)"), "id:asc", &["id"]).unwrap();
        let body = q.page(items(), "things", None);
        let ids: Vec<_> = body["_embedded"]["things"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, vec!["1", "2"]);
        assert!(body.get("_links").is_none());
    }

    #[test]
    fn rejects_bad_queries() {
        assert!(ListQuery::parse(Some("size=0"), "id:asc", &["id"]).is_err());
        assert!(ListQuery::parse(Some("size=abc"), "id:asc", &["id"]).is_err());
        assert!(ListQuery::parse(Some("sort=name:asc"), "id:asc", &["id"]).is_err());
        assert!(ListQuery::parse(Some("sort=id:up"), "id:asc", &["id"]).is_err());
        assert!(ListQuery::parse(Some("filter=garbage"), "id:asc", &["id"]).is_err());
    }
}
