//! The engine: a compiled policy that answers requests.
//!
//! # Semantics
//! For SQL, every statement of the text is decided on its own, then the text takes the most
//! restrictive statement effect, so every statement must be allowed for the text to be allowed.
//! For one statement:
//! 1. any matching `deny` rule: deny;
//! 2. else any matching `approval` rule: approval required;
//! 3. else, when writ could not fully understand the statement (kind `unknown`, or flagged
//!    `unparsed`): the policy's `defaults.unknown` (deny unless it says `approval`) — allow
//!    rules never match such a statement;
//! 4. else any matching `allow` rule: allow;
//! 5. else the policy's `defaults.effect` (deny unless it says `approval`).
//!
//! A request for an undeclared resource, a SQL action on a resource that is not a database,
//! and a text with no statement are denied before any rule is looked at.

use std::sync::Arc;

use crate::decision::{ActionView, Decision, Effect, PartDecision, RoutedView, ToolView};
use crate::policy::{
    self, CompiledPolicy, CompiledResource, FallbackEffect, Part, PolicyError, ResourceKind,
    RouteKind, RuleEffect, Source,
};
use crate::request::{Action, HttpRequest, Principal, Request, ToolCall};
use crate::{command, http, sql};

mod sql_clients;

/// A command action's input.
enum CommandInput<'a> {
    Line(&'a str),
    Argv(&'a [String]),
}

/// A compiled policy, ready to check requests.
///
/// Immutable, cheap to clone (an `Arc` inside) and safe to share between threads. To change the
/// policy, compile a new engine and swap it in; checks under way finish on the old one.
///
/// # Example
/// ```
/// use writ::{Effect, Engine, Principal, Request};
///
/// let engine = Engine::from_yaml(r#"
/// version: 1
/// resources:
///   - {name: warehouse, kind: postgres, default_schema: public}
/// rules:
///   - id: analysts-read
///     effect: allow
///     when: {groups: [analysts], sql: {read_only: true, tables: ["public.*"]}}
/// "#).unwrap();
///
/// let alice = Principal::new("user:alice", ["analysts"]);
/// let read = engine.check(&Request::sql(alice.clone(), "warehouse", "SELECT * FROM orders"));
/// assert_eq!(read.effect, Effect::Allow);
/// let hidden = "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d";
/// assert_eq!(engine.check(&Request::sql(alice, "warehouse", hidden)).effect, Effect::Deny);
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) policy: Arc<CompiledPolicy>,
    /// Decisions of recent plain requests (see [`crate::cache`]); shared by clones, which
    /// hold the same policy.
    cache: Arc<crate::cache::DecisionCache>,
}

impl Engine {
    /// Compile policy documents, then check the rules' inline examples
    /// ([`RuleExamples`](crate::policy::RuleExamples)) against the compiled policy.
    ///
    /// # Errors
    /// [`PolicyError::Invalid`] listing every problem found, each with file, line and column;
    /// once everything else compiles, every example that does not hold, at the example.
    pub fn compile(sources: &[Source]) -> Result<Engine, PolicyError> {
        let (policy, examples) = policy::compile::compile(sources)?;
        let engine = Engine {
            policy: Arc::new(policy),
            cache: Arc::new(crate::cache::DecisionCache::new(crate::cache::DEFAULT_CACHE_ENTRIES)),
        };
        let failures = policy::examples::check(&engine, &examples);
        if !failures.is_empty() {
            return Err(PolicyError::Invalid(failures));
        }
        Ok(engine)
    }

    /// Compile the document at `path`, or every document in the directory at `path`.
    ///
    /// # Errors
    /// As [`Engine::compile`], plus [`PolicyError::Io`] and [`PolicyError::NoDocuments`].
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Engine, PolicyError> {
        Engine::compile(&Source::read_path(path.as_ref())?)
    }

    /// Compile one YAML document held in memory (named `<policy>` in errors).
    ///
    /// # Errors
    /// As [`Engine::compile`].
    pub fn from_yaml(text: &str) -> Result<Engine, PolicyError> {
        Engine::compile(&[Source {
            name: "<policy>".into(),
            text: text.into(),
            format: policy::Format::Yaml,
        }])
    }

