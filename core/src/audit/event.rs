//! The audit event and how one is built from a decision or a masking pass.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::decision::{ActionView, Decision, Effect};
use crate::identity::{ApprovalUse, Checked};
use crate::mask::MaskReport;
use crate::request::{Action, Principal, Request};

/// OCSF class: API Activity.
pub const CLASS_API_ACTIVITY: u32 = 6003;
/// OCSF category: Application Activity.
pub const CATEGORY_APPLICATION: u32 = 6;
/// The OCSF schema version the field names follow.
pub const OCSF_VERSION: &str = "1.3.0";

/// One audit event (one line of a JSON Lines log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// When the event happened, milliseconds since the Unix epoch (OCSF `time`).
    pub time: u64,
    /// OCSF class: 6003, API Activity.
    pub class_uid: u32,
    /// OCSF category: 6, Application Activity.
    pub category_uid: u32,
    /// OCSF activity: 1 create, 2 read, 3 update, 4 delete, 99 other.
    pub activity_id: u32,
    /// The activity's name (`read`, `delete`, `other`, `mask`).
    pub activity_name: String,
    /// OCSF `class_uid * 100 + activity_id`.
    pub type_uid: u32,
    /// OCSF disposition: 1 allowed, 2 blocked, 99 other (approval required).
    pub disposition_id: u32,
    /// The effect's word (`allow`, `deny`, `approval_required`); `masked` for a masking pass.
    pub disposition: String,
    /// OCSF status: 1 success (allowed, masked), 2 failure (denied or waiting for approval).
    pub status_id: u32,
    /// OCSF severity: 1 informational (allow, mask), 3 medium (approval), 4 high (deny).
    pub severity_id: u32,
    /// Who acted, through which chain of agents.
    pub actor: Actor,
    /// The resource acted on.
    pub resources: Vec<ResourceRef>,
    /// The kind of action (`sql`, `command`, `argv`, `http`, `tool`, `mask`).
    pub api: ApiInfo,
    /// Product and schema.
    pub metadata: Metadata,
    /// What OCSF has no field for.
    pub writ: WritDetails,
    /// Position in a hash chain; set by chaining sinks ([`FileSink`](super::FileSink)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainInfo>,
}

/// The acting identity (OCSF `actor`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The principal the policy decided for (a grant chain's root); `None` when the request
    /// was refused before one was established (a bad token, no principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserRef>,
    /// The delegation chain under a grant: each delegate after the root, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delegation: Vec<Delegate>,
}

/// A principal (OCSF `user`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    /// The principal id.
    pub uid: String,
    /// Its groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// One link of a grant chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    /// The delegate (the link's subject).
    pub uid: String,
    /// The link's id (what revocation names).
    pub grant_id: String,
}

/// A resource (OCSF `resources[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// The resource's name in the policy.
    pub name: String,
    /// Its kind (`postgres`, `shell`, ...); `undeclared` when the policy does not know it.
    #[serde(rename = "type")]
    pub kind: String,
}

/// OCSF `api`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiInfo {
    /// `sql`, `command`, `argv`, `http`, `tool` or `mask`.
    pub operation: String,
}

/// OCSF `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// OCSF schema version.
    pub version: String,
    /// `writ <version>`.
    pub product: String,
    /// The policy version (hash of the compiled documents) that decided.
    pub policy: String,
}

/// writ's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WritDetails {
    /// A decision or a masking pass.
    pub kind: EventKind,
    /// The request as decided: the principal the policy decided for, the resource and the
    /// action as received (never a token, grant or approval token). `None` when no principal
    /// was established.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<AuditRequest>,
    /// The action with literals removed (see [`fingerprint`](super::fingerprint)).
    pub fingerprint: String,
    /// What the engine saw: statement kinds, programs, the HTTP method, the tool name.
    pub classification: Vec<String>,
    /// The final effect.
    pub effect: Effect,
    /// The effect the policy alone gave, before a grant's scopes narrowed it and before an
    /// approval was honoured (what a replay compares); `None` when the request was refused
    /// before the policy was consulted (a bad token, a bad grant, no principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_effect: Option<Effect>,
    /// Rules that decided.
    pub rules: Vec<String>,
    /// Why.
    pub reason: String,
    /// The request digest (what approvals bind to).
    pub digest: String,
    /// The approval's id and approver when one was honoured; its error when rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<BTreeMap<String, String>>,
    /// For a masking pass: which columns and how many values of each entity type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskSummary>,
    /// Time the check (or masking pass) took, in microseconds.
    pub latency_us: u64,
}

