//! Random tokens for the Endpoint URL and the admin listener, compared in constant time
//! so that response timing does not leak how much of a guess was right.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use subtle::ConstantTimeEq;

/// 32 random bytes (256 bits) as base64url: unguessable, URL-safe, 43 characters.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn matches(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// Whether a stored token is strong enough to keep (≥ 128 bits of base64url).
pub fn is_strong(token: &str) -> bool {
    token.len() >= 22
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_strong_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(is_strong(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn matching_is_exact() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abd"));
        assert!(!matches("abc", "ab"));
        assert!(!matches("abc", ""));
    }

    #[test]
    fn weak_tokens_are_refused() {
        assert!(!is_strong("short"));
        assert!(!is_strong("has spaces has spaces has spaces"));
    }
}
