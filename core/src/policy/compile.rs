//! Validation across documents and compilation into matchers.
//!
//! Compilation checks what serde cannot: the format version, unique resource names and rule
//! ids across all documents, valid globs, resource patterns that name declared resources,
//! empty condition lists (which could never match and are always a mistake), and a single
//! `defaults` block. Every problem found is reported with its file, line and column; nothing
//! is compiled while any remains. Rules' inline examples are turned into requests here
//! (`examples.rs`) and handed back, to be checked once the policy has compiled.
//!
//! Each resource keeps the indexes of the rules whose `resources` condition covers it, in
//! policy order, so a check looks only at rules that can apply to its resource.

use std::collections::HashMap;

use globset::{Glob, GlobBuilder};
use sha2::{Digest as _, Sha256};

use super::document::{
    ArgumentCondition, AuditFailure, CommandConditions, Conditions, DOCUMENT_VERSION,
    FallbackEffect, HttpConditions, PolicyDocument, ResourceKind, RuleEffect, SqlConditions,
    ToolConditions,
};
use super::error::{Diagnostic, PolicyError};
use super::examples::Example;
use super::globs::{GlobList, GlobListBuilder, Simple};
use super::source::{Position, Seg, SourceMap, at_path};
use super::{Source, parse_document};
use crate::command::CommandView;
use crate::http::HttpView;
use crate::request::{ToolCall, same_value};
use crate::sql::{Dialect, Flag, StatementKind, StatementView};

/// A compiled policy: what an engine holds.
#[derive(Debug)]
pub(crate) struct CompiledPolicy {
    pub(crate) resources: Vec<CompiledResource>,
    pub(crate) resource_index: HashMap<String, usize>,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) default_effect: FallbackEffect,
    pub(crate) unknown_effect: FallbackEffect,
    pub(crate) default_reason: Option<String>,
    /// What a failing audit sink does to the request (`audit.on_failure`).
    pub(crate) audit_on_failure: AuditFailure,
    pub(crate) version: String,
    /// Trusted token issuers (`issuers:` of every document).
    pub(crate) issuers: crate::identity::Issuers,
    /// Masking rules and declared table columns (`masks:`, resource `columns:`).
    pub(crate) masks: crate::mask::MaskSet,
    /// Bounds on each request (`limits:`).
    pub(crate) limits: crate::limits::Limits,
}

/// A declared resource and the rules that may apply to it.
#[derive(Debug)]
pub(crate) struct CompiledResource {
    pub(crate) name: String,
    pub(crate) kind: ResourceKind,
    pub(crate) dialect: Option<Dialect>,
    pub(crate) default_schema: Option<String>,
    pub(crate) rules: Vec<usize>,
    /// For tool resources: tools whose argument is checked against another resource.
    pub(crate) routes: Vec<CompiledRoute>,
    /// For shell resources: SQL client program (`psql`, `mysql`, `sqlite3`) to SQL resource.
    pub(crate) sql_clients: Vec<(String, String)>,
    /// Where the resource's name stands (`file:line:column`).
    pub(crate) origin: String,
}

/// A tool whose argument is SQL or a command for another resource.
#[derive(Debug)]
pub(crate) struct CompiledRoute {
    pub(crate) tool: String,
    pub(crate) kind: RouteKind,
    pub(crate) pointer: String,
    pub(crate) resource: String,
}

/// What a routed argument holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    Sql,
    Command,
}

impl RouteKind {
    /// `SQL` or `command`, for reasons.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            RouteKind::Sql => "SQL",
            RouteKind::Command => "command",
        }
    }
}

/// A rule ready to match.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) id: String,
    pub(crate) effect: RuleEffect,
    /// What a decision this rule makes says: the rule's `reason`, or `denied by rule `id``
    /// (built once here rather than on every check).
    pub(crate) reason: String,
    principals: Option<GlobList>,
    groups: Option<Vec<String>>,
    /// Approver groups of an `approval` rule (`approvers:`).
    pub(crate) approvers: Option<Vec<String>>,
    /// The conditions as written, for lints.
    pub(crate) when: Conditions,
    /// Where the rule's id stands (`file:line:column`); empty outside a document.
    pub(crate) origin: String,
    /// Whether the rule has inline examples of its own effect (which it decides, or the policy
    /// would not have compiled).
    pub(crate) exemplified: bool,
    action: ActionMatcher,
}

/// The action conditions of a rule: at most one kind.
#[derive(Debug)]
enum ActionMatcher {
    Any,
    Sql(SqlMatcher),
    Command(CommandMatcher),
    Http(HttpMatcher),
    Tool(ToolMatcher),
}

