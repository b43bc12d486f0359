//! Masking rules in policy documents, and their compiled form.
//!
//! ```yaml
//! resources:
//!   - name: crm
//!     kind: postgres
//!     default_schema: public
//!     columns: {public.customers: [id, name, email, ssn, card, notes]}
//! masks:
//!   - id: customer-pii
//!     resources: [crm]
//!     columns: ["public.customers.email"]
//!     method: {method: email}
//!     exempt: {groups: [support-leads]}
//!     on_probe: flag
//!   - id: free-text
//!     columns: ["public.customers.notes"]
//!     detectors: {types: [email, credit_card], method: {method: redact}}
//! ```
//!
//! # Decisions
//! - A rule masks whole values (`method`) or the sensitive content inside values
//!   (`detectors`), not both: a rule with both is an error, and so is one with neither.
//! - `columns` are globs on `schema.table.column` (`*` crosses dots, as in rule globs); each
//!   must name a column, so it needs a `.`. A `detectors` rule without `columns` applies to
//!   every column of every result on its resources.
//! - A schema missing on one side never lets a column escape its mask: `users.email` covers
//!   `public.users.email` (any schema), and `public.users.email` covers a query's unqualified
//!   `users.email` when the resource declares no `default_schema` (writ cannot tell which schema
//!   the server's search path picks, so it masks).
//! - `resources` are globs on resource names; absent means every SQL resource. A pattern that
//!   names no declared SQL resource is an error.
//! - `exempt` principals (globs) and groups see clear values.
//! - `on_probe` decides a query that *filters* on a masked column (`WHERE email = '...'`, a way
//!   to confirm a value without seeing it): `allow` (say nothing), `flag` (the default: allowed
//!   and listed in the plan's `probes`) or `deny`.
//! - Methods are checked here; methods needing the host's HMAC key (`hash`,
//!   `format_preserving`) are accepted and marked `needs_key` in the plan: a masker refuses to
//!   build without the key.

use std::collections::HashMap;

use globset::{GlobMatcher, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use super::entity::EntityType;
use super::method::Method;
use crate::policy::source::{Seg, at_path};
use crate::policy::{Checker, CompiledResource, PolicyDocument};
use crate::request::Principal;

/// One masking rule of a policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskDoc {
    /// Unique id across all documents; reported in plans.
    pub id: String,
    /// Free text for people.
    #[serde(default)]
    pub description: Option<String>,
    /// Globs on resource names; absent means every SQL resource.
    #[serde(default)]
    pub resources: Option<Vec<String>>,
    /// Globs on `schema.table.column`.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// How whole values are masked.
    #[serde(default)]
    pub method: Option<Method>,
    /// Content detection inside values.
    #[serde(default)]
    pub detectors: Option<DetectorsDoc>,
    /// Who sees clear values.
    #[serde(default)]
    pub exempt: Option<ExemptDoc>,
    /// What a query filtering on a masked column gets; default `flag`.
    #[serde(default)]
    pub on_probe: Option<OnProbe>,
}

/// Content detectors of a masking rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorsDoc {
    /// Entity types to find (`email`, `credit_card`, ...); absent means every built-in type.
    #[serde(default)]
    pub types: Option<Vec<String>>,
    /// How each finding is replaced; default `redact` (`[REDACTED:<type>]`).
    #[serde(default)]
    pub method: Option<Method>,
}

/// Principals and groups a masking rule does not apply to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptDoc {
    /// Globs on the principal id.
    #[serde(default)]
    pub principals: Option<Vec<String>>,
    /// Groups; membership of any one exempts.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

/// What a query that filters on a masked column gets.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OnProbe {
    /// Allowed, not reported.
    Allow,
    /// Allowed and listed in the plan's `probes`.
    #[default]
    Flag,
    /// Denied.
    Deny,
}

/// A compiled masking rule.
#[derive(Debug)]
pub(crate) struct MaskRule {
    pub(crate) id: String,
    resources: Option<GlobSet>,
    /// Column globs, as written and compiled.
    columns: Option<Vec<(String, DottedGlob)>>,
    pub(crate) method: Option<Method>,
    pub(crate) detect: Option<(Vec<EntityType>, Method)>,
    exempt_principals: Option<GlobSet>,
    exempt_groups: Vec<String>,
    pub(crate) on_probe: OnProbe,
}

