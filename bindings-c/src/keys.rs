//! `writ_signing_key`, minting grants for nested agents, signing approvals.

use std::ffi::c_char;

use writ_core::approval::{Approval, ApprovalSpec};
use writ_core::grant::{Authority, Grant, GrantSpec, verify_chain};
use writ_core::identity::{SigningKey, unix_now};

use crate::engine::{writ_engine, writ_principal};
use crate::error::{Failure, writ_result};
use crate::ffi::{self, Out, boundary};

/// A private key that signs grants or approvals (Ed25519). Hold it in the process that mints;
/// engines that verify need only its public half (`writ_engine_add_*_key_pem`).
pub struct writ_signing_key {
    key: SigningKey,
}

fn key_failure(e: &dyn std::fmt::Display) -> Failure {
    Failure::new(writ_result::ErrKey, e.to_string())
}

/// An Ed25519 signing key named `kid` from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as
/// written by `writ keygen` or `openssl genpkey -algorithm ed25519`).
///
/// # Errors
/// `WRIT_RESULT_ERR_KEY` for a PEM without an Ed25519 private key or an empty `kid`.
///
/// # Safety
/// Each pointer must point to its length's bytes; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_signing_key_new_from_pem(
    kid: *const c_char,
    kid_len: usize,
    pem: *const c_char,
    pem_len: usize,
    out: *mut *mut writ_signing_key,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let (kid, pem) =
            unsafe { (ffi::text(kid, kid_len, "kid")?, ffi::text(pem, pem_len, "pem")?) };
        let key = SigningKey::ed25519_from_pem(kid, pem).map_err(|e| key_failure(&e))?;
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(writ_signing_key { key })) };
        Ok(())
    })
}

/// An Ed25519 signing key named `kid` from a 32-byte seed (keep the seed secret; tests and
/// hosts that derive keys from a vault).
///
/// # Errors
/// `WRIT_RESULT_ERR_ARGUMENT` when `seed_len` is not 32, `WRIT_RESULT_ERR_KEY` for an empty
/// `kid`.
///
/// # Safety
/// Each pointer must point to its length's bytes; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_signing_key_new_from_seed(
    kid: *const c_char,
    kid_len: usize,
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut writ_signing_key,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let (kid, seed) =
            unsafe { (ffi::text(kid, kid_len, "kid")?, ffi::bytes(seed, seed_len, "seed")?) };
        let seed: &[u8; 32] = seed.try_into().map_err(|_| {
            Failure::new(writ_result::ErrArgument, format!("a seed is 32 bytes, not {seed_len}"))
        })?;
        let key = SigningKey::ed25519_from_seed(kid, seed).map_err(|e| key_failure(&e))?;
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(writ_signing_key { key })) };
        Ok(())
    })
}

/// Free a signing key (NULL is accepted).
///
/// # Safety
/// `key` must be NULL or a handle from `writ_signing_key_new_*`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_signing_key_free(key: *mut writ_signing_key) {
    // SAFETY: forwarded from the caller.
    ffi::boundary_void(|| unsafe { ffi::free_handle(key) });
}

fn clock(now: u64) -> u64 {
    if now == 0 { unix_now() } else { now }
}

fn grant_spec(json: &str) -> Result<GrantSpec, Failure> {
    serde_json::from_str(json)
        .map_err(|e| Failure::new(writ_result::ErrJson, format!("malformed grant spec: {e}")))
}

fn grant_failure(e: &dyn std::fmt::Display) -> Failure {
    Failure::new(writ_result::ErrGrant, e.to_string())
}

/// Mint a root grant carrying `from`'s authority (a principal the host authenticated) for a
/// delegate. `spec_json` is `{"to": ID, "scope": CONDITIONS, "ttl": SECONDS, "depth"?: N,
/// "digest"?: DIGEST}` (the scope uses the rules' condition language, e.g. `{"resources":
/// ["warehouse"], "sql": {"read_only": true}}`). `now` is Unix seconds, 0 for the system
/// clock. On success `*out` is the grant (`writg2.…`, release with `writ_string_free`).
///
/// # Errors
/// `WRIT_RESULT_ERR_JSON` (malformed spec), `WRIT_RESULT_ERR_GRANT` (invalid spec: empty
/// delegate, TTL, scope), `WRIT_RESULT_ERR_NULL`, `WRIT_RESULT_ERR_UTF8`.
///
/// # Safety
/// `key` and `from` live handles; `spec_json` must point to `spec_len` bytes; `out` and
/// `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_grant_mint_root(
    key: *const writ_signing_key,
    from: *const writ_principal,
    spec_json: *const c_char,
    spec_len: usize,
    now: u64,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> writ_result {
    boundary(|| {
        let (out, out_len) = (Out::new(out, "out")?, Out::new(out_len, "out_len")?);
        // SAFETY: forwarded from the caller.
        let (key, from, spec) = unsafe {
            (
                ffi::handle(key, "key")?,
                ffi::handle(from, "from")?,
                ffi::text(spec_json, spec_len, "spec_json")?,
            )
        };
        let spec = grant_spec(spec)?;
        let grant = Grant::mint(Authority::Principal(&from.inner), &spec, &key.key, clock(now))
            .map_err(|e| grant_failure(&e))?;
        // SAFETY: both checked non-NULL; the caller promises they are writable.
        unsafe { ffi::owned_string(&grant.encode(), out, out_len) };
        Ok(())
    })
}