/// One part of an action that rules decide on its own.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    /// A SQL statement.
    Statement(&'a StatementView),
    /// A command of a command line; `line_understood` is false when the line as a whole
    /// could not be resolved (a parse error, a dynamic construct).
    Command { command: &'a CommandView, line_understood: bool },
    /// An HTTP request.
    Http(&'a HttpView),
    /// A tool call.
    Tool(&'a ToolCall),
}

impl Part<'_> {
    /// False when writ could not fully understand this part: allow rules never match it.
    pub(crate) fn understood(&self) -> bool {
        match self {
            Part::Statement(s) => s.understood(),
            Part::Command { command, line_understood } => {
                *line_understood
                    && !command.dynamic
                    && command.tool.as_ref().is_none_or(crate::command::ToolModel::understood)
            }
            Part::Http(view) => view.understood(),
            Part::Tool(_) => true,
        }
    }

    /// What the part is called in reasons: `statement`.
    pub(crate) fn noun(&self) -> &'static str {
        match self {
            Part::Statement(_) => "statement",
            Part::Command { .. } => "command",
            Part::Http(_) => "request",
            Part::Tool(_) => "tool call",
        }
    }

    /// A short label in reasons: the statement kind, or the command's program.
    pub(crate) fn label(&self) -> String {
        match self {
            Part::Statement(s) => s.kind.to_string(),
            Part::Command { command, .. } => command.program.clone(),
            Part::Http(view) => format!("{} {}", view.method, view.host),
            Part::Tool(call) => call.name.clone(),
        }
    }
}

impl CompiledRule {
    /// Whether the rule's action conditions hold for `part`. A rule with an action block
    /// (`sql`, `command`, `http`, `tool`; at most one) applies only to that kind of part; a
    /// rule without one applies to every part.
    pub(crate) fn matches_part(&self, part: &Part<'_>, schema: Option<&str>) -> bool {
        self.part_failure(part, schema).is_none()
    }

    /// Why the rule's action conditions do not hold for `part`: the name of the first failing
    /// condition (`sql.tables`), or of the block that is for another kind of part (`command`).
    pub(crate) fn part_failure(
        &self,
        part: &Part<'_>,
        schema: Option<&str>,
    ) -> Option<&'static str> {
        match (&self.action, part) {
            (ActionMatcher::Any, _) => None,
            (ActionMatcher::Sql(m), Part::Statement(s)) => m.first_failure(s, self.effect, schema),
            (ActionMatcher::Command(m), Part::Command { command, .. }) => {
                m.first_failure(command, self.effect)
            }
            (ActionMatcher::Http(m), Part::Http(view)) => m.first_failure(view, self.effect),
            (ActionMatcher::Tool(m), Part::Tool(call)) => m.first_failure(call),
            (ActionMatcher::Sql(_), _) => Some("sql"),
            (ActionMatcher::Command(_), _) => Some("command"),
            (ActionMatcher::Http(_), _) => Some("http"),
            (ActionMatcher::Tool(_), _) => Some("tool"),
        }
    }

    /// Whether the principal conditions hold.
    pub(crate) fn matches_principal(&self, id: &str, groups: &[String]) -> bool {
        self.principal_failure(id, groups).is_none()
    }

    /// Why the principal conditions do not hold: `principals` or `groups`.
    pub(crate) fn principal_failure(&self, id: &str, groups: &[String]) -> Option<&'static str> {
        if !self.principals.as_ref().is_none_or(|set| set.is_match(id)) {
            return Some("principals");
        }
        if !self.groups.as_ref().is_none_or(|wanted| groups.iter().any(|g| wanted.contains(g))) {
            return Some("groups");
        }
        None
    }
}

/// Compiled SQL conditions.
#[derive(Debug)]
pub(crate) struct SqlMatcher {
    kinds: Option<Vec<StatementKind>>,
    read_only: Option<bool>,
    tables: Option<GlobList>,
    reads: Option<GlobList>,
    writes: Option<GlobList>,
    functions: Option<GlobList>,
    flags: Option<Vec<Flag>>,
}

impl SqlMatcher {
    /// The first present condition that does not hold for `statement`, read in the direction
    /// of `effect` (see [`Conditions`]), by its name in documents; `None` when all hold.
    /// `schema` qualifies unqualified table names.
    pub(crate) fn first_failure(
        &self,
        statement: &StatementView,
        effect: RuleEffect,
        schema: Option<&str>,
    ) -> Option<&'static str> {
        let every = effect == RuleEffect::Allow;
        let tables = |set: &Option<GlobList>, names: &mut dyn Iterator<Item = &String>| {
            set.as_ref().is_none_or(|set| {
                holds(every, names.map(|name| set.is_match(qualify(name, schema).as_ref())))
            })
        };
        if !self
            .kinds
            .as_ref()
            .is_none_or(|kinds| holds(every, statement.all_kinds().map(|k| kinds.contains(&k))))
        {
            return Some("sql.kinds");
        }
        if self.read_only.is_some_and(|read_only| statement.read_only != read_only) {
            return Some("sql.read_only");
        }
        if !self
            .flags
            .as_ref()
            .is_none_or(|flags| holds(every, statement.flags.iter().map(|f| flags.contains(f))))
        {
            return Some("sql.flags");
        }
        if !tables(&self.reads, &mut statement.reads.iter()) {
            return Some("sql.reads");
        }
        if !tables(&self.writes, &mut statement.writes.iter()) {
            return Some("sql.writes");
        }
        if !tables(&self.tables, &mut statement.reads.iter().chain(&statement.writes)) {
            return Some("sql.tables");
        }
        if !self
            .functions
            .as_ref()
            .is_none_or(|set| holds(every, statement.functions.iter().map(|f| set.is_match(f))))
        {
            return Some("sql.functions");
        }
        None
    }
}

