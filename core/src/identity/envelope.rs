//! The compact signed segment shared by grants and approvals:
//! `base64url(JSON payload) "." base64url(signature)`, no padding.
//!
//! The signature covers a domain string, a `.`, and the base64url payload exactly as it
//! travels, so a grant link can never be replayed as an approval (or the reverse) and no
//! re-encoding of the JSON can keep a signature valid. The payload names the key id (`kid`) that
//! signed it; the key alone decides the algorithm.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::{KeyRing, SigningKey};

/// Why a segment could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SealError {
    /// Not `payload.signature`, not base64url, not the expected JSON.
    Malformed(String),
    /// The payload names a key the verifier does not hold.
    UnknownKey(String),
    /// The signature does not verify with the named key.
    BadSignature,
}

/// Base64url without padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decode base64url without padding.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

fn signed_input(domain: &str, payload_b64: &str) -> Vec<u8> {
    let mut input = Vec::with_capacity(domain.len() + 1 + payload_b64.len());
    input.extend_from_slice(domain.as_bytes());
    input.push(b'.');
    input.extend_from_slice(payload_b64.as_bytes());
    input
}

/// Sign `payload` (a JSON value whose `kid` is `key`'s) into a segment.
pub(crate) fn seal(domain: &str, payload: &serde_json::Value, key: &SigningKey) -> String {
    // Serializing a `Value` cannot fail.
    let json = serde_json::to_vec(payload).unwrap_or_default();
    let payload_b64 = b64(&json);
    let signature = key.sign(&signed_input(domain, &payload_b64));
    format!("{payload_b64}.{}", b64(&signature))
}

/// Read a segment's payload without checking its signature (for inspection).
pub(crate) fn peek<T: DeserializeOwned>(segment: &str) -> Result<T, SealError> {
    let (payload_b64, _) = split(segment)?;
    decode_payload(payload_b64)
}

/// Check a segment's signature with the key its payload names, then read the payload.
pub(crate) fn open<T: DeserializeOwned>(
    domain: &str,
    segment: &str,
    keys: &KeyRing,
) -> Result<T, SealError> {
    let (payload_b64, signature_b64) = split(segment)?;
    let raw: serde_json::Value = decode_payload(payload_b64)?;
    let kid = raw
        .get("kid")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| SealError::Malformed("the payload names no `kid`".into()))?;
    let key = keys.get(kid).ok_or_else(|| SealError::UnknownKey(kid.to_owned()))?;
    let signature = unb64(signature_b64)
        .ok_or_else(|| SealError::Malformed("the signature is not base64url".into()))?;
    if !key.verify(&signed_input(domain, payload_b64), &signature) {
        return Err(SealError::BadSignature);
    }
    serde_json::from_value(raw).map_err(|e| SealError::Malformed(e.to_string()))
}

fn split(segment: &str) -> Result<(&str, &str), SealError> {
    let mut parts = segment.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(payload), Some(signature), None) if !payload.is_empty() => Ok((payload, signature)),
        _ => Err(SealError::Malformed("expected `payload.signature`".into())),
    }
}

fn decode_payload<T: DeserializeOwned>(payload_b64: &str) -> Result<T, SealError> {
    let json = unb64(payload_b64)
        .ok_or_else(|| SealError::Malformed("the payload is not base64url".into()))?;
    serde_json::from_slice(&json).map_err(|e| SealError::Malformed(e.to_string()))
}

/// `value` as JSON with every `null` member removed (absent optional fields): keeps tokens
/// short. Deserialization reads a missing member as `None` again.
pub(crate) fn compact_json<T: Serialize>(value: &T) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    strip(&mut json);
    json
}
