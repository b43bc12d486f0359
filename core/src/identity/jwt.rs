//! JWT / OIDC token verification against the issuers a policy declares.
//!
//! ```yaml
//! issuers:
//!   - issuer: https://login.example.com/realms/agents   # the exact `iss`
//!     audiences: [writ]                                 # `aud` must name one of these
//!     algorithms: [RS256, ES256]
//!     jwks_file: keys/login.jwks.json                   # or `jwks: {keys: [...]}` inline
//!     groups_claim: realm_access.roles                  # default `groups`
//!     principal_claim: sub                              # default `sub`
//!     principal_prefix: "user:"                         # default none
//!     required_claims: [email]
//!     leeway: 60                                        # seconds, the default
//!   - issuer: legacy-idp
//!     audiences: [writ]
//!     algorithms: [HS256]
//!     shared_secret: legacy-idp                         # an id: the host supplies the bytes
//! ```
//!
//! # Decisions
//! - **No network.** Keys come from the policy: an inline JWKS, or a JWKS file whose path is
//!   relative to the policy file (for a document compiled from memory, relative to the working
//!   directory). Rotation is a policy reload, like any other policy change.
//! - **Public keys only in policies.** An `oct` (symmetric) JWK is refused. `HS256` is accepted
//!   only from an issuer that sets `shared_secret: <id>`, and then it is that issuer's only
//!   algorithm; the secret's bytes come from the host through
//!   [`Trust::shared_secret`](super::Trust::shared_secret) at check time, so a policy that is
//!   committed never holds a secret, and the host decides where secrets live (the library reads
//!   no environment variable: no global state).
//! - **Order of checks.** Structure, then `alg: none`, then the issuer (read from the unverified
//!   payload only to pick the keys), then algorithm and key, then the signature; claims are
//!   read only after the signature verifies. Each rejection is its own [`TokenError`] variant.
//! - **Algorithm confusion** is refused before any cryptography: an HMAC token for an issuer
//!   with public keys, or a key whose type (RSA, EC P-256, EC P-384, Ed25519) or JWK `alg` does
//!   not fit the token's algorithm.
//! - **Keys are chosen by `kid`.** A token without `kid` is accepted only when exactly one key
//!   of the issuer fits its algorithm. Keys marked `use: enc` and keys that fit none of the
//!   issuer's algorithms are skipped; an issuer left with no key is an error.
//! - **Times.** `exp` is required; `nbf` and `iat` are checked when present; `leeway` applies
//!   to all three. The clock is the check's, so tests inject it.
//! - **Claim paths.** `groups_claim`, `principal_claim` and `required_claims` name a top-level
//!   claim exactly as written (`cognito:groups`, `https://example.com/groups`); only when no
//!   such claim exists is the name read as a dotted path (`realm_access.roles`). The groups
//!   claim may be absent (no groups), a string (one group) or a list of strings.

use std::path::Path;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::envelope::unb64;
use super::keys::Trust;
use crate::policy::Checker;
use crate::policy::source::{Seg, at_path};
use crate::request::Principal;

/// The longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The leeway applied to `exp`, `nbf` and `iat` when an issuer sets none, in seconds.
pub const DEFAULT_LEEWAY: u64 = 60;