/// Compiled command conditions.
#[derive(Debug)]
pub(crate) struct CommandMatcher {
    programs: Option<GlobList>,
    argv_prefixes: Option<Vec<Vec<String>>>,
    flags: Option<Vec<String>>,
    without_flags: Option<Vec<String>>,
    operands: Option<GlobList>,
    inline_code: Option<Vec<String>>,
    via: Option<GlobList>,
    tools: super::tool_match::ToolMatcher,
    /// The tool block's name in documents, for explanations (`command.kubectl`).
    tool_block: &'static str,
}

impl CommandMatcher {
    /// The first present condition that does not hold for `command`, read in the direction of
    /// `effect`, by its name in documents; `None` when all hold.
    pub(crate) fn first_failure(
        &self,
        command: &CommandView,
        effect: RuleEffect,
    ) -> Option<&'static str> {
        let every = effect == RuleEffect::Allow;
        let has_flag = |f: &String| command.flags.contains(f);
        if !self.programs.as_ref().is_none_or(|set| set.is_match(&command.program)) {
            return Some("command.programs");
        }
        if !self
            .argv_prefixes
            .as_ref()
            .is_none_or(|prefixes| prefixes.iter().any(|p| starts_with_program(command, p)))
        {
            return Some("command.argv_prefix");
        }
        if !self
            .flags
            .as_ref()
            .is_none_or(|flags| holds(every, command.flags.iter().map(|f| flags.contains(f))))
        {
            return Some("command.flags");
        }
        if self.without_flags.as_ref().is_some_and(|flags| flags.iter().any(has_flag)) {
            return Some("command.without_flags");
        }
        // An argument whose value is unknown could be anything: it satisfies a deny and never
        // an allow.
        if !self.operands.as_ref().is_none_or(|set| {
            if command.dynamic_args {
                return !every;
            }
            holds(every, command.operands.iter().map(|o| set.is_match(o)))
        }) {
            return Some("command.operands");
        }
        if !self.inline_code.as_ref().is_none_or(|languages| {
            holds(every, command.inline_code.iter().map(|c| languages.contains(&c.language)))
        }) {
            return Some("command.inline_code");
        }
        if !self
            .via
            .as_ref()
            .is_none_or(|set| holds(every, command.via.iter().map(|v| set.is_match(v))))
        {
            return Some("command.via");
        }
        if !self.tools.matches(command, effect) {
            return Some(self.tool_block);
        }
        None
    }
}

/// Compiled HTTP conditions.
#[derive(Debug)]
pub(crate) struct HttpMatcher {
    methods: Option<Vec<String>>,
    hosts: Option<GlobList>,
    paths: Option<GlobList>,
}

impl HttpMatcher {
    fn first_failure(&self, view: &HttpView, effect: RuleEffect) -> Option<&'static str> {
        if !self.methods.as_ref().is_none_or(|m| m.contains(&view.method)) {
            return Some("http.methods");
        }
        if !self.hosts.as_ref().is_none_or(|set| set.is_match(&view.host)) {
            return Some("http.hosts");
        }
        if !self.paths.as_ref().is_none_or(|set| {
            let (raw, decoded) = (set.is_match(&view.path), set.is_match(&view.decoded_path));
            if effect == RuleEffect::Allow { raw && decoded } else { raw || decoded }
        }) {
            return Some("http.paths");
        }
        None
    }
}

/// Compiled tool-call conditions.
#[derive(Debug)]
pub(crate) struct ToolMatcher {
    names: Option<GlobList>,
    arguments: Vec<(String, Option<Vec<serde_json::Value>>, Option<GlobList>)>,
}

impl ToolMatcher {
    fn first_failure(&self, call: &ToolCall) -> Option<&'static str> {
        if !self.names.as_ref().is_none_or(|set| set.is_match(&call.name)) {
            return Some("tool.names");
        }
        let arguments_hold = self.arguments.iter().all(|(pointer, one_of, globs)| {
            let Some(value) = call.arguments.pointer(pointer) else { return false };
            one_of.as_ref().is_none_or(|values| values.iter().any(|v| same_value(v, value)))
                && globs.as_ref().is_none_or(|set| value.as_str().is_some_and(|s| set.is_match(s)))
        });
        if !arguments_hold {
            return Some("tool.arguments");
        }
        None
    }
}

/// `argv` starts with `prefix`, the program's basename standing for its first word.
fn starts_with_program(command: &CommandView, prefix: &[String]) -> bool {
    let Some((first, rest)) = prefix.split_first() else { return false };
    *first == command.program
        && command.argv.len() > rest.len()
        && command.argv.iter().skip(1).zip(rest).all(|(a, p)| a == p)
}

