//! Host key material: the keys that sign and verify grants and approvals, the shared secrets
//! of `HS256` issuers, and the [`Trust`] that carries them into a check.
//!
//! # Decisions
//! - Two kinds of key: Ed25519 (`ed25519-dalek`) and HMAC-SHA-256 (`hmac`). Ed25519 lets the
//!   party that verifies (an engine in a proxy) hold only a public key; HMAC suits a single host
//!   that both mints and checks. An HMAC secret is at least 32 bytes.
//! - Every key has a key id (`kid`), written into each signed payload, so keys can rotate: the
//!   verifier keeps the old and the new key in its [`KeyRing`] for as long as tokens signed with
//!   the old one may live.
//! - The key decides the algorithm: a payload never names its algorithm, so there is nothing an
//!   attacker can switch (no `alg` confusion by construction).
//! - Secrets are never printed: `Debug` shows the key id and kind only.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use hmac::{KeyInit as _, Mac as _};

/// The shortest HMAC secret accepted, in bytes.
pub const MIN_HMAC_SECRET: usize = 32;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key id is empty.
    #[error("key id is empty")]
    EmptyKid,
    /// An HMAC secret shorter than [`MIN_HMAC_SECRET`].
    #[error("hmac secret of key `{kid}` is {len} bytes; at least {MIN_HMAC_SECRET} are needed")]
    ShortSecret {
        /// The key id.
        kid: String,
        /// The secret's length.
        len: usize,
    },
    /// Bytes, PEM or JWK that do not hold a key of the expected kind.
    #[error("invalid key `{kid}`: {reason}")]
    Invalid {
        /// The key id (or `?` when the JWK names none).
        kid: String,
        /// What is wrong.
        reason: String,
    },
}

/// A key that signs grants or approvals. Held by the host, never by an agent.
#[derive(Clone)]
pub enum SigningKey {
    /// An Ed25519 private key.
    Ed25519 {
        /// Key id written into what it signs.
        kid: String,
        /// The key.
        key: ed25519_dalek::SigningKey,
    },
    /// An HMAC-SHA-256 secret.
    Hmac {
        /// Key id written into what it signs.
        kid: String,
        /// The secret.
        secret: Vec<u8>,
    },
}

/// A key that verifies grants or approvals.
#[derive(Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// An Ed25519 public key.
    Ed25519 {
        /// Key id.
        kid: String,
        /// The key.
        key: ed25519_dalek::VerifyingKey,
    },
    /// An HMAC-SHA-256 secret (the same one that signs).
    Hmac {
        /// Key id.
        kid: String,
        /// The secret.
        secret: Vec<u8>,
    },
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    if kid.trim().is_empty() { Err(KeyError::EmptyKid) } else { Ok(()) }
}

fn check_secret(kid: &str, secret: &[u8]) -> Result<(), KeyError> {
    check_kid(kid)?;
    if secret.len() < MIN_HMAC_SECRET {
        return Err(KeyError::ShortSecret { kid: kid.to_owned(), len: secret.len() });
    }
    Ok(())
}

fn invalid(kid: &str, reason: impl fmt::Display) -> KeyError {
    KeyError::Invalid { kid: kid.to_owned(), reason: reason.to_string() }
}

