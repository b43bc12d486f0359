//! Decisions as native JavaScript objects: a [`Decision`] keeps the core's result and converts
//! a field only when it is read (building every field as JS objects on each check cost far
//! more than the binding's budget), and is handed back whole to `maskRows`, which needs its mask
//! plan, principal and resource: only a `Decision` made by a check is accepted there, so a
//! plan cannot be forged from a plain object. `toJSON()` gives the plain [`DecisionJson`].
//!
//! The fields are the JSON contract of `writ::Decision` (effect, rules, reason, digest, policy,
//! parts, view, mask) plus what the host's check adds (`principal` the policy decided for,
//! `resource`, the grant `delegates`, the `approval` outcome) and `maskedColumns`, the output
//! names the mask plan masks.

use napi::Env;
use napi::bindgen_prelude::{Either, ObjectFinalize, Undefined};
use napi_derive::napi;
use serde_json::Value;
use writ::PartDecision;
use writ::identity::{ApprovalUse, Checked};

/// What the engine decided.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The request may proceed.
    Allow,
    /// The request must not proceed.
    Deny,
    /// The request may proceed only with an approval bound to its digest.
    ApprovalRequired,
}

impl From<writ::Effect> for Effect {
    fn from(e: writ::Effect) -> Effect {
        match e {
            writ::Effect::Allow => Effect::Allow,
            writ::Effect::ApprovalRequired => Effect::ApprovalRequired,
            // Deny, and anything a later core adds: fail closed.
            #[allow(unreachable_patterns, reason = "future variants of Effect")]
            _ => Effect::Deny,
        }
    }
}

impl From<Effect> for writ::Effect {
    fn from(e: Effect) -> writ::Effect {
        match e {
            Effect::Allow => writ::Effect::Allow,
            Effect::Deny => writ::Effect::Deny,
            Effect::ApprovalRequired => writ::Effect::ApprovalRequired,
        }
    }
}

/// Who asks: an id and the groups the host vouches for.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Principal {
    /// Stable identifier (`agent:analytics`).
    pub id: String,
    /// Groups the principal belongs to.
    pub groups: Vec<String>,
}

impl From<&writ::Principal> for Principal {
    fn from(p: &writ::Principal) -> Principal {
        Principal { id: p.id.clone(), groups: p.groups.clone() }
    }
}

impl From<&Principal> for writ::Principal {
    fn from(p: &Principal) -> writ::Principal {
        writ::Principal { id: p.id.clone(), groups: p.groups.clone() }
    }
}

/// The decision for one part of an action (a statement, a command).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Part {
    /// This part's effect.
    pub effect: Effect,
    /// Rules that decided it.
    pub rules: Vec<String>,
    /// Why.
    pub reason: String,
}

/// What happened to the request's approval token.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ApprovalOutcome {
    /// `none` (no token), `unused` (not needed), `honoured` (it turned `approval_required`
    /// into `allow`) or `rejected` (`reason` says why).
    #[napi(ts_type = "'none' | 'unused' | 'honoured' | 'rejected'")]
    pub status: String,
    /// The approval's id when honoured.
    pub id: Option<String>,
    /// Who approved, when honoured.
    pub approver: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
}

/// A decision as a plain object: what `Decision.toJSON()` returns (and so what
/// `JSON.stringify(decision)` writes). A field that is absent is left out of the object.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct DecisionJson {
    /// `allow`, `deny` or `approval_required`: the most restrictive effect over all parts.
    pub effect: Effect,
    /// Ids of the rules that decided, in policy order; empty when a default decided.
    pub rules: Vec<String>,
    /// Why, for the caller.
    pub reason: String,
    /// Digest of the normalized request: what an approval binds to.
    pub digest: String,
    /// Version of the policy that decided.
    pub policy: String,
    /// One decision per part of the action (statement, command, tool call and routed part).
    pub parts: Vec<Part>,
    /// What the engine saw (classified SQL, parsed commands, HTTP or tool view); left out
    /// when it could not look, or when the engine was made with `{views: false}`.
    #[napi(ts_type = "Record<string, any>")]
    pub view: Option<Value>,
    /// For SQL that may run: the mask plan of the result columns; left out otherwise.
    #[napi(ts_type = "Record<string, any>")]
    pub mask: Option<Value>,
    /// Output names of the columns the mask plan masks, in order.
    pub masked_columns: Vec<String>,
    /// The principal the policy decided for (a grant chain's root); left out when the
    /// request was refused before one was established.
    pub principal: Option<Principal>,
    /// The resource the request named.
    pub resource: String,
    /// Delegates of the verified grant chain, root's delegate first (empty without a grant).
    pub delegates: Vec<String>,
    /// What happened to the approval token.
    pub approval: ApprovalOutcome,
}

