//! `Engine`: a `writ::Host` (a compiled policy with the host's keys, audit sinks and grant
//! bookkeeping) shared by every Python thread.
//!
//! # Threads and the GIL
//! The host is `Send + Sync` and the class is frozen, so one engine serves any number of
//! threads without locks of its own. Every check and every masking pass runs with the GIL
//! released (`Python::detach`); an audit callback takes it back for the duration of the call.
//!
//! # Failing closed at the boundary
//! A check never raises for a denial: it returns a `Decision`. A panic inside the core (a bug)
//! is caught here and becomes a `deny` decision naming the internal error, so a caller that
//! only looks at `decision.allowed` still fails closed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::Value;
use writ::audit::{CallbackSink, ChainKey, FileOptions, FileSink};
use writ::identity::{ApprovalUse, Checked, Trust};
use writ::policy::{Format, Source};
use writ::{Action, Effect, Host, HttpRequest, MaskRowsError, Request, ToolCall};

use crate::convert::{cell_to_json, to_json, to_py, type_name};
use crate::decision::Decision;
use crate::errors;
use crate::keys::verifying;
use crate::request::{Envelope, request_from};

/// A compiled policy with the host's keys, audit sinks and grant bookkeeping.
#[pyclass(frozen, module = "writ._writ", name = "Engine")]
pub struct Engine {
    host: Arc<Host>,
    /// The keys handed to the host so far: `Host::set_trust` replaces them all, so each new key
    /// is added here and the whole set handed over again.
    trust: Mutex<Trust>,
}

fn compile_path(py: Python<'_>, path: PathBuf) -> PyResult<writ::Engine> {
    py.detach(|| writ::Engine::from_path(&path)).map_err(|e| errors::policy(py, &e))
}

fn compile_text(
    py: Python<'_>,
    text: String,
    name: String,
    format: Option<&str>,
) -> PyResult<writ::Engine> {
    let format = match format {
        None => Format::from_name(&name),
        Some("yaml") => Format::Yaml,
        Some("json") => Format::Json,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "format must be \"yaml\" or \"json\", not {other:?}"
            )));
        }
    };
    let source = Source { name, text, format };
    py.detach(|| writ::Engine::compile(std::slice::from_ref(&source)))
        .map_err(|e| errors::policy(py, &e))
}

impl Engine {
    fn build(
        py: Python<'_>,
        engine: writ::Engine,
        mask_key: Option<&[u8]>,
        now: Option<u64>,
    ) -> PyResult<Engine> {
        let mut host = Host::new(engine);
        if let Some(key) = mask_key {
            host = host
                .with_mask_key(key)
                .map_err(|e| errors::simple(py, "MaskError", e.to_string()))?;
        }
        if let Some(now) = now {
            host = host.at(now);
        }
        Ok(Engine { host: Arc::new(host), trust: Mutex::new(Trust::new()) })
    }

    /// Check `request` with the GIL released; a panic in the core becomes a deny.
    fn decide(&self, py: Python<'_>, request: Request) -> Decision {
        let host = &self.host;
        let checked = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| host.check(&request))).unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                internal_deny(host, &request, &what)
            })
        });
        Decision::new(checked, request.resource)
    }

    fn update_trust(&self, change: impl FnOnce(Trust) -> Trust) {
        let mut trust = self.trust.lock().unwrap_or_else(PoisonError::into_inner);
        *trust = change(std::mem::take(&mut *trust));
        self.host.set_trust(trust.clone());
    }
}

/// The decision for a request whose check panicked: deny, with the reason.
fn internal_deny(host: &Host, request: &Request, what: &str) -> Checked {
    Checked {
        decision: writ::Decision {
            effect: Effect::Deny,
            rules: Vec::new(),
            reason: format!("internal error in writ (denied): {what}"),
            digest: request.digest(),
            policy: host.engine().policy_version().to_owned(),
            parts: Vec::new(),
            view: None,
            mask: None,
        },
        principal: None,
        grant: None,
        policy_effect: None,
        consume: Vec::new(),
        approval: ApprovalUse::None,
    }
}

