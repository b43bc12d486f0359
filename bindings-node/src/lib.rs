//! Node binding for writ (napi-rs): the native addon behind the `writ` npm package.
//!
//! It stays thin: every value is translated and handed to `writ::Host`, which decides, masks,
//! keeps the grant bookkeeping and writes the audit events. No policy logic lives here.
//!
//! - [`Decision`]: what a check returns, a native object converting its fields when read.
//! - [`DecisionSlot`]: where the `check*Into` methods keep their decision, for hot paths that
//!   return only the effect and make no object per call.
//! - [`Engine`]: a policy and a host (`fromPath`, `fromString`), checks (`check`, `checkSql`,
//!   `checkCommand`, `checkTool`, their `*Into` forms, and `checkAsync` on the libuv pool),
//!   a [`Checker`] bound to one principal and resource (`checker`; its `sqlGuard` and
//!   `commandGuard` make plain functions, the cheapest calls),
//!   masking of result rows (`maskRows`, `maskRowsAsync`), audit sinks (`onAudit`,
//!   `addAuditFile`), keys and revocation, atomic reload.
//! - [`keys`]: signing keys, grants and approvals.
//! - [`audit`]: how a JavaScript audit callback stays fail-closed without deadlocking.
//! - [`error`]: errors are JS `Error`s with a `code` and structured details.
//!
//! The TypeScript declarations (`index.d.ts`) are generated from this crate by `napi build`.

#![deny(missing_docs)]

mod audit;
mod decision;
mod error;
mod keys;
mod request;
pub mod rows;

use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::FromNapiValue;
use napi::bindgen_prelude::{AsyncTask, Buffer, ClassInstance, Either, Function, Unknown};
use napi::{Env, Task, ValueType};
use napi_derive::napi;
use serde_json::Value;
use writ::identity::{Checked, Trust};
use writ::{Action, Host, Request, ToolCall};

pub use decision::{
    ApprovalOutcome, Decision, DecisionJson, DecisionSlot, Effect, Part, Principal,
};
pub use keys::{
    ApprovalOptions, GrantOptions, SigningKey, generate_key, mint_grant, sign_approval,
};
pub use rows::MaskResult;

/// The addon allocates with mimalloc, not the C library's allocator. Node frees a decision's
/// native memory from its finalizer, after a garbage collection, so thousands are freed in a
/// burst; glibc's malloc spent a large part of each call consolidating and searching free
/// chunks after such bursts (benches/README.md, "Binding call overhead"). Every allocation
/// the addon makes is freed by the addon (napi copies strings across; buffers handed to V8
/// are freed by their finalizers, which run here), so no memory crosses allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::audit::JsThread;
use crate::error::{Failure, js};

/// How an `Engine` is set up beside its policy.
#[napi(object)]
#[derive(Default)]
pub struct EngineOptions {
    /// The host's secret for keyed masking methods (`hash`, `format_preserving`).
    pub mask_key: Option<Buffer>,
    /// Decide at this fixed Unix time (seconds) instead of the system clock (tests, replays).
    pub now: Option<i64>,
    /// Include the engine's `view` in decisions (default `true`). `false` leaves it out
    /// (`decision.view` is `undefined`): for hosts that never look at it.
    pub views: Option<bool>,
}

/// A compiled policy with the host's keys, audit sinks and grant bookkeeping.
///
/// One `Engine` may serve many checks, from the JS thread and (through the `*Async` methods)
/// from the libuv pool at the same time.
#[napi]
pub struct Engine {
    host: Arc<Host>,
    trust: Mutex<Trust>,
    views: bool,
}

fn compile(text: &str, format: Option<&str>) -> Result<writ::Engine, Failure> {
    let compiled = match format.unwrap_or("yaml") {
        "yaml" | "yml" => writ::Engine::from_yaml(text),
        "json" => writ::Engine::from_json(text),
        other => {
            return Err(Failure::request(format!("`{other}` is not a policy format (yaml, json)")));
        }
    };
    compiled.map_err(|e| Failure::policy(&e))
}