impl SigningKey {
    /// An Ed25519 key from its 32-byte seed (the private key bytes).
    ///
    /// # Errors
    /// [`KeyError::EmptyKid`].
    pub fn ed25519_from_seed(kid: impl Into<String>, seed: &[u8; 32]) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_kid(&kid)?;
        Ok(SigningKey::Ed25519 { kid, key: ed25519_dalek::SigningKey::from_bytes(seed) })
    }

    /// A fresh Ed25519 key from the operating system's random source.
    ///
    /// # Errors
    /// [`KeyError::EmptyKid`].
    pub fn ed25519_generate(kid: impl Into<String>) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        SigningKey::ed25519_from_seed(kid, &seed)
    }

    /// An Ed25519 key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey
    /// -algorithm ed25519` writes it.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when the PEM holds no Ed25519 private key.
    pub fn ed25519_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_kid(&kid)?;
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|e| invalid(&kid, e))?;
        Ok(SigningKey::Ed25519 { kid, key })
    }

    /// An HMAC-SHA-256 key.
    ///
    /// # Errors
    /// [`KeyError::ShortSecret`] under [`MIN_HMAC_SECRET`] bytes.
    pub fn hmac(kid: impl Into<String>, secret: &[u8]) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_secret(&kid, secret)?;
        Ok(SigningKey::Hmac { kid, secret: secret.to_vec() })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        match self {
            SigningKey::Ed25519 { kid, .. } | SigningKey::Hmac { kid, .. } => kid,
        }
    }

    /// The key that verifies what this one signs (for HMAC, the same secret).
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::Ed25519 { kid, key } => {
                VerifyingKey::Ed25519 { kid: kid.clone(), key: key.verifying_key() }
            }
            SigningKey::Hmac { kid, secret } => {
                VerifyingKey::Hmac { kid: kid.clone(), secret: secret.clone() }
            }
        }
    }

    /// Sign `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519 { key, .. } => key.sign(message).to_bytes().to_vec(),
            SigningKey::Hmac { secret, .. } => match HmacSha256::new_from_slice(secret) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.finalize().into_bytes().to_vec()
                }
                // HMAC takes keys of any length; an empty signature never verifies.
                Err(_) => Vec::new(),
            },
        }
    }
}

impl VerifyingKey {
    /// An Ed25519 public key from its 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when the bytes are not a valid point.
    pub fn ed25519_from_bytes(kid: impl Into<String>, bytes: &[u8]) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_kid(&kid)?;
        let bytes: &[u8; 32] =
            bytes.try_into().map_err(|_| invalid(&kid, "an ed25519 public key is 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|e| invalid(&kid, e))?;
        Ok(VerifyingKey::Ed25519 { kid, key })
    }

    /// An Ed25519 public key from an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when the PEM holds no Ed25519 public key.
    pub fn ed25519_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_kid(&kid)?;
        let key =
            ed25519_dalek::VerifyingKey::from_public_key_pem(pem).map_err(|e| invalid(&kid, e))?;
        Ok(VerifyingKey::Ed25519 { kid, key })
    }

    /// An HMAC-SHA-256 key.
    ///
    /// # Errors
    /// [`KeyError::ShortSecret`] under [`MIN_HMAC_SECRET`] bytes.
    pub fn hmac(kid: impl Into<String>, secret: &[u8]) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_secret(&kid, secret)?;
        Ok(VerifyingKey::Hmac { kid, secret: secret.to_vec() })
    }

    /// A key from one JWK: `{"kty":"OKP","crv":"Ed25519","kid":..,"x":..}` or
    /// `{"kty":"oct","kid":..,"k":..}` (HMAC). The JWK must name its `kid`.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] for anything else.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let value: serde_json::Value =
            serde_json::from_str(jwk).map_err(|e| invalid("?", format!("not json: {e}")))?;
        let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        let kid = field("kid").ok_or_else(|| invalid("?", "the jwk has no `kid`"))?;
        let bytes = |name: &str| {
            let text = field(name).ok_or_else(|| invalid(kid, format!("no `{name}`")))?;
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| invalid(kid, format!("`{name}` is not base64url")))
        };
        match (field("kty"), field("crv")) {
            (Some("OKP"), Some("Ed25519")) => VerifyingKey::ed25519_from_bytes(kid, &bytes("x")?),
            (Some("oct"), _) => VerifyingKey::hmac(kid, &bytes("k")?),
            (kty, crv) => Err(invalid(
                kid,
                format!(
                    "unsupported key type `{}`{}: use Ed25519 (`OKP`) or HMAC (`oct`)",
                    kty.unwrap_or("?"),
                    crv.map(|c| format!(" `{c}`")).unwrap_or_default()
                ),
            )),
        }
    }

    /// The public JWK of an Ed25519 key (`None` for HMAC: a secret is never exported).
    pub fn public_jwk(&self) -> Option<String> {
        match self {
            VerifyingKey::Ed25519 { kid, key } => Some(
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "use": "sig", "kid": kid,
                    "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
                })
                .to_string(),
            ),
            VerifyingKey::Hmac { .. } => None,
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        match self {
            VerifyingKey::Ed25519 { kid, .. } | VerifyingKey::Hmac { kid, .. } => kid,
        }
    }

    /// Whether `signature` is this key's signature of `message` (constant time for HMAC).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            VerifyingKey::Ed25519 { key, .. } => {
                let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify_strict(message, &signature).is_ok()
            }
            VerifyingKey::Hmac { secret, .. } => match HmacSha256::new_from_slice(secret) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.verify_slice(signature).is_ok()
                }
                Err(_) => false,
            },
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            SigningKey::Ed25519 { .. } => "ed25519",
            SigningKey::Hmac { .. } => "hmac-sha256",
        };
        write!(f, "SigningKey({kind}, kid {:?})", self.kid())
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            VerifyingKey::Ed25519 { .. } => "ed25519",
            VerifyingKey::Hmac { .. } => "hmac-sha256",
        };
        write!(f, "VerifyingKey({kind}, kid {:?})", self.kid())
    }
}