/// Result column names from names or DB-API `cursor.description` entries (a sequence whose
/// first item is the name).
fn column_names(columns: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let mut names = Vec::new();
    for item in columns.try_iter()? {
        let item = item?;
        if let Ok(s) = item.cast::<PyString>() {
            names.push(s.to_cow()?.into_owned());
        } else if let Ok(first) = item.get_item(0) {
            names.push(first.str()?.to_cow()?.into_owned());
        } else {
            return Err(PyTypeError::new_err(format!(
                "a column is a name or a cursor.description entry, not {}",
                type_name(&item).unwrap_or_else(|| "?".into())
            )));
        }
    }
    Ok(names)
}

/// How a row came in, so it goes back out in the same shape.
enum Shape<'py> {
    Tuple,
    List,
    Dict(Bound<'py, PyDict>),
}

#[pymethods]
impl Engine {
    /// Compile the policy document at `path`, or every document in the directory at `path`.
    ///
    /// `mask_key` is the host's secret for keyed masking methods (`hash`,
    /// `format_preserving`); `now` fixes the clock (Unix seconds) for tests and replays.
    /// Raises `PolicyError` (with file, line and column) when the policy is invalid.
    #[staticmethod]
    #[pyo3(signature = (path, *, mask_key=None, now=None))]
    fn from_path(
        py: Python<'_>,
        path: PathBuf,
        mask_key: Option<&[u8]>,
        now: Option<u64>,
    ) -> PyResult<Engine> {
        let engine = compile_path(py, path)?;
        Engine::build(py, engine, mask_key, now)
    }

    /// Compile one policy document held in memory. `name` appears in error messages;
    /// `format` is `"yaml"` or `"json"` (default: from `name`, YAML unless it ends in
    /// `.json`).
    #[staticmethod]
    #[pyo3(signature = (text, *, name="<policy>".to_owned(), format=None, mask_key=None, now=None))]
    fn from_str(
        py: Python<'_>,
        text: String,
        name: String,
        format: Option<&str>,
        mask_key: Option<&[u8]>,
        now: Option<u64>,
    ) -> PyResult<Engine> {
        let engine = compile_text(py, text, name, format)?;
        Engine::build(py, engine, mask_key, now)
    }

    /// Compile the policy at `path` and swap it in atomically: checks already running finish
    /// under the old policy. On `PolicyError` the old policy stays.
    fn reload_path(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let engine = compile_path(py, path)?;
        self.host.reload(engine);
        Ok(())
    }

    /// As `reload_path`, from a document held in memory.
    #[pyo3(signature = (text, *, name="<policy>".to_owned(), format=None))]
    fn reload_str(
        &self,
        py: Python<'_>,
        text: String,
        name: String,
        format: Option<&str>,
    ) -> PyResult<()> {
        let engine = compile_text(py, text, name, format)?;
        self.host.reload(engine);
        Ok(())
    }

    /// The version of the current policy (`sha256:` of its documents).
    #[getter]
    fn policy_version(&self) -> String {
        self.host.engine().policy_version().to_owned()
    }

    /// Names of the resources the current policy declares.
    #[getter]
    fn resources(&self) -> Vec<String> {
        self.host.engine().resource_names().map(str::to_owned).collect()
    }

    /// Ids of the current policy's rules, in policy order.
    #[getter]
    fn rule_ids(&self) -> Vec<String> {
        self.host.engine().rule_ids().map(str::to_owned).collect()
    }

    /// Decide a request given as a dict (or JSON text) in the JSON contract:
    /// `{"principal": {"id", "groups"}, "resource", "action": {...}, "token"?, "grant"?,
    /// "approval"?}`. Raises `RequestError` when it is not a valid request; never raises for a
    /// denial.
    fn check(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let request = request_from(py, request)?;
        Ok(self.decide(py, request))
    }