fn host(engine: writ::Engine, options: Option<EngineOptions>) -> Result<Engine, Failure> {
    let options = options.unwrap_or_default();
    let views = options.views.unwrap_or(true);
    let mut host = Host::new(engine);
    if let Some(key) = options.mask_key {
        host = host.with_mask_key(key.as_ref()).map_err(|e| {
            Failure::new("WRIT_MASK", format!("invalid mask key: {e}"))
                .with(serde_json::json!({"kind": "key"}))
        })?;
    }
    if let Some(now) = options.now {
        let now = u64::try_from(now)
            .map_err(|_| Failure::request(format!("`now` must not be negative, not {now}")))?;
        host = host.at(now);
    }
    Ok(Engine { host: Arc::new(host), trust: Mutex::new(Trust::new()), views })
}

fn principal(id: String, groups: Option<Vec<String>>) -> writ::Principal {
    writ::Principal { id, groups: groups.unwrap_or_default() }
}

/// An optional argument as passed: `None` for `undefined` or `null`, as for a typed one.
fn absent(value: Option<Unknown>) -> napi::Result<Option<Unknown>> {
    match value {
        Some(v) if !matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// The principal of the `check*Into` methods, converted from their untyped arguments (they
/// take them untyped so that they can empty the slot before a conversion may throw).
fn who(id: Unknown, groups: Option<Unknown>) -> napi::Result<writ::Principal> {
    let groups = absent(groups)?.map(Vec::<String>::from_unknown).transpose()?;
    Ok(principal(String::from_unknown(id)?, groups))
}

/// The `Decision` handed back to `maskRows`: only one a check made will do, since a plain
/// object could carry any mask plan (or none).
fn native<'a>(
    decision: &'a Either<ClassInstance<Decision>, Unknown>,
) -> Result<&'a Decision, Failure> {
    match decision {
        Either::A(d) => Ok(d),
        Either::B(_) => Err(Failure::request(
            "`decision` must be a Decision returned by an Engine check, not a plain object \
             (its mask plan cannot be taken on trust)",
        )),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The trust is replaced whole under the lock: a poisoned lock still holds a complete value.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Decide `request` on `host` and write its audit event.
fn decide(host: &Host, views: bool, env: &Env, request: &Request) -> Decision {
    let _js = JsThread::enter(env);
    let checked = host.check(request);
    Decision::new(env, checked, request.resource.clone(), views)
}

/// [`decide`] into `slot`: the effect, and the decision kept in the slot.
///
/// Every `*Into` check takes its slot as a `ClassInstance` and borrows the slot only to
/// empty it and to fill it, never across the check: the check may call JavaScript (an audit
/// callback, a getter of the request) that uses the same slot, through a method or a guard.
/// (A `&mut DecisionSlot` argument would be borrowed for the whole call, and napi-rs's borrow
/// registry, which would refuse a second borrow by a method, does not see a guard's.)
fn decide_into(
    host: &Host,
    views: bool,
    env: &Env,
    slot: &mut ClassInstance<'_, DecisionSlot>,
    request: Request,
) -> Effect {
    let checked = {
        let _js = JsThread::enter(env);
        host.check(&request)
    };
    slot.put(checked, request.resource, views)
}

/// A checker bound to one principal (with its groups) and one resource, made by
/// `engine.checker(principal, resource, groups?)`: for an agent whose identity and target do
/// not change between calls. `checker.checkSql(sql)` is `engine.checkSql(principal, resource,
/// sql, groups)`, and the `*Into` forms are those of `Engine`; each call converts only its
/// statement or command line from JavaScript.
#[napi]
pub struct Checker {
    host: Arc<Host>,
    views: bool,
    who: writ::Principal,
    resource: String,
}

#[napi]
impl Checker {
    /// The principal's id.
    #[napi(getter)]
    pub fn principal(&self) -> String {
        self.who.id.clone()
    }

    /// The principal's groups.
    #[napi(getter)]
    pub fn groups(&self) -> Vec<String> {
        self.who.groups.clone()
    }

    /// The resource the checks are for.
    #[napi(getter)]
    pub fn resource(&self) -> String {
        self.resource.clone()
    }

    /// Decide a SQL text on the bound principal and resource (as `engine.checkSql`).
    #[napi]
    pub fn check_sql(&self, env: Env, sql: String) -> Decision {
        self.decide(&env, Text::Sql, sql)
    }

    /// Decide a shell command line on the bound principal and resource (as
    /// `engine.checkCommand`).
    #[napi]
    pub fn check_command(&self, env: Env, line: String) -> Decision {
        self.decide(&env, Text::Command, line)
    }

    /// `checkSql` for hot paths: the effect, with the decision kept in `slot` (see
    /// `DecisionSlot`).
    ///
    /// @throws an `Error` with `code` `StringExpected` when `sql` is not a string, `InvalidArg`
    /// when `slot` is not a `DecisionSlot`; `slot` is then empty.
    #[napi]
    pub fn check_sql_into(
        &self,
        env: Env,
        slot: ClassInstance<DecisionSlot>,
        #[napi(ts_arg_type = "string")] sql: Unknown,
    ) -> napi::Result<Effect> {
        self.decide_into(&env, slot, Text::Sql, sql)
    }

    /// A function deciding SQL texts on the bound principal and resource, for the hottest
    /// paths: `guard(sql)` returns the effect, and `guard(sql, slot)` also keeps the decision
    /// in `slot` (emptied first, as `checkSqlInto` does). Each call decides and audits exactly
    /// as `checkSql` does. A plain function is cheaper to call than a method: Node-API hands
    /// it its state directly, where a method must first find and type-check its object.
    ///
    /// The function throws an `Error` (code `StringExpected`) when `sql` is not a string, and
    /// one with code `InvalidArg` when `slot` is given and is not a `DecisionSlot`.
    #[napi(ts_return_type = "(sql: string, slot?: DecisionSlot) => Effect")]
    pub fn sql_guard<'e>(
        &self,
        env: &'e Env,
    ) -> napi::Result<Function<'e, Unknown<'static>, Effect>> {
        self.guard(env, Text::Sql)
    }

    /// `sqlGuard` for shell command lines: `guard(line)` and `guard(line, slot)` decide and
    /// audit as `checkCommand` does.
    #[napi(ts_return_type = "(line: string, slot?: DecisionSlot) => Effect")]
    pub fn command_guard<'e>(
        &self,
        env: &'e Env,
    ) -> napi::Result<Function<'e, Unknown<'static>, Effect>> {
        self.guard(env, Text::Command)
    }

    /// `checkCommand` for hot paths: the effect, with the decision kept in `slot` (see
    /// `DecisionSlot`).
    ///
    /// @throws an `Error` with `code` `StringExpected` when `line` is not a string, `InvalidArg`
    /// when `slot` is not a `DecisionSlot`; `slot` is then empty.
    #[napi]
    pub fn check_command_into(
        &self,
        env: Env,
        slot: ClassInstance<DecisionSlot>,
        #[napi(ts_arg_type = "string")] line: Unknown,
    ) -> napi::Result<Effect> {
        self.decide_into(&env, slot, Text::Command, line)
    }
}

