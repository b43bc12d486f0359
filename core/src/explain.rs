//! Why the engine decided what it did: every rule, for every part of the request, with whether
//! it matched and, when it did not, the first condition that failed.
//!
//! The trace reuses the matchers' own first-failure reporting, so it cannot drift from what
//! [`Engine::check`](crate::Engine::check) does. It explains the policy for the request's
//! `principal`; tokens, grants and approvals are not resolved here (their outcome is in the
//! decision).

use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::decision::{ActionView, Decision};
use crate::policy::{CompiledResource, Part, RouteKind, RuleEffect};
use crate::request::{Action, Principal, Request};

/// A decision with the trace of every rule considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The decision, as [`Engine::check`](crate::Engine::check) makes it.
    pub decision: Decision,
    /// One trace per part, in order; a tool call's routed argument adds the parts of its
    /// target resource.
    pub parts: Vec<PartTrace>,
}

/// The rules considered for one part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartTrace {
    /// The resource whose rules were considered.
    pub resource: String,
    /// The part, as reasons name it (`statement 2 (`delete`)`).
    pub part: String,
    /// False when writ could not fully understand the part (allow rules never match it).
    pub understood: bool,
    /// Every rule of the policy, in policy order.
    pub rules: Vec<RuleTrace>,
}

/// One rule's outcome for one part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTrace {
    /// The rule's id.
    pub id: String,
    /// The rule's effect.
    pub effect: RuleEffect,
    /// Whether the rule matched.
    pub matched: bool,
    /// Why not, or `matched`.
    pub why: String,
}

impl Engine {
    /// Decide `request` and trace every rule for every part.
    pub fn explain(&self, request: &Request) -> Explanation {
        let decision = self.check(request);
        let mut parts = Vec::new();
        self.trace(request, &decision, &mut parts);
        Explanation { decision, parts }
    }

    fn trace(&self, request: &Request, decision: &Decision, out: &mut Vec<PartTrace>) {
        let policy = &*self.policy;
        let Some(resource) =
            policy.resource_index.get(&request.resource).and_then(|&i| policy.resources.get(i))
        else {
            return;
        };
        let principal = &request.principal;
        match &decision.view {
            Some(ActionView::Sql(view)) => {
                for (n, s) in view.statements.iter().enumerate() {
                    out.push(self.trace_part(resource, principal, &Part::Statement(s), n));
                }
            }
            Some(ActionView::Command(view)) => {
                let line_understood = !view.dynamic && view.error.is_none();
                for (n, c) in view.commands.iter().enumerate() {
                    let part = Part::Command { command: c, line_understood };
                    out.push(self.trace_part(resource, principal, &part, n));
                }
            }
            Some(ActionView::Http(view)) => {
                out.push(self.trace_part(resource, principal, &Part::Http(view), 0));
            }
            Some(ActionView::Tool(_)) => {
                let Action::Tool(call) = &request.action else { return };
                out.push(self.trace_part(resource, principal, &Part::Tool(call), 0));
                let route = resource.routes.iter().find(|r| r.tool == call.name);
                let argument = route.and_then(|r| {
                    call.arguments
                        .pointer(&r.pointer)
                        .and_then(serde_json::Value::as_str)
                        .map(|a| (r, a))
                });
                if let Some((route, text)) = argument {
                    let action = match route.kind {
                        RouteKind::Sql => Action::Sql(text.to_owned()),
                        RouteKind::Command => Action::Command(text.to_owned()),
                    };
                    let inner = Request::new(principal.clone(), route.resource.clone(), action);
                    let inner_decision = self.decide(&inner);
                    self.trace(&inner, &inner_decision, out);
                }
            }
            None => {}
        }
    }

    fn trace_part(
        &self,
        resource: &CompiledResource,
        principal: &Principal,
        part: &Part<'_>,
        index: usize,
    ) -> PartTrace {
        let understood = part.understood();
        let rules = self
            .policy
            .rules
            .iter()
            .enumerate()
            .map(|(ri, rule)| {
                let why = if !resource.rules.contains(&ri) {
                    Some(format!(
                        "applies to other resources (`resources` does not name `{}`)",
                        resource.name
                    ))
                } else if rule.effect == RuleEffect::Allow && !understood {
                    Some("allow rules never match what writ could not fully understand".to_owned())
                } else if let Some(failed) =
                    rule.principal_failure(&principal.id, &principal.groups)
                {
                    Some(match failed {
                        "groups" => "the principal is in none of the rule's `groups`".to_owned(),
                        _ => format!("`{failed}` does not match `{}`", principal.id),
                    })
                } else {
                    rule.part_failure(part, resource.default_schema.as_deref()).map(|failed| {
                        if failed.contains('.') {
                            format!("`{failed}` does not hold")
                        } else {
                            format!("the rule's `{failed}` block is for another kind of action")
                        }
                    })
                };
                RuleTrace {
                    id: rule.id.clone(),
                    effect: rule.effect,
                    matched: why.is_none(),
                    why: why.unwrap_or_else(|| "matched".to_owned()),
                }
            })
            .collect();
        PartTrace {
            resource: resource.name.clone(),
            part: format!("{} {} (`{}`)", part.noun(), index + 1, part.label()),
            understood,
            rules,
        }
    }
}
