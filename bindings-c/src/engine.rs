//! `writ_engine` (a [`Host`]: compiled policy, keys, audit sinks, atomic reload),
//! `writ_engine_options`, `writ_principal`, and the check functions.

use std::collections::HashSet;
use std::ffi::{c_char, c_int, c_void};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use writ_core::audit::CallbackSink;
use writ_core::identity::{SigningKey, Trust, VerifyingKey};
use writ_core::policy::Source;
use writ_core::{Engine, Host, PolicyError, Principal, Request};

use crate::decision::writ_decision;
use crate::error::{Failure, writ_result};
use crate::ffi::{self, Out, boundary};

/// Options for a new engine (a mask key, a fixed clock). Optional: pass NULL for none.
pub struct writ_engine_options {
    mask_key: Option<Vec<u8>>,
    now: Option<u64>,
}

/// A compiled policy with the host's keys, audit sinks and grant bookkeeping. Thread-safe:
/// share one between threads; reloading swaps the policy atomically (a check runs wholly under
/// the old policy or wholly under the new one).
pub struct writ_engine {
    host: Host,
    /// The keys given so far; `Host::set_trust` replaces them as a whole.
    trust: Mutex<Trust>,
    /// Revoked ids, kept here too so that minting a child grant refuses a revoked parent.
    revoked: Mutex<HashSet<String>>,
}

impl writ_engine {
    pub(crate) fn host(&self) -> &Host {
        &self.host
    }

    pub(crate) fn trust(&self) -> Trust {
        self.trust.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn revoked(&self) -> HashSet<String> {
        self.revoked.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn update_trust(&self, change: impl FnOnce(Trust) -> Trust) {
        let mut trust = self.trust.lock().unwrap_or_else(PoisonError::into_inner);
        *trust = change(std::mem::take(&mut *trust));
        self.host.set_trust(trust.clone());
    }
}

/// An authenticated principal: an id and its groups. Build it once per connection or agent
/// and pass it to every check.
pub struct writ_principal {
    pub(crate) inner: Principal,
}

pub(crate) fn policy_failure(e: &PolicyError) -> Failure {
    let code = match e {
        PolicyError::Io { .. } => writ_result::ErrIo,
        _ => writ_result::ErrPolicy,
    };
    Failure::new(code, e.to_string())
}

/// Compile the policy document at a path, or every document in a directory.
///
/// # Safety
/// `path` must point to `path_len` readable bytes.
unsafe fn engine_from_path(path: *const c_char, path_len: usize) -> Result<Engine, Failure> {
    // SAFETY: forwarded from the caller.
    let path = unsafe { ffi::text(path, path_len, "path") }?;
    Engine::from_path(Path::new(path)).map_err(|e| policy_failure(&e))
}

/// Compile one document held in memory; YAML unless `name` ends in `.json`.
///
/// # Safety
/// Each pointer must point to its length's readable bytes.
unsafe fn engine_from_buffer(
    name: *const c_char,
    name_len: usize,
    data: *const c_char,
    data_len: usize,
) -> Result<Engine, Failure> {
    // SAFETY: forwarded from the caller.
    let (name, data) =
        unsafe { (ffi::text(name, name_len, "name")?, ffi::text(data, data_len, "data")?) };
    Engine::compile(&[Source::new(name, data)]).map_err(|e| policy_failure(&e))
}

fn new_engine(
    engine: Engine,
    options: Option<&writ_engine_options>,
) -> Result<writ_engine, Failure> {
    let mut host = Host::new(engine);
    if let Some(options) = options {
        if let Some(key) = &options.mask_key {
            host = host
                .with_mask_key(key)
                .map_err(|e| Failure::new(writ_result::ErrArgument, format!("mask key: {e}")))?;
        }
        if let Some(now) = options.now {
            host = host.at(now);
        }
    }
    Ok(writ_engine { host, trust: Mutex::new(Trust::new()), revoked: Mutex::new(HashSet::new()) })
}

/// New, empty engine options.
///
/// # Safety
/// `out` must be valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_options_new(
    out: *mut *mut writ_engine_options,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        let options = writ_engine_options { mask_key: None, now: None };
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(options)) };
        Ok(())
    })
}

