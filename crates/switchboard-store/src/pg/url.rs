//! The database URL as configuration gives it, shown only with its password hidden: an
//! operator's logs, error messages and `Debug` output never carry the secret.

use std::fmt;

/// A PostgreSQL connection string (`postgres://user:password@host:port/db?…` or the
/// `key=value` form); `Display` and `Debug` print it with the password as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its password, for the driver only.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }

    /// The URL with its password (if any) replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_key_values(url);
    };
    // The driver reads the user information up to the first `@` (a password holding one
    // must be percent-encoded), so that is what is hidden here.
    match rest.split_once('@') {
        Some((userinfo, after)) => {
            let user = match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***"),
                None => userinfo.to_string(),
            };
            format!("{scheme}://{user}@{}", redact_query(after))
        }
        None => format!("{scheme}://{}", redact_query(rest)),
    }
}

/// `?password=…` in a URL's query.
fn redact_query(tail: &str) -> String {
    match tail.split_once('?') {
        Some((path, query)) => {
            let parts: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", parts.join("&"))
        }
        None => tail.to_string(),
    }
}

/// `password=…` (or `password='… …'`) in the `key=value` form.
fn redact_key_values(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("password") {
        let (before, from) = rest.split_at(pos);
        out.push_str(before);
        let after_key = from["password".len()..].trim_start();
        let Some(value) = after_key.strip_prefix('=') else {
            out.push_str("password");
            rest = &from["password".len()..];
            continue;
        };
        let value = value.trim_start();
        let end = if let Some(quoted) = value.strip_prefix('\'') {
            // A quoted value ends at the next unescaped quote.
            let mut i = 0;
            let bytes = quoted.as_bytes();
            while i < bytes.len() && bytes[i] != b'\'' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            1 + (i + 1).min(quoted.len())
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        out.push_str("password=***");
        rest = &value[end.min(value.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let cases = [
            (
                "postgres://relay:s3cr3t@db.example:5432/switchboard",
                "postgres://relay:***@db.example:5432/switchboard",
            ),
            (
                "postgresql://relay:p/ss?w:rd@db:5432/sb?sslmode=require",
                "postgresql://relay:***@db:5432/sb?sslmode=require",
            ),
            (
                "postgres://relay@db/sb?password=s3cr3t&application_name=x",
                "postgres://relay@db/sb?password=***&application_name=x",
            ),
            ("postgres://db/sb", "postgres://db/sb"),
            (
                "host=db user=relay password=s3cr3t dbname=sb",
                "host=db user=relay password=*** dbname=sb",
            ),
            (
                "host=db password = 'a b\\' c' dbname=sb",
                "host=db password=*** dbname=sb",
            ),
        ];
        for (url, shown) in cases {
            let url = DatabaseUrl::new(url);
            assert_eq!(url.to_string(), shown);
            let debug = format!("{url:?}");
            assert!(
                !debug.contains("s3cr3t") && !debug.contains("ss?w"),
                "{debug}"
            );
        }
    }
}