/// What a checker's text is: a SQL statement or a shell command line.
#[derive(Clone, Copy)]
enum Text {
    Sql,
    Command,
}

impl Text {
    /// The request deciding `text` for `who` on `resource`.
    fn request(self, who: writ::Principal, resource: String, text: String) -> Request {
        match self {
            Text::Sql => Request::sql(who, resource, text),
            Text::Command => Request::command(who, resource, text),
        }
    }
}

impl Checker {
    /// `checkSql` / `checkCommand`.
    fn decide(&self, env: &Env, kind: Text, text: String) -> Decision {
        let request = kind.request(self.who.clone(), self.resource.clone(), text);
        decide(&self.host, self.views, env, &request)
    }

    /// `checkSqlInto` / `checkCommandInto`: the slot emptied first, then the text converted
    /// (which may throw).
    fn decide_into(
        &self,
        env: &Env,
        mut slot: ClassInstance<DecisionSlot>,
        kind: Text,
        text: Unknown,
    ) -> napi::Result<Effect> {
        slot.clear();
        let text = String::from_unknown(text)?;
        let request = kind.request(self.who.clone(), self.resource.clone(), text);
        Ok(decide_into(&self.host, self.views, env, &mut slot, request))
    }

    /// The function behind `sqlGuard` and `commandGuard`. It owns what it needs (the host,
    /// the principal, the resource), so it outlives the checker if it must.
    fn guard<'e>(
        &self,
        env: &'e Env,
        kind: Text,
    ) -> napi::Result<Function<'e, Unknown<'static>, Effect>> {
        let host = Arc::clone(&self.host);
        let views = self.views;
        let who = self.who.clone();
        let resource = self.resource.clone();
        let (name, what) = match kind {
            Text::Sql => ("sqlGuard", "a SQL text"),
            Text::Command => ("commandGuard", "a command line"),
        };
        env.create_function_from_closure(name, move |ctx| {
            // The slot first, emptied before the text is converted (a conversion may throw);
            // borrowed only to empty it and to fill it (see [`decide_into`]).
            let slot = if ctx.length() > 1 { absent(Some(ctx.get::<Unknown>(1)?))? } else { None };
            let mut slot = slot.map(ClassInstance::<DecisionSlot>::from_unknown).transpose()?;
            if let Some(slot) = slot.as_mut() {
                slot.clear();
            }
            if ctx.length() == 0 {
                return Err(napi::Error::new(
                    napi::Status::StringExpected,
                    format!("{name} takes {what} (a string), and was called without one"),
                ));
            }
            let text = String::from_unknown(ctx.get::<Unknown>(0)?)?;
            let request = kind.request(who.clone(), resource.clone(), text);
            Ok(match slot.as_mut() {
                Some(slot) => decide_into(&host, views, ctx.env, slot, request),
                None => {
                    let _js = JsThread::enter(ctx.env);
                    host.check(&request).decision.effect.into()
                }
            })
        })
    }
}

