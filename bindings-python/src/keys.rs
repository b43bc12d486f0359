//! Keys, grants and approvals: `SigningKey`, `VerifyingKey`, `keygen`, `mint_grant`,
//! `sign_approval` and `request_digest`. Each forwards to the core (`writ::identity`,
//! `writ::grant`, `writ::approval`); failures raise `InvalidKeyError`, `GrantError` or
//! `ApprovalError` (all `TokenError`s).

use pyo3::prelude::*;
use pyo3::types::PyString;
use writ::Principal;
use writ::approval::{Approval, ApprovalSpec};
use writ::grant::{Authority, Grant, GrantSpec};
use writ::identity::{KeyError, KeyRing};

use crate::convert::to_json;
use crate::errors;
use crate::request::request_from;

fn key_error(py: Python<'_>, e: &KeyError) -> PyErr {
    errors::simple(py, "InvalidKeyError", e.to_string())
}

/// A key that signs grants or approvals (Ed25519 or HMAC-SHA-256). Held by the host, never by
/// an agent; its repr never shows the secret.
#[pyclass(frozen, module = "writ._writ", name = "SigningKey")]
pub struct SigningKey {
    pub(crate) inner: writ::identity::SigningKey,
}

#[pymethods]
impl SigningKey {
    /// A fresh Ed25519 key from the operating system's random source.
    #[staticmethod]
    fn generate(py: Python<'_>, kid: &str) -> PyResult<SigningKey> {
        writ::identity::SigningKey::ed25519_generate(kid)
            .map(|inner| SigningKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// An Ed25519 key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `writ keygen` or
    /// `openssl genpkey -algorithm ed25519` write it).
    #[staticmethod]
    fn from_pem(py: Python<'_>, kid: &str, pem: &str) -> PyResult<SigningKey> {
        writ::identity::SigningKey::ed25519_from_pem(kid, pem)
            .map(|inner| SigningKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// An Ed25519 key from its 32-byte seed.
    #[staticmethod]
    fn from_seed(py: Python<'_>, kid: &str, seed: &[u8]) -> PyResult<SigningKey> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| {
            errors::simple(
                py,
                "InvalidKeyError",
                format!("invalid key `{kid}`: an ed25519 seed is 32 bytes, not {}", seed.len()),
            )
        })?;
        writ::identity::SigningKey::ed25519_from_seed(kid, seed)
            .map(|inner| SigningKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// An HMAC-SHA-256 key (at least 32 bytes of secret); it also verifies.
    #[staticmethod]
    fn hmac(py: Python<'_>, kid: &str, secret: &[u8]) -> PyResult<SigningKey> {
        writ::identity::SigningKey::hmac(kid, secret)
            .map(|inner| SigningKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// The key id written into what this key signs.
    #[getter]
    fn kid(&self) -> &str {
        self.inner.kid()
    }

    /// `"ed25519"` or `"hmac-sha256"`.
    #[getter]
    fn algorithm(&self) -> &'static str {
        algorithm(&self.inner.verifying_key())
    }

    /// The key that verifies what this one signs.
    fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey { inner: self.inner.verifying_key() }
    }

    fn __repr__(&self) -> String {
        format!("SigningKey(kid={:?}, algorithm={:?})", self.inner.kid(), self.algorithm())
    }
}

fn algorithm(key: &writ::identity::VerifyingKey) -> &'static str {
    match key {
        writ::identity::VerifyingKey::Ed25519 { .. } => "ed25519",
        writ::identity::VerifyingKey::Hmac { .. } => "hmac-sha256",
    }
}

/// A key that verifies grants or approvals: what an engine trusts.
#[pyclass(frozen, module = "writ._writ", name = "VerifyingKey")]
pub struct VerifyingKey {
    pub(crate) inner: writ::identity::VerifyingKey,
}

#[pymethods]
impl VerifyingKey {
    /// An Ed25519 public key from an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    #[staticmethod]
    fn from_pem(py: Python<'_>, kid: &str, pem: &str) -> PyResult<VerifyingKey> {
        writ::identity::VerifyingKey::ed25519_from_pem(kid, pem)
            .map(|inner| VerifyingKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// A key from one JWK (Ed25519 `OKP` or HMAC `oct`), given as a str or a dict; it must name
    /// its `kid`.
    #[staticmethod]
    fn from_jwk(py: Python<'_>, jwk: &Bound<'_, PyAny>) -> PyResult<VerifyingKey> {
        let text = match jwk.cast::<PyString>() {
            Ok(s) => s.to_cow()?.into_owned(),
            Err(_) => to_json(jwk)?.to_string(),
        };
        writ::identity::VerifyingKey::from_jwk(&text)
            .map(|inner| VerifyingKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// An Ed25519 public key from its 32 bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, kid: &str, key: &[u8]) -> PyResult<VerifyingKey> {
        writ::identity::VerifyingKey::ed25519_from_bytes(kid, key)
            .map(|inner| VerifyingKey { inner })
            .map_err(|e| key_error(py, &e))
    }

    /// The key id.
    #[getter]
    fn kid(&self) -> &str {
        self.inner.kid()
    }

    /// `"ed25519"` or `"hmac-sha256"`.
    #[getter]
    fn algorithm(&self) -> &'static str {
        algorithm(&self.inner)
    }

    /// The public JWK (a JSON string) of an Ed25519 key; None for HMAC (a secret is never
    /// exported).
    fn to_jwk(&self) -> Option<String> {
        self.inner.public_jwk()
    }

    fn __repr__(&self) -> String {
        format!("VerifyingKey(kid={:?}, algorithm={:?})", self.inner.kid(), self.algorithm())
    }
}

/// A key given as a `VerifyingKey`, or a `SigningKey` standing for its verifying key.
pub(crate) fn verifying(key: &Bound<'_, PyAny>) -> PyResult<writ::identity::VerifyingKey> {
    if let Ok(k) = key.cast::<VerifyingKey>() {
        return Ok(k.get().inner.clone());
    }
    if let Ok(k) = key.cast::<SigningKey>() {
        return Ok(k.get().inner.verifying_key());
    }
    Err(pyo3::exceptions::PyTypeError::new_err("expected a writ.VerifyingKey or writ.SigningKey"))
}

/// A fresh Ed25519 signing key with id `kid` (`SigningKey.generate`).
#[pyfunction]
pub(crate) fn keygen(py: Python<'_>, kid: &str) -> PyResult<SigningKey> {
    SigningKey::generate(py, kid)
}

/// Mint a grant (`writg2.…`) for the delegate `to`, signed with `key`.
///
/// A root grant carries the authority of `principal` (with `groups`); a child grant the
/// authority of `parent` (a grant verified here against `trusted` keys and `key`), and must be
/// no wider, deeper or longer-lived than it. `scope` is an allow-rule condition set (a dict, as
/// in a policy's `when:`).
#[pyfunction]
#[pyo3(signature = (key, *, to, scope, ttl, principal=None, groups=Vec::new(), parent=None, trusted=Vec::new(), depth=0, bound_to=None, now=None))]
#[expect(clippy::too_many_arguments, reason = "keyword-only arguments of one Python function")]
pub(crate) fn mint_grant(
    py: Python<'_>,
    key: &SigningKey,
    to: &str,
    scope: &Bound<'_, PyAny>,
    ttl: u64,
    principal: Option<&str>,
    groups: Vec<String>,
    parent: Option<&str>,
    trusted: Vec<Bound<'_, PyAny>>,
    depth: u32,
    bound_to: Option<&str>,
    now: Option<u64>,
) -> PyResult<String> {
    let scope = serde_json::from_value(to_json(scope)?)
        .map_err(|e| errors::simple(py, "GrantError", format!("invalid grant scope: {e}")))?;
    let mut spec = GrantSpec::new(to, scope, ttl).depth(depth);
    if let Some(digest) = bound_to {
        spec = spec.bound_to(digest);
    }
    let now = now.unwrap_or_else(writ::identity::unix_now);
    let grant_error = |e: writ::grant::GrantError| errors::simple(py, "GrantError", e.to_string());
    let minted = match (principal, parent) {
        (Some(id), None) => {
            let root = Principal::new(id, groups);
            Grant::mint(Authority::Principal(&root), &spec, &key.inner, now)
        }
        (None, Some(text)) => {
            let mut ring = KeyRing::new().with(key.inner.verifying_key());
            for k in &trusted {
                ring.insert(verifying(k)?);
            }
            let verified = writ::grant::verify_chain(text, &ring, now, &Vec::<String>::new())
                .map_err(|e| {
                    errors::simple(py, "GrantError", format!("parent grant rejected: {e}"))
                })?;
            Grant::mint(Authority::Grant(&verified), &spec, &key.inner, now)
        }
        _ => {
            return Err(errors::simple(
                py,
                "GrantError",
                "give exactly one of `principal` (a root grant) and `parent` (a child grant)",
            ));
        }
    };
    minted.map(|g| g.encode()).map_err(grant_error)
}

/// Sign an approval token (`writa1.…`) by `approver` (with `groups`) for the request whose
/// digest is `digest` (from an `approval_required` decision), valid `ttl` seconds; `rules`
/// limits it to those rule ids.
#[pyfunction]
#[pyo3(signature = (key, *, digest, approver, groups=Vec::new(), ttl, rules=None, now=None))]
#[expect(clippy::too_many_arguments, reason = "keyword-only arguments of one Python function")]
pub(crate) fn sign_approval(
    py: Python<'_>,
    key: &SigningKey,
    digest: &str,
    approver: &str,
    groups: Vec<String>,
    ttl: u64,
    rules: Option<Vec<String>>,
    now: Option<u64>,
) -> PyResult<String> {
    let spec = ApprovalSpec {
        approver: Principal::new(approver, groups),
        digest: digest.to_owned(),
        ttl,
        rules,
    };
    let now = now.unwrap_or_else(writ::identity::unix_now);
    Approval::sign(&spec, &key.inner, now)
        .map_err(|e| errors::simple(py, "ApprovalError", e.to_string()))
}

/// The digest of a request (a dict or JSON text, as `Engine.check` takes it): what a
/// single-use grant is bound to.
#[pyfunction]
pub(crate) fn request_digest(py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(request_from(py, request)?.digest())
}
