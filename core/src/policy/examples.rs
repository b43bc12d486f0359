//! Inline rule examples (`examples: {allow: [...], deny: [...], approval_required: [...]}`):
//! turned into requests while the rules compile, and checked against the whole policy once
//! everything else has compiled.
//!
//! Invariants:
//! - an example is a plain request (no token, grant or approval) checked with
//!   `Engine::decide`, so compiling never depends on the clock or on host keys;
//! - a text example is checked on every resource the rule applies to that takes that text, so
//!   a `deny` example of a rule for every database holds on every database;
//! - an example refused before any rule was looked at (an undeclared resource, SQL sent to a
//!   shell) fails, whatever list it is in: it would exercise no rule;
//! - every failing example is reported, each at its own line and column.

use super::compile::{Checker, CompiledResource, CompiledRule};
use super::document::{RuleDoc, RuleEffect, RuleExample};
use super::error::Diagnostic;
use super::source::{Position, Seg, at_path};
use crate::{Action, Effect, Engine, Principal, Request};

/// One example, ready to check: a request and what the policy must decide for it.
#[derive(Debug)]
pub(crate) struct Example {
    /// The id of the rule the example belongs to.
    rule: String,
    /// The effect the rule decides when it matches.
    rule_effect: Effect,
    /// The list the example is in: the effect the whole policy must decide.
    expect: Effect,
    request: Request,
    file: String,
    position: Position,
}

/// What a text example holds, read from the rule's action block and resources.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Sql,
    Command,
}

/// Turn the examples of rule `i` into requests, reporting those that cannot be (a text on a
/// rule about HTTP APIs, a missing principal) through `ck`. `applies_to` holds the indexes of
/// the declared resources the rule's `resources` condition covers, in declaration order. Returns how many
/// examples of the rule's own effect it has.
pub(crate) fn resolve(
    ck: &mut Checker<'_>,
    i: usize,
    doc: &RuleDoc,
    rule: &CompiledRule,
    applies_to: &[usize],
    resources: &[CompiledResource],
    out: &mut Vec<Example>,
) -> usize {
    let Some(examples) = &doc.examples else { return 0 };
    let rule_effect = decided(doc.effect);
    if examples.principal.as_ref().is_some_and(Principal::is_absent) {
        ck.error(&at_path!["rules", i, "examples", "principal", "id"], "principal id is empty");
        return 0;
    }
    // Made up (or found wanting) at the first example that needs it.
    let mut principal: Option<Result<Principal, String>> = examples.principal.clone().map(Ok);
    let mut principal_reported = false;
    let mut own = 0;
    let lists = [
        ("allow", Effect::Allow, &examples.allow),
        ("deny", Effect::Deny, &examples.deny),
        ("approval_required", Effect::ApprovalRequired, &examples.approval_required),
    ];
    for (list, expect, items) in lists {
        for (j, item) in items.iter().enumerate() {
            let at = at_path!["rules", i, "examples", list, j];
            let Some(mut requests) = item_requests(ck, &at, doc, item, applies_to, resources)
            else {
                continue;
            };
            if requests.iter().any(|r| r.principal.is_absent()) {
                let chosen = principal.get_or_insert_with(|| default_principal(doc, rule));
                match chosen {
                    Ok(p) => {
                        for r in requests.iter_mut().filter(|r| r.principal.is_absent()) {
                            r.principal = p.clone();
                        }
                    }
                    Err(message) => {
                        // Once, at the first example that needs it.
                        if !principal_reported {
                            ck.error(&at, message.clone());
                            principal_reported = true;
                        }
                        continue;
                    }
                }
            }
            if expect == rule_effect {
                own += 1;
            }
            let position = ck.position(&at);
            out.extend(requests.into_iter().map(|request| Example {
                rule: doc.id.clone(),
                rule_effect,
                expect,
                request,
                file: ck.source.name.clone(),
                position,
            }));
        }
    }
    own
}

/// The requests an example item stands for, their principal still absent where the item
/// names none: one per target resource for a text, the request itself otherwise. `None` when
/// the item cannot be checked (reported through `ck`).
fn item_requests(
    ck: &mut Checker<'_>,
    at: &[Seg],
    doc: &RuleDoc,
    item: &RuleExample,
    applies_to: &[usize],
    resources: &[CompiledResource],
) -> Option<Vec<Request>> {
    match item {
        RuleExample::Text(text) => match text_targets(doc, applies_to, resources) {
            Ok((kind, targets)) => Some(
                targets
                    .into_iter()
                    .map(|resource| {
                        let action = match kind {
                            TextKind::Sql => Action::Sql(text.clone()),
                            TextKind::Command => Action::Command(text.clone()),
                        };
                        Request::new(Principal::default(), resource, action)
                    })
                    .collect(),
            ),
            Err(message) => {
                ck.error(at, message);
                None
            }
        },
        RuleExample::Request(request) => {
            let extras = [
                ("token", request.token.is_some()),
                ("grant", request.grant.is_some()),
                ("approval", request.approval.is_some()),
            ];
            if let Some((field, _)) = extras.iter().find(|(_, given)| *given) {
                let mut field_at = at.to_vec();
                field_at.push(Seg::Key((*field).to_owned()));
                ck.error(
                    &field_at,
                    format!(
                        "an example is checked as a plain request for its principal; `{field}` belongs in a test file"
                    ),
                );
                return None;
            }
            Some(vec![(**request).clone()])
        }
    }
}

/// Check `examples` against the compiled policy: one diagnostic per failing example (and per
/// resource, for a text example checked on several).
pub(crate) fn check(engine: &Engine, examples: &[Example]) -> Vec<Diagnostic> {
    examples
        .iter()
        .filter_map(|example| {
            let message = example.failure(engine)?;
            Some(Diagnostic {
                file: example.file.clone(),
                line: example.position.line,
                column: example.position.column,
                message,
            })
        })
        .collect()
}