/// A set condition: in the allow direction (`every`) each item must be covered, and an empty
/// set holds; otherwise one covered item suffices, and an empty set does not hold.
fn holds(every: bool, mut covered: impl Iterator<Item = bool>) -> bool {
    if every { covered.all(|c| c) } else { covered.any(|c| c) }
}

/// `users` becomes `schema.users` when the resource has a default schema; qualified names
/// stay as written.
fn qualify<'a>(name: &'a str, schema: Option<&str>) -> std::borrow::Cow<'a, str> {
    match schema {
        Some(schema) if !name.contains('.') => format!("{schema}.{name}").into(),
        _ => name.into(),
    }
}

/// Collects diagnostics for one document.
pub(crate) struct Checker<'a> {
    pub(crate) source: &'a Source,
    map: SourceMap,
    out: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, at: &[Seg], message: impl Into<String>) {
        let position = self.map.locate(at);
        self.out.push(Diagnostic {
            file: self.source.name.clone(),
            line: position.line,
            column: position.column,
            message: message.into(),
        });
    }

    /// How many problems have been reported so far.
    pub(crate) fn error_count(&self) -> usize {
        self.out.len()
    }

    /// The line and column of the node at `at` (or of its nearest ancestor).
    pub(crate) fn position(&self, at: &[Seg]) -> Position {
        self.map.locate(at)
    }

    pub(crate) fn where_is(&self, at: &[Seg]) -> String {
        let p = self.map.locate(at);
        format!("{}:{}:{}", self.source.name, p.line, p.column)
    }

    /// Build a glob list from `patterns`, reporting bad or empty ones.
    fn globs(
        &mut self,
        at: &[Seg],
        patterns: &Option<Vec<String>>,
        what: &str,
    ) -> Option<GlobList> {
        let patterns = patterns.as_ref()?;
        if patterns.is_empty() {
            self.error(
                at,
                format!(
                    "empty `{what}` list can never match; remove it or name at least one pattern"
                ),
            );
            return None;
        }
        let mut builder = GlobListBuilder::default();
        for (i, pattern) in patterns.iter().enumerate() {
            if let Err(message) = builder.add(pattern, || glob(pattern)) {
                let mut item = at.to_vec();
                item.push(Seg::Index(i));
                self.error(&item, message);
            }
        }
        match builder.build() {
            Ok(set) => Some(set),
            Err(e) => {
                self.error(at, format!("cannot compile `{what}` patterns: {}", e.kind()));
                None
            }
        }
    }

    fn nonempty<T>(&mut self, at: &[Seg], list: &Option<Vec<T>>, what: &str) {
        if list.as_ref().is_some_and(Vec::is_empty) {
            self.error(
                at,
                format!("empty `{what}` list can never match; remove it or name at least one item"),
            );
        }
    }
}

/// Compile one glob: `*` matches any run of characters (including `.`), `?` one character,
/// `[...]` a class, `{a,b}` alternatives; `\` escapes.
pub(crate) fn glob(pattern: &str) -> Result<Glob, String> {
    if pattern.is_empty() {
        return Err("empty pattern matches nothing".to_owned());
    }
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
}