/// The engine's answer to one request: a native object that keeps the core's result and
/// converts a field to JavaScript only when it is read.
///
/// Every read converts afresh and returns a new value: keep it in a variable rather than read
/// `decision.view` in a loop. Changing what a read returned does not change the decision.
/// `toJSON()` gives the whole decision as a plain object (`JSON.stringify` calls it; spread
/// `{...decision}` and `Object.keys` see no fields, as for any class with getters).
///
/// Decisions come only from an `Engine`'s checks (there is no constructor): `maskRows` takes
/// one back and refuses a plain object, so a mask plan cannot be forged.
///
/// Its native memory is freed by its finalizer, which Node runs from the event loop after a
/// garbage collection: a synchronous loop of many checks holds them all until it yields.
#[napi(custom_finalize)]
pub struct Decision {
    checked: Checked,
    resource: String,
    with_view: bool,
    /// Whether V8 was told of this decision's native memory (and so must be told it is gone).
    reported: bool,
}

/// Native memory a decision holds, as told to V8: a rough size (a SQL decision with its view
/// and plan is about 6 KB). Without it V8 sees only small wrapper objects and rarely collects
/// them, so the decisions' native memory grew by gigabytes in a loop of checks.
const NATIVE_SIZE: i64 = 8 * 1024;

impl ObjectFinalize for Decision {
    fn finalize(self, env: Env) -> napi::Result<()> {
        if self.reported {
            env.adjust_external_memory(-NATIVE_SIZE)?;
        }
        Ok(())
    }
}

fn part(p: &PartDecision) -> Part {
    Part { effect: p.effect.into(), rules: p.rules.clone(), reason: p.reason.clone() }
}

fn approval(a: &ApprovalUse) -> ApprovalOutcome {
    let (status, id, approver, reason) = match a {
        ApprovalUse::None => ("none", None, None, None),
        ApprovalUse::Unused => ("unused", None, None, None),
        ApprovalUse::Honoured { id, approver } => {
            ("honoured", Some(id.clone()), Some(approver.clone()), None)
        }
        ApprovalUse::Rejected(e) => ("rejected", None, None, Some(e.to_string())),
        #[allow(unreachable_patterns, reason = "future variants of ApprovalUse")]
        _ => ("rejected", None, None, Some("unrecognized approval outcome".to_owned())),
    };
    ApprovalOutcome { status: status.to_owned(), id, approver, reason }
}

impl Decision {
    /// The decision of a host check on `resource`; `with_view: false` leaves out the engine's
    /// view.
    pub(crate) fn new(env: &Env, checked: Checked, resource: String, with_view: bool) -> Decision {
        let reported = env.adjust_external_memory(NATIVE_SIZE).is_ok();
        Decision { checked, resource, with_view, reported }
    }

    /// The core decision, for masking its result.
    pub(crate) fn core(&self) -> &writ::Decision {
        &self.checked.decision
    }

    /// The principal the policy decided for (empty when there was none).
    pub(crate) fn core_principal(&self) -> writ::Principal {
        self.checked.principal.clone().unwrap_or_default()
    }

    /// The resource the request named.
    pub(crate) fn resource_name(&self) -> &str {
        &self.resource
    }

    // Serializing these engine values cannot fail (plain data, string keys); a failure would
    // only drop the informational view or the plan's copy, never change the effect (masking
    // uses the core's plan, not this copy).
    fn view_value(&self) -> Option<Value> {
        let view = self.checked.decision.view.as_ref().filter(|_| self.with_view);
        view.and_then(|v| serde_json::to_value(v).ok())
    }

    fn mask_value(&self) -> Option<Value> {
        self.checked.decision.mask.as_ref().and_then(|m| serde_json::to_value(m).ok())
    }