/// Set the host's secret for keyed masking methods (`hash`, `format_preserving`): at least
/// 32 bytes (checked when the engine is made). The bytes are copied.
///
/// # Safety
/// `options` must be a live handle used by no other thread; `key` must point to `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_options_set_mask_key(
    options: *mut writ_engine_options,
    key: *const u8,
    len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let (options, key) =
            unsafe { (ffi::handle_mut(options, "options")?, ffi::bytes(key, len, "key")?) };
        options.mask_key = Some(key.to_vec());
        Ok(())
    })
}

/// Decide at a fixed Unix time (seconds) instead of the system clock: for tests and replays.
///
/// # Safety
/// `options` must be a live handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_options_set_time(
    options: *mut writ_engine_options,
    unix_seconds: u64,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let options = unsafe { ffi::handle_mut(options, "options") }?;
        options.now = Some(unix_seconds);
        Ok(())
    })
}

/// Free engine options (NULL is accepted). An engine made with them keeps its own copy.
///
/// # Safety
/// `options` must be NULL or a handle from `writ_engine_options_new`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_options_free(options: *mut writ_engine_options) {
    // SAFETY: forwarded from the caller.
    ffi::boundary_void(|| unsafe { ffi::free_handle(options) });
}

/// Compile the policy at `path` (a file, or every `*.yaml`, `*.yml`, `*.json` in a directory)
/// into a new engine. `options` may be NULL.
///
/// # Errors
/// `WRIT_RESULT_ERR_POLICY` (the message lists every problem as `file:line:column: message`),
/// `WRIT_RESULT_ERR_IO`, `WRIT_RESULT_ERR_ARGUMENT` (a weak mask key), `WRIT_RESULT_ERR_NULL`,
/// `WRIT_RESULT_ERR_UTF8`.
///
/// # Safety
/// `path` must point to `path_len` bytes; `options` NULL or a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_new_from_path(
    path: *const c_char,
    path_len: usize,
    options: *const writ_engine_options,
    out: *mut *mut writ_engine,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let options = unsafe { options.as_ref() };
        // SAFETY: forwarded from the caller.
        let engine = new_engine(unsafe { engine_from_path(path, path_len) }?, options)?;
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(engine)) };
        Ok(())
    })
}

/// Compile one policy document held in memory into a new engine. `name` names it in error
/// messages and picks the format: JSON when it ends in `.json`, else YAML. `options` may be
/// NULL.
///
/// # Errors
/// As `writ_engine_new_from_path`, without `WRIT_RESULT_ERR_IO`.
///
/// # Safety
/// Each pointer must point to its length's bytes; `options` NULL or a live handle; `out`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_new_from_buffer(
    name: *const c_char,
    name_len: usize,
    data: *const c_char,
    data_len: usize,
    options: *const writ_engine_options,
    out: *mut *mut writ_engine,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let options = unsafe { options.as_ref() };
        // SAFETY: forwarded from the caller.
        let engine = unsafe { engine_from_buffer(name, name_len, data, data_len) }?;
        let engine = new_engine(engine, options)?;
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(engine)) };
        Ok(())
    })
}

/// Free an engine (NULL is accepted). No other thread may be using it.
///
/// # Safety
/// `engine` must be NULL or a handle from `writ_engine_new_*`, freed once, used by no thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_free(engine: *mut writ_engine) {
    // SAFETY: forwarded from the caller.
    ffi::boundary_void(|| unsafe { ffi::free_handle(engine) });
}

/// Recompile the policy at `path` and swap it in atomically. On failure the engine keeps its
/// current policy. Safe to call while other threads check.
///
/// # Errors
/// As `writ_engine_new_from_path`.
///
/// # Safety
/// `engine` a live handle; `path` must point to `path_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_reload_path(
    engine: *const writ_engine,
    path: *const c_char,
    path_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let engine = unsafe { ffi::handle(engine, "engine") }?;
        // SAFETY: forwarded from the caller.
        let compiled = unsafe { engine_from_path(path, path_len) }?;
        engine.host.reload(compiled);
        Ok(())
    })
}

