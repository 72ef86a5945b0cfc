//! A fuzz input read as the request the endpoint listener hands the receiver: header
//! lines (`name: value`), an empty line, then the body. Seeds are real deliveries written
//! this way, so they stay readable and a mutation of a header is a mutation of a line.

use http::{HeaderMap, HeaderName, HeaderValue};

pub struct Request<'a> {
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

/// Lines that are not `name: value` with a valid name and value are skipped, as hyper
/// would have refused the request before the receiver saw it. Values lose surrounding
/// spaces and tabs, as HTTP/1.1 parsing does.
pub fn read(data: &[u8]) -> Request<'_> {
    let (head, body) = split(data);
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let value = trim(&line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    Request { headers, body }
}

/// Writes headers and body in the form [`read`] takes (for seeds).
pub fn write<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    for (i, w) in data.windows(2).enumerate() {
        if w == b"\n\n" {
            return (&data[..i], &data[i + 2..]);
        }
        if w == b"\n\r" && data.get(i + 2) == Some(&b'\n') {
            return (&data[..i], &data[i + 3..]);
        }
    }
    (data, &[])
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_then_body() {
        let r = read(
            b"Content-Type:  application/json \r\nx-8x8-retry: 1\nbad line\n\n{\"a\":1}\n\nrest",
        );
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["x-8x8-retry"], "1");
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.body, b"{\"a\":1}\n\nrest");
        let w = write([("a", "1"), ("b", "2")], b"body");
        let r = read(&w);
        assert_eq!((r.headers.len(), r.body), (2, &b"body"[..]));
        assert_eq!(read(b"a: 1").body, b"");
    }
}