    /// Decide SQL text run by `principal` on the SQL resource `resource`.
    #[pyo3(signature = (principal, sql, *, resource, groups=Vec::new(), token=None, grant=None, approval=None))]
    #[expect(clippy::too_many_arguments, reason = "keyword arguments of one Python method")]
    fn check_sql(
        &self,
        py: Python<'_>,
        principal: Option<String>,
        sql: String,
        resource: String,
        groups: Vec<String>,
        token: Option<String>,
        grant: Option<String>,
        approval: Option<String>,
    ) -> Decision {
        let envelope = Envelope { principal, groups, resource, token, grant, approval };
        self.decide(py, envelope.request(Action::Sql(sql)))
    }

    /// Decide a shell command line (as `bash -c` would run it) on a shell resource.
    #[pyo3(signature = (principal, command, *, resource, groups=Vec::new(), token=None, grant=None, approval=None))]
    #[expect(clippy::too_many_arguments, reason = "keyword arguments of one Python method")]
    fn check_command(
        &self,
        py: Python<'_>,
        principal: Option<String>,
        command: String,
        resource: String,
        groups: Vec<String>,
        token: Option<String>,
        grant: Option<String>,
        approval: Option<String>,
    ) -> Decision {
        let envelope = Envelope { principal, groups, resource, token, grant, approval };
        self.decide(py, envelope.request(Action::Command(command)))
    }

    /// Decide an argument vector executed without a shell on a shell resource.
    #[pyo3(signature = (principal, argv, *, resource, groups=Vec::new(), token=None, grant=None, approval=None))]
    #[expect(clippy::too_many_arguments, reason = "keyword arguments of one Python method")]
    fn check_argv(
        &self,
        py: Python<'_>,
        principal: Option<String>,
        argv: Vec<String>,
        resource: String,
        groups: Vec<String>,
        token: Option<String>,
        grant: Option<String>,
        approval: Option<String>,
    ) -> Decision {
        let envelope = Envelope { principal, groups, resource, token, grant, approval };
        self.decide(py, envelope.request(Action::Argv(argv)))
    }

    /// Decide an HTTP request (`method`, absolute `url`) on an `http` resource.
    #[pyo3(signature = (principal, method, url, *, resource, groups=Vec::new(), token=None, grant=None, approval=None))]
    #[expect(clippy::too_many_arguments, reason = "keyword arguments of one Python method")]
    fn check_http(
        &self,
        py: Python<'_>,
        principal: Option<String>,
        method: String,
        url: String,
        resource: String,
        groups: Vec<String>,
        token: Option<String>,
        grant: Option<String>,
        approval: Option<String>,
    ) -> Decision {
        let envelope = Envelope { principal, groups, resource, token, grant, approval };
        self.decide(py, envelope.request(Action::Http(HttpRequest { method, url })))
    }

    /// Decide a tool call (`name`, JSON-shaped `arguments`) on a `tool` resource. Raises
    /// `RequestError` when the arguments are not JSON-shaped.
    #[pyo3(signature = (principal, name, arguments=None, *, resource, groups=Vec::new(), token=None, grant=None, approval=None))]
    #[expect(clippy::too_many_arguments, reason = "keyword arguments of one Python method")]
    fn check_tool(
        &self,
        py: Python<'_>,
        principal: Option<String>,
        name: String,
        arguments: Option<&Bound<'_, PyAny>>,
        resource: String,
        groups: Vec<String>,
        token: Option<String>,
        grant: Option<String>,
        approval: Option<String>,
    ) -> PyResult<Decision> {
        let arguments = match arguments {
            None => Value::Object(serde_json::Map::new()),
            Some(a) => to_json(a).map_err(|e| {
                errors::simple(py, "RequestError", format!("invalid tool arguments: {e}"))
            })?,
        };
        let envelope = Envelope { principal, groups, resource, token, grant, approval };
        Ok(self.decide(py, envelope.request(Action::Tool(ToolCall { name, arguments }))))
    }

