//! The key the signature target signs with: a fixed 2048-bit RSA test key (it signs
//! nothing real), so that a saved crash replays against the same key. RS256 with
//! PKCS#1 v1.5 padding is deterministic, which makes it an oracle: a delivery is
//! authentic exactly when its signature equals what this key makes of the signing input.

use std::sync::OnceLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ring::{
    rand::SystemRandom,
    signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256},
};

const PKCS8: &[u8] = include_bytes!("../keys/test-rsa-2048.pk8");

pub struct TestKey {
    pair: RsaKeyPair,
    rng: SystemRandom,
    /// The public key as 8x8's JWK endpoint would serve it.
    pub jwk: serde_json::Value,
}

pub fn get() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pair = RsaKeyPair::from_pkcs8(PKCS8).expect("the committed test key is PKCS#8 RSA");
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let jwk = serde_json::json!({
            "kty": "RSA",
            "kid": "fuzz",
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        TestKey {
            pair,
            rng: SystemRandom::new(),
            jwk,
        }
    })
}

impl TestKey {
    /// RS256 over `input`: the one signature that makes it authentic.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        let mut sig = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, input, &mut sig)
            .expect("signing with the test key works");
        sig
    }

    /// The detached compact JWS 8x8 would send for `payload`, with `protected_b64` as its
    /// header segment.
    pub fn jws(&self, protected_b64: &str, payload: &str) -> String {
        let input = format!("{protected_b64}.{payload}");
        let sig = self.sign(input.as_bytes());
        format!("{protected_b64}..{}", URL_SAFE_NO_PAD.encode(sig))
    }
}