/// Recompile one in-memory document (see `writ_engine_new_from_buffer`) and swap it in
/// atomically. On failure the engine keeps its current policy.
///
/// # Errors
/// As `writ_engine_new_from_buffer`.
///
/// # Safety
/// `engine` a live handle; each pointer must point to its length's bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_reload_buffer(
    engine: *const writ_engine,
    name: *const c_char,
    name_len: usize,
    data: *const c_char,
    data_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let engine = unsafe { ffi::handle(engine, "engine") }?;
        // SAFETY: forwarded from the caller.
        let compiled = unsafe { engine_from_buffer(name, name_len, data, data_len) }?;
        engine.host.reload(compiled);
        Ok(())
    })
}

/// The version of the engine's current policy (`sha256:…`), as a new string: release it with
/// `writ_string_free`.
///
/// # Safety
/// `engine` a live handle; `out` and `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_policy_version(
    engine: *const writ_engine,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> writ_result {
    boundary(|| {
        let (out, out_len) = (Out::new(out, "out")?, Out::new(out_len, "out_len")?);
        // SAFETY: forwarded from the caller.
        let engine = unsafe { ffi::handle(engine, "engine") }?;
        let current = engine.host.engine();
        // SAFETY: both out-parameters checked non-NULL; the caller promises they are writable.
        unsafe { ffi::owned_string(current.policy_version(), out, out_len) };
        Ok(())
    })
}

/// A public key (SPKI PEM) or an Ed25519 private key (PKCS#8 PEM, whose public half is used).
fn verifying_key(kid: &str, pem: &str) -> Result<VerifyingKey, Failure> {
    let key_failure = |e: &dyn std::fmt::Display| Failure::new(writ_result::ErrKey, e.to_string());
    if pem.contains("PRIVATE KEY") {
        return SigningKey::ed25519_from_pem(kid, pem)
            .map(|k| k.verifying_key())
            .map_err(|e| key_failure(&e));
    }
    VerifyingKey::ed25519_from_pem(kid, pem).map_err(|e| key_failure(&e))
}

/// Trust grants signed by the Ed25519 key `kid` in `pem` (a public key PEM, or a private key
/// PEM whose public half is used). Requests carrying such grants verify from now on.
///
/// # Errors
/// `WRIT_RESULT_ERR_KEY` for a PEM that holds no Ed25519 key or an empty `kid`.
///
/// # Safety
/// `engine` a live handle; each pointer must point to its length's bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_add_grant_key_pem(
    engine: *const writ_engine,
    kid: *const c_char,
    kid_len: usize,
    pem: *const c_char,
    pem_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let (engine, kid, pem) = unsafe {
            (
                ffi::handle(engine, "engine")?,
                ffi::text(kid, kid_len, "kid")?,
                ffi::text(pem, pem_len, "pem")?,
            )
        };
        let key = verifying_key(kid, pem)?;
        engine.update_trust(|t| t.grant_key(key));
        Ok(())
    })
}

/// Trust approvals signed by the Ed25519 key `kid` in `pem` (public or private PEM).
///
/// # Errors
/// As `writ_engine_add_grant_key_pem`.
///
/// # Safety
/// As `writ_engine_add_grant_key_pem`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_add_approval_key_pem(
    engine: *const writ_engine,
    kid: *const c_char,
    kid_len: usize,
    pem: *const c_char,
    pem_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let (engine, kid, pem) = unsafe {
            (
                ffi::handle(engine, "engine")?,
                ffi::text(kid, kid_len, "kid")?,
                ffi::text(pem, pem_len, "pem")?,
            )
        };
        let key = verifying_key(kid, pem)?;
        engine.update_trust(|t| t.approval_key(key));
        Ok(())
    })
}

/// Supply the shared secret an `HS256` token issuer names with `shared_secret: ID`.
///
/// # Safety
/// `engine` a live handle; each pointer must point to its length's bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_add_shared_secret(
    engine: *const writ_engine,
    id: *const c_char,
    id_len: usize,
    secret: *const u8,
    secret_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let (engine, id, secret) = unsafe {
            (
                ffi::handle(engine, "engine")?,
                ffi::text(id, id_len, "id")?,
                ffi::bytes(secret, secret_len, "secret")?,
            )
        };
        engine.update_trust(|t| t.shared_secret(id, secret));
        Ok(())
    })
}

