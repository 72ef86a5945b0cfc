//! Signature verification (chat-gateway.md §7.4): header parsing, the freshness check, the
//! rebuilt signed payload with its CRC-32, the detached JWS and RS256 with a fixed test
//! key. Arbitrary headers, body and signature must never panic and never verify unless
//! authentic; a genuine signature over the same headers and body must verify, and must
//! stop verifying once anything it covers changes.

#![no_main]

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chat_gateway_client::webhook::signature::{
    self, key_from_jwk, parse_signature, signed_payload, verify, ChecksumVariant, DeliveryHeaders,
    ParsedSignature, PublicKey, DEFAULT_FRESHNESS_WINDOW_MS,
};
use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::{request, test_key, NOW_MS};

/// 8x8's protected header, for inputs whose own header is not one a receiver accepts.
const PROTECTED: &str = r#"{"b64":false,"crit":["b64"],"kid":"fuzz","alg":"RS256"}"#;

fuzz_target!(|data: &[u8]| {
    let key = test_key::get();
    let public = key_from_jwk(&key.jwk, "fuzz").expect("the test key is a valid JWK");
    let req = request::read(data);

    // A JWK endpoint's answer is not trusted either.
    if let Ok(jwk) = serde_json::from_slice(req.body) {
        let _ = key_from_jwk(&jwk, "fuzz");
    }

    let h = match DeliveryHeaders::from_headers(&req.headers) {
        Ok(h) => h,
        Err(_) => {
            if let Some(Ok(value)) = req.headers.get(signature::SIGNATURE).map(|v| v.to_str()) {
                let _ = parse_signature(value);
            }
            return;
        }
    };
    let _ = h.check_fresh(NOW_MS, DEFAULT_FRESHNESS_WINDOW_MS);

    // The input's own signature: whatever it is, it verifies only if it is the key's.
    let own = parse_signature(&h.signature).ok();
    if let Some(sig) = &own {
        if let Ok(variant) = verify(&public, req.body, &h, sig) {
            assert_authentic(
                sig,
                &payload(req.body, &h, variant),
                "the input's signature",
            );
        }
    }

    // A genuine signature over these headers and this body, with the input's protected
    // header when a receiver accepts it (8x8 may order its keys any way).
    let protected_b64 = own.as_ref().map_or_else(
        || URL_SAFE_NO_PAD.encode(PROTECTED),
        |s| s.protected_b64.clone(),
    );
    let genuine_payload = signed_payload(req.body, &h);
    check_payload(&genuine_payload, req.body, &h);
    let genuine = parse_signature(&key.jws(&protected_b64, &genuine_payload))
        .expect("a genuine signature parses");
    assert_eq!(
        verify(&public, req.body, &h, &genuine),
        Ok(ChecksumVariant::Unsigned),
        "a genuine delivery was refused"
    );
    if (crc32fast_hash(req.body) as i32) < 0 {
        let signed_int = payload(req.body, &h, ChecksumVariant::SignedInt);
        let sig = parse_signature(&key.jws(&protected_b64, &signed_int)).unwrap();
        assert_eq!(
            verify(&public, req.body, &h, &sig),
            Ok(ChecksumVariant::SignedInt),
            "a signed-int CRC from 8x8's JS sample (P14) was refused"
        );
    }

    // Tampering: each change verifies only if it leaves the signed payload as it was.
    let mut changed = Vec::new();
    let mut body = req.body.to_vec();
    match body.last_mut() {
        Some(last) => *last ^= 1,
        None => body.push(b' '),
    }
    changed.push((body, h.clone()));
    let mut retry = h.clone();
    retry.retry = h.retry.wrapping_add(1);
    changed.push((req.body.to_vec(), retry));
    let mut eid = h.clone();
    eid.event_id.push('x');
    changed.push((req.body.to_vec(), eid));
    let mut swapped = h.clone();
    std::mem::swap(&mut swapped.tenant_id, &mut swapped.customer_id);
    changed.push((req.body.to_vec(), swapped));
    let mut later = h.clone();
    later.transmission_time = h.transmission_time.wrapping_add(1);
    changed.push((req.body.to_vec(), later));
    for (body, headers) in &changed {
        let same = signed_payload(body, headers) == genuine_payload;
        assert_eq!(
            verify(&public, body, headers, &genuine).is_ok(),
            same,
            "a changed delivery was judged wrongly: {headers:?}"
        );
    }
    let mut flipped = genuine.clone();
    let at = data.len() % flipped.signature.len();
    flipped.signature[at] ^= 0x80;
    assert!(
        verify(&public, req.body, &h, &flipped).is_err(),
        "a flipped signature bit verified"
    );
    check_with_key(&public, req.body, &h, &genuine);
});

