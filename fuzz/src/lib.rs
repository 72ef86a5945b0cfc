//! What the fuzz targets share: a fuzz input read as one webhook request ([`request`]),
//! and the fixed RSA key that stands in for 8x8's signing key ([`test_key`]).

pub mod request;
pub mod test_key;

/// A fixed "now" for the freshness check, so that a crash replays the same way tomorrow.
pub const NOW_MS: i64 = 1_750_000_000_000;
