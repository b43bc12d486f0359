//! Hash chaining of events.
//!
//! An event's `chain.hash` is the SHA-256 (or, with a [`ChainKey`], the HMAC-SHA-256) of the
//! event's *canonical JSON* with `chain.hash` left out: object keys sorted by their UTF-8
//! bytes, no insignificant white space, strings and numbers as serde_json writes them. Because
//! `chain.prev` (the previous event's hash) and `chain.seq` are inside what is hashed, editing,
//! removing, inserting or reordering an event breaks a link that [`verify`](super::verify)
//! finds. The canonical form does not depend on how a JSON library orders keys, so a log
//! written by one build verifies under another.
//!
//! A plain hash chain shows accidental damage and edits by anyone who cannot rewrite every
//! later event; a keyed chain (the key held by the host, not beside the log) also defeats an
//! attacker who rewrites the whole tail.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::AuditEvent;

/// `chain.prev` of the first event of a chain.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// A secret that turns the chain's hashes into HMACs (`hmac-sha256:…`).
#[derive(Clone)]
pub struct ChainKey(Vec<u8>);

impl ChainKey {
    /// A key from secret bytes; at least 32 bytes.
    ///
    /// # Errors
    /// The key is shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<ChainKey, String> {
        if secret.len() < 32 {
            return Err(format!(
                "an audit chain key needs at least 32 bytes, this one has {}",
                secret.len()
            ));
        }
        Ok(ChainKey(secret.to_vec()))
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

/// The hash of `event` as it would stand in `chain.hash` (that field itself is ignored).
pub(crate) fn event_hash(event: &AuditEvent, key: Option<&ChainKey>) -> Result<String, String> {
    let value = serde_json::to_value(event).map_err(|e| e.to_string())?;
    value_hash(value, key)
}

/// The hash of an event given as a JSON value (as read back from a log line).
pub(crate) fn value_hash(mut value: Value, key: Option<&ChainKey>) -> Result<String, String> {
    if let Some(chain) = value.get_mut("chain").and_then(Value::as_object_mut) {
        chain.remove("hash");
    }
    let mut text = String::new();
    canonical(&value, &mut text)?;
    Ok(match key {
        None => format!("sha256:{}", crate::hex(&Sha256::digest(text.as_bytes()))),
        Some(ChainKey(secret)) => {
            let mut mac =
                <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|e| e.to_string())?;
            mac.update(text.as_bytes());
            format!("hmac-sha256:{}", crate::hex(&mac.finalize().into_bytes()))
        }
    })
}

/// Canonical JSON: sorted keys, no white space.
fn canonical(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).map_err(|e| e.to_string())?);
                out.push(':');
                if let Some(v) = map.get(k) {
                    canonical(v, out)?;
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out)?;
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).map_err(|e| e.to_string())?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":0,"y":"é"}],"c":null}}"#).unwrap();
        let mut out = String::new();
        canonical(&a, &mut out).unwrap();
        assert_eq!(out, r#"{"a":{"c":null,"d":[1,{"y":"é","z":0}]},"b":1}"#);
    }

    #[test]
    fn hash_ignores_the_hash_field_and_keys_change_it() {
        let v: Value = serde_json::from_str(r#"{"x":1,"chain":{"seq":0,"prev":"p"}}"#).unwrap();
        let mut with_hash = v.clone();
        with_hash["chain"]["hash"] = Value::from("whatever");
        assert_eq!(value_hash(v.clone(), None), value_hash(with_hash, None));
        let key = ChainKey::new(&[7; 32]).unwrap();
        let keyed = value_hash(v.clone(), Some(&key)).unwrap();
        assert!(keyed.starts_with("hmac-sha256:"));
        assert_ne!(keyed, value_hash(v, None).unwrap());
        assert!(ChainKey::new(&[1; 16]).is_err());
    }
}
