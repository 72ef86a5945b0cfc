//! How 8x8 signs webhook deliveries (chat-gateway.md §7): a detached, unencoded-payload (RFC 7797,
//! `b64:false`) RS256 JWS over a compact JSON object holding the unsigned CRC-32 of the
//! raw body and the other `x-8x8-*` header values.
//!
//! Public so other crates' tests can produce deliveries a real receiver must accept (or
//! reject), and can check deliveries with [`verify_delivery`].

use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::clock::random_id;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot generate an RSA key: {0}")]
    KeyGen(#[from] rsa::Error),
    #[error("header {0} is missing or not valid")]
    Header(&'static str),
    #[error("the signature is not a detached compact JWS")]
    Format,
    #[error("the protected header is not RS256 with b64:false and crit [\"b64\"]")]
    ProtectedHeader,
    #[error("the JWK is not an RSA public key")]
    Jwk,
    #[error("the signature does not verify")]
    Mismatch,
}

/// The six `x-8x8-*` delivery headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryHeaders {
    pub tenant_id: String,
    pub customer_id: String,
    pub event_id: String,
    pub transmission_time: u64,
    pub retry: u32,
    pub signature: String,
}

impl DeliveryHeaders {
    /// Header name/value pairs, in 8x8's spelling.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-8x8-tenant-id", self.tenant_id.clone()),
            ("x-8x8-customer-id", self.customer_id.clone()),
            ("x-8x8-event-id", self.event_id.clone()),
            (
                "x-8x8-transmission-time",
                self.transmission_time.to_string(),
            ),
            ("x-8x8-retry", self.retry.to_string()),
            ("x-8x8-signature", self.signature.clone()),
        ]
    }
}

/// CRC-32 (IEEE) of the raw body bytes, unsigned (P14).
pub fn checksum(body: &[u8]) -> u32 {
    crc32fast::hash(body)
}

/// The signed payload of §7.3: six keys in lexicographic order, compact.
pub fn signed_payload(body: &[u8], cid: &str, eid: &str, retry: u32, tid: &str, tt: u64) -> String {
    // Built by hand, not with a map, because the key order and compactness are the contract.
    format!(
        "{{\"checksum\":{},\"cid\":{},\"eid\":{},\"retry\":{},\"tid\":{},\"tt\":{}}}",
        checksum(body),
        Value::from(cid),
        Value::from(eid),
        retry,
        Value::from(tid),
        tt
    )
}

struct KeyEntry {
    kid: String,
    key: RsaPrivateKey,
}

/// The emulator's signing keys. The newest signs; older ones stay published so
/// deliveries signed before a rotation still verify.
pub struct Keyring {
    keys: RwLock<Vec<KeyEntry>>,
    bits: usize,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current_kid())
            .finish()
    }
}

impl Keyring {
    /// A keyring with one fresh 2048-bit key.
    pub fn generate() -> Result<Self, SigningError> {
        Self::with_bits(2048)
    }

    /// Smaller keys make test start-up faster; 8x8 uses 2048.
    pub fn with_bits(bits: usize) -> Result<Self, SigningError> {
        let ring = Self {
            keys: RwLock::new(Vec::new()),
            bits,
        };
        ring.rotate()?;
        Ok(ring)
    }

    /// A keyring whose signing key is `key` under `kid` (a key kept between starts,
    /// `crate::key_file`).
    pub(crate) fn from_key(kid: String, key: RsaPrivateKey) -> Self {
        Self {
            bits: key.size() * 8,
            keys: RwLock::new(vec![KeyEntry { kid, key }]),
        }
    }

    /// The signing key and its `kid`.
    pub(crate) fn current(&self) -> (String, RsaPrivateKey) {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let entry = keys.last().expect("a keyring always holds a key");
        (entry.kid.clone(), entry.key.clone())
    }

    /// Adds a new key and makes it the signing key; returns its `kid`.
    pub fn rotate(&self) -> Result<String, SigningError> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), self.bits)?;
        let kid = random_id(16);
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(KeyEntry {
                kid: kid.clone(),
                key,
            });
        Ok(kid)
    }

    pub fn current_kid(&self) -> String {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .map(|k| k.kid.clone())
            .unwrap_or_default()
    }

    /// The public JWK for `kid`, as `GET /jwk/{kid}/public` serves it.
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .find(|k| k.kid == kid)
            .map(|k| public_jwk(&k.kid, &k.key.to_public_key()))
    }

    /// A detached compact JWS (`protected..signature`) over `payload` with the current key.
    pub fn sign(&self, payload: &[u8]) -> String {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let entry = keys.last().expect("a keyring always holds a key");
        let protected = URL_SAFE_NO_PAD.encode(
            json!({"b64": false, "crit": ["b64"], "kid": entry.kid, "alg": "RS256"}).to_string(),
        );
        let mut input = protected.clone().into_bytes();
        input.push(b'.');
        input.extend_from_slice(payload);
        let signer = SigningKey::<Sha256>::new(entry.key.clone());
        let sig = signer.sign(&input);
        format!("{protected}..{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// Signs one delivery attempt of `body`.
    pub fn sign_delivery(
        &self,
        body: &[u8],
        tenant_id: &str,
        customer_id: &str,
        event_id: &str,
        retry: u32,
        transmission_time: u64,
    ) -> DeliveryHeaders {
        let payload = signed_payload(
            body,
            customer_id,
            event_id,
            retry,
            tenant_id,
            transmission_time,
        );
        DeliveryHeaders {
            tenant_id: tenant_id.into(),
            customer_id: customer_id.into(),
            event_id: event_id.into(),
            transmission_time,
            retry,
            signature: self.sign(payload.as_bytes()),
        }
    }
}

fn public_jwk(kid: &str, key: &RsaPublicKey) -> Value {
    json!({
        "kty": "RSA",
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
    })
}

/// The `kid` named in a signature's protected header.
pub fn signature_kid(signature: &str) -> Option<String> {
    let protected = signature.split('.').next()?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).ok()?).ok()?;
    header.get("kid")?.as_str().map(str::to_string)
}