/// A trusted token issuer, as a policy document declares it (`issuers:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerDoc {
    /// The issuer identifier, compared exactly with the token's `iss`.
    pub issuer: String,
    /// Accepted audiences: the token's `aud` (a string or a list) must name at least one.
    pub audiences: Vec<String>,
    /// Accepted signature algorithms.
    pub algorithms: Vec<JwtAlgorithm>,
    /// An inline JWKS (`{keys: [...]}`) of public keys.
    #[serde(default)]
    pub jwks: Option<Value>,
    /// A JWKS file, relative to the policy file.
    #[serde(default)]
    pub jwks_file: Option<String>,
    /// For `HS256` only: the id of a shared secret the host supplies (never the secret).
    #[serde(default)]
    pub shared_secret: Option<String>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat` (default 60).
    #[serde(default)]
    pub leeway: Option<u64>,
    /// Claims that must be present and not null.
    #[serde(default)]
    pub required_claims: Option<Vec<String>>,
    /// Where the groups are (default `groups`).
    #[serde(default)]
    pub groups_claim: Option<String>,
    /// Which claim is the principal id (default `sub`).
    #[serde(default)]
    pub principal_claim: Option<String>,
    /// Put before the principal claim to make the principal id (`user:`), so ids from
    /// different issuers cannot collide and rules can glob them (`user:*`).
    #[serde(default)]
    pub principal_prefix: Option<String>,
}

/// A JWT signature algorithm an issuer may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum JwtAlgorithm {
    /// HMAC-SHA-256 with a host-supplied shared secret.
    HS256,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RS256,
    /// RSA PKCS#1 v1.5 with SHA-384.
    RS384,
    /// RSA PKCS#1 v1.5 with SHA-512.
    RS512,
    /// RSA-PSS with SHA-256.
    PS256,
    /// RSA-PSS with SHA-384.
    PS384,
    /// RSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl JwtAlgorithm {
    /// The name in JWT headers.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::HS256 => "HS256",
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::RS384 => "RS384",
            JwtAlgorithm::RS512 => "RS512",
            JwtAlgorithm::PS256 => "PS256",
            JwtAlgorithm::PS384 => "PS384",
            JwtAlgorithm::PS512 => "PS512",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::ES384 => "ES384",
            JwtAlgorithm::EdDSA => "EdDSA",
        }
    }

    fn from_name(name: &str) -> Option<JwtAlgorithm> {
        ALL.iter().copied().find(|a| a.as_str() == name)
    }

    fn key_type(self) -> Option<KeyType> {
        match self {
            JwtAlgorithm::HS256 => None,
            JwtAlgorithm::RS256
            | JwtAlgorithm::RS384
            | JwtAlgorithm::RS512
            | JwtAlgorithm::PS256
            | JwtAlgorithm::PS384
            | JwtAlgorithm::PS512 => Some(KeyType::Rsa),
            JwtAlgorithm::ES256 => Some(KeyType::P256),
            JwtAlgorithm::ES384 => Some(KeyType::P384),
            JwtAlgorithm::EdDSA => Some(KeyType::Ed25519),
        }
    }

    fn backend(self) -> Algorithm {
        match self {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::RS384 => Algorithm::RS384,
            JwtAlgorithm::RS512 => Algorithm::RS512,
            JwtAlgorithm::PS256 => Algorithm::PS256,
            JwtAlgorithm::PS384 => Algorithm::PS384,
            JwtAlgorithm::PS512 => Algorithm::PS512,
            JwtAlgorithm::ES256 => Algorithm::ES256,
            JwtAlgorithm::ES384 => Algorithm::ES384,
            JwtAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }
}

const ALL: [JwtAlgorithm; 10] = [
    JwtAlgorithm::HS256,
    JwtAlgorithm::RS256,
    JwtAlgorithm::RS384,
    JwtAlgorithm::RS512,
    JwtAlgorithm::PS256,
    JwtAlgorithm::PS384,
    JwtAlgorithm::PS512,
    JwtAlgorithm::ES256,
    JwtAlgorithm::ES384,
    JwtAlgorithm::EdDSA,
];

/// Why a token was rejected. Each reason is its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON, too long, or a header writ does not support.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg: none`: an unsigned token.
    #[error("token is unsigned (`alg: none`); unsigned tokens are never accepted")]
    AlgNone,
    /// The algorithm is not one the issuer allows.
    #[error("algorithm `{alg}` is not allowed for issuer `{issuer}`")]
    AlgorithmNotAllowed {
        /// The token's algorithm.
        alg: String,
        /// The issuer.
        issuer: String,
    },
    /// The algorithm does not fit the key it would be checked with (an HMAC token against a
    /// public key, an RSA algorithm against an EC key, ...).
    #[error("algorithm confusion: {0}")]
    AlgorithmConfusion(String),
    /// No key of the issuer has the token's `kid` (or the token names none and several fit).
    #[error("unknown key id `{kid}` for issuer `{issuer}`")]
    UnknownKid {
        /// The token's `kid` (`(none)` when absent).
        kid: String,
        /// The issuer.
        issuer: String,
    },
    /// The token's `iss` is not an issuer the policy trusts.
    #[error("issuer `{0}` is not trusted by the policy")]
    WrongIssuer(String),
    /// The token's `aud` names no accepted audience.
    #[error("audience {found} is not accepted by issuer `{issuer}`")]
    WrongAudience {
        /// The token's audiences, as written.
        found: String,
        /// The issuer.
        issuer: String,
    },
    /// `exp` has passed (beyond the leeway).
    #[error("token expired at {exp} (now {now}, leeway {leeway} s)")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The check's clock.
        now: u64,
        /// The issuer's leeway.
        leeway: u64,
    },
    /// `nbf` (or `iat`) lies in the future (beyond the leeway).
    #[error("token is not valid before {at} (`{claim}`; now {now}, leeway {leeway} s)")]
    NotYetValid {
        /// `nbf` or `iat`.
        claim: String,
        /// Its value.
        at: i64,
        /// The check's clock.
        now: u64,
        /// The issuer's leeway.
        leeway: u64,
    },
    /// A claim the issuer requires (or `exp`, `aud`, `iss`, the principal claim) is absent.
    #[error("token lacks required claim `{0}`")]
    MissingClaim(String),
    /// A claim has the wrong type.
    #[error("claim `{claim}` is not {expected}")]
    InvalidClaim {
        /// The claim.
        claim: String,
        /// What it should be.
        expected: String,
    },
    /// The signature does not verify with the selected key.
    #[error("bad signature (key `{kid}` of issuer `{issuer}`)")]
    BadSignature {
        /// The key used.
        kid: String,
        /// The issuer.
        issuer: String,
    },
    /// An `HS256` issuer's secret was not supplied by the host.
    #[error("the host supplied no shared secret `{0}`")]
    MissingSecret(String),
}