/// Parse, validate and compile `sources` together. Also returns the rules' inline examples,
/// which the caller checks against the compiled policy.
pub(crate) fn compile(sources: &[Source]) -> Result<(CompiledPolicy, Vec<Example>), PolicyError> {
    let mut diagnostics = Vec::new();
    let mut documents = Vec::new();
    for source in sources {
        match parse_document::<PolicyDocument>(source) {
            Ok(doc) => documents.push((source, doc)),
            Err(d) => diagnostics.push(d),
        }
    }
    if !diagnostics.is_empty() {
        return Err(PolicyError::Invalid(diagnostics));
    }

    // Resources first: rules refer to them.
    let mut resources: Vec<CompiledResource> = Vec::new();
    let mut resource_index: HashMap<String, usize> = HashMap::new();
    let mut resource_origin: Vec<String> = Vec::new();
    let mut checkers: Vec<Checker<'_>> = Vec::new();
    let mut sink: Vec<Vec<Diagnostic>> = documents.iter().map(|_| Vec::new()).collect();
    for ((source, _), out) in documents.iter().zip(sink.iter_mut()) {
        checkers.push(Checker { source, map: SourceMap::index(&source.text), out });
    }
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        if doc.version != DOCUMENT_VERSION {
            ck.error(
                &at_path!["version"],
                format!(
                    "unsupported version `{}` (this build reads version {DOCUMENT_VERSION})",
                    doc.version
                ),
            );
        }
        for (i, r) in doc.resources.iter().enumerate() {
            let at = at_path!["resources", i, "name"];
            if r.name.trim().is_empty() {
                ck.error(&at, "resource name is empty");
                continue;
            }
            if let Some(&first) = resource_index.get(&r.name) {
                let origin = resource_origin.get(first).cloned().unwrap_or_default();
                ck.error(
                    &at,
                    format!("duplicate resource `{}` (first declared at {origin})", r.name),
                );
                continue;
            }
            let sql_dialect = r.kind.default_dialect();
            if sql_dialect.is_none() && r.dialect.is_some() {
                ck.error(
                    &at_path!["resources", i, "dialect"],
                    format!("`dialect` applies to SQL resources, not to `{}`", r.kind.as_str()),
                );
            }
            if sql_dialect.is_none() && r.default_schema.is_some() {
                ck.error(
                    &at_path!["resources", i, "default_schema"],
                    format!(
                        "`default_schema` applies to SQL resources, not to `{}`",
                        r.kind.as_str()
                    ),
                );
            }
            resource_index.insert(r.name.clone(), resources.len());
            resource_origin.push(ck.where_is(&at));
            resources.push(CompiledResource {
                name: r.name.clone(),
                kind: r.kind,
                dialect: r.dialect.or(sql_dialect),
                default_schema: r.default_schema.clone(),
                rules: Vec::new(),
                routes: Vec::new(),
                sql_clients: Vec::new(),
                origin: ck.where_is(&at),
            });
        }
    }

    // Tool routes, once every resource is known.
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        for (i, r) in doc.resources.iter().enumerate() {
            let routes = compile_routes(ck, i, r, &resource_index, &resources);
            let clients = super::tool_match::sql_clients(
                i,
                r,
                &resource_index,
                &resources,
                &mut |at, message| ck.error(at, message),
            );
            // A duplicate resource name was reported above; the first declaration keeps its routes.
            if let Some(res) = resource_index.get(&r.name).and_then(|&k| resources.get_mut(k))
                && res.routes.is_empty()
                && res.sql_clients.is_empty()
            {
                res.routes = routes;
                res.sql_clients = clients;
            }
        }
    }

    // Defaults: at most one document says them.
    let mut defaults = None;
    let mut defaults_origin = String::new();
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        if let Some(d) = &doc.defaults {
            if defaults.is_some() {
                ck.error(
                    &at_path!["defaults"],
                    format!(
                        "`defaults` already set at {defaults_origin}; set them in one document only"
                    ),
                );
            } else {
                defaults = Some(d.clone());
                defaults_origin = ck.where_is(&at_path!["defaults"]);
            }
        }
    }

    // The audit block: at most one document says it.
    let mut audit = None;
    let mut audit_origin = String::new();
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        if let Some(a) = &doc.audit {
            if audit.is_some() {
                ck.error(
                    &at_path!["audit"],
                    format!("`audit` already set at {audit_origin}; set it in one document only"),
                );
            } else {
                audit = Some(a.clone());
                audit_origin = ck.where_is(&at_path!["audit"]);
            }
        }
    }

    // Limits: at most one document says them; each value within 1 and its bound's ceiling.
    let mut limits = crate::limits::Limits::default();
    let mut limits_origin = String::new();
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        let Some(l) = &doc.limits else { continue };
        if !limits_origin.is_empty() {
            ck.error(
                &at_path!["limits"],
                format!("`limits` already set at {limits_origin}; set them in one document only"),
            );
            continue;
        }
        limits_origin = ck.where_is(&at_path!["limits"]);
        for (key, value) in l.values() {
            let Some(bound) = crate::limits::BOUNDS.iter().find(|b| b.key == key) else {
                continue;
            };
            let (group, name) = key.split_once('.').unwrap_or((key, key));
            if value == 0 || value > bound.ceiling {
                ck.error(
                    &at_path!["limits", group, name],
                    format!(
                        "`{key}` must be between 1 and {} (the ceiling that keeps the bound \
                         safe), not {value}",
                        bound.ceiling
                    ),
                );
            } else {
                (bound.set)(&mut limits, value);
            }
        }
    }

    // Rules.
    let mut rules: Vec<CompiledRule> = Vec::new();
    let mut rule_origin: HashMap<String, String> = HashMap::new();
    let mut examples: Vec<Example> = Vec::new();
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        for (i, r) in doc.rules.iter().enumerate() {
            let id_at = at_path!["rules", i, "id"];
            if r.id.trim().is_empty() {
                ck.error(&id_at, "rule id is empty");
            } else if let Some(origin) = rule_origin.get(&r.id) {
                ck.error(&id_at, format!("duplicate rule id `{}` (first used at {origin})", r.id));
            } else {
                rule_origin.insert(r.id.clone(), ck.where_is(&id_at));
            }
            crate::approval::check_approvers(ck, i, r);
            let find = |name: &str| resource_index.get(name).copied();
            let Some((mut rule, applies_to)) =
                compile_rule(ck, i, &r.id, r.effect, r.reason.clone(), &r.when, &resources, &find)
            else {
                continue;
            };
            rule.approvers = r.approvers.clone();
            rule.origin = ck.where_is(&id_at);
            let own_examples =
                super::examples::resolve(ck, i, r, &rule, &applies_to, &resources, &mut examples);
            rule.exemplified = own_examples > 0;
            let index = rules.len();
            for k in applies_to {
                if let Some(res) = resources.get_mut(k) {
                    res.rules.push(index);
                }
            }
            rules.push(rule);
        }
    }
    let docs: Vec<&PolicyDocument> = documents.iter().map(|(_, d)| d).collect();
    let masks = crate::mask::MaskSet::compile(&docs, &mut checkers, &resources);
    let mut issuers = crate::identity::Issuers::default();
    for ((_, doc), ck) in documents.iter().zip(checkers.iter_mut()) {
        issuers.compile(ck, &doc.issuers);
    }
    drop(checkers);
    let diagnostics: Vec<Diagnostic> = sink.into_iter().flatten().collect();
    if !diagnostics.is_empty() {
        return Err(PolicyError::Invalid(diagnostics));
    }

    let mut hasher = Sha256::new();
    for source in sources {
        hasher.update((source.text.len() as u64).to_le_bytes());
        hasher.update(source.text.as_bytes());
    }
    let defaults = defaults.unwrap_or_default();
    let policy = CompiledPolicy {
        issuers,
        masks,
        resources,
        resource_index,
        rules,
        default_effect: defaults.effect.unwrap_or(FallbackEffect::Deny),
        unknown_effect: defaults.unknown.unwrap_or(FallbackEffect::Deny),
        default_reason: defaults.reason,
        audit_on_failure: audit.and_then(|a| a.on_failure).unwrap_or_default(),
        version: format!("sha256:{}", crate::hex(&hasher.finalize())),
        limits,
    };
    Ok((policy, examples))
}

