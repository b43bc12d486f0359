//! Mask plans: which output columns of an allowed query are masked, and how.
//!
//! The engine computes a plan for an allowed (or approval-required) SQL text on a resource
//! with masking rules ([`plan_for`]) and puts it in the decision; the host builds a
//! [`Masker`](super::Masker) from it and the result's column names.
//!
//! # Decisions
//! - **Method per column**: the rules covering any source of the column decide. One method
//!   applied to a pass-through column (alias, cast, `min`/`max`, subquery column) is used as
//!   is. On a derived value (`lower(email)`, `email || ''`, `concat`, `CASE`, `string_agg`),
//!   methods that keep part of the value (`partial`, `email`) become `redact`: their kept part
//!   might be anything once the value is transformed (`reverse(email)`). Different methods on
//!   one column become `redact`.
//! - **Content rules** (`detectors`) apply to a column only when no whole-value rule does.
//! - **Unknown columns**: a `*` over a table whose columns are not declared is one plan entry
//!   with `expands`; the masker maps it to the result columns between the known ones and masks
//!   them by name (`fallback.by_name`) and with the host's content detectors
//!   (`fallback.detectors`). The plan says so in `notes`.
//! - **Unparsable text**: a plan of one `expands: "*"` entry with every rule's column names
//!   and the detectors: everything is masked by name and content (fail closed).
//! - **Several statements**: a plan describes one result. A text in which two or more
//!   statements return rows, one of them with a masked column, is denied ([`Refusal`]): the
//!   host could not tell which plan fits which result. Otherwise the plan is for the statement
//!   that returns rows. Probes of every statement count.
//! - **`COPY ... TO`** sends rows as a copy stream, outside the result rows a masker sees; a
//!   `COPY` out of a table or query with a masked column (or on a resource whose content
//!   detectors apply to every column) is denied.
//! - **Probes**: a predicate reading a covered column is listed in `probes` with its rule's
//!   `on_probe` (`flag` by default); `allow` rules are not listed; a `deny` turns the decision
//!   into a denial ([`attach`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sqlparser::ast::{CopySource, Statement};

use super::entity::EntityType;
use super::lineage::{Catalog, OutColumn, statement_lineage};
use super::method::Method;
use super::rules::{MaskRule, OnProbe};
use crate::decision::{Decision, Effect};
use crate::policy::{CompiledPolicy, CompiledResource};
use crate::request::Principal;

/// What to mask in a query's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskPlan {
    /// One entry per output item of the statement, in order (masked or not).
    pub columns: Vec<PlannedColumn>,
    /// Masking by name and content detectors for columns whose origin is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Content detection on every column of the result (rules with `detectors` and no
    /// `columns`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<ContentMask>,
    /// Predicates on masked columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Probe>,
    /// Fallbacks taken and other things people should know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Some method needs the host's HMAC key (`hash`, `format_preserving`).
    #[serde(default)]
    pub needs_key: bool,
}

/// One output item of the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedColumn {
    /// Position in the statement's output list (the result column position when no entry
    /// `expands`).
    pub position: usize,
    /// Output name.
    pub name: String,
    /// Source columns (`schema.table.column`, or `schema.table.*` for an unknown one).
    pub sources: Vec<String>,
    /// Whole-value method; `None` when the column is not masked as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Ids of the rules that decided `method` or `content`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Content detection inside the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentMask>,
    /// `Some(table)`: this entry stands for the unknown number of columns of a `*` over
    /// `table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expands: Option<String>,
}

impl PlannedColumn {
    /// True when something is masked in this column.
    pub fn masked(&self) -> bool {
        self.method.is_some() || self.content.is_some()
    }
}

/// Content detection with its own types and method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentMask {
    /// Types to find; empty means every built-in type.
    pub types: Vec<EntityType>,
    /// How findings are replaced.
    pub method: Method,
    /// The rule.
    pub rule: String,
}

/// Masking for result columns whose origin lineage cannot tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fallback {
    /// Mask a column of unknown origin whose name is `column` (`*`: any name).
    pub by_name: Vec<ByName>,
    /// Run the host's content detectors on every string column not masked as a whole.
    pub detectors: bool,
}