    /// Compile one JSON document held in memory (named `<policy>` in errors).
    ///
    /// # Errors
    /// As [`Engine::compile`].
    pub fn from_json(text: &str) -> Result<Engine, PolicyError> {
        Engine::compile(&[Source {
            name: "<policy>".into(),
            text: text.into(),
            format: policy::Format::Json,
        }])
    }

    /// The policy version: a hash of the compiled documents' text.
    pub fn policy_version(&self) -> &str {
        &self.policy.version
    }

    /// Names of the declared resources, in declaration order.
    pub fn resource_names(&self) -> impl Iterator<Item = &str> {
        self.policy.resources.iter().map(|r| r.name.as_str())
    }

    /// Number of compiled rules.
    pub fn rule_count(&self) -> usize {
        self.policy.rules.len()
    }

    /// The kind of a declared resource as policies spell it (`postgres`, `shell`, ...).
    pub fn resource_kind_name(&self, resource: &str) -> Option<&'static str> {
        let index = self.policy.resource_index.get(resource)?;
        self.policy.resources.get(*index).map(|r| r.kind.as_str())
    }

    /// What the policy says a failing audit sink does to the request.
    pub fn audit_on_failure(&self) -> crate::policy::AuditFailure {
        self.policy.audit_on_failure
    }

    /// Rule ids, in policy order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.policy.rules.iter().map(|r| r.id.as_str())
    }

    /// Ids of the rules with an inline example of their own effect, in policy order. The policy
    /// compiled, so the rule decides each of those examples: they exercise it as a test case
    /// would.
    pub fn rule_ids_with_examples(&self) -> impl Iterator<Item = &str> {
        self.policy.rules.iter().filter(|r| r.exemplified).map(|r| r.id.as_str())
    }

    /// Decide a request. Never fails: whatever cannot be understood is denied (or sent to
    /// approval where the policy says so). A request with a token, a grant or an approval is
    /// checked as [`Engine::check_with`] does with an empty [`Context`](crate::identity::Context)
    /// (the system clock, no host keys).
    pub fn check(&self, request: &Request) -> Decision {
        // A plain request names its principal and carries nothing to verify: `check_with`
        // would decide it just so (and copy the principal into a result dropped here).
        let plain =
            request.token.is_none() && request.grant.is_none() && request.approval.is_none();
        if plain && !request.principal.id.is_empty() {
            return self.decide(request);
        }
        self.check_with(request, &crate::identity::Context::default()).decision
    }

    /// This engine with a decision cache of about `entries` plain requests instead of the
    /// default [`DEFAULT_CACHE_ENTRIES`](crate::cache::DEFAULT_CACHE_ENTRIES); `0` turns the
    /// cache off. A repeated plain request (no token, grant or approval; SQL, a command line,
    /// an argv or HTTP, at most [`MAX_CACHED_BYTES`](crate::cache::MAX_CACHED_BYTES) long)
    /// then gets the decision made the first time, without parsing it again. Decisions depend
    /// only on the request and the policy, so a cached one is the decision a new check would
    /// make.
    #[must_use]
    pub fn with_decision_cache(mut self, entries: usize) -> Engine {
        self.cache = Arc::new(crate::cache::DecisionCache::new(entries));
        self
    }

    /// Decide a request as [`Engine::check`] does, sharing the decision instead of copying it:
    /// a repeated plain request costs a hash, a lock and a comparison (see
    /// [`Engine::with_decision_cache`]).
    pub fn check_shared(&self, request: &Request) -> Arc<Decision> {
        let plain =
            request.token.is_none() && request.grant.is_none() && request.approval.is_none();
        if plain && !request.principal.id.is_empty() {
            return self.decide_shared(request);
        }
        Arc::new(self.check(request))
    }

    /// Decide a plain request for `request.principal` (token, grant and approval ignored),
    /// through the decision cache.
    pub(crate) fn decide(&self, request: &Request) -> Decision {
        if !self.cache.keeps(request) {
            return self.decide_uncached(request);
        }
        Decision::clone(&self.decide_shared(request))
    }

    fn decide_shared(&self, request: &Request) -> Arc<Decision> {
        if let Some(hit) = self.cache.get(request) {
            return hit;
        }
        let decision = Arc::new(self.decide_uncached(request));
        self.cache.put(request, &decision);
        decision
    }

    fn decide_uncached(&self, request: &Request) -> Decision {
        let digest = request.digest();
        let policy = &*self.policy;
        let resource =
            policy.resource_index.get(&request.resource).and_then(|&i| policy.resources.get(i));
        let Some(resource) = resource else {
            let reason = format!("resource `{}` is not declared in the policy", request.resource);
            return self.refuse(digest, reason, None);
        };
        match &request.action {
            Action::Sql(text) => self.check_sql(&request.principal, resource, text, digest),
            Action::Command(line) => {
                self.check_command(&request.principal, resource, CommandInput::Line(line), digest)
            }
            Action::Argv(argv) => {
                self.check_command(&request.principal, resource, CommandInput::Argv(argv), digest)
            }
            Action::Http(h) => self.check_http(&request.principal, resource, h, digest),
            Action::Tool(call) => self.check_tool(&request.principal, resource, call, digest),
        }
    }

    fn check_sql(
        &self,
        principal: &Principal,
        resource: &CompiledResource,
        text: &str,
        digest: String,
    ) -> Decision {
        let Some(dialect) = resource.dialect else {
            let reason = format!(
                "resource `{}` is a {} resource, not a SQL database",
                resource.name,
                resource.kind.as_str()
            );
            return self.refuse(digest, reason, None);
        };
        let view = sql::classify_with(text, dialect, &self.policy.limits.sql);
        if let Some(limit) = &view.limit {
            let reason = over_limit_reason(limit, view.error.as_deref());
            return self.refuse(digest, reason, Some(ActionView::Sql(view)));
        }
        if view.statements.is_empty() {
            let reason = match &view.error {
                Some(error) => format!("the SQL could not be understood: {error}"),
                None => "the request holds no SQL statement".to_owned(),
            };
            return self.refuse(digest, reason, Some(ActionView::Sql(view)));
        }
        let parts: Vec<PartDecision> = view
            .statements
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let part = Part::Statement(s);
                let why = view.error.as_deref();
                self.decide_part(principal, resource, &part, n, why)
            })
            .collect();
        let mut decision = self.combine(parts, digest, ActionView::Sql(view));
        crate::mask::attach_plan(&mut decision, &self.policy, resource, principal, text);
        decision
    }

    fn check_command(
        &self,
        principal: &Principal,
        resource: &CompiledResource,
        input: CommandInput<'_>,
        digest: String,
    ) -> Decision {
        if !resource.kind.runs_commands() {
            let reason = format!(
                "resource `{}` is a {} resource, not a shell",
                resource.name,
                resource.kind.as_str()
            );
            return self.refuse(digest, reason, None);
        }
        let limits = &self.policy.limits.command;
        let view = match input {
            CommandInput::Line(line) => command::parse_line(line, limits),
            CommandInput::Argv(argv) => command::parse_argv(argv, limits),
        };
        if let Some(limit) = &view.limit {
            let reason = over_limit_reason(limit, view.error.as_deref());
            return self.refuse(digest, reason, Some(ActionView::Command(view)));
        }
        let line_understood = !view.dynamic && view.error.is_none();
        if view.commands.is_empty() && line_understood {
            return self.refuse(
                digest,
                "the request holds no command".to_owned(),
                Some(ActionView::Command(view)),
            );
        }
        let why = view.error.as_deref();
        let mut parts: Vec<PartDecision> = if view.commands.is_empty() {
            // Nothing could be resolved: one unknown part, so rules that need no command
            // conditions (a principal-wide deny) still apply and the unknown default decides
            // the rest.
            let unknown = command::CommandView { dynamic: true, ..command::CommandView::default() };
            let part = Part::Command { command: &unknown, line_understood: false };
            vec![self.decide_part(principal, resource, &part, 0, why)]
        } else {
            view.commands
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    let part = Part::Command { command: c, line_understood };
                    self.decide_part(principal, resource, &part, n, why)
                })
                .collect()
        };
        // Tool-model hook: SQL sent by routed database clients (`psql -c`) is checked too.
        parts.extend(self.sql_client_parts(principal, resource, &view));
        self.combine(parts, digest, ActionView::Command(view))
    }

    fn check_http(
        &self,
        principal: &Principal,
        resource: &CompiledResource,
        h: &HttpRequest,
        digest: String,
    ) -> Decision {
        if resource.kind != ResourceKind::Http {
            let reason = format!(
                "resource `{}` is a {} resource, not an HTTP API",
                resource.name,
                resource.kind.as_str()
            );
            return self.refuse(digest, reason, None);
        }
        let view = http::parse(&h.method, &h.url);
        let part =
            self.decide_part(principal, resource, &Part::Http(&view), 0, view.error.as_deref());
        self.combine(vec![part], digest, ActionView::Http(view))
    }

    /// A tool call is one part; when the policy routes the tool's argument to another
    /// resource, that argument is checked there as a request of its own by the same principal,
    /// and its parts follow. The most restrictive part decides.
    fn check_tool(
        &self,
        principal: &Principal,
        resource: &CompiledResource,
        call: &ToolCall,
        digest: String,
    ) -> Decision {
        if resource.kind != ResourceKind::Tool {
            let reason = format!(
                "resource `{}` is a {} resource, not a tool",
                resource.name,
                resource.kind.as_str()
            );
            return self.refuse(digest, reason, None);
        }
        let mut parts = vec![self.decide_part(principal, resource, &Part::Tool(call), 0, None)];
        let Some(route) = resource.routes.iter().find(|r| r.tool == call.name) else {
            let view = ToolView { name: call.name.clone(), routed: None };
            return self.combine(parts, digest, ActionView::Tool(view));
        };
        let argument = call.arguments.pointer(&route.pointer).and_then(serde_json::Value::as_str);
        let mut routed_mask = None;
        let routed_view = match argument {
            None => {
                parts.push(PartDecision {
                    effect: fallback(self.policy.unknown_effect),
                    rules: Vec::new(),
                    reason: format!(
                        "tool `{}` carries its {} in the string argument `{}`, which is missing",
                        call.name,
                        route.kind.noun(),
                        route.pointer
                    ),
                });
                None
            }
            Some(text) => {
                let action = match route.kind {
                    RouteKind::Sql => Action::Sql(text.to_owned()),
                    RouteKind::Command => Action::Command(text.to_owned()),
                };
                let inner = Request::new(principal.clone(), route.resource.clone(), action);
                let decision = self.decide(&inner);
                routed_mask = decision.mask.clone();
                if decision.parts.is_empty() {
                    // Refused before any rule: keep the refusal as a part.
                    parts.push(PartDecision {
                        effect: decision.effect,
                        rules: decision.rules,
                        reason: decision.reason,
                    });
                } else {
                    parts.extend(decision.parts);
                }
                decision.view.map(Box::new)
            }
        };
        let routed = RoutedView {
            resource: route.resource.clone(),
            argument: route.pointer.clone(),
            view: routed_view,
        };
        let view = ToolView { name: call.name.clone(), routed: Some(routed) };
        let mut decision = self.combine(parts, digest, ActionView::Tool(view));
        // What the routed query returns is masked as if it had been asked directly.
        decision.mask = routed_mask;
        decision
    }

    /// The text or line takes the most restrictive part effect; its rules are those of the
    /// parts with that effect, its reason the first such part's that a rule decided (a part
    /// decided by a default only when no rule decided any), so the reason is one of the rules
    /// it names.
    fn combine(&self, parts: Vec<PartDecision>, digest: String, view: ActionView) -> Decision {
        let effect = parts.iter().map(|s| s.effect).max().unwrap_or(Effect::Deny);
        let mut rules: Vec<String> = Vec::new();
        let deciding = parts.iter().filter(|s| s.effect == effect);
        let reason = deciding
            .clone()
            .find(|s| !s.rules.is_empty())
            .or_else(|| deciding.clone().next())
            .map(|s| s.reason.clone());
        for s in deciding {
            for id in &s.rules {
                if !rules.contains(id) {
                    rules.push(id.clone());
                }
            }
        }
        Decision {
            effect,
            rules,
            reason: reason.unwrap_or_default(),
            digest,
            policy: self.policy.version.clone(),
            parts,
            view: Some(view),
            mask: None,
        }
    }

    /// Decide one part (a statement or a command) with the order of the module docs.
    fn decide_part(
        &self,
        principal: &Principal,
        resource: &CompiledResource,
        part: &Part<'_>,
        index: usize,
        error: Option<&str>,
    ) -> PartDecision {
        let policy = &*self.policy;
        let understood = part.understood();
        // The matching rules, in policy order, and how many there are of each effect.
        let mut matched: Vec<&policy::compile::CompiledRule> = Vec::new();
        let (mut denies, mut approvals, mut allows) = (0, 0, 0);
        for &ri in &resource.rules {
            let Some(rule) = policy.rules.get(ri) else { continue };
            if rule.effect == RuleEffect::Allow && !understood {
                continue;
            }
            if !rule.matches_principal(&principal.id, &principal.groups) {
                continue;
            }
            if !rule.matches_part(part, resource.default_schema.as_deref()) {
                continue;
            }
            match rule.effect {
                RuleEffect::Deny => denies += 1,
                RuleEffect::Approval => approvals += 1,
                RuleEffect::Allow => allows += 1,
            }
            matched.push(rule);
        }
        // The decision of the matching rules of one effect: their ids, the first one's reason.
        let from_rules = |effect: Effect, of: RuleEffect, count: usize| {
            let mut ids: Vec<String> = Vec::with_capacity(count);
            let mut reason = None;
            for rule in matched.iter().filter(|r| r.effect == of) {
                reason.get_or_insert_with(|| rule.reason.clone());
                ids.push(rule.id.clone());
            }
            PartDecision { effect, rules: ids, reason: reason.unwrap_or_default() }
        };
        if denies > 0 {
            return from_rules(Effect::Deny, RuleEffect::Deny, denies);
        }
        if approvals > 0 {
            return from_rules(Effect::ApprovalRequired, RuleEffect::Approval, approvals);
        }
        if !understood {
            let why = match error {
                Some(error) => format!(": {error}"),
                None => String::new(),
            };
            let reason = format!(
                "{} {} (`{}`) could not be fully understood{why}",
                part.noun(),
                index + 1,
                part.label()
            );
            return PartDecision {
                effect: fallback(policy.unknown_effect),
                rules: Vec::new(),
                reason,
            };
        }
        if allows > 0 {
            return from_rules(Effect::Allow, RuleEffect::Allow, allows);
        }
        let reason = policy.default_reason.clone().unwrap_or_else(|| {
            format!(
                "no rule allows {} {} (`{}`) on `{}`",
                part.noun(),
                index + 1,
                part.label(),
                resource.name
            )
        });
        PartDecision { effect: fallback(policy.default_effect), rules: Vec::new(), reason }
    }

    fn refuse(&self, digest: String, reason: String, view: Option<ActionView>) -> Decision {
        Decision {
            effect: Effect::Deny,
            rules: Vec::new(),
            reason,
            digest,
            policy: self.policy.version.clone(),
            parts: Vec::new(),
            view,
            mask: None,
        }
    }
}

/// The reason of a request over one of the policy's limits.
fn over_limit_reason(limit: &str, error: Option<&str>) -> String {
    let detail = error.unwrap_or("over the limit");
    format!("{detail} (`limits.{limit}`): refused before any rule is consulted")
}

fn fallback(effect: FallbackEffect) -> Effect {
    match effect {
        FallbackEffect::Deny => Effect::Deny,
        FallbackEffect::Approval => Effect::ApprovalRequired,
    }
}

/// How reasons name an effect: `denied by rule `x``.
pub(crate) fn describe(effect: Effect) -> &'static str {
    match effect {
        Effect::Allow => "allowed",
        Effect::ApprovalRequired => "approval required",
        Effect::Deny => "denied",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Engine>();
    }
}