/// Revoke a grant link or an approval by id: later checks using it are denied, and no child
/// grant is minted from a chain holding it.
///
/// # Safety
/// `engine` a live handle; `id` must point to `id_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_revoke(
    engine: *const writ_engine,
    id: *const c_char,
    id_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let (engine, id) =
            unsafe { (ffi::handle(engine, "engine")?, ffi::text(id, id_len, "id")?) };
        engine.revoked.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_owned());
        engine.host.revoke(id);
        Ok(())
    })
}

/// Called with each audit event as one line of JSON (`json[len]` is a NUL). The text is only
/// valid during the call. Return 0 when the event was recorded; anything else is a sink
/// failure, and unless the policy says `audit: {on_failure: continue}` the request is denied
/// (nothing runs unrecorded).
pub type writ_audit_callback =
    Option<unsafe extern "C" fn(json: *const c_char, len: usize, user: *mut c_void) -> c_int>;

/// The caller's `user` pointer, handed back to the callback on whatever thread checks.
struct UserData(*mut c_void);

// SAFETY: writ never dereferences the pointer; it only passes it back to the caller's callback.
// `writ_engine_add_audit_callback` documents that the callback and its data must be safe to
// use from any thread, which is the caller's promise.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`.
unsafe impl Sync for UserData {}

impl UserData {
    /// A method, so closures capture the whole `UserData` (which is `Send + Sync`), not the
    /// raw pointer field.
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Send every later audit event (one per check, one per masking pass) to `callback` with
/// `user`. Callbacks add up: each one added receives every event, in the order added.
///
/// The callback runs on the thread that called the check, possibly on several threads at
/// once: it and `user` must be thread-safe. It must not call back into the same engine's
/// check or mask functions, and must not unwind (C++ exceptions) or `longjmp` out. `user`
/// must outlive the engine.
///
/// # Safety
/// `engine` a live handle; `callback` a function with that signature; see above for `user`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_add_audit_callback(
    engine: *const writ_engine,
    callback: writ_audit_callback,
    user: *mut c_void,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let engine = unsafe { ffi::handle(engine, "engine") }?;
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        let user = UserData(user);
        let sink = CallbackSink::new(move |json: &str| {
            let c = ffi::c_string(json);
            let len = c.as_bytes().len();
            // SAFETY: `callback` is the caller's function with this signature; `c` stays alive
            // for the call; `user` is the caller's pointer, returned untouched.
            let status = unsafe { callback(c.as_ptr(), len, user.get()) };
            if status == 0 { Ok(()) } else { Err(format!("the audit callback returned {status}")) }
        });
        engine.host.add_sink(Arc::new(sink));
        Ok(())
    })
}

/// A new principal with id `id` and no groups.
///
/// # Safety
/// `id` must point to `id_len` bytes; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_principal_new(
    id: *const c_char,
    id_len: usize,
    out: *mut *mut writ_principal,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let id = unsafe { ffi::text(id, id_len, "id") }?;
        let principal = writ_principal { inner: Principal::new(id, Vec::<String>::new()) };
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(principal)) };
        Ok(())
    })
}

/// Add a group to a principal.
///
/// # Safety
/// `principal` a live handle used by no other thread; `group` must point to `group_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_principal_add_group(
    principal: *mut writ_principal,
    group: *const c_char,
    group_len: usize,
) -> writ_result {
    boundary(|| {
        // SAFETY: forwarded from the caller.
        let (principal, group) = unsafe {
            (ffi::handle_mut(principal, "principal")?, ffi::text(group, group_len, "group")?)
        };
        principal.inner.groups.push(group.to_owned());
        Ok(())
    })
}

/// Free a principal (NULL is accepted).
///
/// # Safety
/// `principal` must be NULL or a handle from `writ_principal_new`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_principal_free(principal: *mut writ_principal) {
    // SAFETY: forwarded from the caller.
    ffi::boundary_void(|| unsafe { ffi::free_handle(principal) });
}