/// The request part of an event: enough to decide it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// The principal the policy decided for.
    pub principal: Principal,
    /// The resource.
    pub resource: String,
    /// The action as received.
    #[serde(with = "serde_norway::with::singleton_map")]
    pub action: Action,
}

impl AuditRequest {
    /// The plain request to decide again.
    pub fn to_request(&self) -> Request {
        Request::new(self.principal.clone(), self.resource.clone(), self.action.clone())
    }
}

/// Decision or masking pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A check.
    Decision,
    /// A masking pass over rows of a result.
    Mask,
}

/// What a masking pass did (counts only, never values).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskSummary {
    /// Output column positions the plan masks.
    pub columns: Vec<usize>,
    /// Rows masked.
    pub rows: u64,
    /// Values masked per entity type.
    pub entities: BTreeMap<String, u64>,
}

impl MaskSummary {
    /// The summary of a pass over `rows` rows that masked `columns` and reported `report`.
    pub fn new(columns: Vec<usize>, rows: u64, report: &MaskReport) -> MaskSummary {
        let entities =
            report.counts.iter().map(|(t, n)| (t.as_str().to_owned(), *n as u64)).collect();
        MaskSummary { columns, rows, entities }
    }
}

/// Sequence number and hashes of a chained event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainInfo {
    /// 0 for the first event of a chain, then one more for each event.
    pub seq: u64,
    /// The previous event's `hash` ([`GENESIS`](super::GENESIS) for the first).
    pub prev: String,
    /// The hash of this event without this field (see [`super::chain`]).
    pub hash: String,
}

impl AuditEvent {
    /// The event for one check.
    ///
    /// `kind` is the resource's kind (`None` for an undeclared resource); `time_ms` the
    /// check's start; `latency_us` its duration.
    pub fn decision(
        request: &Request,
        checked: &Checked,
        kind: Option<&str>,
        time_ms: u64,
        latency_us: u64,
    ) -> AuditEvent {
        let decision = &checked.decision;
        let approval = match &checked.approval {
            ApprovalUse::None => None,
            ApprovalUse::Unused => Some(BTreeMap::from([("status".into(), "unused".into())])),
            ApprovalUse::Honoured { id, approver } => Some(BTreeMap::from([
                ("status".into(), "honoured".into()),
                ("id".into(), id.clone()),
                ("approver".into(), approver.clone()),
            ])),
            ApprovalUse::Rejected(e) => Some(BTreeMap::from([
                ("status".into(), "rejected".into()),
                ("error".into(), e.to_string()),
            ])),
        };
        let delegation = checked
            .grant
            .as_ref()
            .map(|g| {
                g.links()
                    .iter()
                    .map(|l| Delegate { uid: l.sub.clone(), grant_id: l.id.clone() })
                    .collect()
            })
            .unwrap_or_default();
        let user = checked
            .principal
            .as_ref()
            .map(|p| UserRef { uid: p.id.clone(), groups: p.groups.clone() });
        let audit_request = checked.principal.as_ref().map(|p| AuditRequest {
            principal: p.clone(),
            resource: request.resource.clone(),
            action: request.action.clone(),
        });
        let (activity_id, activity_name) = activity(&request.action, decision.view.as_ref());
        let (disposition_id, status_id, severity_id) = match decision.effect {
            Effect::Allow => (1, 1, 1),
            Effect::Deny => (2, 2, 4),
            Effect::ApprovalRequired => (99, 2, 3),
        };
        AuditEvent {
            time: time_ms,
            class_uid: CLASS_API_ACTIVITY,
            category_uid: CATEGORY_APPLICATION,
            activity_id,
            activity_name: activity_name.to_owned(),
            type_uid: CLASS_API_ACTIVITY * 100 + activity_id,
            disposition_id,
            disposition: decision.effect.as_str().to_owned(),
            status_id,
            severity_id,
            actor: Actor { user, delegation },
            resources: vec![ResourceRef {
                name: request.resource.clone(),
                kind: kind.unwrap_or("undeclared").to_owned(),
            }],
            api: ApiInfo { operation: operation(&request.action).to_owned() },
            metadata: metadata(&decision.policy),
            writ: WritDetails {
                kind: EventKind::Decision,
                request: audit_request,
                fingerprint: super::fingerprint(&request.action, decision.view.as_ref()),
                classification: classification(decision.view.as_ref()),
                effect: decision.effect,
                policy_effect: checked.policy_effect,
                rules: decision.rules.clone(),
                reason: decision.reason.clone(),
                digest: decision.digest.clone(),
                approval,
                mask: None,
                latency_us,
            },
            chain: None,
        }
    }