    /// Mask the rows of the result of an allowed request as `decision`'s mask plan says, and
    /// record one masking event.
    ///
    /// `columns` are the result's column names in order, or a DB-API `cursor.description`;
    /// for dict rows it may be None (the first row's keys). `rows` is any iterable of tuples,
    /// lists, dicts or other sequences; the result is a list of rows of the same kinds (other
    /// sequences become tuples). Values left unmasked are returned as the very same objects.
    ///
    /// Raises `PermissionDenied` (or `ApprovalRequired`) when the decision is not `allow`,
    /// `MaskError` when the plan does not fit the columns or needs a key the engine lacks,
    /// `AuditError` when the masking pass cannot be recorded and the policy fails closed.
    #[pyo3(signature = (decision, columns, rows))]
    fn mask_rows<'py>(
        &self,
        py: Python<'py>,
        decision: &Bound<'py, Decision>,
        columns: Option<&Bound<'py, PyAny>>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let d = decision.get();
        let rows: Vec<Bound<'py, PyAny>> = rows.try_iter()?.collect::<PyResult<_>>()?;
        let names = match columns {
            Some(c) if !c.is_none() => column_names(c)?,
            _ => match rows.first().map(|r| r.cast::<PyDict>()) {
                Some(Ok(first)) => first
                    .keys()
                    .iter()
                    .map(|k| Ok(k.str()?.to_cow()?.into_owned()))
                    .collect::<PyResult<_>>()?,
                Some(Err(_)) => {
                    return Err(PyTypeError::new_err(
                        "columns are needed for rows that are not dicts",
                    ));
                }
                None => Vec::new(),
            },
        };
        let mut shapes = Vec::with_capacity(rows.len());
        let mut originals: Vec<Vec<Bound<'py, PyAny>>> = Vec::with_capacity(rows.len());
        let mut values: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let (shape, cells): (Shape<'py>, Vec<Bound<'py, PyAny>>) =
                if let Ok(dict) = row.cast::<PyDict>() {
                    let cells = names
                        .iter()
                        .map(|n| {
                            dict.get_item(n)?.ok_or_else(|| {
                                PyValueError::new_err(format!("a row has no column `{n}`"))
                            })
                        })
                        .collect::<PyResult<_>>()?;
                    (Shape::Dict(dict.clone()), cells)
                } else if row.cast::<PyList>().is_ok() {
                    (Shape::List, row.try_iter()?.collect::<PyResult<_>>()?)
                } else if row.cast::<PyString>().is_ok() {
                    return Err(PyTypeError::new_err("a row is a sequence or a dict, not a str"));
                } else {
                    (Shape::Tuple, row.try_iter()?.collect::<PyResult<_>>()?)
                };
            if cells.len() != names.len() {
                return Err(errors::simple(
                    py,
                    "MaskError",
                    format!("a row has {} values for {} columns", cells.len(), names.len()),
                ));
            }
            values.push(cells.iter().map(cell_to_json).collect::<PyResult<_>>()?);
            originals.push(cells);
            shapes.push(shape);
        }
        let before = values.clone();
        let principal = d.principal.clone().unwrap_or_default();
        let host = &self.host;
        let masked = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                host.mask_rows(&principal, &d.resource, &d.inner, &names, &mut values)
            }))
        });
        match masked {
            Ok(Ok(_report)) => {}
            Ok(Err(MaskRowsError::NotAllowed(effect))) => {
                return Err(errors::denied(
                    py,
                    decision.clone().into_any().unbind(),
                    effect == Effect::ApprovalRequired,
                    &format!(
                        "the decision is `{effect}`, not `allow`: the result must not be returned"
                    ),
                ));
            }
            Ok(Err(e @ MaskRowsError::Audit(_))) => {
                return Err(errors::simple(py, "AuditError", e.to_string()));
            }
            Ok(Err(e)) => return Err(errors::simple(py, "MaskError", e.to_string())),
            Err(_) => {
                return Err(errors::simple(
                    py,
                    "MaskError",
                    "internal error in writ while masking",
                ));
            }
        }
        let out = PyList::empty(py);
        for (((shape, cells), row), old) in
            shapes.into_iter().zip(originals).zip(values).zip(before)
        {
            let mut items = Vec::with_capacity(cells.len());
            for ((cell, new), old) in cells.into_iter().zip(row).zip(old) {
                items.push(if new == old { cell } else { to_py(py, &new)? });
            }
            match shape {
                Shape::Tuple => out.append(PyTuple::new(py, items)?)?,
                Shape::List => out.append(PyList::new(py, items)?)?,
                Shape::Dict(dict) => {
                    let copy = dict.copy()?;
                    for (name, item) in names.iter().zip(items) {
                        copy.set_item(name, item)?;
                    }
                    out.append(copy)?;
                }
            }
        }
        Ok(out)
    }

    /// Call `callback` with every later audit event (a dict; the JSON text with `raw=True`),
    /// from the thread that checked, holding the GIL. An exception in the callback is a sink
    /// failure: the request is denied unless the policy says `audit: {on_failure: continue}`.
    #[pyo3(signature = (callback, *, raw=false))]
    fn add_audit_sink(&self, callback: Bound<'_, PyAny>, raw: bool) -> PyResult<()> {
        if !callback.is_callable() {
            return Err(PyTypeError::new_err("the audit sink must be callable"));
        }
        let callback = callback.unbind();
        let sink = CallbackSink::new(move |json: &str| {
            Python::attach(|py| {
                let event = if raw {
                    PyString::new(py, json).into_any()
                } else {
                    let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
                    to_py(py, &value).map_err(|e| e.to_string())?
                };
                callback.call1(py, (event,)).map(|_| ()).map_err(|e| {
                    let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
                    format!("{kind}: {}", e.value(py))
                })
            })
        });
        self.host.add_sink(Arc::new(sink));
        Ok(())
    }

    /// Append every later audit event to the hash-chained JSON Lines log at `path` (continuing
    /// its chain; `writ audit verify` checks it). `key` keys the chain (HMAC-SHA-256), `sync`
    /// fsyncs every event, `rotate_bytes` rotates the file before it grows past that size.
    /// Raises `AuditError` when the file cannot be opened or continued.
    #[pyo3(signature = (path, *, key=None, sync=false, rotate_bytes=None))]
    fn add_audit_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        key: Option<&[u8]>,
        sync: bool,
        rotate_bytes: Option<u64>,
    ) -> PyResult<()> {
        let key = key
            .map(ChainKey::new)
            .transpose()
            .map_err(|e| errors::simple(py, "AuditError", format!("invalid audit key: {e}")))?;
        let options = FileOptions { rotate_bytes, sync, key };
        let sink = py
            .detach(|| FileSink::open_with(&path, options))
            .map_err(|e| errors::simple(py, "AuditError", e.to_string()))?;
        self.host.add_sink(Arc::new(sink));
        Ok(())
    }

    /// Trust grants signed by `key` (a `VerifyingKey`, or a `SigningKey` for its public half).
    fn trust_grant_key(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = verifying(key)?;
        self.update_trust(|t| t.grant_key(key));
        Ok(())
    }

    /// Trust approvals signed by `key`.
    fn trust_approval_key(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = verifying(key)?;
        self.update_trust(|t| t.approval_key(key));
        Ok(())
    }

    /// Supply the shared secret an `HS256` token issuer names with `shared_secret: <id>`.
    fn trust_shared_secret(&self, id: String, secret: &[u8]) {
        let secret = secret.to_vec();
        self.update_trust(|t| t.shared_secret(id, &secret));
    }

    /// Revoke a grant link or approval by id: later checks using it are denied.
    fn revoke(&self, id: String) {
        self.host.revoke(id);
    }

    fn __repr__(&self) -> String {
        let engine = self.host.engine();
        format!(
            "Engine(policy={:?}, resources={:?})",
            engine.policy_version(),
            engine.resource_names().collect::<Vec<_>>()
        )
    }
}