fn check(engine: &writ_engine, request: &Request, out: Out<*mut writ_decision>) {
    let checked = engine.host.check(request);
    let decision = writ_decision::new(checked, &request.resource);
    // SAFETY: every caller checked `out` non-NULL first and the C caller promised it is
    // writable.
    unsafe { out.write(ffi::into_handle(decision)) };
}

/// Decide a request given as JSON (the contract of `writ eval`: `{"principal": {"id",
/// "groups"}, "resource", "action": {"sql" | "command" | "argv" | "http" | "tool": ...},
/// "token"?, "grant"?, "approval"?}`), write its audit event, and return the decision (free it
/// with `writ_decision_free`). A request that cannot be verified or audited is denied, not an
/// error.
///
/// # Errors
/// `WRIT_RESULT_ERR_JSON` for a malformed request (unknown fields are refused),
/// `WRIT_RESULT_ERR_NULL`, `WRIT_RESULT_ERR_UTF8`.
///
/// # Safety
/// `engine` a live handle; `json` must point to `json_len` bytes; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_check_json(
    engine: *const writ_engine,
    json: *const c_char,
    json_len: usize,
    out: *mut *mut writ_decision,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let (engine, json) =
            unsafe { (ffi::handle(engine, "engine")?, ffi::text(json, json_len, "json")?) };
        let request: Request = serde_json::from_str(json)
            .map_err(|e| Failure::new(writ_result::ErrJson, format!("malformed request: {e}")))?;
        check(engine, &request, out);
        Ok(())
    })
}

/// Shared by the direct checks.
///
/// # Safety
/// As `writ_check_sql`.
#[expect(clippy::too_many_arguments, reason = "the C arguments of a check, plus the request kind")]
unsafe fn check_direct(
    engine: *const writ_engine,
    principal: *const writ_principal,
    resource: *const c_char,
    resource_len: usize,
    text: *const c_char,
    text_len: usize,
    out: *mut *mut writ_decision,
    request: fn(Principal, &str, &str) -> Request,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let (engine, principal, resource, text) = unsafe {
            (
                ffi::handle(engine, "engine")?,
                ffi::handle(principal, "principal")?,
                ffi::text(resource, resource_len, "resource")?,
                ffi::text(text, text_len, "text")?,
            )
        };
        check(engine, &request(principal.inner.clone(), resource, text), out);
        Ok(())
    })
}

/// Decide SQL text (one or more statements) run by `principal` on `resource`, without JSON:
/// the hot path of a database proxy. Otherwise as `writ_check_json`.
///
/// # Safety
/// `engine` and `principal` live handles; each text must point to its length's bytes; `out`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_check_sql(
    engine: *const writ_engine,
    principal: *const writ_principal,
    resource: *const c_char,
    resource_len: usize,
    sql: *const c_char,
    sql_len: usize,
    out: *mut *mut writ_decision,
) -> writ_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        check_direct(engine, principal, resource, resource_len, sql, sql_len, out, |p, r, t| {
            Request::sql(p, r, t)
        })
    }
}

/// Decide a shell command line (as given to `bash -c`) run by `principal` on `resource`,
/// without JSON. The line is parsed, never run. Otherwise as `writ_check_json`.
///
/// # Safety
/// As `writ_check_sql`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_check_command(
    engine: *const writ_engine,
    principal: *const writ_principal,
    resource: *const c_char,
    resource_len: usize,
    line: *const c_char,
    line_len: usize,
    out: *mut *mut writ_decision,
) -> writ_result {
    // SAFETY: forwarded from the caller.
    unsafe {
        check_direct(engine, principal, resource, resource_len, line, line_len, out, |p, r, t| {
            Request::command(p, r, t)
        })
    }
}

#[cfg(feature = "test-panic")]
/// Panics inside the boundary: only in builds with the `test-panic` feature, so the C tests
/// can see `WRIT_RESULT_ERR_PANIC`. Not in `writ.h`.
#[unsafe(no_mangle)]
pub extern "C" fn writ_test_panic() -> writ_result {
    #[expect(clippy::panic, reason = "the point of this test hook")]
    boundary(|| panic!("deliberate panic from writ_test_panic"))
}