#[napi]
impl Engine {
    /// Compile the policy in a file or a directory of documents.
    ///
    /// @throws `WRIT_POLICY` with `diagnostics: [{file, line, column, message}]` for an
    /// invalid policy, `WRIT_IO` with `path` when it cannot be read.
    #[napi(factory)]
    pub fn from_path(
        env: Env,
        path: String,
        options: Option<EngineOptions>,
    ) -> napi::Result<Engine> {
        let made = writ::Engine::from_path(&path)
            .map_err(|e| Failure::policy(&e))
            .and_then(|e| host(e, options));
        js(&env, made)
    }

    /// Compile a policy document held in memory (`format`: `yaml`, the default, or `json`).
    ///
    /// @throws `WRIT_POLICY` with `diagnostics` for an invalid policy.
    #[napi(factory)]
    pub fn from_string(
        env: Env,
        text: String,
        #[napi(ts_arg_type = "'yaml' | 'json'")] format: Option<String>,
        options: Option<EngineOptions>,
    ) -> napi::Result<Engine> {
        let made = compile(&text, format.as_deref()).and_then(|e| host(e, options));
        js(&env, made)
    }

    /// The version of the current policy (a hash of its documents).
    #[napi(getter)]
    pub fn policy_version(&self) -> String {
        self.host.engine().policy_version().to_owned()
    }

    /// The resources the policy declares.
    #[napi(getter)]
    pub fn resources(&self) -> Vec<String> {
        self.host.engine().resource_names().map(str::to_owned).collect()
    }

    fn decide(&self, env: &Env, request: &Request) -> Decision {
        decide(&self.host, self.views, env, request)
    }