/// Verifies a delivery the way a receiver must (§7.4), given the JWK for its `kid` and a
/// header lookup (case-insensitive names are the caller's business).
pub fn verify_delivery(
    jwk: &Value,
    body: &[u8],
    header: impl Fn(&str) -> Option<String>,
) -> Result<(), SigningError> {
    let get = |name: &'static str| header(name).ok_or(SigningError::Header(name));
    let tid = get("x-8x8-tenant-id")?;
    let cid = get("x-8x8-customer-id")?;
    let eid = get("x-8x8-event-id")?;
    let tt: u64 = get("x-8x8-transmission-time")?
        .parse()
        .map_err(|_| SigningError::Header("x-8x8-transmission-time"))?;
    let retry: u32 = get("x-8x8-retry")?
        .parse()
        .map_err(|_| SigningError::Header("x-8x8-retry"))?;
    let signature = get("x-8x8-signature")?;
    let parts: Vec<&str> = signature.split('.').collect();
    if parts.len() != 3 || !parts[1].is_empty() {
        return Err(SigningError::Format);
    }
    let header_json: Value = URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(SigningError::Format)?;
    let crit_b64 = header_json["crit"]
        .as_array()
        .is_some_and(|c| c.iter().any(|x| x == "b64"));
    if header_json["alg"] != "RS256" || header_json["b64"] != false || !crit_b64 {
        return Err(SigningError::ProtectedHeader);
    }
    let decode = |field: &str| -> Result<BigUint, SigningError> {
        let s = jwk
            .get(field)
            .and_then(Value::as_str)
            .ok_or(SigningError::Jwk)?;
        Ok(BigUint::from_bytes_be(
            &URL_SAFE_NO_PAD.decode(s).map_err(|_| SigningError::Jwk)?,
        ))
    };
    let public = RsaPublicKey::new(decode("n")?, decode("e")?).map_err(|_| SigningError::Jwk)?;
    let sig_bytes = URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|_| SigningError::Format)?;
    let sig = Signature::try_from(sig_bytes.as_slice()).map_err(|_| SigningError::Format)?;
    let mut input = parts[0].as_bytes().to_vec();
    input.push(b'.');
    input.extend_from_slice(signed_payload(body, &cid, &eid, retry, &tid, tt).as_bytes());
    VerifyingKey::<Sha256>::new(public)
        .verify(&input, &sig)
        .map_err(|_| SigningError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_crc_vectors_are_unsigned() {
        let docs = br#"{"eventType":"AGENT_JOINED","messageType":"SYSTEM","conversationId":"Aka5NMHU8MtIG7lUQOxI0DTOvM4","agentId":"cmalutan","agentName":"Cosmin,Malutan","timestamp":1629804577002}"#;
        assert_eq!(checksum(docs), 1_564_621_066);
        assert_eq!(
            checksum(
                br#"{"eventType":"TRANSFER","conversationId":"ID-0","timestamp":1713100000000}"#
            ),
            1_541_893_965
        );
        assert_eq!(
            checksum(br#"{"eventType":"QUEUED","conversationId":"ID-0","timestamp":1713100000000,"data":{"queueId":"101","queueName":"Support"}}"#),
            2_376_510_258
        );
        assert_eq!(
            checksum(
                br#"{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}"#
            ),
            4_205_147_136
        );
    }

    #[test]
    fn payload_matches_the_docs_sample() {
        let docs = br#"{"eventType":"AGENT_JOINED","messageType":"SYSTEM","conversationId":"Aka5NMHU8MtIG7lUQOxI0DTOvM4","agentId":"cmalutan","agentName":"Cosmin,Malutan","timestamp":1629804577002}"#;
        assert_eq!(
            signed_payload(
                docs,
                "vccC8ProdChecksUS",
                "g4nqGuj8TpCa6tiZ3DeeNw",
                0,
                "vccC8ProdChecksUS",
                1_629_804_577_296
            ),
            r#"{"checksum":1564621066,"cid":"vccC8ProdChecksUS","eid":"g4nqGuj8TpCa6tiZ3DeeNw","retry":0,"tid":"vccC8ProdChecksUS","tt":1629804577296}"#
        );
    }

    #[test]
    fn signs_verifies_and_rotates() {
        let ring = Keyring::with_bits(1024).unwrap();
        let body = br#"{"eventType":"TRANSFER"}"#;
        let h = ring.sign_delivery(body, "t", "c", "e", 1, 42);
        let kid = signature_kid(&h.signature).unwrap();
        assert_eq!(kid, ring.current_kid());
        let jwk = ring.jwk(&kid).unwrap();
        let lookup = |pairs: Vec<(&'static str, String)>| {
            move |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
        };
        verify_delivery(&jwk, body, lookup(h.pairs())).unwrap();
        // Any change to the body or a header breaks it.
        assert!(verify_delivery(&jwk, b"{}", lookup(h.pairs())).is_err());
        let mut retried = h.clone();
        retried.retry = 2;
        assert!(verify_delivery(&jwk, body, lookup(retried.pairs())).is_err());
        let new_kid = ring.rotate().unwrap();
        assert_ne!(new_kid, kid);
        assert!(ring.jwk(&kid).is_some(), "old keys stay published");
        assert!(verify_delivery(&ring.jwk(&new_kid).unwrap(), body, lookup(h.pairs())).is_err());
    }
}
