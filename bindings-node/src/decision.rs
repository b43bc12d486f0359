//! Decisions as typed plain JavaScript objects, and back (a decision is handed back to
//! `maskRows`, which needs its mask plan, principal and resource).
//!
//! The fields are the JSON contract of `writ::Decision` (effect, rules, reason, digest, policy,
//! parts, view, mask) plus what the host's check adds (`principal` the policy decided for,
//! `resource`, the grant `delegates`, the `approval` outcome) and `maskedColumns`, the output
//! names the mask plan masks.

use napi_derive::napi;
use serde_json::Value;
use writ::identity::{ApprovalUse, Checked};
use writ::{ActionView, PartDecision};

use crate::error::Failure;

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

/// The engine's answer to one request.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Decision {
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
    /// What the engine saw (classified SQL, parsed commands, HTTP or tool view); `null` when
    /// it could not look.
    #[napi(ts_type = "Record<string, any> | null")]
    pub view: Option<Value>,
    /// For SQL that may run: the mask plan of the result columns.
    #[napi(ts_type = "Record<string, any> | null")]
    pub mask: Option<Value>,
    /// Output names of the columns the mask plan masks, in order.
    pub masked_columns: Vec<String>,
    /// The principal the policy decided for (a grant chain's root); `null` when the request
    /// was refused before one was established.
    pub principal: Option<Principal>,
    /// The resource the request named.
    pub resource: String,
    /// Delegates of the verified grant chain, root's delegate first (empty without a grant).
    pub delegates: Vec<String>,
    /// What happened to the approval token.
    pub approval: ApprovalOutcome,
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

/// The JS decision of a host check; `with_view: false` leaves out the engine's view (building
/// its JS objects is most of a check's cost on the JS side).
pub(crate) fn from_checked(checked: &Checked, resource: &str, with_view: bool) -> Decision {
    let d = &checked.decision;
    Decision {
        effect: d.effect.into(),
        rules: d.rules.clone(),
        reason: d.reason.clone(),
        digest: d.digest.clone(),
        policy: d.policy.clone(),
        parts: d.parts.iter().map(part).collect(),
        // Serializing these engine values cannot fail (plain data, string keys); a failure
        // would only drop the informational view, never change the effect.
        view: d.view.as_ref().filter(|_| with_view).and_then(|v| serde_json::to_value(v).ok()),
        mask: d.mask.as_ref().and_then(|m| serde_json::to_value(m).ok()),
        masked_columns: d
            .mask
            .as_ref()
            .map(|m| m.masked_names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default(),
        principal: checked.principal.as_ref().map(Principal::from),
        resource: resource.to_owned(),
        delegates: checked
            .grant
            .as_ref()
            .map(|g| g.links().iter().map(|l| l.sub.clone()).collect())
            .unwrap_or_default(),
        approval: approval(&checked.approval),
    }
}

/// The core decision a JS decision was made from (for masking its result).
pub(crate) fn to_core(d: &Decision) -> Result<writ::Decision, Failure> {
    let parts = d
        .parts
        .iter()
        .map(|p| {
            Ok(PartDecision {
                effect: p.effect.into(),
                rules: p.rules.clone(),
                reason: p.reason.clone(),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let view: Option<ActionView> = match &d.view {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|e| Failure::request(format!("invalid decision `view`: {e}")))?,
        ),
    };
    let mask = match &d.mask {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|e| Failure::request(format!("invalid decision `mask`: {e}")))?,
        ),
    };
    Ok(writ::Decision {
        effect: d.effect.into(),
        rules: d.rules.clone(),
        reason: d.reason.clone(),
        digest: d.digest.clone(),
        policy: d.policy.clone(),
        parts,
        view,
        mask,
    })
}