    /// [`Engine::decide`] into `slot`: the effect, and the decision kept in the slot.
    fn decide_into(
        &self,
        env: &Env,
        slot: &mut ClassInstance<'_, DecisionSlot>,
        request: Request,
    ) -> Effect {
        decide_into(&self.host, self.views, env, slot, request)
    }

    /// A `Checker` bound to `principal` (with `groups`) and `resource`: its checks take only
    /// the statement or the command line. It shares this engine's policy (and every reload),
    /// audit sinks, keys and grant bookkeeping, and decides exactly as the engine does.
    ///
    /// @throws an `Error` whose `code` names what an argument of the wrong type should have been
    /// (`StringExpected`, `ArrayExpected`).
    #[napi]
    pub fn checker(
        &self,
        principal: String,
        resource: String,
        groups: Option<Vec<String>>,
    ) -> Checker {
        Checker {
            host: Arc::clone(&self.host),
            views: self.views,
            who: crate::principal(principal, groups),
            resource,
        }
    }

    /// Decide a request (`{principal: {id, groups}, resource, action: {sql | command | argv |
    /// http | tool}, token?, grant?, approval?}`), write its audit event and return the
    /// decision. Anything that cannot be verified or recorded is denied.
    ///
    /// @throws `WRIT_REQUEST` for a malformed request (unknown field, missing action, ...).
    #[napi(ts_args_type = "request: Request")]
    pub fn check(&self, env: Env, request: Unknown) -> napi::Result<Decision> {
        let request = js(&env, request::from_js(&env, &request)?)?;
        Ok(self.decide(&env, &request))
    }

    /// `check` on the libuv thread pool: for bulk or slow checks off the JS thread.
    /// Audit callbacks still run on the JS thread before the promise settles.
    #[napi(ts_args_type = "request: Request", ts_return_type = "Promise<Decision>")]
    pub fn check_async(&self, env: Env, request: Unknown) -> napi::Result<AsyncTask<CheckTask>> {
        Ok(AsyncTask::new(CheckTask {
            host: Arc::clone(&self.host),
            request: request::from_js(&env, &request)?,
            views: self.views,
        }))
    }

    /// Decide SQL text run by `principal` (with `groups`) on `resource`.
    #[napi]
    pub fn check_sql(
        &self,
        env: Env,
        principal: String,
        resource: String,
        sql: String,
        groups: Option<Vec<String>>,
    ) -> Decision {
        let request = Request::sql(self::principal(principal, groups), resource, sql);
        self.decide(&env, &request)
    }

    /// Decide a shell command line run by `principal` on `resource`.
    #[napi]
    pub fn check_command(
        &self,
        env: Env,
        principal: String,
        resource: String,
        line: String,
        groups: Option<Vec<String>>,
    ) -> Decision {
        let request = Request::command(self::principal(principal, groups), resource, line);
        self.decide(&env, &request)
    }

    /// Decide a tool call (`name`, JSON `arguments`) made by `principal` on `resource`.
    #[napi]
    pub fn check_tool(
        &self,
        env: Env,
        principal: String,
        resource: String,
        name: String,
        #[napi(ts_arg_type = "Record<string, any> | undefined | null")] arguments: Option<Value>,
        groups: Option<Vec<String>>,
    ) -> Decision {
        let call = ToolCall { name, arguments: arguments.unwrap_or(Value::Null) };
        let request =
            Request::new(self::principal(principal, groups), resource, Action::Tool(call));
        self.decide(&env, &request)
    }

    /// `check` for hot paths: decide `request` (and write its audit event) as `check` does,
    /// keep the decision in `slot` in place of what it held, and return only the effect.
    /// `slot.take()` gives the whole `Decision`.
    ///
    /// @throws `WRIT_REQUEST` for a malformed request; `slot` is then empty.
    #[napi(ts_args_type = "slot: DecisionSlot, request: Request")]
    pub fn check_into(
        &self,
        env: Env,
        mut slot: ClassInstance<DecisionSlot>,
        request: Unknown,
    ) -> napi::Result<Effect> {
        slot.clear();
        let request = js(&env, request::from_js(&env, &request)?)?;
        Ok(self.decide_into(&env, &mut slot, request))
    }