    /// The event for one masking pass over `rows` rows of the result of an allowed request.
    pub fn masking(
        principal: &Principal,
        resource: &str,
        kind: Option<&str>,
        decision: &Decision,
        summary: MaskSummary,
        time_ms: u64,
        latency_us: u64,
    ) -> AuditEvent {
        AuditEvent {
            time: time_ms,
            class_uid: CLASS_API_ACTIVITY,
            category_uid: CATEGORY_APPLICATION,
            activity_id: 99,
            activity_name: "mask".to_owned(),
            type_uid: CLASS_API_ACTIVITY * 100 + 99,
            disposition_id: 1,
            disposition: "masked".to_owned(),
            status_id: 1,
            severity_id: 1,
            actor: Actor {
                user: Some(UserRef { uid: principal.id.clone(), groups: principal.groups.clone() }),
                delegation: Vec::new(),
            },
            resources: vec![ResourceRef {
                name: resource.to_owned(),
                kind: kind.unwrap_or("undeclared").to_owned(),
            }],
            api: ApiInfo { operation: "mask".to_owned() },
            metadata: metadata(&decision.policy),
            writ: WritDetails {
                kind: EventKind::Mask,
                request: None,
                fingerprint: String::new(),
                classification: Vec::new(),
                effect: decision.effect,
                policy_effect: None,
                rules: decision.rules.clone(),
                reason: String::new(),
                digest: decision.digest.clone(),
                approval: None,
                mask: Some(summary),
                latency_us,
            },
            chain: None,
        }
    }
}

fn metadata(policy: &str) -> Metadata {
    Metadata {
        version: OCSF_VERSION.to_owned(),
        product: concat!("writ ", env!("CARGO_PKG_VERSION")).to_owned(),
        policy: policy.to_owned(),
    }
}

fn operation(action: &Action) -> &'static str {
    match action {
        Action::Sql(_) => "sql",
        Action::Command(_) => "command",
        Action::Argv(_) => "argv",
        Action::Http(_) => "http",
        Action::Tool(_) => "tool",
    }
}

/// OCSF activity of an action: what it does to the resource, as far as the engine could tell.
fn activity(action: &Action, view: Option<&ActionView>) -> (u32, &'static str) {
    use crate::sql::StatementKind as K;
    const OTHER: (u32, &str) = (99, "other");
    match (action, view) {
        (_, Some(ActionView::Sql(sql))) => {
            if sql.read_only && sql.error.is_none() {
                return (2, "read");
            }
            // The strongest activity of any statement: delete > update > create > read.
            const ORDER: [(u32, &str); 4] =
                [(2, "read"), (1, "create"), (3, "update"), (4, "delete")];
            let mut strongest = 0;
            for k in sql.statements.iter().flat_map(|s| s.all_kinds()) {
                let level = match k {
                    K::Select | K::Show | K::Explain => 0,
                    K::Insert => 1,
                    K::Update | K::Merge | K::Alter => 2,
                    K::Delete | K::Drop | K::Truncate => 3,
                    _ => return OTHER,
                };
                strongest = strongest.max(level);
            }
            ORDER.get(strongest).copied().unwrap_or(OTHER)
        }
        (_, Some(ActionView::Http(http))) => match http.method.as_str() {
            "GET" | "HEAD" | "OPTIONS" => (2, "read"),
            "POST" => (1, "create"),
            "PUT" | "PATCH" => (3, "update"),
            "DELETE" => (4, "delete"),
            _ => OTHER,
        },
        _ => OTHER,
    }
}

/// What the engine saw, as words: statement kinds, programs, the HTTP method, the tool.
fn classification(view: Option<&ActionView>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    let mut stack: Vec<&ActionView> = view.into_iter().collect();
    while let Some(view) = stack.pop() {
        match view {
            ActionView::Sql(sql) => {
                for k in sql.statements.iter().flat_map(|s| s.all_kinds()) {
                    push(k.as_str());
                }
                if sql.error.is_some() || sql.statements.iter().any(|s| !s.understood()) {
                    push("unparsed");
                }
            }
            ActionView::Command(line) => {
                for c in &line.commands {
                    push(&c.program);
                }
                if line.dynamic || line.error.is_some() {
                    push("dynamic");
                }
            }
            ActionView::Http(http) => push(&http.method),
            ActionView::Tool(tool) => {
                push(&format!("tool:{}", tool.name));
                if let Some(inner) = tool.routed.as_ref().and_then(|r| r.view.as_deref()) {
                    stack.push(inner);
                }
            }
        }
    }
    out
}