/// The type of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyType {
    fn describe(self) -> &'static str {
        match self {
            KeyType::Rsa => "an RSA key",
            KeyType::P256 => "an EC P-256 key",
            KeyType::P384 => "an EC P-384 key",
            KeyType::Ed25519 => "an Ed25519 key",
        }
    }
}

/// One public key of an issuer.
#[derive(Clone)]
struct IssuerKey {
    kid: Option<String>,
    key_type: KeyType,
    /// The JWK's `alg`, when it names one: the key is then good for that algorithm only.
    alg: Option<JwtAlgorithm>,
    key: DecodingKey,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuerKey({:?}, {:?}, {:?})", self.kid, self.key_type, self.alg)
    }
}

impl IssuerKey {
    fn fits(&self, alg: JwtAlgorithm) -> bool {
        alg.key_type() == Some(self.key_type) && self.alg.is_none_or(|a| a == alg)
    }

    fn name(&self) -> &str {
        self.kid.as_deref().unwrap_or("(no kid)")
    }
}

/// A compiled issuer.
#[derive(Debug, Clone)]
struct Issuer {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<JwtAlgorithm>,
    keys: Vec<IssuerKey>,
    shared_secret: Option<String>,
    leeway: u64,
    required_claims: Vec<String>,
    groups_claim: String,
    principal_claim: String,
    principal_prefix: String,
}

/// The issuers a compiled policy trusts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Issuers {
    list: Vec<Issuer>,
}

impl Issuers {
    /// Validate and compile one document's `issuers:`, reporting problems to `ck`. An issuer
    /// already declared (in this or an earlier document) is an error.
    pub(crate) fn compile(&mut self, ck: &mut Checker<'_>, docs: &[IssuerDoc]) {
        for (i, doc) in docs.iter().enumerate() {
            if let Some(issuer) = compile_issuer(ck, i, doc) {
                if self.list.iter().any(|x| x.issuer == issuer.issuer) {
                    ck.error(
                        &at_path!["issuers", i, "issuer"],
                        format!("duplicate issuer `{}`", issuer.issuer),
                    );
                    continue;
                }
                self.list.push(issuer);
            }
        }
    }