    /// `checkSql` for hot paths: the effect, with the decision kept in `slot` (see
    /// `DecisionSlot`). Decides and audits exactly as `checkSql` does.
    ///
    /// @throws an `Error` whose `code` names what an argument of the wrong type should have been
    /// (`StringExpected`, `ArrayExpected`; `InvalidArg` for a `slot` that is not a
    /// `DecisionSlot`); `slot` is then empty.
    #[napi]
    pub fn check_sql_into(
        &self,
        env: Env,
        mut slot: ClassInstance<DecisionSlot>,
        #[napi(ts_arg_type = "string")] principal: Unknown,
        #[napi(ts_arg_type = "string")] resource: Unknown,
        #[napi(ts_arg_type = "string")] sql: Unknown,
        #[napi(ts_arg_type = "string[] | undefined | null")] groups: Option<Unknown>,
    ) -> napi::Result<Effect> {
        slot.clear();
        let who = who(principal, groups)?;
        let request =
            Request::sql(who, String::from_unknown(resource)?, String::from_unknown(sql)?);
        Ok(self.decide_into(&env, &mut slot, request))
    }

    /// `checkCommand` for hot paths: the effect, with the decision kept in `slot` (see
    /// `DecisionSlot`). Decides and audits exactly as `checkCommand` does.
    ///
    /// @throws an `Error` whose `code` names what an argument of the wrong type should have been
    /// (`StringExpected`, `ArrayExpected`; `InvalidArg` for a `slot` that is not a
    /// `DecisionSlot`); `slot` is then empty.
    #[napi]
    pub fn check_command_into(
        &self,
        env: Env,
        mut slot: ClassInstance<DecisionSlot>,
        #[napi(ts_arg_type = "string")] principal: Unknown,
        #[napi(ts_arg_type = "string")] resource: Unknown,
        #[napi(ts_arg_type = "string")] line: Unknown,
        #[napi(ts_arg_type = "string[] | undefined | null")] groups: Option<Unknown>,
    ) -> napi::Result<Effect> {
        slot.clear();
        let who = who(principal, groups)?;
        let request =
            Request::command(who, String::from_unknown(resource)?, String::from_unknown(line)?);
        Ok(self.decide_into(&env, &mut slot, request))
    }