/// Verifying keys by key id.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<VerifyingKey>,
}

impl KeyRing {
    /// An empty ring: nothing verifies.
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Add a key, replacing one with the same key id.
    #[must_use]
    pub fn with(mut self, key: VerifyingKey) -> KeyRing {
        self.insert(key);
        self
    }

    /// Add a key, replacing one with the same key id.
    pub fn insert(&mut self, key: VerifyingKey) {
        self.keys.retain(|k| k.kid() != key.kid());
        self.keys.push(key);
    }

    /// The key with id `kid`.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    /// True when the ring holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// What the host trusts, beyond the policy: the keys that verify grants and approvals, and the
/// shared secrets of `HS256` token issuers (which a policy names by id but never holds).
///
/// Build it once when the host starts (or when keys rotate) and pass it to every check in a
/// [`Context`](crate::identity::Context). JWKS of token issuers are not here: they are part of
/// the policy (inline or a file beside it), so reloading the policy rotates them.
///
/// # Example
/// ```
/// use writ::identity::{SigningKey, Trust};
///
/// let grants = SigningKey::ed25519_from_seed("host-1", &[7; 32]).unwrap();
/// let trust = Trust::new()
///     .grant_key(grants.verifying_key())
///     .shared_secret("legacy-idp", b"0123456789abcdef0123456789abcdef");
/// # let _ = trust;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Keys that verify grant links.
    pub grant_keys: KeyRing,
    /// Keys that verify approval tokens.
    pub approval_keys: KeyRing,
    secrets: HashMap<String, Secret>,
}

impl Trust {
    /// Nothing trusted: tokens of public-key issuers still verify (their keys are in the
    /// policy); grants, approvals and `HS256` tokens do not.
    pub fn new() -> Trust {
        Trust::default()
    }

    /// Trust grants signed by `key`.
    #[must_use]
    pub fn grant_key(mut self, key: VerifyingKey) -> Trust {
        self.grant_keys.insert(key);
        self
    }

    /// Trust approvals signed by `key`.
    #[must_use]
    pub fn approval_key(mut self, key: VerifyingKey) -> Trust {
        self.approval_keys.insert(key);
        self
    }

    /// Supply the shared secret an `HS256` issuer names with `shared_secret: <id>`. The host
    /// reads it from wherever it keeps secrets (an environment variable, a vault).
    #[must_use]
    pub fn shared_secret(mut self, id: impl Into<String>, secret: &[u8]) -> Trust {
        self.secrets.insert(id.into(), Secret(secret.to_vec()));
        self
    }

    pub(crate) fn secret(&self, id: &str) -> Option<&Secret> {
        self.secrets.get(id)
    }
}

/// A set of ids the host keeps: revoked grant ids, used single-use grant ids.
pub trait IdSet {
    /// Whether `id` is in the set.
    fn contains_id(&self, id: &str) -> bool;
}

impl IdSet for std::collections::HashSet<String> {
    fn contains_id(&self, id: &str) -> bool {
        self.contains(id)
    }
}

impl IdSet for std::collections::BTreeSet<String> {
    fn contains_id(&self, id: &str) -> bool {
        self.contains(id)
    }
}

impl IdSet for [String] {
    fn contains_id(&self, id: &str) -> bool {
        self.iter().any(|s| s == id)
    }
}

impl IdSet for Vec<String> {
    fn contains_id(&self, id: &str) -> bool {
        self.iter().any(|s| s == id)
    }
}

impl<F: Fn(&str) -> bool> IdSet for F {
    fn contains_id(&self, id: &str) -> bool {
        self(id)
    }
}
