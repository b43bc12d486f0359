//! Validation across documents and compilation into matchers.
//!
//! Compilation checks what serde cannot: the format version, unique resource names and rule
//! ids across all documents, valid globs, resource patterns that name declared resources,
//! empty condition lists (which could never match and are always a mistake), and a single
//! `defaults` block. Every problem found is reported with its file, line and column; nothing
//! is compiled while any remains.
//!
//! Each resource keeps the indexes of the rules whose `resources` condition covers it, in
//! policy order, so a check looks only at rules that can apply to its resource.

use std::collections::HashMap;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use sha2::{Digest as _, Sha256};

use super::document::{
    Conditions, DOCUMENT_VERSION, FallbackEffect, PolicyDocument, ResourceKind, RuleEffect,
    SqlConditions,
};
use super::error::{Diagnostic, PolicyError};
use super::source::{Seg, SourceMap, at_path};
use super::{Source, parse_document};
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
    pub(crate) version: String,
}

/// A declared resource and the rules that may apply to it.
#[derive(Debug)]
pub(crate) struct CompiledResource {
    pub(crate) name: String,
    pub(crate) kind: ResourceKind,
    pub(crate) dialect: Option<Dialect>,
    pub(crate) default_schema: Option<String>,
    pub(crate) rules: Vec<usize>,
}

/// A rule ready to match.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) id: String,
    pub(crate) effect: RuleEffect,
    pub(crate) reason: Option<String>,
    principals: Option<GlobSet>,
    groups: Option<Vec<String>>,
    sql: Option<SqlMatcher>,
}

/// One part of an action that rules decide on its own.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    /// A SQL statement.
    Statement(&'a StatementView),
}

impl Part<'_> {
    /// False when writ could not fully understand this part: allow rules never match it.
    pub(crate) fn understood(&self) -> bool {
        match self {
            Part::Statement(s) => s.understood(),
        }
    }

    /// What the part is called in reasons: `statement`.
    pub(crate) fn noun(&self) -> &'static str {
        match self {
            Part::Statement(_) => "statement",
        }
    }

    /// A short label in reasons: the statement kind.
    pub(crate) fn label(&self) -> String {
        match self {
            Part::Statement(s) => s.kind.to_string(),
        }
    }
}

impl CompiledRule {
    /// Whether the rule's action conditions hold for `part`. A rule with a `sql` block applies
    /// only to statements.
    pub(crate) fn matches_part(&self, part: &Part<'_>, schema: Option<&str>) -> bool {
        match part {
            Part::Statement(s) => {
                self.sql.as_ref().is_none_or(|m| m.matches(s, self.effect, schema))
            }
        }
    }

    /// Whether the principal conditions hold.
    pub(crate) fn matches_principal(&self, id: &str, groups: &[String]) -> bool {
        let id_ok = self.principals.as_ref().is_none_or(|set| set.is_match(id));
        let groups_ok =
            self.groups.as_ref().is_none_or(|wanted| groups.iter().any(|g| wanted.contains(g)));
        id_ok && groups_ok
    }
}

/// Compiled SQL conditions.
#[derive(Debug)]
pub(crate) struct SqlMatcher {
    kinds: Option<Vec<StatementKind>>,
    read_only: Option<bool>,
    tables: Option<GlobSet>,
    reads: Option<GlobSet>,
    writes: Option<GlobSet>,
    functions: Option<GlobSet>,
    flags: Option<Vec<Flag>>,
}