    fn masked_names(&self) -> Vec<String> {
        self.checked
            .decision
            .mask
            .as_ref()
            .map(|m| m.masked_names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn delegate_ids(&self) -> Vec<String> {
        self.checked
            .grant
            .as_ref()
            .map(|g| g.links().iter().map(|l| l.sub.clone()).collect())
            .unwrap_or_default()
    }
}

#[napi]
impl Decision {
    /// `allow`, `deny` or `approval_required`: the most restrictive effect over all parts.
    #[napi(getter)]
    pub fn effect(&self) -> Effect {
        self.checked.decision.effect.into()
    }

    /// Ids of the rules that decided, in policy order; empty when a default decided.
    #[napi(getter)]
    pub fn rules(&self) -> Vec<String> {
        self.checked.decision.rules.clone()
    }

    /// Why, for the caller.
    #[napi(getter)]
    pub fn reason(&self) -> String {
        self.checked.decision.reason.clone()
    }

    /// Digest of the normalized request: what an approval binds to.
    #[napi(getter)]
    pub fn digest(&self) -> String {
        self.checked.decision.digest.clone()
    }

    /// Version of the policy that decided.
    #[napi(getter)]
    pub fn policy(&self) -> String {
        self.checked.decision.policy.clone()
    }

    /// One decision per part of the action (statement, command, tool call and routed part).
    #[napi(getter)]
    pub fn parts(&self) -> Vec<Part> {
        self.checked.decision.parts.iter().map(part).collect()
    }

    /// What the engine saw (classified SQL, parsed commands, HTTP or tool view); `undefined`
    /// when it could not look, or when the engine was made with `{views: false}`.
    #[napi(getter, ts_return_type = "Record<string, any> | undefined")]
    pub fn view(&self) -> Either<Value, Undefined> {
        self.view_value().into()
    }

    /// For SQL that may run: the mask plan of the result columns; `undefined` otherwise.
    #[napi(getter, ts_return_type = "Record<string, any> | undefined")]
    pub fn mask(&self) -> Either<Value, Undefined> {
        self.mask_value().into()
    }

    /// Output names of the columns the mask plan masks, in order.
    #[napi(getter)]
    pub fn masked_columns(&self) -> Vec<String> {
        self.masked_names()
    }

    /// The principal the policy decided for (a grant chain's root); `undefined` when the
    /// request was refused before one was established.
    #[napi(getter, ts_return_type = "Principal | undefined")]
    pub fn principal(&self) -> Either<Principal, Undefined> {
        self.checked.principal.as_ref().map(Principal::from).into()
    }

    /// The resource the request named.
    #[napi(getter)]
    pub fn resource(&self) -> String {
        self.resource.clone()
    }

    /// Delegates of the verified grant chain, root's delegate first (empty without a grant).
    #[napi(getter)]
    pub fn delegates(&self) -> Vec<String> {
        self.delegate_ids()
    }

    /// What happened to the approval token.
    #[napi(getter)]
    pub fn approval(&self) -> ApprovalOutcome {
        approval(&self.checked.approval)
    }

    /// The whole decision as a plain object, every field converted (what `JSON.stringify`
    /// writes). Absent fields (`view`, `mask`, `principal`) are left out.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> DecisionJson {
        let d = &self.checked.decision;
        DecisionJson {
            effect: d.effect.into(),
            rules: d.rules.clone(),
            reason: d.reason.clone(),
            digest: d.digest.clone(),
            policy: d.policy.clone(),
            parts: d.parts.iter().map(part).collect(),
            view: self.view_value(),
            mask: self.mask_value(),
            masked_columns: self.masked_names(),
            principal: self.checked.principal.as_ref().map(Principal::from),
            resource: self.resource.clone(),
            delegates: self.delegate_ids(),
            approval: approval(&self.checked.approval),
        }
    }
}

/// A holder for the latest decision of the `check*Into` methods, for hot paths that read
/// little more than the effect.
///
/// `engine.checkSqlInto(slot, ...)` decides (and audits) exactly as `checkSql` does, keeps the
/// decision in `slot` in place of the one before, and returns only its effect: no object is
/// made for the call, which is most of what a check costs from JavaScript. `slot.take()`
/// then gives the whole `Decision` (for its `reason`, its `digest`, or `maskRows`) and
/// leaves the slot empty. One slot serves any number of checks; each check forgets what the
/// slot held before, even when it throws, so a slot never shows an earlier request's decision
/// as this one's.
#[napi]
pub struct DecisionSlot {
    held: Option<Held>,
}

/// What a slot holds: what a `Decision` is made of.
struct Held {
    checked: Checked,
    resource: String,
    with_view: bool,
}

impl DecisionSlot {
    /// Forget what the slot holds (before a check that may throw).
    pub(crate) fn clear(&mut self) {
        self.held = None;
    }

    /// Keep the decision of a host check on `resource`, in place of the one before.
    pub(crate) fn put(&mut self, checked: Checked, resource: String, with_view: bool) -> Effect {
        let effect = checked.decision.effect.into();
        self.held = Some(Held { checked, resource, with_view });
        effect
    }
}

#[napi]
impl DecisionSlot {
    /// An empty slot.
    #[napi(constructor)]
    #[allow(clippy::new_without_default, reason = "napi constructors take no Default")]
    pub fn new() -> DecisionSlot {
        DecisionSlot { held: None }
    }

    /// The effect of the decision held; `undefined` when the slot is empty.
    #[napi(getter, ts_return_type = "Effect | undefined")]
    pub fn effect(&self) -> Either<Effect, Undefined> {
        self.held.as_ref().map(|h| Effect::from(h.checked.decision.effect)).into()
    }

    /// The decision held, as a `Decision`, leaving the slot empty; `undefined` when it is
    /// empty.
    #[napi(ts_return_type = "Decision | undefined")]
    pub fn take(&mut self, env: Env) -> Either<Decision, Undefined> {
        self.held.take().map(|h| Decision::new(&env, h.checked, h.resource, h.with_view)).into()
    }
}