    /// Verify `token` at time `now` (Unix seconds) and return the principal it names.
    pub(crate) fn verify(
        &self,
        token: &str,
        trust: &Trust,
        now: u64,
    ) -> Result<Principal, TokenError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed(format!("longer than {MAX_TOKEN_BYTES} bytes")));
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
            let why = if parts.len() == 5 {
                "encrypted tokens (JWE) are not supported".to_owned()
            } else {
                format!("expected 3 dot-separated parts, found {}", parts.len())
            };
            return Err(TokenError::Malformed(why));
        };
        let header = decode_json(header_b64, "header")?;
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| TokenError::Malformed("the header names no `alg`".into()))?;
        if alg_name.eq_ignore_ascii_case("none") {
            return Err(TokenError::AlgNone);
        }
        if header.get("crit").is_some() {
            return Err(TokenError::Malformed(
                "critical header extensions (`crit`) are not supported".into(),
            ));
        }
        if signature_b64.is_empty() {
            return Err(TokenError::Malformed("the signature is empty".into()));
        }
        // The unverified payload is read only to choose the issuer's keys.
        let unverified = decode_json(payload_b64, "payload")?;
        let iss = match unverified.get("iss") {
            Some(Value::String(iss)) => iss.as_str(),
            Some(_) => return Err(invalid("iss", "a string")),
            None => return Err(TokenError::MissingClaim("iss".into())),
        };
        let issuer = self
            .list
            .iter()
            .find(|x| x.issuer == iss)
            .ok_or_else(|| TokenError::WrongIssuer(iss.to_owned()))?;
        let not_allowed =
            || TokenError::AlgorithmNotAllowed { alg: alg_name.to_owned(), issuer: iss.to_owned() };
        let alg = JwtAlgorithm::from_name(alg_name);
        let kid = header.get("kid").and_then(Value::as_str);
        let key = match alg {
            Some(JwtAlgorithm::HS256) => {
                let Some(secret_id) = &issuer.shared_secret else {
                    return Err(TokenError::AlgorithmConfusion(format!(
                        "an `HS256` token cannot be checked with the public keys of issuer `{iss}`"
                    )));
                };
                let secret = trust
                    .secret(secret_id)
                    .ok_or_else(|| TokenError::MissingSecret(secret_id.clone()))?;
                DecodingKey::from_secret(&secret.0)
            }
            Some(alg) if issuer.algorithms.contains(&alg) => {
                issuer.select_key(alg, kid)?.key.clone()
            }
            Some(alg) if alg.key_type().is_some() && issuer.shared_secret.is_some() => {
                return Err(TokenError::AlgorithmConfusion(format!(
                    "issuer `{iss}` signs with a shared secret, not with `{}` keys",
                    alg.as_str()
                )));
            }
            _ => return Err(not_allowed()),
        };
        let Some(alg) = alg else { return Err(not_allowed()) };
        if !issuer.algorithms.contains(&alg) {
            return Err(not_allowed());
        }
        let message = format!("{header_b64}.{payload_b64}");
        let verified =
            jsonwebtoken::crypto::verify(signature_b64, message.as_bytes(), &key, alg.backend());
        match verified {
            Ok(true) => {}
            Ok(false) => {
                return Err(TokenError::BadSignature {
                    kid: kid.unwrap_or("(none)").to_owned(),
                    issuer: iss.to_owned(),
                });
            }
            Err(e) => {
                return Err(TokenError::Malformed(format!("cannot check the signature: {e}")));
            }
        }
        issuer.claims(&unverified, now)
    }
}

impl Issuer {
    fn select_key(&self, alg: JwtAlgorithm, kid: Option<&str>) -> Result<&IssuerKey, TokenError> {
        let unknown =
            |kid: &str| TokenError::UnknownKid { kid: kid.to_owned(), issuer: self.issuer.clone() };
        let key = match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| unknown(kid))?,
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => key,
                    (None, _) => {
                        return Err(TokenError::AlgorithmConfusion(format!(
                            "issuer `{}` has no key for `{}`",
                            self.issuer,
                            alg.as_str()
                        )));
                    }
                    (Some(_), Some(_)) => return Err(unknown("(none)")),
                }
            }
        };
        if !key.fits(alg) {
            let pinned = match key.alg {
                Some(a) if alg.key_type() == Some(key.key_type) => {
                    format!(" pinned to `{}`", a.as_str())
                }
                _ => String::new(),
            };
            return Err(TokenError::AlgorithmConfusion(format!(
                "key `{}` is {}{pinned}; it cannot check an `{}` token",
                key.name(),
                key.key_type.describe(),
                alg.as_str()
            )));
        }
        Ok(key)
    }

    /// Check the claims of a token whose signature verified.
    fn claims(&self, claims: &Value, now: u64) -> Result<Principal, TokenError> {
        let leeway = self.leeway;
        match claims.get("aud") {
            None => return Err(TokenError::MissingClaim("aud".into())),
            Some(aud) => {
                let found: Vec<&str> = match aud {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => return Err(invalid("aud", "a string or a list of strings")),
                };
                if !found.iter().any(|a| self.audiences.iter().any(|x| x == a)) {
                    return Err(TokenError::WrongAudience {
                        found: format!("`{}`", found.join("`, `")),
                        issuer: self.issuer.clone(),
                    });
                }
            }
        }
        let now_i = i64::try_from(now).unwrap_or(i64::MAX);
        let slack = i64::try_from(leeway).unwrap_or(i64::MAX);
        let exp =
            time_claim(claims, "exp")?.ok_or_else(|| TokenError::MissingClaim("exp".into()))?;
        if now_i > exp.saturating_add(slack) {
            return Err(TokenError::Expired { exp, now, leeway });
        }
        for claim in ["nbf", "iat"] {
            if let Some(at) = time_claim(claims, claim)?
                && at > now_i.saturating_add(slack)
            {
                return Err(TokenError::NotYetValid { claim: claim.into(), at, now, leeway });
            }
        }
        for claim in &self.required_claims {
            if claim_at(claims, claim).is_none_or(Value::is_null) {
                return Err(TokenError::MissingClaim(claim.clone()));
            }
        }
        let id = match claim_at(claims, &self.principal_claim) {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(TokenError::MissingClaim(self.principal_claim.clone()));
            }
            Some(_) => return Err(invalid(&self.principal_claim, "a string")),
        };
        let groups = match claim_at(claims, &self.groups_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(g)) => vec![g.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|g| g.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid(&self.groups_claim, "a list of strings"))?,
            Some(_) => return Err(invalid(&self.groups_claim, "a list of strings")),
        };
        Ok(Principal { id: format!("{}{id}", self.principal_prefix), groups })
    }
}

