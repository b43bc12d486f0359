//! The decision model: what the engine answers, as Rust values and as JSON.
//!
//! ```json
//! {"effect": "deny", "rules": ["no-destructive"], "reason": "destructive statements are denied",
//!  "digest": "sha256:…", "policy": "sha256:…",
//!  "parts": [{"effect": "deny", "rules": ["no-destructive"], "reason": "..."}],
//!  "view": {"sql": {"read_only": false, "statements": [...], "error": null}}}
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::command::CommandLineView;
use crate::http::HttpView;
use crate::mask::MaskPlan;
use crate::sql::SqlView;

/// What the engine decided.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The request may proceed.
    Allow,
    /// The request may proceed only with a human approval bound to its digest.
    ApprovalRequired,
    /// The request must not proceed.
    Deny,
}

impl Effect {
    /// The snake_case word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::ApprovalRequired => "approval_required",
            Effect::Deny => "deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Allow, deny or approval required. The most restrictive effect over all parts.
    pub effect: Effect,
    /// Ids of the rules that decided the effect, in policy order; empty when a default decided.
    pub rules: Vec<String>,
    /// Why, for the caller: the deciding rule's reason, or the engine's.
    pub reason: String,
    /// Digest of the normalized request (see [`Request::digest`](crate::Request::digest)).
    pub digest: String,
    /// Version of the policy that decided: a hash of its documents.
    pub policy: String,
    /// The decision for each part of the action, in order: one entry per statement of a SQL
    /// text, per command of a command line, one for an HTTP request, and for a tool call one
    /// for the call followed by those of its routed argument. Empty when the request was
    /// refused before any rule was looked at.
    pub parts: Vec<PartDecision>,
    /// What the engine saw; `None` when it could not look (an undeclared resource).
    pub view: Option<ActionView>,
    /// For SQL that may run: which result columns to mask (see [`MaskPlan`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskPlan>,
}

/// The decision for one part of an action (a statement of a SQL text, a command of a line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDecision {
    /// This part's effect.
    pub effect: Effect,
    /// Rules that decided it.
    pub rules: Vec<String>,
    /// Why.
    pub reason: String,
}

/// The engine's view of the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionView {
    /// Classified SQL.
    Sql(SqlView),
    /// A parsed command line (or argv).
    Command(CommandLineView),
    /// A parsed HTTP request.
    Http(HttpView),
    /// A tool call, with what its routed argument turned out to be.
    Tool(ToolView),
}

/// The engine's view of a tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolView {
    /// The tool's name.
    pub name: String,
    /// When the policy routes this tool's argument to another resource: what was checked.
    pub routed: Option<RoutedView>,
}

/// A tool argument checked as SQL or a command against another resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutedView {
    /// The resource the argument was checked against.
    pub resource: String,
    /// The JSON pointer of the argument.
    pub argument: String,
    /// What the engine saw in it; `None` when the argument was missing or not a string.
    pub view: Option<Box<ActionView>>,
}

impl Decision {
    /// True when the effect is [`Effect::Allow`].
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }
}
