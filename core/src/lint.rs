//! Lints: problems in a policy that compiles but probably does not say what its author meant.
//!
//! Every lint is a proof, never a guess: it uses the same conservative comparison of
//! conditions as grant narrowing (`grant::scope::narrower`), which only says "covered" when it
//! can show it, so a lint may miss a problem but never reports one that is not there.
//!
//! - **covered**: a rule whose conditions are covered by an earlier rule with the same effect
//!   never changes a decision (every request it matches, the earlier one matches too). Set
//!   conditions compare the same way in both directions: a narrower list matches less whether
//!   every item or any item must be covered.
//! - **overridden allow**: an allow rule whose principals, groups and resources are covered by
//!   a deny rule without action conditions is always denied.
//! - **never matches**: a rule whose action block (`sql`, `command`, `http`, `tool`) applies
//!   to none of the resources it names.
//! - **unused resource**: a resource no rule applies to; every request on it is denied by
//!   default.

use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::grant::scope::narrower;
use crate::policy::{CompiledResource, Conditions, ResourceKind, RuleEffect};

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lint {
    /// Where (`file:line:column`) the rule or resource the finding is about stands.
    pub at: String,
    /// What is wrong, in one lowercase line.
    pub message: String,
}

impl Engine {
    /// Lint the compiled policy (see the module docs of `lint.rs` for what is checked).
    pub fn lints(&self) -> Vec<Lint> {
        let policy = &*self.policy;
        let mut out = Vec::new();
        for (i, rule) in policy.rules.iter().enumerate() {
            let earlier = policy.rules.iter().take(i);
            if let Some(first) =
                earlier.clone().find(|e| e.effect == rule.effect && covers(&e.when, &rule.when))
            {
                out.push(Lint {
                    at: rule.origin.clone(),
                    message: format!(
                        "rule `{}` is covered by the earlier {} rule `{}`: it never changes a decision",
                        rule.id,
                        rule.effect.as_str(),
                        first.id
                    ),
                });
            }
            if rule.effect == RuleEffect::Allow
                && let Some(deny) = policy.rules.iter().find(|d| {
                    d.effect == RuleEffect::Deny
                        && has_no_action(&d.when)
                        && covers(&identity_only(&d.when), &identity_only(&rule.when))
                })
            {
                out.push(Lint {
                    at: rule.origin.clone(),
                    message: format!(
                        "allow rule `{}` can never allow: deny rule `{}` matches everything it does",
                        rule.id, deny.id
                    ),
                });
            }
            let applies: Vec<&CompiledResource> =
                policy.resources.iter().filter(|r| r.rules.contains(&i)).collect();
            if let Some(block) = action_block(&rule.when)
                && !applies.iter().any(|r| serves(block, r))
            {
                out.push(Lint {
                    at: rule.origin.clone(),
                    message: format!(
                        "rule `{}` can never match: its `{block}` conditions apply to none of the resources it names",
                        rule.id
                    ),
                });
            }
        }
        for resource in &policy.resources {
            if resource.rules.is_empty() {
                out.push(Lint {
                    at: resource.origin.clone(),
                    message: format!(
                        "no rule applies to resource `{}`: every request on it is denied",
                        resource.name
                    ),
                });
            }
        }
        out
    }
}

/// `parent` matches at least everything `child` does (provably).
fn covers(parent: &Conditions, child: &Conditions) -> bool {
    narrower(child, parent).is_ok()
}

fn has_no_action(when: &Conditions) -> bool {
    action_block(when).is_none()
}

/// The principal, group and resource conditions only.
fn identity_only(when: &Conditions) -> Conditions {
    Conditions {
        principals: when.principals.clone(),
        groups: when.groups.clone(),
        resources: when.resources.clone(),
        ..Conditions::default()
    }
}

fn action_block(when: &Conditions) -> Option<&'static str> {
    if when.sql.is_some() {
        Some("sql")
    } else if when.command.is_some() {
        Some("command")
    } else if when.http.is_some() {
        Some("http")
    } else if when.tool.is_some() {
        Some("tool")
    } else {
        None
    }
}

/// Whether a resource takes the actions an action block is about.
fn serves(block: &str, resource: &CompiledResource) -> bool {
    match block {
        "sql" => resource.dialect.is_some(),
        "command" => resource.kind.runs_commands(),
        "http" => resource.kind == ResourceKind::Http,
        "tool" => resource.kind == ResourceKind::Tool,
        _ => true,
    }
}