/// A name-based mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByName {
    /// The table whose `*` was not declared.
    pub table: String,
    /// Column name, or `*` for every column.
    pub column: String,
    /// Whole-value method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Content detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentMask>,
    /// The rule.
    pub rule: String,
}

/// A predicate on a masked column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The masked source column.
    pub column: String,
    /// The rule that masks it.
    pub rule: String,
    /// What the rule says about probes.
    pub action: OnProbe,
}

impl MaskPlan {
    /// Positions (in the statement's output list) of masked entries.
    pub fn masked_positions(&self) -> Vec<usize> {
        self.columns.iter().filter(|c| c.masked()).map(|c| c.position).collect()
    }

    /// Output names of masked entries.
    pub fn masked_names(&self) -> Vec<&str> {
        self.columns.iter().filter(|c| c.masked()).map(|c| c.name.as_str()).collect()
    }

    /// The first probe a rule denies.
    pub fn denied_probe(&self) -> Option<&Probe> {
        self.probes.iter().find(|p| p.action == OnProbe::Deny)
    }
}

/// Why masking cannot cover a text's results: the text is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The masking rule involved.
    pub(crate) rule: String,
    pub(crate) reason: String,
}

/// The mask plan for `text` on `resource` as seen by `principal`; `Ok(None)` when no masking
/// rule applies or the statement returns nothing and probes nothing; a [`Refusal`] when the
/// text returns rows no plan can cover.
pub(crate) fn plan_for(
    policy: &CompiledPolicy,
    resource: &CompiledResource,
    principal: &Principal,
    text: &str,
) -> Result<Option<MaskPlan>, Refusal> {
    let rules: Vec<&MaskRule> =
        policy.masks.rules.iter().filter(|r| r.applies(&resource.name, principal)).collect();
    if rules.is_empty() {
        return Ok(None);
    }
    let Some(dialect) = resource.dialect else { return Ok(None) };
    let empty = std::collections::HashMap::new();
    let tables = policy.masks.columns.get(&resource.name).unwrap_or(&empty);
    let catalog = Catalog { schema: resource.default_schema.as_deref(), tables };
    let needs_key = rules.iter().any(|r| {
        r.method.as_ref().is_some_and(Method::needs_key)
            || r.detect.as_ref().is_some_and(|(_, m)| m.needs_key())
    });
    let content = everywhere(&rules);
    let Some(statements) =
        crate::sql::classify::parse_statements(text, dialect, &policy.limits.sql)
    else {
        return Ok(Some(unparsed_plan(&rules, content, needs_key)));
    };
    let mut notes = BTreeSet::new();
    let mut filters = BTreeSet::new();
    let mut output: Vec<OutColumn> = Vec::new();
    let mut returning = 0usize;
    let mut masked_result = None;
    for s in &statements {
        let l = statement_lineage(s, catalog);
        filters.extend(l.filters);
        notes.extend(l.notes);
        if let Some(refusal) = copy_out_refusal(s, catalog, dialect, &rules) {
            return Err(refusal);
        }
        if !l.columns.is_empty() {
            returning += 1;
            if masked_result.is_none() {
                masked_result = first_covered(&l.columns, &rules);
            }
            output = l.columns;
        }
    }
    if returning > 1
        && let Some((column, rule)) = masked_result
    {
        return Err(Refusal {
            rule,
            reason: format!(
                "the text holds {returning} statements that return rows and `{column}` is masked: \
                 a mask plan covers one result, so send the statements one at a time"
            ),
        });
    }
    let mut probes = Vec::new();
    for source in &filters {
        for r in rules.iter().filter(|r| !r.everywhere() && r.covers(source)) {
            if r.on_probe != OnProbe::Allow {
                probes.push(Probe {
                    column: source.clone(),
                    rule: r.id.clone(),
                    action: r.on_probe,
                });
            }
        }
    }
    if output.is_empty() && probes.is_empty() {
        return Ok(None);
    }
    let mut by_name = Vec::new();
    let mut columns = Vec::new();
    for (position, c) in output.into_iter().enumerate() {
        let covering: Vec<&MaskRule> = rules
            .iter()
            .copied()
            .filter(|r| !r.everywhere() && c.sources.iter().any(|s| r.covers(s)))
            .collect();
        let (method, content, ids) = if c.expands.is_some() {
            // Masked by name in the masker (`fallback.by_name`).
            (None, None, covering.iter().map(|r| r.id.clone()).collect())
        } else {
            decide(&covering, c.pass_through, &mut notes, &c.name)
        };
        if let Some(table) = &c.expands {
            for source in &c.sources {
                let Some(t) = source.strip_suffix(".*") else { continue };
                for r in rules.iter().filter(|r| !r.everywhere() && r.covers(source)) {
                    for column in r.names_for(t) {
                        by_name.push(ByName {
                            table: t.to_owned(),
                            column,
                            method: r.method.clone(),
                            content: r.detect.as_ref().map(|(types, m)| ContentMask {
                                types: types.clone(),
                                method: m.clone(),
                                rule: r.id.clone(),
                            }),
                            rule: r.id.clone(),
                        });
                    }
                }
            }
            let _ = table;
        }
        columns.push(PlannedColumn {
            position,
            name: c.name,
            sources: c.sources.into_iter().collect(),
            method,
            rules: ids,
            content,
            expands: c.expands,
        });
    }
    let fallback = columns
        .iter()
        .any(|c| c.expands.is_some())
        .then_some(Fallback { by_name, detectors: true });
    Ok(Some(MaskPlan {
        columns,
        fallback,
        content,
        probes,
        notes: notes.into_iter().collect(),
        needs_key,
    }))
}

