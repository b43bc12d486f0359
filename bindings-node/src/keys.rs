//! Keys, grants and approvals: the host side of nested agents and human approvals.
//!
//! - [`SigningKey`]: an Ed25519 key (generated, from a seed, or from a PKCS#8 PEM) or an HMAC
//!   secret. It never shows its secret; `publicJwk` gives the public half of an Ed25519 key.
//! - [`mint_grant`] (`mintGrant`): a root grant for a principal, or a child of a grant that must
//!   be no wider than it.
//! - [`sign_approval`] (`signApproval`): an approval token bound to one request digest.
//!
//! A verifying key is given to an engine as a `SigningKey` (its public half is used), a public
//! PEM (`-----BEGIN PUBLIC KEY-----`, optionally preceded by a `kid: ID` line as `writ keygen`
//! writes it) or a JWK string.

use napi::Env;
use napi::bindgen_prelude::{Buffer, ClassInstance, Either};
use napi_derive::napi;
use serde_json::Value;
use writ::approval::{Approval, ApprovalSpec};
use writ::grant::{self, Authority, Grant, GrantSpec};
use writ::identity::{KeyRing, VerifyingKey, unix_now};
use writ::policy::Conditions;

use crate::decision::Principal;
use crate::error::{Failure, js};

/// A key that signs grants or approvals. Held by the host, never by an agent.
#[napi]
pub struct SigningKey {
    pub(crate) inner: writ::identity::SigningKey,
}

fn key_failure(e: impl std::fmt::Display) -> Failure {
    Failure::new("WRIT_KEY", e.to_string())
}

/// The `kid: ID` line `writ keygen` writes before a PEM block, and the PEM that follows.
fn split_kid(text: &str) -> (Option<&str>, &str) {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("kid:") {
        let (line, pem) = rest.split_once('\n').unwrap_or((rest, ""));
        let kid = line.trim();
        return (if kid.is_empty() { None } else { Some(kid) }, pem);
    }
    (None, text)
}

fn kid_of(given: Option<String>, from_text: Option<&str>) -> Result<String, Failure> {
    given
        .or_else(|| from_text.map(str::to_owned))
        .ok_or_else(|| Failure::new("WRIT_KEY", "the key has no key id: pass `kid`"))
}

#[napi]
impl SigningKey {
    /// A fresh Ed25519 key from the operating system's random source.
    ///
    /// @throws `WRIT_KEY` for an empty key id.
    #[napi(factory)]
    pub fn generate(env: Env, kid: String) -> napi::Result<SigningKey> {
        let inner = writ::identity::SigningKey::ed25519_generate(kid).map_err(key_failure);
        js(&env, inner.map(|inner| SigningKey { inner }))
    }

    /// An Ed25519 key from its 32-byte seed (tests and deterministic setups).
    ///
    /// @throws `WRIT_KEY` when the seed is not 32 bytes or the key id is empty.
    #[napi(factory)]
    pub fn from_seed(env: Env, kid: String, seed: Buffer) -> napi::Result<SigningKey> {
        let made = <&[u8; 32]>::try_from(seed.as_ref())
            .map_err(|_| Failure::new("WRIT_KEY", "an ed25519 seed is 32 bytes"))
            .and_then(|seed| {
                writ::identity::SigningKey::ed25519_from_seed(kid, seed).map_err(key_failure)
            });
        js(&env, made.map(|inner| SigningKey { inner }))
    }

    /// An Ed25519 key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); the key id is `kid`,
    /// else the `kid: ID` line before the PEM block.
    ///
    /// @throws `WRIT_KEY` when the PEM holds no Ed25519 private key or no key id is known.
    #[napi(factory)]
    pub fn from_pem(env: Env, pem: String, kid: Option<String>) -> napi::Result<SigningKey> {
        let (line_kid, block) = split_kid(&pem);
        let made = kid_of(kid, line_kid).and_then(|kid| {
            writ::identity::SigningKey::ed25519_from_pem(kid, block).map_err(key_failure)
        });
        js(&env, made.map(|inner| SigningKey { inner }))
    }

    /// An HMAC-SHA-256 key (at least 32 bytes of secret).
    ///
    /// @throws `WRIT_KEY` for a short secret or an empty key id.
    #[napi(factory)]
    pub fn hmac(env: Env, kid: String, secret: Buffer) -> napi::Result<SigningKey> {
        let made = writ::identity::SigningKey::hmac(kid, secret.as_ref()).map_err(key_failure);
        js(&env, made.map(|inner| SigningKey { inner }))
    }

    /// The key id written into what this key signs.
    #[napi(getter)]
    pub fn kid(&self) -> String {
        self.inner.kid().to_owned()
    }

    /// The public JWK of an Ed25519 key; `null` for HMAC (a secret is never exported).
    #[napi(getter)]
    pub fn public_jwk(&self) -> Option<String> {
        self.inner.verifying_key().public_jwk()
    }
}

/// A fresh Ed25519 signing key (the same as `SigningKey.generate(kid)`).
///
/// @throws `WRIT_KEY` for an empty key id.
#[napi]
pub fn generate_key(env: Env, kid: String) -> napi::Result<SigningKey> {
    SigningKey::generate(env, kid)
}