impl SqlMatcher {
    /// Whether every present condition holds for `statement`, read in the direction of
    /// `effect` (see [`Conditions`]). `schema` qualifies unqualified table names.
    pub(crate) fn matches(
        &self,
        statement: &StatementView,
        effect: RuleEffect,
        schema: Option<&str>,
    ) -> bool {
        let every = effect == RuleEffect::Allow;
        let tables = |set: &Option<GlobSet>, names: &mut dyn Iterator<Item = &String>| {
            set.as_ref().is_none_or(|set| {
                holds(every, names.map(|name| set.is_match(qualify(name, schema).as_ref())))
            })
        };
        self.kinds
            .as_ref()
            .is_none_or(|kinds| holds(every, statement.all_kinds().map(|k| kinds.contains(&k))))
            && self.read_only.is_none_or(|read_only| statement.read_only == read_only)
            && self
                .flags
                .as_ref()
                .is_none_or(|flags| holds(every, statement.flags.iter().map(|f| flags.contains(f))))
            && tables(&self.reads, &mut statement.reads.iter())
            && tables(&self.writes, &mut statement.writes.iter())
            && tables(&self.tables, &mut statement.reads.iter().chain(&statement.writes))
            && self
                .functions
                .as_ref()
                .is_none_or(|set| holds(every, statement.functions.iter().map(|f| set.is_match(f))))
    }
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
struct Checker<'a> {
    source: &'a Source,
    map: SourceMap,
    out: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, at: &[Seg], message: impl Into<String>) {
        let position = self.map.locate(at);
        self.out.push(Diagnostic {
            file: self.source.name.clone(),
            line: position.line,
            column: position.column,
            message: message.into(),
        });
    }

    fn where_is(&self, at: &[Seg]) -> String {
        let p = self.map.locate(at);
        format!("{}:{}:{}", self.source.name, p.line, p.column)
    }

    /// Build a glob set from `patterns`, reporting bad or empty ones.
    fn globs(&mut self, at: &[Seg], patterns: &Option<Vec<String>>, what: &str) -> Option<GlobSet> {
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
        let mut builder = GlobSetBuilder::new();
        for (i, pattern) in patterns.iter().enumerate() {
            match glob(pattern) {
                Ok(g) => {
                    builder.add(g);
                }
                Err(message) => {
                    let mut item = at.to_vec();
                    item.push(Seg::Index(i));
                    self.error(&item, message);
                }
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

/// Parse, validate and compile `sources` together.
pub(crate) fn compile(sources: &[Source]) -> Result<CompiledPolicy, PolicyError> {
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
            });
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

    // Rules.
    let mut rules: Vec<CompiledRule> = Vec::new();
    let mut rule_origin: HashMap<String, String> = HashMap::new();
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
            let Some((rule, applies_to)) =
                compile_rule(ck, i, &r.id, r.effect, r.reason.clone(), &r.when, &resources)
            else {
                continue;
            };
            let index = rules.len();
            for (res, applies) in resources.iter_mut().zip(applies_to) {
                if applies {
                    res.rules.push(index);
                }
            }
            rules.push(rule);
        }
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
    Ok(CompiledPolicy {
        resources,
        resource_index,
        rules,
        default_effect: defaults.effect.unwrap_or(FallbackEffect::Deny),
        unknown_effect: defaults.unknown.unwrap_or(FallbackEffect::Deny),
        default_reason: defaults.reason,
        version: format!("sha256:{}", crate::hex(&hasher.finalize())),
    })
}

/// Compile one rule; also returns, for each declared resource, whether the rule applies to it.
/// `None` when the rule has errors (already reported).
fn compile_rule(
    ck: &mut Checker<'_>,
    i: usize,
    id: &str,
    effect: RuleEffect,
    reason: Option<String>,
    when: &Conditions,
    resources: &[CompiledResource],
) -> Option<(CompiledRule, Vec<bool>)> {
    let before = ck.out.len();
    let at = |field: &str| at_path!["rules", i, "when", field].to_vec();
    let principals = ck.globs(&at("principals"), &when.principals, "principals");
    ck.nonempty(&at("groups"), &when.groups, "groups");
    let resource_set = ck.globs(&at("resources"), &when.resources, "resources");
    let mut applies_to = vec![true; resources.len()];
    if let (Some(set), Some(patterns)) = (&resource_set, &when.resources) {
        for (j, pattern) in patterns.iter().enumerate() {
            let named = glob(pattern).ok().map(|g| g.compile_matcher());
            if let Some(m) = named
                && !resources.iter().any(|r| m.is_match(&r.name))
            {
                let mut item = at("resources");
                item.push(Seg::Index(j));
                ck.error(
                    &item,
                    format!("rule `{id}` names resource `{pattern}`, which no document declares"),
                );
            }
        }
        for (flag, r) in applies_to.iter_mut().zip(resources) {
            *flag = set.is_match(&r.name);
        }
    }
    let sql = when.sql.as_ref().map(|s| compile_sql(ck, i, s));
    if ck.out.len() > before {
        return None;
    }
    let rule = CompiledRule {
        id: id.to_owned(),
        effect,
        reason,
        principals,
        groups: when.groups.clone(),
        sql,
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