/// The first output column a column rule covers (or a `*` one may cover), with the rule.
fn first_covered(columns: &[OutColumn], rules: &[&MaskRule]) -> Option<(String, String)> {
    columns.iter().find_map(|c| {
        c.sources.iter().find_map(|source| {
            rules
                .iter()
                .find(|r| !r.everywhere() && r.covers(source))
                .map(|r| (c.name.clone(), r.id.clone()))
        })
    })
}

/// A refusal for a `COPY ... TO` whose rows would carry a masked column: the copy stream is
/// not result rows, so no masker sees it.
fn copy_out_refusal(
    statement: &Statement,
    catalog: Catalog<'_>,
    dialect: crate::sql::Dialect,
    rules: &[&MaskRule],
) -> Option<Refusal> {
    let Statement::Copy { source, to: true, .. } = statement else { return None };
    let columns = match source {
        CopySource::Query(q) => statement_lineage(&Statement::Query(q.clone()), catalog).columns,
        CopySource::Table { table_name, columns } => {
            // The same rows as this SELECT: let lineage resolve names as it does for queries.
            let list = if columns.is_empty() {
                "*".to_owned()
            } else {
                columns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            let select = format!("SELECT {list} FROM {table_name}");
            // Built from a statement that parsed: the default bounds hold it.
            let limits = crate::limits::SqlLimits::default();
            match crate::sql::classify::parse_statements(&select, dialect, &limits).as_deref() {
                Some([s]) => statement_lineage(s, catalog).columns,
                // Not expressible as a query: treat every column as possibly masked.
                _ => vec![OutColumn {
                    name: table_name.to_string(),
                    sources: BTreeSet::from([format!("{table_name}.*")]),
                    pass_through: true,
                    expands: Some(table_name.to_string()),
                }],
            }
        }
    };
    let refuse = |column: &str, rule: &str| Refusal {
        rule: rule.to_owned(),
        reason: format!(
            "COPY ... TO sends `{column}`, which mask `{rule}` covers, as a copy stream that \
             masking cannot reach; read it with SELECT instead"
        ),
    };
    if let Some((column, rule)) = first_covered(&columns, rules) {
        return Some(refuse(&column, &rule));
    }
    // Content detectors on every column apply to copied rows too.
    rules.iter().find(|r| r.everywhere()).map(|r| refuse("every column", &r.id))
}

/// Method, content mask and rule ids for a column covered by `covering`.
fn decide(
    covering: &[&MaskRule],
    pass_through: bool,
    notes: &mut BTreeSet<String>,
    name: &str,
) -> (Option<Method>, Option<ContentMask>, Vec<String>) {
    let whole: Vec<&MaskRule> = covering.iter().copied().filter(|r| r.method.is_some()).collect();
    if !whole.is_empty() {
        let ids = whole.iter().map(|r| r.id.clone()).collect();
        let mut methods = whole.iter().filter_map(|r| r.method.clone());
        let first = methods.next().unwrap_or_default();
        let same = methods.all(|m| m == first);
        let method = if !same {
            notes.insert(format!("column `{name}` is covered by different methods: redacted"));
            Method::default()
        } else if !pass_through && matches!(first, Method::Partial { .. } | Method::Email) {
            notes.insert(format!(
                "column `{name}` is derived from a masked column: `{}` becomes `redact`",
                first.name()
            ));
            Method::default()
        } else {
            first
        };
        return (Some(method), None, ids);
    }
    let detect: Vec<&MaskRule> = covering.iter().copied().filter(|r| r.detect.is_some()).collect();
    let Some(first) = detect.first() else { return (None, None, Vec::new()) };
    let mut types: Vec<EntityType> = Vec::new();
    let mut all = false;
    for r in &detect {
        if let Some((t, _)) = &r.detect {
            all |= t.is_empty();
            for x in t {
                if !types.contains(x) {
                    types.push(x.clone());
                }
            }
        }
    }
    if all {
        types.clear();
    }
    let method = first.detect.as_ref().map(|(_, m)| m.clone()).unwrap_or_default();
    let ids: Vec<String> = detect.iter().map(|r| r.id.clone()).collect();
    let content = ContentMask { types, method, rule: ids.join(",") };
    (None, Some(content), ids)
}

/// Content masks of rules with `detectors` and no `columns`.
fn everywhere(rules: &[&MaskRule]) -> Vec<ContentMask> {
    rules
        .iter()
        .filter(|r| r.everywhere())
        .filter_map(|r| {
            r.detect.as_ref().map(|(types, method)| ContentMask {
                types: types.clone(),
                method: method.clone(),
                rule: r.id.clone(),
            })
        })
        .collect()
}

/// Fail-closed plan for a text that could not be parsed.
fn unparsed_plan(rules: &[&MaskRule], content: Vec<ContentMask>, needs_key: bool) -> MaskPlan {
    let mut by_name = Vec::new();
    for r in rules.iter().filter(|r| !r.everywhere()) {
        for column in r.names_for_any() {
            by_name.push(ByName {
                table: "*".to_owned(),
                column,
                method: r.method.clone(),
                content: r.detect.as_ref().map(|(types, m)| ContentMask {
                    types: types.clone(),
                    method: m.clone(),
                    rule: r.id.clone(),
                }),
                rule: r.id.clone(),
            });
        }
    }
    MaskPlan {
        columns: vec![PlannedColumn {
            position: 0,
            name: "*".to_owned(),
            sources: Vec::new(),
            method: None,
            rules: Vec::new(),
            content: None,
            expands: Some("*".to_owned()),
        }],
        fallback: Some(Fallback { by_name, detectors: true }),
        content,
        probes: Vec::new(),
        notes: vec![
            "the text could not be parsed: every column is masked by name and content detectors"
                .to_owned(),
        ],
        needs_key,
    }
}

/// The engine hook: attach the mask plan to an allowed or approval-required SQL decision, and
/// deny a query that probes a column whose rule says `on_probe: deny`.
pub(crate) fn attach(
    decision: &mut Decision,
    policy: &CompiledPolicy,
    resource: &CompiledResource,
    principal: &Principal,
    text: &str,
) {
    if decision.effect == Effect::Deny {
        return;
    }
    let plan = match plan_for(policy, resource, principal, text) {
        Ok(Some(plan)) => plan,
        Ok(None) => return,
        Err(refusal) => {
            deny(decision, refusal.rule, refusal.reason);
            return;
        }
    };
    if let Some(p) = plan.denied_probe() {
        let reason = format!(
            "the query filters on masked column `{}` (mask `{}` denies probes)",
            p.column, p.rule
        );
        deny(decision, p.rule.clone(), reason);
    }
    decision.mask = Some(plan);
}

/// Turn `decision` into a denial by masking rule `rule`.
fn deny(decision: &mut Decision, rule: String, reason: String) {
    decision.effect = Effect::Deny;
    decision.rules = vec![rule.clone()];
    decision.reason = reason.clone();
    // The denial is a part too, so whoever combines parts (a routed tool call, a grant
    // check) sees it.
    decision.parts.push(crate::decision::PartDecision {
        effect: Effect::Deny,
        rules: vec![rule],
        reason,
    });
}