/// Compile one rule; also returns the indexes of the declared resources the rule applies to,
/// in declaration order. `find` gives the index of the resource of a name. `None` when the rule
/// has errors (already reported).
///
/// A `resources` pattern that is a plain name is looked up with `find`; only the others are
/// matched against every declared resource, so compiling stays linear in the rules when they
/// name their resources.
#[expect(clippy::too_many_arguments, reason = "one call per caller, every argument distinct")]
fn compile_rule(
    ck: &mut Checker<'_>,
    i: usize,
    id: &str,
    effect: RuleEffect,
    reason: Option<String>,
    when: &Conditions,
    resources: &[CompiledResource],
    find: &dyn Fn(&str) -> Option<usize>,
) -> Option<(CompiledRule, Vec<usize>)> {
    let before = ck.out.len();
    let at = |field: &str| at_path!["rules", i, "when", field].to_vec();
    let principals = ck.globs(&at("principals"), &when.principals, "principals");
    ck.nonempty(&at("groups"), &when.groups, "groups");
    let resource_set = ck.globs(&at("resources"), &when.resources, "resources");
    let mut applies_to: Vec<usize> = Vec::new();
    if let (Some(_), Some(patterns)) = (&resource_set, &when.resources) {
        for (j, pattern) in patterns.iter().enumerate() {
            let found = applies_to.len();
            match Simple::new(pattern) {
                Some(Simple::Exact(name)) => applies_to.extend(find(&name)),
                Some(simple) => applies_to.extend(
                    resources
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| simple.is_match(&r.name))
                        .map(|(k, _)| k),
                ),
                // A bad pattern was reported by `globs`.
                None => match glob(pattern) {
                    Ok(g) => {
                        let m = g.compile_matcher();
                        applies_to.extend(
                            resources
                                .iter()
                                .enumerate()
                                .filter(|(_, r)| m.is_match(&r.name))
                                .map(|(k, _)| k),
                        );
                    }
                    Err(_) => continue,
                },
            }
            if applies_to.len() == found {
                let mut item = at("resources");
                item.push(Seg::Index(j));
                ck.error(
                    &item,
                    format!("rule `{id}` names resource `{pattern}`, which no document declares"),
                );
            }
        }
        applies_to.sort_unstable();
        applies_to.dedup();
    } else {
        applies_to.extend(0..resources.len());
    }
    let blocks: Vec<&str> = [
        when.sql.as_ref().map(|_| "sql"),
        when.command.as_ref().map(|_| "command"),
        when.http.as_ref().map(|_| "http"),
        when.tool.as_ref().map(|_| "tool"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let [_, second, ..] = blocks.as_slice() {
        ck.error(&at(second), format!("rule `{id}` has both `{}` and `{second}` conditions; a rule applies to one kind of action, so split it in two", blocks.first().copied().unwrap_or_default()));
    }
    let action = if let Some(s) = &when.sql {
        ActionMatcher::Sql(compile_sql(ck, i, s))
    } else if let Some(c) = &when.command {
        ActionMatcher::Command(compile_command(ck, i, c))
    } else if let Some(h) = &when.http {
        ActionMatcher::Http(compile_http(ck, i, h))
    } else if let Some(t) = &when.tool {
        ActionMatcher::Tool(compile_tool(ck, i, t))
    } else {
        ActionMatcher::Any
    };
    if ck.out.len() > before {
        return None;
    }
    let reason = reason.unwrap_or_else(|| {
        let effect = match effect {
            RuleEffect::Allow => crate::Effect::Allow,
            RuleEffect::Approval => crate::Effect::ApprovalRequired,
            RuleEffect::Deny => crate::Effect::Deny,
        };
        format!("{} by rule `{id}`", crate::engine::describe(effect))
    });
    let rule = CompiledRule {
        id: id.to_owned(),
        effect,
        reason,
        principals,
        groups: when.groups.clone(),
        approvers: None,
        when: when.clone(),
        origin: String::new(),
        exemplified: false,
        action,
    };
    Some((rule, applies_to))
}

fn compile_sql(ck: &mut Checker<'_>, i: usize, s: &SqlConditions) -> SqlMatcher {
    let at = |field: &str| at_path!["rules", i, "when", "sql", field].to_vec();
    ck.nonempty(&at("kinds"), &s.kinds, "kinds");
    ck.nonempty(&at("flags"), &s.flags, "flags");
    SqlMatcher {
        kinds: s.kinds.clone(),
        read_only: s.read_only,
        tables: ck.globs(&at("tables"), &s.tables, "tables"),
        reads: ck.globs(&at("reads"), &s.reads, "reads"),
        writes: ck.globs(&at("writes"), &s.writes, "writes"),
        functions: ck.globs(&at("functions"), &s.functions, "functions"),
        flags: s.flags.clone(),
    }
}

fn compile_command(ck: &mut Checker<'_>, i: usize, c: &CommandConditions) -> CommandMatcher {
    let at = |field: &str| at_path!["rules", i, "when", "command", field].to_vec();
    ck.nonempty(&at("argv_prefix"), &c.argv_prefix, "argv_prefix");
    ck.nonempty(&at("flags"), &c.flags, "flags");
    ck.nonempty(&at("without_flags"), &c.without_flags, "without_flags");
    ck.nonempty(&at("inline_code"), &c.inline_code, "inline_code");
    let argv_prefixes = c.argv_prefix.as_ref().map(|list| {
        list.iter()
            .map(|p| p.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    });
    for (j, p) in argv_prefixes.iter().flatten().enumerate() {
        if p.is_empty() {
            let mut item = at("argv_prefix");
            item.push(Seg::Index(j));
            ck.error(&item, "empty argv prefix matches nothing");
        }
    }
    for (field, list) in [("flags", &c.flags), ("without_flags", &c.without_flags)] {
        for (j, flag) in list.iter().flatten().enumerate() {
            if flag.is_empty() || flag.starts_with('-') {
                let mut item = at(field);
                item.push(Seg::Index(j));
                ck.error(&item, format!("flag `{flag}` must be written without dashes (`r` for `-r`, `force` for `--force`)"));
            }
        }
    }
    let tools = super::tool_match::compile(
        &at_path!["rules", i, "when", "command"],
        c,
        &mut |at, message| ck.error(at, message),
    );
    let tool_block = if c.kubectl.is_some() {
        "command.kubectl"
    } else if c.aws.is_some() {
        "command.aws"
    } else {
        "command.git"
    };
    CommandMatcher {
        programs: ck.globs(&at("programs"), &c.programs, "programs"),
        argv_prefixes,
        flags: c.flags.clone(),
        without_flags: c.without_flags.clone(),
        operands: ck.globs(&at("operands"), &c.operands, "operands"),
        inline_code: c.inline_code.clone(),
        via: ck.globs(&at("via"), &c.via, "via"),
        tools,
        tool_block,
    }
}

fn compile_http(ck: &mut Checker<'_>, i: usize, h: &HttpConditions) -> HttpMatcher {
    let at = |field: &str| at_path!["rules", i, "when", "http", field].to_vec();
    ck.nonempty(&at("methods"), &h.methods, "methods");
    for (j, method) in h.methods.iter().flatten().enumerate() {
        if method.is_empty() || method.chars().any(|c| !c.is_ascii_uppercase()) {
            let mut item = at("methods");
            item.push(Seg::Index(j));
            ck.error(&item, format!("method `{method}` must be written in upper case (`GET`)"));
        }
    }
    HttpMatcher {
        methods: h.methods.clone(),
        hosts: ck.globs(&at("hosts"), &h.hosts, "hosts"),
        paths: ck.globs(&at("paths"), &h.paths, "paths"),
    }
}

fn compile_tool(ck: &mut Checker<'_>, i: usize, t: &ToolConditions) -> ToolMatcher {
    let at = |field: &str| at_path!["rules", i, "when", "tool", field].to_vec();
    ck.nonempty(&at("arguments"), &t.arguments, "arguments");
    let mut arguments = Vec::new();
    for (j, ArgumentCondition { pointer, one_of, matches }) in
        t.arguments.iter().flatten().enumerate()
    {
        let item = |field: &str| {
            let mut p = at("arguments");
            p.extend([Seg::Index(j), Seg::Key(field.to_owned())]);
            p
        };
        if !is_json_pointer(pointer) {
            ck.error(
                &item("pointer"),
                format!("`{pointer}` is not a JSON pointer (it starts with `/`, like `/path`)"),
            );
        }
        if one_of.is_none() && matches.is_none() {
            ck.error(&item("pointer"), "an argument condition needs `one_of` or `matches`");
        }
        ck.nonempty(&item("one_of"), one_of, "one_of");
        let globs = ck.globs(&item("matches"), matches, "matches");
        arguments.push((pointer.clone(), one_of.clone(), globs));
    }
    ToolMatcher { names: ck.globs(&at("names"), &t.names, "names"), arguments }
}

/// RFC 6901: empty, or `/` followed by reference tokens where `~` is `~0` or `~1`.
pub(crate) fn is_json_pointer(pointer: &str) -> bool {
    if pointer.is_empty() {
        return true;
    }
    pointer.starts_with('/')
        && pointer.split('~').skip(1).all(|rest| rest.starts_with('0') || rest.starts_with('1'))
}

/// Validate and compile a tool resource's routes.
fn compile_routes(
    ck: &mut Checker<'_>,
    i: usize,
    resource: &super::document::ResourceDoc,
    index: &HashMap<String, usize>,
    resources: &[CompiledResource],
) -> Vec<CompiledRoute> {
    let Some(tools) = &resource.tools else { return Vec::new() };
    if resource.kind != ResourceKind::Tool {
        ck.error(
            &at_path!["resources", i, "tools"],
            format!("`tools` applies to tool resources, not to `{}`", resource.kind.as_str()),
        );
        return Vec::new();
    }
    let mut routes: Vec<CompiledRoute> = Vec::new();
    for (j, tool) in tools.iter().enumerate() {
        let at = |field: &str| at_path!["resources", i, "tools", j, field].to_vec();
        if routes.iter().any(|r| r.tool == tool.name) {
            ck.error(&at("name"), format!("tool `{}` is routed twice", tool.name));
        }
        let route = match (&tool.sql, &tool.command) {
            (Some(r), None) => Some((RouteKind::Sql, r, "sql")),
            (None, Some(r)) => Some((RouteKind::Command, r, "command")),
            _ => {
                ck.error(
                    &at("name"),
                    format!("tool `{}` needs exactly one of `sql` or `command`", tool.name),
                );
                None
            }
        };
        let Some((kind, r, field)) = route else { continue };
        let mut pointer_at = at(field);
        pointer_at.push(Seg::Key("argument".to_owned()));
        if !is_json_pointer(&r.argument) || r.argument.is_empty() {
            ck.error(
                &pointer_at,
                format!("`{}` is not a JSON pointer to an argument (like `/query`)", r.argument),
            );
        }
        let mut resource_at = at(field);
        resource_at.push(Seg::Key("resource".to_owned()));
        match index.get(&r.resource).and_then(|&k| resources.get(k)) {
            None => ck.error(
                &resource_at,
                format!(
                    "tool `{}` routes to resource `{}`, which no document declares",
                    tool.name, r.resource
                ),
            ),
            Some(target) if kind == RouteKind::Sql && target.dialect.is_none() => ck.error(
                &resource_at,
                format!(
                    "tool `{}` routes SQL to `{}`, which is not a SQL database",
                    tool.name, r.resource
                ),
            ),
            Some(target) if kind == RouteKind::Command && !target.kind.runs_commands() => ck.error(
                &resource_at,
                format!(
                    "tool `{}` routes a command to `{}`, which is not a shell",
                    tool.name, r.resource
                ),
            ),
            Some(_) => {}
        }
        routes.push(CompiledRoute {
            tool: tool.name.clone(),
            kind,
            pointer: r.argument.clone(),
            resource: r.resource.clone(),
        });
    }
    routes
}

/// Compile `when` as an `allow` rule outside any document: a grant scope, checked against the
/// engine's declared resources. Also returns, for each resource, whether the scope covers it.
///
/// # Errors
/// The message of every problem found (a bad glob, an empty list, an undeclared resource).
pub(crate) fn compile_scope(
    id: &str,
    when: &Conditions,
    resources: &[CompiledResource],
) -> Result<(CompiledRule, Vec<bool>), Vec<String>> {
    let source =
        Source { name: "<grant scope>".into(), text: String::new(), format: super::Format::Yaml };
    let mut out = Vec::new();
    let mut ck = Checker { source: &source, map: SourceMap::default(), out: &mut out };
    let find = |name: &str| resources.iter().position(|r| r.name == name);
    match compile_rule(&mut ck, 0, id, RuleEffect::Allow, None, when, resources, &find) {
        Some((rule, applies_to)) => {
            let mut covered = vec![false; resources.len()];
            for k in applies_to {
                if let Some(flag) = covered.get_mut(k) {
                    *flag = true;
                }
            }
            Ok((rule, covered))
        }
        None => Err(out.into_iter().map(|d| d.message).collect()),
    }
}