impl MaskRule {
    /// Whether the rule applies to `resource` for `principal`.
    pub(crate) fn applies(&self, resource: &str, principal: &Principal) -> bool {
        let on_resource = self.resources.as_ref().is_none_or(|set| set.is_match(resource));
        let exempt = self.exempt_principals.as_ref().is_some_and(|set| set.is_match(&principal.id))
            || principal.groups.iter().any(|g| self.exempt_groups.contains(g));
        on_resource && !exempt
    }

    /// Whether the rule covers source `schema.table.column`; for `schema.table.*` (an unknown
    /// column), whether it may cover some column of the table.
    pub(crate) fn covers(&self, source: &str) -> bool {
        let Some(columns) = &self.columns else { return self.detect.is_some() };
        match source.strip_suffix(".*") {
            None => columns.iter().any(|(_, m)| m.is_match(source, COLUMN_DOTS)),
            Some(table) => columns.iter().any(|(pattern, m)| may_match_table(pattern, m, table)),
        }
    }

    /// Column names of `table` this rule names, for name-based masking; `*` when the rule
    /// may cover any column of it.
    pub(crate) fn names_for(&self, table: &str) -> Vec<String> {
        let Some(columns) = &self.columns else { return vec!["*".to_owned()] };
        let mut out = Vec::new();
        for (pattern, m) in columns {
            if !may_match_table(pattern, m, table) {
                continue;
            }
            let last = pattern.rsplit('.').next().unwrap_or(pattern);
            let name = if is_literal(last) { last.to_owned() } else { "*".to_owned() };
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Column names this rule names in any table (`*` for a wildcard column part).
    pub(crate) fn names_for_any(&self) -> Vec<String> {
        let Some(columns) = &self.columns else { return vec!["*".to_owned()] };
        let mut out = Vec::new();
        for (pattern, _) in columns {
            let last = pattern.rsplit('.').next().unwrap_or(pattern);
            let name = if is_literal(last) { last.to_owned() } else { "*".to_owned() };
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// True for a rule that applies to every column of every result (detectors without
    /// columns).
    pub(crate) fn everywhere(&self) -> bool {
        self.columns.is_none()
    }
}

fn is_literal(s: &str) -> bool {
    !s.contains(['*', '?', '[', '{', '\\'])
}

/// Whether a column glob may match some column of `table`.
fn may_match_table(pattern: &str, m: &DottedGlob, table: &str) -> bool {
    let last = pattern.rsplit('.').next().unwrap_or(pattern);
    if is_literal(last) {
        return m.is_match(&format!("{table}.{last}"), COLUMN_DOTS);
    }
    // A wildcard column part: the table part decides (a `*` in it may also cross dots).
    let prefix = pattern.get(..pattern.len().saturating_sub(last.len() + 1)).unwrap_or("");
    DottedGlob::new(prefix, TABLE_DOTS).is_ok_and(|g| g.is_match(table, TABLE_DOTS))
        || m.is_match(&format!("{table}.x"), COLUMN_DOTS)
}

/// Dots in a schema-qualified column name (`schema.table.column`).
const COLUMN_DOTS: usize = 2;
/// Dots in a schema-qualified table name (`schema.table`).
const TABLE_DOTS: usize = 1;

/// A glob on a dotted name (`schema.table.column`, `schema.table`) whose leading schema may be
/// missing on either side: a pattern without a schema matches a name in any schema, and a
/// pattern with one matches a name written without a schema. Both err towards masking.
#[derive(Debug)]
pub(crate) struct DottedGlob {
    full: GlobMatcher,
    /// The pattern without its schema part, when it has one.
    without_schema: Option<GlobMatcher>,
}

impl DottedGlob {
    /// `qualified_dots` is the number of dots of a schema-qualified name of this kind.
    fn new(pattern: &str, qualified_dots: usize) -> Result<DottedGlob, String> {
        let full = crate::policy::compile::glob(pattern)?.compile_matcher();
        let without_schema = if pattern.matches('.').count() >= qualified_dots {
            match pattern.split_once('.') {
                Some((_, rest)) => Some(crate::policy::compile::glob(rest)?.compile_matcher()),
                None => None,
            }
        } else {
            None
        };
        Ok(DottedGlob { full, without_schema })
    }

    fn is_match(&self, name: &str, qualified_dots: usize) -> bool {
        if self.full.is_match(name) {
            return true;
        }
        if name.matches('.').count() >= qualified_dots {
            // A qualified name against a pattern written without a schema.
            self.without_schema.is_none()
                && name.split_once('.').is_some_and(|(_, rest)| self.full.is_match(rest))
        } else {
            // An unqualified name against a pattern with a schema.
            self.without_schema.as_ref().is_some_and(|g| g.is_match(name))
        }
    }
}

/// Masking rules and declared table columns of a compiled policy.
#[derive(Debug, Default)]
pub(crate) struct MaskSet {
    pub(crate) rules: Vec<MaskRule>,
    /// Declared columns by resource, then by qualified table name.
    pub(crate) columns: HashMap<String, HashMap<String, Vec<String>>>,
}

impl MaskSet {
    /// Validate and compile the `masks` and resource `columns` of every document. Problems are
    /// reported through the checkers (one per document, in the same order).
    pub(crate) fn compile(
        documents: &[&PolicyDocument],
        checkers: &mut [Checker<'_>],
        resources: &[CompiledResource],
    ) -> MaskSet {
        let mut set = MaskSet::default();
        let mut origin: HashMap<String, String> = HashMap::new();
        for (doc, ck) in documents.iter().zip(checkers.iter_mut()) {
            for (i, r) in doc.resources.iter().enumerate() {
                let Some(tables) = &r.columns else { continue };
                let at = at_path!["resources", i, "columns"];
                let Some(res) = resources.iter().find(|c| c.name == r.name) else { continue };
                if res.dialect.is_none() {
                    ck.error(
                        &at,
                        format!("`columns` applies to SQL resources, not to `{}`", r.kind.as_str()),
                    );
                    continue;
                }
                let mut compiled = HashMap::new();
                for (table, cols) in tables {
                    let mut item = at.to_vec();
                    item.push(Seg::Key(table.clone()));
                    if table.trim().is_empty() || table.split('.').any(str::is_empty) {
                        ck.error(&item, format!("`{table}` is not a table name"));
                        continue;
                    }
                    if cols.is_empty() {
                        ck.error(&item, format!("table `{table}` declares no columns"));
                    }
                    for (j, c) in cols.iter().enumerate() {
                        if c.trim().is_empty() || c.contains('.') {
                            let mut at_c = item.clone();
                            at_c.push(Seg::Index(j));
                            ck.error(&at_c, format!("`{c}` is not a column name"));
                        }
                    }
                    let qualified = match &r.default_schema {
                        Some(s) if !table.contains('.') => format!("{s}.{table}"),
                        _ => table.clone(),
                    };
                    compiled.insert(qualified, cols.clone());
                }
                set.columns.insert(r.name.clone(), compiled);
            }
            for (i, m) in doc.masks.iter().enumerate() {
                if let Some(rule) = compile_rule(ck, i, m, resources, &mut origin) {
                    set.rules.push(rule);
                }
            }
        }
        set
    }
}

fn compile_rule(
    ck: &mut Checker<'_>,
    i: usize,
    m: &MaskDoc,
    resources: &[CompiledResource],
    origin: &mut HashMap<String, String>,
) -> Option<MaskRule> {
    let before = ck.error_count();
    let at = |field: &str| at_path!["masks", i, field].to_vec();
    if m.id.trim().is_empty() {
        ck.error(&at("id"), "mask id is empty");
    } else if let Some(first) = origin.get(&m.id) {
        ck.error(&at("id"), format!("duplicate mask id `{}` (first used at {first})", m.id));
    } else {
        origin.insert(m.id.clone(), ck.where_is(&at("id")));
    }
    let resources_set = globs(ck, &at("resources"), m.resources.as_ref(), "resources");
    for (j, pattern) in m.resources.iter().flatten().enumerate() {
        let named = crate::policy::compile::glob(pattern).ok().map(|g| g.compile_matcher());
        if let Some(g) = named
            && !resources.iter().any(|r| r.dialect.is_some() && g.is_match(&r.name))
        {
            let mut item = at("resources");
            item.push(Seg::Index(j));
            ck.error(&item, format!("mask `{}` names resource `{pattern}`, which no document declares as a SQL database", m.id));
        }
    }
    let mut columns = None;
    if let Some(list) = &m.columns {
        if list.is_empty() {
            ck.error(
                &at("columns"),
                "empty `columns` list can never match; remove it or name at least one column",
            );
        }
        let mut out = Vec::new();
        for (j, pattern) in list.iter().enumerate() {
            let mut item = at("columns");
            item.push(Seg::Index(j));
            if !pattern.contains('.') {
                ck.error(&item, format!("column pattern `{pattern}` must name `table.column` or `schema.table.column` (use `*.{pattern}` for any table)"));
                continue;
            }
            match DottedGlob::new(pattern, COLUMN_DOTS) {
                Ok(g) => out.push((pattern.clone(), g)),
                Err(message) => ck.error(&item, message),
            }
        }
        columns = Some(out);
    }
    match (&m.method, &m.detectors, &m.columns) {
        (Some(_), Some(_), _) => ck.error(&at("detectors"), format!("mask `{}` has both `method` and `detectors`; a rule masks whole values or content, so split it in two", m.id)),
        (None, None, _) => ck.error(&at("id"), format!("mask `{}` needs `method` (whole values) or `detectors` (content)", m.id)),
        (Some(_), None, None) => ck.error(&at("method"), format!("mask `{}` has a `method` but no `columns`", m.id)),
        _ => {}
    }
    if let Some(method) = &m.method
        && let Err(e) = method.validate("column")
    {
        ck.error(&at("method"), e.to_string());
    }
    let mut detect = None;
    if let Some(d) = &m.detectors {
        let mut types = Vec::new();
        for (j, t) in d.types.iter().flatten().enumerate() {
            match EntityType::BUILTIN.iter().find(|b| b.as_str() == t) {
                Some(b) => types.push(b.clone()),
                None => {
                    let mut item = at("detectors");
                    item.extend([Seg::Key("types".to_owned()), Seg::Index(j)]);
                    ck.error(&item, format!("unknown entity type `{t}`"));
                }
            }
        }
        if d.types.as_ref().is_some_and(Vec::is_empty) {
            let mut item = at("detectors");
            item.push(Seg::Key("types".to_owned()));
            ck.error(
                &item,
                "empty `types` list detects nothing; remove it or name at least one type",
            );
        }
        let method = d.method.clone().unwrap_or_default();
        if let Err(e) = method.validate("detectors") {
            let mut item = at("detectors");
            item.push(Seg::Key("method".to_owned()));
            ck.error(&item, e.to_string());
        }
        detect = Some((types, method));
    }
    let exempt = m.exempt.clone().unwrap_or_default();
    let mut exempt_at = at("exempt");
    exempt_at.push(Seg::Key("principals".to_owned()));
    let exempt_principals = globs(ck, &exempt_at, exempt.principals.as_ref(), "principals");
    if ck.error_count() > before {
        return None;
    }
    Some(MaskRule {
        id: m.id.clone(),
        resources: resources_set,
        columns,
        method: m.method.clone(),
        detect,
        exempt_principals,
        exempt_groups: exempt.groups.unwrap_or_default(),
        on_probe: m.on_probe.unwrap_or_default(),
    })
}

fn globs(
    ck: &mut Checker<'_>,
    at: &[Seg],
    patterns: Option<&Vec<String>>,
    what: &str,
) -> Option<GlobSet> {
    let patterns = patterns?;
    if patterns.is_empty() {
        ck.error(
            at,
            format!("empty `{what}` list can never match; remove it or name at least one pattern"),
        );
        return None;
    }
    let mut builder = GlobSetBuilder::new();
    for (i, pattern) in patterns.iter().enumerate() {
        match crate::policy::compile::glob(pattern) {
            Ok(g) => {
                builder.add(g);
            }
            Err(message) => {
                let mut item = at.to_vec();
                item.push(Seg::Index(i));
                ck.error(&item, message);
            }
        }
    }
    builder.build().ok()
}