/// A verifying key from a `SigningKey` (its public half), a public PEM (key id: `kid`, else
/// the `kid:` line) or a JWK string.
pub(crate) fn verifying_key(
    key: Either<ClassInstance<'_, SigningKey>, String>,
    kid: Option<String>,
) -> Result<VerifyingKey, Failure> {
    match key {
        Either::A(signing) => Ok(signing.inner.verifying_key()),
        Either::B(text) => verifying_key_text(&text, kid),
    }
}

/// A verifying key from a public PEM or a JWK string.
pub(crate) fn verifying_key_text(text: &str, kid: Option<String>) -> Result<VerifyingKey, Failure> {
    if text.trim_start().starts_with('{') {
        return VerifyingKey::from_jwk(text).map_err(key_failure);
    }
    let (line_kid, block) = split_kid(text);
    let kid = kid_of(kid, line_kid)?;
    VerifyingKey::ed25519_from_pem(kid, block).map_err(key_failure)
}

/// What `mintGrant` mints.
#[napi(object)]
pub struct GrantOptions {
    /// Mint a root grant carrying this principal's authority (the host authenticated it).
    pub from: Option<Principal>,
    /// Or mint a child of this grant (`writg2.…`); it is verified first.
    pub parent: Option<String>,
    /// Extra keys that verify the parent's links (the signing key's own public half is always
    /// used): public PEMs or JWKs.
    pub parent_keys: Option<Vec<String>>,
    /// The delegate who will hold the grant.
    pub to: String,
    /// The scope, in the rule-condition language (`{resources: [...], sql: {...}}`).
    #[napi(ts_type = "Record<string, any>")]
    pub scope: Value,
    /// Lifetime in seconds (at most one day, never beyond the parent's expiry).
    pub ttl: u32,
    /// Further levels of delegation the delegate may mint (default 0).
    pub depth: Option<u32>,
    /// Bind the grant to the one request with this digest (single use).
    pub bound_to: Option<String>,
    /// Mint at this Unix time (seconds) instead of now.
    pub now: Option<i64>,
}

fn grant_failure(e: impl std::fmt::Display) -> Failure {
    Failure::new("WRIT_GRANT", e.to_string())
}

fn clock(now: Option<i64>) -> Result<u64, Failure> {
    match now {
        None => Ok(unix_now()),
        Some(n) => u64::try_from(n)
            .map_err(|_| Failure::request(format!("`now` must not be negative, not {n}"))),
    }
}

fn mint(key: &SigningKey, options: GrantOptions) -> Result<String, Failure> {
    let scope: Conditions = serde_json::from_value(options.scope)
        .map_err(|e| Failure::new("WRIT_GRANT", format!("invalid grant scope: {e}")))?;
    let now = clock(options.now)?;
    let mut spec =
        GrantSpec::new(options.to, scope, u64::from(options.ttl)).depth(options.depth.unwrap_or(0));
    if let Some(digest) = options.bound_to {
        spec = spec.bound_to(digest);
    }
    let grant = match (&options.from, &options.parent) {
        (Some(from), None) => {
            let root = writ::Principal::from(from);
            Grant::mint(Authority::Principal(&root), &spec, &key.inner, now)
        }
        (None, Some(text)) => {
            let mut ring = KeyRing::new().with(key.inner.verifying_key());
            for k in options.parent_keys.into_iter().flatten() {
                ring.insert(verifying_key_text(&k, None)?);
            }
            let parent = grant::verify_chain(text, &ring, now, &Vec::<String>::new())
                .map_err(grant_failure)?;
            Grant::mint(Authority::Grant(&parent), &spec, &key.inner, now)
        }
        _ => return Err(Failure::request("give exactly one of `from` and `parent`")),
    };
    grant.map(|g| g.encode()).map_err(grant_failure)
}

/// Mint a grant (`writg2.…`) signed with `key`.
///
/// @throws `WRIT_GRANT` when the grant is refused (wider or deeper than its parent, expired or
/// unverifiable parent, invalid scope, ttl out of range), `WRIT_KEY` for an unreadable parent
/// key, `WRIT_REQUEST` for contradictory options.
#[napi]
pub fn mint_grant(env: Env, key: &SigningKey, options: GrantOptions) -> napi::Result<String> {
    js(&env, mint(key, options))
}

/// What `signApproval` signs.
#[napi(object)]
pub struct ApprovalOptions {
    /// Who approves (authenticated by the host), with their groups.
    pub approver: Principal,
    /// The digest from the `approval_required` decision.
    pub digest: String,
    /// Lifetime in seconds (default 900, at most one day).
    pub ttl: Option<u32>,
    /// Approve only these rules (default: whichever rules asked).
    pub rules: Option<Vec<String>>,
    /// Sign at this Unix time (seconds) instead of now.
    pub now: Option<i64>,
}

/// Sign an approval token (`writa1.…`) for the request with `options.digest`.
///
/// @throws `WRIT_APPROVAL` for an approver without id, a malformed digest or a ttl out of range.
#[napi]
pub fn sign_approval(env: Env, key: &SigningKey, options: ApprovalOptions) -> napi::Result<String> {
    let signed = clock(options.now).and_then(|now| {
        let spec = ApprovalSpec {
            approver: writ::Principal::from(&options.approver),
            digest: options.digest,
            ttl: u64::from(options.ttl.unwrap_or(900)),
            rules: options.rules,
        };
        Approval::sign(&spec, &key.inner, now)
            .map_err(|e| Failure::new("WRIT_APPROVAL", e.to_string()))
    });
    js(&env, signed)
}