fn invalid(claim: &str, expected: &str) -> TokenError {
    TokenError::InvalidClaim { claim: claim.to_owned(), expected: expected.to_owned() }
}

fn decode_json(part: &str, what: &str) -> Result<Value, TokenError> {
    let bytes =
        unb64(part).ok_or_else(|| TokenError::Malformed(format!("the {what} is not base64url")))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed(format!("the {what} is not json")))?;
    if !value.is_object() {
        return Err(TokenError::Malformed(format!("the {what} is not a json object")));
    }
    Ok(value)
}

/// A NumericDate claim, when present.
fn time_claim(claims: &Value, name: &str) -> Result<Option<i64>, TokenError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
            .map(Some)
            .ok_or_else(|| invalid(name, "a number of seconds")),
        Some(_) => Err(invalid(name, "a number of seconds")),
    }
}

/// The claim named `path`: a top-level claim of that exact name, else a dotted path.
fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    if !path.contains('.') {
        return None;
    }
    path.split('.').try_fold(claims, |v, step| v.get(step))
}

fn compile_issuer(ck: &mut Checker<'_>, i: usize, doc: &IssuerDoc) -> Option<Issuer> {
    let before = ck.error_count();
    let at = |field: &str| at_path!["issuers", i, field].to_vec();
    if doc.issuer.trim().is_empty() {
        ck.error(&at("issuer"), "issuer is empty");
    }
    if doc.audiences.is_empty() || doc.audiences.iter().any(|a| a.is_empty()) {
        ck.error(
            &at("audiences"),
            format!("issuer `{}` needs at least one non-empty audience", doc.issuer),
        );
    }
    if doc.algorithms.is_empty() {
        ck.error(&at("algorithms"), format!("issuer `{}` allows no algorithm", doc.issuer));
    }
    for (field, value) in
        [("groups_claim", &doc.groups_claim), ("principal_claim", &doc.principal_claim)]
    {
        if value.as_deref().is_some_and(str::is_empty) {
            ck.error(&at(field), format!("`{field}` is empty"));
        }
    }
    if doc.required_claims.as_ref().is_some_and(|c| c.is_empty() || c.iter().any(String::is_empty))
    {
        ck.error(&at("required_claims"), "`required_claims` must list non-empty claim names");
    }
    let hs = doc.algorithms.contains(&JwtAlgorithm::HS256);
    let sources = [doc.jwks.is_some(), doc.jwks_file.is_some(), doc.shared_secret.is_some()];
    let mut keys = Vec::new();
    match &doc.shared_secret {
        Some(secret) => {
            if secret.trim().is_empty() {
                ck.error(&at("shared_secret"), "`shared_secret` names no secret id");
            }
            if sources.iter().filter(|s| **s).count() > 1 {
                ck.error(&at("shared_secret"), format!("issuer `{}` sets `shared_secret` and a JWKS; an issuer signs with one or the other", doc.issuer));
            }
            if doc.algorithms.iter().any(|a| *a != JwtAlgorithm::HS256) {
                ck.error(
                    &at("algorithms"),
                    format!(
                        "issuer `{}` has a shared secret, so `HS256` is its only algorithm",
                        doc.issuer
                    ),
                );
            }
        }
        None => {
            if hs {
                ck.error(&at("algorithms"), format!("`HS256` needs `shared_secret: <id>` naming a secret the host supplies (issuer `{}`)", doc.issuer));
            }
            let set = match (&doc.jwks, &doc.jwks_file) {
                (Some(_), Some(_)) => {
                    ck.error(
                        &at("jwks_file"),
                        format!("issuer `{}` sets both `jwks` and `jwks_file`", doc.issuer),
                    );
                    None
                }
                (Some(inline), None) => match serde_json::from_value::<JwkSet>(inline.clone()) {
                    Ok(set) => Some((set, at("jwks"))),
                    Err(e) => {
                        ck.error(&at("jwks"), format!("invalid jwks: {e}"));
                        None
                    }
                },
                (None, Some(file)) => {
                    read_jwks_file(ck, &at("jwks_file"), file).map(|s| (s, at("jwks_file")))
                }
                (None, None) => {
                    ck.error(&at("issuer"), format!("issuer `{}` has no keys: set `jwks`, `jwks_file` or (for `HS256`) `shared_secret`", doc.issuer));
                    None
                }
            };
            if let Some((set, set_at)) = set {
                keys = compile_keys(ck, &set_at, &set, &doc.algorithms, &doc.issuer);
            }
        }
    }
    if ck.error_count() > before {
        return None;
    }
    Some(Issuer {
        issuer: doc.issuer.clone(),
        audiences: doc.audiences.clone(),
        algorithms: doc.algorithms.clone(),
        keys,
        shared_secret: doc.shared_secret.clone(),
        leeway: doc.leeway.unwrap_or(DEFAULT_LEEWAY),
        required_claims: doc.required_claims.clone().unwrap_or_default(),
        groups_claim: doc.groups_claim.clone().unwrap_or_else(|| "groups".into()),
        principal_claim: doc.principal_claim.clone().unwrap_or_else(|| "sub".into()),
        principal_prefix: doc.principal_prefix.clone().unwrap_or_default(),
    })
}