impl Example {
    /// Why the example does not hold, or `None` when it does.
    fn failure(&self, engine: &Engine) -> Option<String> {
        let decision = engine.decide(&self.request);
        let (rule, expect) = (&self.rule, self.expect);
        let context = format!(
            "for `{}` on `{}`: {}",
            self.request.principal.id, self.request.resource, decision.reason
        );
        if decision.parts.is_empty() {
            return Some(format!(
                "example of rule `{rule}` is refused before any rule applies ({context})"
            ));
        }
        if decision.effect != expect {
            return Some(format!(
                "example of rule `{rule}` expects `{expect}`, but the policy decides `{}` by {} ({context})",
                decision.effect,
                rule_list(&decision.rules)
            ));
        }
        if expect == self.rule_effect {
            if !decision.rules.contains(rule) {
                return Some(format!(
                    "example of rule `{rule}` is decided `{expect}` by {}, not by rule `{rule}` ({context})",
                    rule_list(&decision.rules)
                ));
            }
        } else if let Some(n) = decision.parts.iter().position(|p| p.rules.contains(rule)) {
            return Some(format!(
                "near miss of rule `{rule}` is decided `{expect}` as expected, but rule `{rule}` decides part {} of it as `{}` ({context})",
                n + 1,
                self.rule_effect
            ));
        }
        None
    }
}

/// `rule `a`` or `rules `a`, `b``, or what decided when no rule did.
fn rule_list(rules: &[String]) -> String {
    match rules {
        [] => "no rule (a default or a refusal decided)".to_owned(),
        [one] => format!("rule `{one}`"),
        many => {
            let ids: Vec<String> = many.iter().map(|id| format!("`{id}`")).collect();
            format!("rules {}", ids.join(", "))
        }
    }
}

/// The effect a decision has when `effect` decides.
fn decided(effect: RuleEffect) -> Effect {
    match effect {
        RuleEffect::Allow => Effect::Allow,
        RuleEffect::Deny => Effect::Deny,
        RuleEffect::Approval => Effect::ApprovalRequired,
    }
}

/// What a text example of `doc` holds and the resources it is checked on: those the rule
/// applies to that take that text.
fn text_targets(
    doc: &RuleDoc,
    applies_to: &[usize],
    resources: &[CompiledResource],
) -> Result<(TextKind, Vec<String>), String> {
    let id = &doc.id;
    let takes = |r: &CompiledResource, kind: TextKind| match kind {
        TextKind::Sql => r.dialect.is_some(),
        TextKind::Command => r.kind.runs_commands(),
    };
    let applicable: Vec<&CompiledResource> =
        applies_to.iter().filter_map(|&k| resources.get(k)).collect();
    let any_takes = |kind| applicable.iter().any(|r| takes(r, kind));
    let request_form = "write it as a request (`{resource: NAME, action: {...}}`)";
    let kind = if doc.when.sql.is_some() {
        TextKind::Sql
    } else if doc.when.command.is_some() {
        TextKind::Command
    } else if let Some(block) =
        [("http", doc.when.http.is_some()), ("tool", doc.when.tool.is_some())]
            .into_iter()
            .find_map(|(block, present)| present.then_some(block))
    {
        return Err(format!(
            "a text example is SQL or a command line, but rule `{id}` has `{block}` conditions; {request_form}"
        ));
    } else {
        match (any_takes(TextKind::Sql), any_takes(TextKind::Command)) {
            (true, false) => TextKind::Sql,
            (false, true) => TextKind::Command,
            (true, true) => {
                return Err(format!(
                    "rule `{id}` applies to SQL databases and shells, so a text example could be either; {request_form}"
                ));
            }
            (false, false) => {
                return Err(format!(
                    "rule `{id}` applies to no SQL database or shell, so a text example has nowhere to run; {request_form}"
                ));
            }
        }
    };
    let targets: Vec<String> =
        applicable.iter().filter(|r| takes(r, kind)).map(|r| r.name.clone()).collect();
    if targets.is_empty() {
        let what = match kind {
            TextKind::Sql => "SQL database",
            TextKind::Command => "shell (`shell`, `kubernetes` or `aws` resource)",
        };
        return Err(format!(
            "rule `{id}` applies to no {what}, so a text example has nowhere to run; {request_form}"
        ));
    }
    Ok((kind, targets))
}

/// The principal of the examples that name none, made up from the rule's own principal
/// conditions (see [`RuleExamples::principal`](super::RuleExamples::principal)).
fn default_principal(doc: &RuleDoc, rule: &CompiledRule) -> Result<Principal, String> {
    let id = &doc.id;
    let ask = "set `examples.principal`, or give each example a `principal`";
    let groups: Vec<String> = doc.when.groups.iter().flatten().take(1).cloned().collect();
    let principal = match &doc.when.principals {
        None if groups.is_empty() => {
            return Err(format!(
                "rule `{id}` names no principals or groups, so its examples need a principal: {ask}"
            ));
        }
        None => format!("example:{id}"),
        Some(patterns) => {
            let literal = patterns.iter().map(|p| p.replace('*', "")).find(|candidate| {
                !candidate.is_empty()
                    && !candidate.contains(['?', '[', ']', '{', '}', '\\'])
                    && rule.matches_principal(candidate, &groups)
            });
            match literal {
                Some(found) => found,
                None => {
                    return Err(format!(
                        "no principal id can be read from the `principals` patterns of rule `{id}`: {ask}"
                    ));
                }
            }
        }
    };
    Ok(Principal { id: principal, groups })
}