/// The rebuilt payload is compact JSON with the six values, and what the emulator (an
/// implementation of its own) signs for the same delivery.
fn check_payload(payload: &str, body: &[u8], h: &DeliveryHeaders) {
    let crc = crc32fast_hash(body);
    assert!(
        payload.starts_with(&format!("{{\"checksum\":{crc},\"cid\":")),
        "{payload}"
    );
    let v: serde_json::Value = serde_json::from_str(payload).expect("the payload is JSON");
    assert_eq!(v["cid"], h.customer_id.as_str());
    assert_eq!(v["eid"], h.event_id.as_str());
    assert_eq!(v["tid"], h.tenant_id.as_str());
    assert_eq!(v["retry"], h.retry);
    assert_eq!(v["tt"], h.transmission_time);
    assert_eq!(v.as_object().map(|o| o.len()), Some(6));
    if let (Ok(retry), Ok(tt)) = (u32::try_from(h.retry), u64::try_from(h.transmission_time)) {
        let sim = chat_gateway_sim::signing::signed_payload(
            body,
            &h.customer_id,
            &h.event_id,
            retry,
            &h.tenant_id,
            tt,
        );
        assert_eq!(
            payload, sim,
            "the relay and the emulator sign different payloads"
        );
    }
}

/// The signed payload for a checksum convention.
fn payload(body: &[u8], h: &DeliveryHeaders, variant: ChecksumVariant) -> String {
    let unsigned = signed_payload(body, h);
    match variant {
        ChecksumVariant::Unsigned => unsigned,
        ChecksumVariant::SignedInt => {
            let crc = crc32fast_hash(body);
            unsigned.replacen(
                &format!("\"checksum\":{crc}"),
                &format!("\"checksum\":{}", crc as i32),
                1,
            )
        }
    }
}

/// The oracle: RS256 with PKCS#1 v1.5 is deterministic, so an authentic signature is the
/// one the key makes of exactly this signing input.
fn assert_authentic(sig: &ParsedSignature, payload: &str, what: &str) {
    let input = format!("{}.{payload}", sig.protected_b64);
    assert!(
        sig.signature == test_key::get().sign(input.as_bytes()),
        "{what} verified but is not the key's signature of the rebuilt payload"
    );
}

/// Another key never verifies what the test key signed.
fn check_with_key(public: &PublicKey, body: &[u8], h: &DeliveryHeaders, genuine: &ParsedSignature) {
    let mut other = test_key::get().jwk.clone();
    let n = URL_SAFE_NO_PAD
        .decode(other["n"].as_str().unwrap())
        .unwrap();
    let mut n2 = n.clone();
    *n2.last_mut().unwrap() ^= 2;
    other["n"] = URL_SAFE_NO_PAD.encode(&n2).into();
    let wrong = key_from_jwk(&other, "other").expect("still an RSA key");
    assert_ne!(&wrong, public);
    assert!(
        verify(&wrong, body, h, genuine).is_err(),
        "another key verified"
    );
}

/// CRC-32 (IEEE) of the body, computed here rather than taken from the code under test.
fn crc32fast_hash(body: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in body {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