fn read_jwks_file(ck: &mut Checker<'_>, at: &[Seg], file: &str) -> Option<JwkSet> {
    let base = Path::new(&ck.source.name).parent().unwrap_or(Path::new(""));
    let path = base.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            ck.error(at, format!("cannot read jwks file `{}`: {e}", path.display()));
            return None;
        }
    };
    match serde_json::from_str::<JwkSet>(&text) {
        Ok(set) => Some(set),
        Err(e) => {
            ck.error(at, format!("invalid jwks file `{}`: {e}", path.display()));
            None
        }
    }
}

fn compile_keys(
    ck: &mut Checker<'_>,
    at: &[Seg],
    set: &JwkSet,
    algorithms: &[JwtAlgorithm],
    issuer: &str,
) -> Vec<IssuerKey> {
    let mut keys: Vec<IssuerKey> = Vec::new();
    for jwk in &set.keys {
        let name = jwk.common.key_id.clone().unwrap_or_else(|| "(no kid)".into());
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            ck.error(at, format!("key `{name}` of issuer `{issuer}` is a symmetric (`oct`) key; secrets never go in a policy: use `shared_secret`"));
            continue;
        }
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let Some(key) = issuer_key(jwk) else { continue };
        if let Some(kid) = &key.kid
            && keys.iter().any(|k| k.kid.as_ref() == Some(kid))
        {
            ck.error(at, format!("duplicate key id `{kid}` in the jwks of issuer `{issuer}`"));
            continue;
        }
        if algorithms.iter().any(|a| key.fits(*a)) {
            keys.push(key);
        }
    }
    if keys.is_empty() && !algorithms.is_empty() {
        ck.error(
            at,
            format!("the jwks of issuer `{issuer}` has no signature key for its algorithms"),
        );
    }
    keys
}

/// A supported public JWK as an issuer key; `None` for key types writ cannot use.
fn issuer_key(jwk: &Jwk) -> Option<IssuerKey> {
    let key_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => KeyType::Rsa,
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => KeyType::P256,
            EllipticCurve::P384 => KeyType::P384,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(p) => match p.curve {
            EllipticCurve::Ed25519 => KeyType::Ed25519,
            _ => return None,
        },
        _ => return None,
    };
    let alg = jwk.common.key_algorithm.map(|a| a.to_string());
    let alg = match alg {
        // A JWK `alg` writ does not know (`RSA-OAEP`): the key is not for signatures.
        Some(name) => Some(JwtAlgorithm::from_name(&name)?),
        None => None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(IssuerKey { kid: jwk.common.key_id.clone(), key_type, alg, key })
}