    /// `checkTool` for hot paths: the effect, with the decision kept in `slot` (see
    /// `DecisionSlot`). Decides and audits exactly as `checkTool` does.
    ///
    /// @throws an `Error` whose `code` names what an argument of the wrong type should have been
    /// (`StringExpected`, `ArrayExpected`; `InvalidArg` for a `slot` that is not a
    /// `DecisionSlot`); `slot` is then empty.
    #[napi]
    #[allow(
        clippy::too_many_arguments,
        reason = "checkTool's arguments and the slot, as JS sees them"
    )]
    pub fn check_tool_into(
        &self,
        env: Env,
        mut slot: ClassInstance<DecisionSlot>,
        #[napi(ts_arg_type = "string")] principal: Unknown,
        #[napi(ts_arg_type = "string")] resource: Unknown,
        #[napi(ts_arg_type = "string")] name: Unknown,
        #[napi(ts_arg_type = "Record<string, any> | undefined | null")] arguments: Option<Unknown>,
        #[napi(ts_arg_type = "string[] | undefined | null")] groups: Option<Unknown>,
    ) -> napi::Result<Effect> {
        slot.clear();
        let who = who(principal, groups)?;
        let arguments = match absent(arguments)? {
            Some(a) => Value::from_unknown(a)?,
            None => Value::Null,
        };
        let call = ToolCall { name: String::from_unknown(name)?, arguments };
        let request = Request::new(who, String::from_unknown(resource)?, Action::Tool(call));
        Ok(self.decide_into(&env, &mut slot, request))
    }

    /// Mask the rows of the result of an allowed request, as `decision`'s mask plan says, and
    /// write one masking event. `columns` are the result's column names in order; `rows` are
    /// arrays of values in that order, or objects keyed by those names. Returns new rows of the
    /// same shape (the input is not changed) and how many values of each kind were masked.
    ///
    /// `decision` must be the `Decision` a check returned (a plain object, such as its
    /// `toJSON()`, is refused: the mask plan is taken from the native decision only).
    ///
    /// @throws `WRIT_REQUEST` when `decision` is not a `Decision`; `WRIT_MASK` with `kind`:
    /// `not_allowed` (the decision is not `allow`: the result must not be returned at all),
    /// `plan` (the plan does not fit these columns or needs the mask key), `shape` (a row is
    /// neither an array nor an object of the columns), `audit` (the pass could not be
    /// recorded and the policy fails closed).
    #[napi(
        ts_args_type = "decision: Decision, columns: string[], rows: Array<unknown[]> | Array<Record<string, unknown>>"
    )]
    pub fn mask_rows(
        &self,
        env: Env,
        decision: Either<ClassInstance<Decision>, Unknown>,
        columns: Vec<String>,
        rows: Vec<Value>,
    ) -> napi::Result<MaskResult> {
        let _js = JsThread::enter(&env);
        let decision = js(&env, native(&decision))?;
        let job = js(&env, rows::MaskJob::new(decision, columns, rows))?;
        js(&env, job.run(&self.host).map(rows::MaskJob::finish))
    }

    /// `maskRows` on the libuv thread pool, for large results. Concurrent calls are safe.
    #[napi(
        ts_args_type = "decision: Decision, columns: string[], rows: Array<unknown[]> | Array<Record<string, unknown>>",
        ts_return_type = "Promise<MaskResult>"
    )]
    pub fn mask_rows_async(
        &self,
        decision: Either<ClassInstance<Decision>, Unknown>,
        columns: Vec<String>,
        rows: Vec<Value>,
    ) -> AsyncTask<MaskTask> {
        AsyncTask::new(MaskTask {
            host: Arc::clone(&self.host),
            job: native(&decision).and_then(|d| rows::MaskJob::new(d, columns, rows)),
            failure: None,
        })
    }

    /// Call `callback` with every audit event, as one line of JSON text (OCSF-shaped; see the
    /// core's DESIGN.md). The callback runs on the JS thread before the check returns (or,
    /// for `*Async` calls, before the promise settles). If it throws, the request is denied
    /// unless the policy says `audit: {on_failure: continue}`. It must be synchronous: a
    /// returned promise is not awaited. It may check again (with any engine), up to 16 checks
    /// nested in one another: past that, the callback is not called for the innermost check's
    /// event, as if it had thrown, so a callback that checks on every event it gets cannot
    /// recurse until the process runs out of stack.
    #[napi(ts_args_type = "callback: (event: string) => void")]
    pub fn on_audit(
        &self,
        env: Env,
        callback: Function<String, Unknown<'static>>,
    ) -> napi::Result<()> {
        let sink = audit::sink(&env, callback)?;
        self.host.add_sink(Arc::new(sink));
        Ok(())
    }

    /// Append every audit event to a hash-chained JSON Lines file (`writ audit verify` checks
    /// it); the chain continues an existing file.
    ///
    /// @throws `WRIT_AUDIT` when the file cannot be opened or continued.
    #[napi]
    pub fn add_audit_file(&self, env: Env, path: String) -> napi::Result<()> {
        let sink = writ::audit::FileSink::open(&path).map_err(|e| {
            Failure::new("WRIT_AUDIT", e.to_string()).with(serde_json::json!({"path": path}))
        });
        let sink = js(&env, sink)?;
        self.host.add_sink(Arc::new(sink));
        Ok(())
    }

    /// Compile the policy at `path` and swap it in atomically; checks already running finish
    /// under the old policy. On error the old policy stays.
    ///
    /// @throws as `Engine.fromPath`.
    #[napi]
    pub fn reload_path(&self, env: Env, path: String) -> napi::Result<()> {
        let engine = js(&env, writ::Engine::from_path(&path).map_err(|e| Failure::policy(&e)))?;
        self.host.reload(engine);
        Ok(())
    }

    /// Compile a policy held in memory and swap it in atomically (see `reloadPath`).
    ///
    /// @throws as `Engine.fromString`.
    #[napi]
    pub fn reload_string(
        &self,
        env: Env,
        text: String,
        #[napi(ts_arg_type = "'yaml' | 'json'")] format: Option<String>,
    ) -> napi::Result<()> {
        let engine = js(&env, compile(&text, format.as_deref()))?;
        self.host.reload(engine);
        Ok(())
    }

    fn update_trust(&self, change: impl FnOnce(Trust) -> Trust) {
        let mut trust = lock(&self.trust);
        let next = change(trust.clone());
        *trust = next.clone();
        self.host.set_trust(next);
    }

    /// Trust grants signed by `key`: a `SigningKey` (its public half), a public PEM (key id
    /// `kid`, else its `kid:` line) or a JWK string.
    ///
    /// @throws `WRIT_KEY` when the key cannot be read.
    #[napi]
    pub fn trust_grant_key(
        &self,
        env: Env,
        key: Either<ClassInstance<SigningKey>, String>,
        kid: Option<String>,
    ) -> napi::Result<()> {
        let key = js(&env, keys::verifying_key(key, kid))?;
        self.update_trust(|t| t.grant_key(key));
        Ok(())
    }

    /// Trust approvals signed by `key` (as `trustGrantKey`).
    ///
    /// @throws `WRIT_KEY` when the key cannot be read.
    #[napi]
    pub fn trust_approval_key(
        &self,
        env: Env,
        key: Either<ClassInstance<SigningKey>, String>,
        kid: Option<String>,
    ) -> napi::Result<()> {
        let key = js(&env, keys::verifying_key(key, kid))?;
        self.update_trust(|t| t.approval_key(key));
        Ok(())
    }

    /// Supply the shared secret an `HS256` token issuer names with `shared_secret: <id>`.
    #[napi]
    pub fn trust_shared_secret(&self, id: String, secret: Buffer) {
        self.update_trust(|t| t.shared_secret(id, secret.as_ref()));
    }

    /// Revoke a grant link or an approval by id: later checks using it are denied.
    #[napi]
    pub fn revoke(&self, id: String) {
        self.host.revoke(id);
    }
}