/// Mint a child of grant `parent` for a further delegate (`spec_json` as in
/// `writ_grant_mint_root`). The parent is verified first with the engine's grant keys, the
/// signing key's own public half and the engine's revoked ids; the child must be provably no
/// wider than every link of the chain, expire no later, and go no deeper.
///
/// # Errors
/// `WRIT_RESULT_ERR_GRANT` when the parent does not verify or the child would be wider,
/// deeper or longer-lived; otherwise as `writ_grant_mint_root`.
///
/// # Safety
/// `engine` and `key` live handles; each text must point to its length's bytes; `out` and
/// `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_grant_mint_child(
    engine: *const writ_engine,
    key: *const writ_signing_key,
    parent: *const c_char,
    parent_len: usize,
    spec_json: *const c_char,
    spec_len: usize,
    now: u64,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> writ_result {
    boundary(|| {
        let (out, out_len) = (Out::new(out, "out")?, Out::new(out_len, "out_len")?);
        // SAFETY: forwarded from the caller.
        let (engine, key, parent, spec) = unsafe {
            (
                ffi::handle(engine, "engine")?,
                ffi::handle(key, "key")?,
                ffi::text(parent, parent_len, "parent")?,
                ffi::text(spec_json, spec_len, "spec_json")?,
            )
        };
        let spec = grant_spec(spec)?;
        let now = clock(now);
        let mut keys = engine.trust().grant_keys;
        keys.insert(key.key.verifying_key());
        let verified =
            verify_chain(parent, &keys, now, &engine.revoked()).map_err(|e| grant_failure(&e))?;
        let grant = Grant::mint(Authority::Grant(&verified), &spec, &key.key, now)
            .map_err(|e| grant_failure(&e))?;
        // SAFETY: both checked non-NULL; the caller promises they are writable.
        unsafe { ffi::owned_string(&grant.encode(), out, out_len) };
        Ok(())
    })
}

/// Sign an approval for the request with a given digest (from an `approval_required`
/// decision: `writ_decision_digest`). `spec_json` is `{"approver": {"id": ID, "groups":
/// [...]}, "digest": DIGEST, "ttl": SECONDS, "rules"?: [IDS]}`; the host vouches for the
/// approver. `now` is Unix seconds, 0 for the system clock. On success `*out` is the token
/// (`writa1.…`, release with `writ_string_free`); a request carrying it in `"approval"` is
/// allowed when the policy's approvers accept the approver.
///
/// # Errors
/// `WRIT_RESULT_ERR_JSON` (malformed spec), `WRIT_RESULT_ERR_APPROVAL` (no approver id, not a
/// digest, TTL out of range), `WRIT_RESULT_ERR_NULL`, `WRIT_RESULT_ERR_UTF8`.
///
/// # Safety
/// `key` a live handle; `spec_json` must point to `spec_len` bytes; `out` and `out_len`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_approval_sign(
    key: *const writ_signing_key,
    spec_json: *const c_char,
    spec_len: usize,
    now: u64,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> writ_result {
    boundary(|| {
        let (out, out_len) = (Out::new(out, "out")?, Out::new(out_len, "out_len")?);
        // SAFETY: forwarded from the caller.
        let (key, spec) =
            unsafe { (ffi::handle(key, "key")?, ffi::text(spec_json, spec_len, "spec_json")?) };
        let spec: ApprovalSpec = serde_json::from_str(spec).map_err(|e| {
            Failure::new(writ_result::ErrJson, format!("malformed approval spec: {e}"))
        })?;
        let token = Approval::sign(&spec, &key.key, clock(now))
            .map_err(|e| Failure::new(writ_result::ErrApproval, e.to_string()))?;
        // SAFETY: both checked non-NULL; the caller promises they are writable.
        unsafe { ffi::owned_string(&token, out, out_len) };
        Ok(())
    })
}