/// `Engine.checkAsync` on the libuv pool.
pub struct CheckTask {
    host: Arc<Host>,
    request: Result<Request, Failure>,
    views: bool,
}

impl Task for CheckTask {
    type Output = (Checked, String);
    type JsValue = Decision;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        match &self.request {
            Ok(request) => Ok((self.host.check(request), request.resource.clone())),
            Err(f) => Err(napi::Error::from_reason(f.message.clone())),
        }
    }

    fn resolve(&mut self, env: Env, (checked, resource): Self::Output) -> napi::Result<Decision> {
        Ok(Decision::new(&env, checked, resource, self.views))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Decision> {
        match &self.request {
            Err(f) => Err(f.clone().into_napi(&env)),
            Ok(_) => Err(err),
        }
    }
}

/// `Engine.maskRowsAsync` on the libuv pool.
pub struct MaskTask {
    host: Arc<Host>,
    job: Result<rows::MaskJob, Failure>,
    failure: Option<Failure>,
}

impl Task for MaskTask {
    type Output = rows::MaskDone;
    type JsValue = MaskResult;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let outcome = match &mut self.job {
            Ok(job) => std::mem::take(job).run(&self.host),
            Err(f) => Err(f.clone()),
        };
        outcome.map_err(|f| {
            let message = f.message.clone();
            self.failure = Some(f);
            napi::Error::from_reason(message)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<MaskResult> {
        Ok(rows::MaskJob::finish(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<MaskResult> {
        match self.failure.take() {
            Some(f) => Err(f.into_napi(&env)),
            None => Err(err),
        }
    }
}
