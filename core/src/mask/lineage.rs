//! Column lineage: for each output column of a query, the source columns it derives from.
//!
//! # Model
//! A source is a string: `schema.table.column` for a known column, or `schema.table.*` for
//! "some column of `schema.table` that writ cannot name" (a `*` over a table whose columns the
//! policy does not declare, a table function, a whole-row reference). Unqualified table names
//! take the resource's default schema; names are lowercased unless quoted, as the classifier
//! names them.
//!
//! Each output column carries its sources, its output name, whether it is a plain
//! *pass-through* of one source value (an alias, a cast, `min`/`max`, a subquery column) and,
//! for a `*` over an undeclared table, the table it *expands* to (an unknown number of result
//! columns).
//!
//! # Invariants (conservative by construction)
//! - Every column reference in an output expression contributes its sources, whatever the
//!   expression does with it (functions, operators, `CASE` conditions included), except inside
//!   functions that return no data value ([`NON_CARRYING`]: `count`, `row_number`, ...).
//! - An unqualified reference resolves against every relation of the innermost scope that
//!   could hold it (declared columns; any name for an undeclared table or an opaque
//!   relation); ambiguity gives the union. Only when no relation there could hold it is the
//!   enclosing scope (correlated subqueries) tried.
//! - A reference that matches no column but names a relation is a whole-row reference and
//!   carries every column of that relation.
//! - Set operations union their branches position by position; when a branch holds a `*` of
//!   unknown width, positions cannot be aligned and every column of the left branch gets every
//!   source of the right one.
//! - Table functions, `UNNEST`, `PIVOT` and other exotic relations are opaque: every column
//!   read from them carries every source referenced inside them (and `t.*` of every table
//!   named inside them).
//! - Predicates (`WHERE`, `HAVING`, `QUALIFY`, `PREWHERE`, join conditions) do not flow into
//!   output columns; their sources are collected separately as *filters* (probes).
//!   `GROUP BY` and `ORDER BY` are neither (documented limitation: ordering leaks order only).

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAlias, TableFactor,
    TableObject, TableWithJoins, Visit, Visitor, WildcardAdditionalOptions,
};

use crate::sql::classify::{function_name, ident, object_name, table_name};

/// Functions whose result carries no value of their arguments (counts and ranks).
pub const NON_CARRYING: &[&str] = &[
    "count",
    "count_big",
    "approx_count_distinct",
    "approx_distinct",
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
];

/// Functions whose result is one of their first argument's values, unchanged.
const PASS_THROUGH: &[&str] = &[
    "min",
    "max",
    "any_value",
    "first_value",
    "last_value",
    "nth_value",
    "lag",
    "lead",
    "first",
    "last",
    "arbitrary",
];

/// One output column of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutColumn {
    /// Output name: the alias, the column's name, the function's name, or `?column?`.
    pub name: String,
    /// Sources: `schema.table.column` or `schema.table.*`.
    pub sources: BTreeSet<String>,
    /// The value is exactly one source's value (alias, cast, `min`, `max`, subquery column).
    pub pass_through: bool,
    /// `Some(table)` when this entry stands for the columns of a `*` over `table`, whose
    /// columns are not declared: zero or more result columns.
    pub expands: Option<String>,
}

/// The lineage of one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementLineage {
    /// Output columns in order; empty for a statement that returns no rows.
    pub columns: Vec<OutColumn>,
    /// Sources referenced by predicates anywhere in the statement.
    pub filters: BTreeSet<String>,
    /// Things people should know (fallbacks taken).
    pub notes: BTreeSet<String>,
}

/// Declared table columns and the default schema: what lineage knows about the database.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'a> {
    /// Schema for unqualified table names.
    pub schema: Option<&'a str>,
    /// Declared columns by qualified table name.
    pub tables: &'a HashMap<String, Vec<String>>,
}

impl Catalog<'_> {
    /// `t` qualified with the default schema.
    pub fn qualify(&self, table: &str) -> String {
        match self.schema {
            Some(s) if !table.contains('.') => format!("{s}.{table}"),
            _ => table.to_owned(),
        }
    }
}

/// Lineage of every statement of a parsed text.
pub fn statement_lineage(statement: &Statement, catalog: Catalog<'_>) -> StatementLineage {
    let mut w = Walker { catalog, filters: BTreeSet::new(), notes: BTreeSet::new() };
    let columns = w.statement(statement);
    StatementLineage { columns, filters: w.filters, notes: w.notes }
}

/// What a relation in scope offers.
#[derive(Debug, Clone)]
enum RelCols {
    /// A base table, with its declared columns when known.
    Table { table: String, declared: Option<Vec<String>> },
    /// A derived table or CTE: its columns.
    Derived(Vec<OutColumn>),
    /// An exotic relation: any column carries all of these sources.
    Opaque(BTreeSet<String>),
}

/// A relation in scope, under the name that qualifies references to it.
#[derive(Debug, Clone)]
struct Rel {
    /// Alias, or the table's last name part.
    alias: String,
    /// The qualified table name, for references written `schema.table.column`.
    full: Option<String>,
    cols: RelCols,
}

/// One level of name resolution, linked to the enclosing one.
struct Scope<'p> {
    rels: Vec<Rel>,
    parent: Option<&'p Scope<'p>>,
}

/// CTEs visible at a point, innermost last.
type Ctes = Vec<(String, Vec<OutColumn>)>;

struct Walker<'a> {
    catalog: Catalog<'a>,
    filters: BTreeSet<String>,
    notes: BTreeSet<String>,
}

fn column(name: String, sources: BTreeSet<String>, pass_through: bool) -> OutColumn {
    OutColumn { name, sources, pass_through, expands: None }
}

impl Walker<'_> {
    fn statement(&mut self, s: &Statement) -> Vec<OutColumn> {
        let empty = Ctes::new();
        match s {
            Statement::Query(q) => self.query(q, None, &empty),
            Statement::Insert(ins) => {
                if let Some(source) = &ins.source {
                    let _ = self.query(source, None, &empty);
                }
                let Some(items) = &ins.returning else { return Vec::new() };
                let rels = match &ins.table {
                    TableObject::TableName(name) => {
                        let alias = ins.table_alias.as_ref().map(|a| ident(&a.alias));
                        vec![self.base_rel(name, alias, &empty)]
                    }
                    other => vec![self.opaque_rel(String::new(), other, None, &empty)],
                };
                let scope = Scope { rels, parent: None };
                self.projection(items, &scope, &empty)
            }
            Statement::Update(u) => {
                let mut tables = vec![u.table.clone()];
                if let Some(from) = &u.from {
                    match from {
                        sqlparser::ast::UpdateTableFromKind::BeforeSet(v)
                        | sqlparser::ast::UpdateTableFromKind::AfterSet(v) => {
                            tables.extend(v.iter().cloned());
                        }
                    }
                }
                let scope = Scope { rels: self.from(&tables, None, &empty), parent: None };
                self.filter(u.selection.as_ref(), &scope, &empty);
                match &u.returning {
                    Some(items) => self.projection(items, &scope, &empty),
                    None => Vec::new(),
                }
            }
            Statement::Delete(d) => {
                let mut tables = match &d.from {
                    sqlparser::ast::FromTable::WithFromKeyword(v)
                    | sqlparser::ast::FromTable::WithoutKeyword(v) => v.clone(),
                };
                tables.extend(d.using.iter().flatten().cloned());
                let scope = Scope { rels: self.from(&tables, None, &empty), parent: None };
                self.filter(d.selection.as_ref(), &scope, &empty);
                match &d.returning {
                    Some(items) => self.projection(items, &scope, &empty),
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn query(&mut self, q: &Query, outer: Option<&Scope<'_>>, ctes: &Ctes) -> Vec<OutColumn> {
        let mut ctes = ctes.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = ident(&cte.alias.name);
                let cols = if with.recursive {
                    // Two passes: the recursive branch sees the anchor's columns.
                    let mut pass = ctes.clone();
                    pass.push((name.clone(), Vec::new()));
                    let first = rename(self.query(&cte.query, outer, &pass), &cte.alias);
                    if let Some(last) = pass.last_mut() {
                        last.1 = first;
                    }
                    rename(self.query(&cte.query, outer, &pass), &cte.alias)
                } else {
                    rename(self.query(&cte.query, outer, &ctes), &cte.alias)
                };
                ctes.push((name, cols));
            }
        }
        self.set_expr(&q.body, outer, &ctes)
    }

    fn set_expr(
        &mut self,
        body: &SetExpr,
        outer: Option<&Scope<'_>>,
        ctes: &Ctes,
    ) -> Vec<OutColumn> {
        match body {
            SetExpr::Select(s) => self.select(s, outer, ctes),
            SetExpr::Query(q) => self.query(q, outer, ctes),
            SetExpr::SetOperation { left, right, .. } => {
                let l = self.set_expr(left, outer, ctes);
                let r = self.set_expr(right, outer, ctes);
                union_branches(l, r)
            }
            SetExpr::Values(v) => {
                let scope = Scope { rels: Vec::new(), parent: outer };
                let mut out: Vec<OutColumn> = Vec::new();
                for row in &v.rows {
                    for (i, e) in row.content.iter().enumerate() {
                        let (sources, pass) = self.expr(e, &scope, ctes);
                        match out.get_mut(i) {
                            Some(c) => {
                                c.pass_through &= pass || sources.is_empty();
                                c.sources.extend(sources);
                            }
                            None => out.push(column(format!("column{}", i + 1), sources, pass)),
                        }
                    }
                }
                out
            }
            SetExpr::Table(t) => {
                let name = match (&t.schema_name, &t.table_name) {
                    (Some(s), Some(n)) => format!("{}.{}", s.to_lowercase(), n.to_lowercase()),
                    (None, Some(n)) => n.to_lowercase(),
                    _ => return Vec::new(),
                };
                if let Some((_, cols)) = ctes.iter().rev().find(|(c, _)| *c == name) {
                    return cols.clone();
                }
                let table = self.catalog.qualify(&name);
                self.table_columns(&table)
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                self.statement(s)
            }
        }
    }

    /// Every column a base table offers to `*`.
    fn table_columns(&mut self, table: &str) -> Vec<OutColumn> {
        match self.catalog.tables.get(table) {
            Some(cols) => cols
                .iter()
                .map(|c| column(c.clone(), BTreeSet::from([format!("{table}.{c}")]), true))
                .collect(),
            None => {
                self.notes.insert(format!(
                    "columns of `{table}` are not declared: `*` is masked by column name and content detectors"
                ));
                vec![OutColumn {
                    name: "*".to_owned(),
                    sources: BTreeSet::from([format!("{table}.*")]),
                    pass_through: false,
                    expands: Some(table.to_owned()),
                }]
            }
        }
    }

    fn select(&mut self, s: &Select, outer: Option<&Scope<'_>>, ctes: &Ctes) -> Vec<OutColumn> {
        let rels = self.from(&s.from, outer, ctes);
        let scope = Scope { rels, parent: outer };
        for twj in &s.from {
            for join in &twj.joins {
                let mut c = Collector::new(self, &scope, ctes, false);
                let _ = join.join_operator.visit(&mut c);
                let found = c.out;
                self.filters.extend(found);
            }
        }
        for e in [&s.selection, &s.having, &s.qualify, &s.prewhere] {
            self.filter(e.as_ref(), &scope, ctes);
        }
        self.projection(&s.projection, &scope, ctes)
    }

    fn filter(&mut self, e: Option<&Expr>, scope: &Scope<'_>, ctes: &Ctes) {
        if let Some(e) = e {
            let mut c = Collector::new(self, scope, ctes, false);
            let _ = e.visit(&mut c);
            let found = c.out;
            self.filters.extend(found);
        }
    }

    fn projection(
        &mut self,
        items: &[SelectItem],
        scope: &Scope<'_>,
        ctes: &Ctes,
    ) -> Vec<OutColumn> {
        let mut out = Vec::new();
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let (sources, pass) = self.expr(e, scope, ctes);
                    out.push(column(expr_name(e), sources, pass));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let (sources, pass) = self.expr(expr, scope, ctes);
                    out.push(column(ident(alias), sources, pass));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let (sources, _) = self.expr(expr, scope, ctes);
                    for a in aliases {
                        out.push(column(ident(a), sources.clone(), false));
                    }
                }
                SelectItem::Wildcard(opts) => {
                    let exact = plain_wildcard(opts);
                    for rel in &scope.rels {
                        let cols = self.rel_columns(rel);
                        out.extend(self.star(cols, exact, &rel.alias));
                    }
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let exact = plain_wildcard(opts);
                    match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            match find_rel(scope, name) {
                                Some(rel) => {
                                    let cols = self.rel_columns(rel);
                                    out.extend(self.star(cols, exact, &rel.alias));
                                }
                                None => {
                                    // Unknown qualifier: everything in scope may be meant.
                                    let sources = all_sources(scope);
                                    out.push(OutColumn {
                                        name: "*".to_owned(),
                                        expands: Some(object_name(name)),
                                        sources,
                                        pass_through: false,
                                    });
                                }
                            }
                        }
                        SelectItemQualifiedWildcardKind::Expr(e) => {
                            let (sources, _) = self.expr(e, scope, ctes);
                            out.push(OutColumn {
                                name: "*".to_owned(),
                                expands: Some(e.to_string()),
                                sources,
                                pass_through: false,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// The columns of a `*`: exact when the wildcard has no options, else one entry of unknown
    /// width (`EXCLUDE`, `EXCEPT`, `REPLACE`, `RENAME` change positions and names).
    fn star(&mut self, cols: Vec<OutColumn>, exact: bool, alias: &str) -> Vec<OutColumn> {
        if exact {
            return cols;
        }
        self.notes.insert(format!(
            "`*` of `{alias}` has options (EXCLUDE, EXCEPT, REPLACE, RENAME): masked by column name and content detectors"
        ));
        let mut sources = BTreeSet::new();
        for c in cols {
            sources.extend(c.sources);
        }
        vec![OutColumn {
            name: "*".to_owned(),
            sources,
            pass_through: false,
            expands: Some(alias.to_owned()),
        }]
    }

    fn rel_columns(&mut self, rel: &Rel) -> Vec<OutColumn> {
        match &rel.cols {
            RelCols::Table { table, .. } => self.table_columns(&table.clone()),
            RelCols::Derived(cols) => cols.clone(),
            RelCols::Opaque(sources) => {
                self.notes.insert(format!(
                    "`{}` is not a table: its columns are masked by name and content detectors",
                    rel.alias
                ));
                vec![OutColumn {
                    name: "*".to_owned(),
                    sources: sources.clone(),
                    pass_through: false,
                    expands: Some(rel.alias.clone()),
                }]
            }
        }
    }

    fn from(
        &mut self,
        from: &[TableWithJoins],
        outer: Option<&Scope<'_>>,
        ctes: &Ctes,
    ) -> Vec<Rel> {
        let mut rels: Vec<Rel> = Vec::new();
        for twj in from {
            let r = self.factor(&twj.relation, &rels, outer, ctes);
            rels.extend(r);
            for join in &twj.joins {
                let r = self.factor(&join.relation, &rels, outer, ctes);
                rels.extend(r);
            }
        }
        rels
    }

    /// The relations one table factor brings into scope. `left` are those before it (visible
    /// to `LATERAL`).
    fn factor(
        &mut self,
        tf: &TableFactor,
        left: &[Rel],
        outer: Option<&Scope<'_>>,
        ctes: &Ctes,
    ) -> Vec<Rel> {
        match tf {
            TableFactor::Table { name, alias, args: None, .. } => {
                let (table, single) = table_name(name, alias.as_ref());
                let only_fix = single && table != object_name(name);
                let alias_name =
                    if only_fix { None } else { alias.as_ref().map(|a| ident(&a.name)) };
                if single && let Some((_, cols)) = ctes.iter().rev().find(|(c, _)| *c == table) {
                    let cols = match alias.as_ref().filter(|_| !only_fix) {
                        Some(a) => rename(cols.clone(), a),
                        None => cols.clone(),
                    };
                    return vec![Rel {
                        alias: alias_name.unwrap_or(table),
                        full: None,
                        cols: RelCols::Derived(cols),
                    }];
                }
                let full = self.catalog.qualify(&table);
                let declared = self.catalog.tables.get(&full).cloned();
                let short = full.rsplit('.').next().unwrap_or(&full).to_owned();
                let mut rel = Rel {
                    alias: alias_name.unwrap_or(short),
                    full: Some(full.clone()),
                    cols: RelCols::Table { table: full.clone(), declared },
                };
                if let Some(a) = alias.as_ref().filter(|a| !only_fix && !a.columns.is_empty()) {
                    let cols = self.rel_columns(&rel);
                    rel.cols = RelCols::Derived(rename(cols, a));
                }
                vec![rel]
            }
            TableFactor::Derived { lateral, subquery, alias, .. } => {
                let lateral_scope;
                let scope = if *lateral {
                    lateral_scope = Scope { rels: left.to_vec(), parent: outer };
                    Some(&lateral_scope)
                } else {
                    outer
                };
                let cols = self.query(subquery, scope, ctes);
                let cols = match alias {
                    Some(a) => rename(cols, a),
                    None => cols,
                };
                let name = alias.as_ref().map(|a| ident(&a.name)).unwrap_or_default();
                vec![Rel { alias: name, full: None, cols: RelCols::Derived(cols) }]
            }
            TableFactor::NestedJoin { table_with_joins, alias, .. } => {
                let inner = self.from(std::slice::from_ref(table_with_joins), outer, ctes);
                match alias {
                    None => inner,
                    Some(a) => {
                        let mut cols = Vec::new();
                        for rel in &inner {
                            cols.extend(self.rel_columns(rel));
                        }
                        vec![Rel {
                            alias: ident(&a.name),
                            full: None,
                            cols: RelCols::Derived(rename(cols, a)),
                        }]
                    }
                }
            }
            other => {
                let lateral_scope = Scope { rels: left.to_vec(), parent: outer };
                let alias = factor_alias(other).map(|a| ident(&a.name)).unwrap_or_default();
                vec![self.opaque_rel(alias, other, Some(&lateral_scope), ctes)]
            }
        }
    }

    /// A relation whose columns carry everything referenced inside it.
    fn opaque_rel<V: Visit>(
        &mut self,
        alias: String,
        node: &V,
        scope: Option<&Scope<'_>>,
        ctes: &Ctes,
    ) -> Rel {
        let empty = Scope { rels: Vec::new(), parent: None };
        let scope = scope.unwrap_or(&empty);
        let mut c = Collector::new(self, scope, ctes, false);
        c.tables_as_sources = true;
        let _ = node.visit(&mut c);
        let sources = c.out;
        Rel { alias, full: None, cols: RelCols::Opaque(sources) }
    }

    fn base_rel(&mut self, name: &ObjectName, alias: Option<String>, _ctes: &Ctes) -> Rel {
        let full = self.catalog.qualify(&object_name(name));
        let declared = self.catalog.tables.get(&full).cloned();
        let short = full.rsplit('.').next().unwrap_or(&full).to_owned();
        Rel {
            alias: alias.unwrap_or(short),
            full: Some(full.clone()),
            cols: RelCols::Table { table: full, declared },
        }
    }

    /// Sources of a projected expression and whether it is a pass-through.
    fn expr(&mut self, e: &Expr, scope: &Scope<'_>, ctes: &Ctes) -> (BTreeSet<String>, bool) {
        let mut c = Collector::new(self, scope, ctes, true);
        let _ = e.visit(&mut c);
        let sources = c.out;
        let pass = sources.len() <= 1 && self.pass_through(e, scope, ctes);
        (sources, pass)
    }

    /// Whether `e`'s value is one source value unchanged.
    fn pass_through(&mut self, e: &Expr, scope: &Scope<'_>, ctes: &Ctes) -> bool {
        match e {
            Expr::Nested(inner)
            | Expr::Cast { expr: inner, .. }
            | Expr::Collate { expr: inner, .. } => self.pass_through(inner, scope, ctes),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
            Expr::Subquery(q) => {
                let cols = self.query(q, Some(scope), ctes);
                cols.first().is_some_and(|c| c.pass_through) && cols.len() == 1
            }
            Expr::Function(f) => {
                let name = function_name(&f.name);
                let base = name.rsplit('.').next().unwrap_or(&name);
                if !PASS_THROUGH.contains(&base) {
                    return false;
                }
                match &f.args {
                    FunctionArguments::List(list) => match list.args.first() {
                        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(a))) => {
                            self.pass_through(a, scope, ctes)
                        }
                        _ => false,
                    },
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// `*` without `EXCLUDE`, `EXCEPT`, `REPLACE`, `RENAME` or `ILIKE`.
fn plain_wildcard(o: &WildcardAdditionalOptions) -> bool {
    o.opt_ilike.is_none()
        && o.opt_exclude.is_none()
        && o.opt_except.is_none()
        && o.opt_replace.is_none()
        && o.opt_rename.is_none()
}

fn factor_alias(tf: &TableFactor) -> Option<&TableAlias> {
    match tf {
        TableFactor::Table { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::TableFunction { alias, .. } => alias.as_ref(),
        _ => None,
    }
}

/// Apply a table alias' column list (`AS d(a, b)`) to columns, by position.
fn rename(mut cols: Vec<OutColumn>, alias: &TableAlias) -> Vec<OutColumn> {
    if alias.columns.is_empty() {
        return cols;
    }
    if cols.iter().any(|c| c.expands.is_some()) {
        // Positions are unknown: every named column may be any of them.
        let mut sources = BTreeSet::new();
        for c in &cols {
            sources.extend(c.sources.iter().cloned());
        }
        return alias
            .columns
            .iter()
            .map(|a| column(ident(&a.name), sources.clone(), false))
            .collect();
    }
    for (c, a) in cols.iter_mut().zip(&alias.columns) {
        c.name = ident(&a.name);
    }
    cols
}

/// Position-wise union of two set-operation branches.
fn union_branches(mut l: Vec<OutColumn>, r: Vec<OutColumn>) -> Vec<OutColumn> {
    let aligned = l.len() == r.len()
        && !l.iter().any(|c| c.expands.is_some())
        && !r.iter().any(|c| c.expands.is_some());
    if aligned {
        for (a, b) in l.iter_mut().zip(r) {
            a.pass_through = (a.pass_through || a.sources.is_empty())
                && (b.pass_through || b.sources.is_empty());
            a.sources.extend(b.sources);
        }
        return l;
    }
    let mut all = BTreeSet::new();
    for c in &r {
        all.extend(c.sources.iter().cloned());
    }
    for c in &mut l {
        c.pass_through = false;
        c.sources.extend(all.iter().cloned());
    }
    if l.is_empty() {
        return r;
    }
    l
}

/// The output name of an unaliased expression, as PostgreSQL names it.
fn expr_name(e: &Expr) -> String {
    match e {
        Expr::Identifier(i) => ident(i),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident).unwrap_or_default(),
        Expr::Nested(inner) => expr_name(inner),
        Expr::Cast { expr, .. } => expr_name(expr),
        Expr::Function(f) => {
            let name = function_name(&f.name);
            name.rsplit('.').next().unwrap_or(&name).to_owned()
        }
        _ => "?column?".to_owned(),
    }
}

/// Every source of every relation in the innermost scope.
fn all_sources(scope: &Scope<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rel in &scope.rels {
        out.extend(rel_all_sources(rel));
    }
    out
}

fn rel_all_sources(rel: &Rel) -> BTreeSet<String> {
    match &rel.cols {
        RelCols::Table { table, declared: Some(cols) } => {
            cols.iter().map(|c| format!("{table}.{c}")).collect()
        }
        RelCols::Table { table, declared: None } => BTreeSet::from([format!("{table}.*")]),
        RelCols::Derived(cols) => cols.iter().flat_map(|c| c.sources.iter().cloned()).collect(),
        RelCols::Opaque(s) => s.clone(),
    }
}

/// The relation a qualifier names, searching outwards.
fn find_rel<'s>(scope: &'s Scope<'s>, name: &ObjectName) -> Option<&'s Rel> {
    let written = object_name(name);
    let mut level = Some(scope);
    while let Some(s) = level {
        let hit = s.rels.iter().find(|r| {
            r.alias == written
                || r.full.as_deref() == Some(written.as_str())
                || r.full.as_deref().is_some_and(|f| f.ends_with(&format!(".{written}")))
        });
        if hit.is_some() {
            return hit;
        }
        level = s.parent;
    }
    None
}

/// Sources a relation offers for column `col`, or `None` when it cannot hold it.
fn rel_column(rel: &Rel, col: &str) -> Option<BTreeSet<String>> {
    match &rel.cols {
        RelCols::Table { table, declared: Some(cols) } => {
            cols.iter().any(|c| c == col).then(|| BTreeSet::from([format!("{table}.{col}")]))
        }
        RelCols::Table { table, declared: None } => {
            Some(BTreeSet::from([format!("{table}.{col}")]))
        }
        RelCols::Derived(cols) => {
            let named: BTreeSet<String> = cols
                .iter()
                .filter(|c| c.expands.is_none() && c.name == col)
                .flat_map(|c| c.sources.iter().cloned())
                .collect();
            let has_named = cols.iter().any(|c| c.expands.is_none() && c.name == col);
            if has_named {
                return Some(named);
            }
            let mut via_star = BTreeSet::new();
            let mut any = false;
            for c in cols.iter().filter(|c| c.expands.is_some()) {
                any = true;
                for s in &c.sources {
                    match s.strip_suffix(".*") {
                        Some(table) => via_star.insert(format!("{table}.{col}")),
                        None => via_star.insert(s.clone()),
                    };
                }
            }
            any.then_some(via_star)
        }
        RelCols::Opaque(s) => Some(s.clone()),
    }
}

/// Resolve a column reference written as `parts`.
fn resolve(scope: &Scope<'_>, parts: &[Ident]) -> BTreeSet<String> {
    let names: Vec<String> = parts.iter().map(ident).collect();
    match names.as_slice() {
        [] => BTreeSet::new(),
        [col] => resolve_single(scope, col),
        [qualifier @ .., col] => {
            let q = qualifier.join(".");
            let mut level = Some(scope);
            while let Some(s) = level {
                let hit = s.rels.iter().find(|r| {
                    r.alias == q
                        || r.full.as_deref() == Some(q.as_str())
                        || r.full.as_deref().is_some_and(|f| f.ends_with(&format!(".{q}")))
                });
                if let Some(rel) = hit {
                    return rel_column(rel, col).unwrap_or_default();
                }
                level = s.parent;
            }
            // `t.composite.field` or `column.field`: try shorter prefixes.
            if let [first, second, ..] = names.as_slice() {
                let mut level = Some(scope);
                while let Some(s) = level {
                    if let Some(rel) = s.rels.iter().find(|r| r.alias == *first) {
                        return rel_column(rel, second).unwrap_or_default();
                    }
                    level = s.parent;
                }
                return resolve_single(scope, first);
            }
            BTreeSet::new()
        }
    }
}

fn resolve_single(scope: &Scope<'_>, col: &str) -> BTreeSet<String> {
    let mut level = Some(scope);
    while let Some(s) = level {
        let mut found = false;
        let mut out = BTreeSet::new();
        for rel in &s.rels {
            if let Some(src) = rel_column(rel, col) {
                found = true;
                out.extend(src);
            }
        }
        if found {
            return out;
        }
        if let Some(rel) = s.rels.iter().find(|r| r.alias == col) {
            return rel_all_sources(rel);
        }
        level = s.parent;
    }
    BTreeSet::new()
}

/// Collects the sources of the column references inside a node.
struct Collector<'w, 'a, 's> {
    walker: &'w mut Walker<'a>,
    scope: &'s Scope<'s>,
    ctes: &'s Ctes,
    /// Projection mode: functions of [`NON_CARRYING`] contribute nothing.
    carry: bool,
    /// Record `schema.table.*` for every table named inside (opaque relations).
    tables_as_sources: bool,
    /// Nodes whose children are skipped, by address.
    skipping: Vec<*const ()>,
    out: BTreeSet<String>,
}

impl<'w, 'a, 's> Collector<'w, 'a, 's> {
    fn new(walker: &'w mut Walker<'a>, scope: &'s Scope<'s>, ctes: &'s Ctes, carry: bool) -> Self {
        Collector {
            walker,
            scope,
            ctes,
            carry,
            tables_as_sources: false,
            skipping: Vec::new(),
            out: BTreeSet::new(),
        }
    }
}

impl Visitor for Collector<'_, '_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.skipping.is_empty() {
            let cols = self.walker.query(q, Some(self.scope), self.ctes);
            for c in cols {
                self.out.extend(c.sources);
            }
        }
        self.skipping.push(std::ptr::from_ref(q).cast());
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.skipping.last().is_some_and(|p| std::ptr::eq(*p, std::ptr::from_ref(q).cast())) {
            self.skipping.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if self.tables_as_sources && self.skipping.is_empty() {
            let t = self.walker.catalog.qualify(&object_name(relation));
            self.out.insert(format!("{t}.*"));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if !self.skipping.is_empty() {
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Identifier(i) => {
                let found = resolve(self.scope, std::slice::from_ref(i));
                self.out.extend(found);
            }
            Expr::CompoundIdentifier(parts) => {
                let found = resolve(self.scope, parts);
                self.out.extend(found);
            }
            Expr::QualifiedWildcard(name, _) => {
                let found = find_rel(self.scope, name).map(rel_all_sources);
                self.out.extend(found.unwrap_or_else(|| all_sources(self.scope)));
            }
            Expr::Wildcard(_) => {}
            Expr::Function(f) => {
                let name = function_name(&f.name);
                let base = name.rsplit('.').next().unwrap_or(&name);
                if self.carry && NON_CARRYING.contains(&base) {
                    self.skipping.push(std::ptr::from_ref(e).cast());
                    return ControlFlow::Continue(());
                }
                if self.carry && (f.over.is_some() || f.filter.is_some()) {
                    // Window specs and FILTER order or select rows; only the arguments (and
                    // `WITHIN GROUP`, whose column `percentile_disc` returns) carry values.
                    let _ = f.args.visit(self);
                    let _ = f.within_group.visit(self);
                    self.skipping.push(std::ptr::from_ref(e).cast());
                }
                if let FunctionArguments::List(list) = &f.args {
                    for arg in &list.args {
                        let a = match arg {
                            FunctionArg::Unnamed(a)
                            | FunctionArg::Named { arg: a, .. }
                            | FunctionArg::ExprNamed { arg: a, .. } => a,
                        };
                        match a {
                            FunctionArgExpr::QualifiedWildcard(n) => {
                                let found = find_rel(self.scope, n).map(rel_all_sources);
                                self.out.extend(found.unwrap_or_else(|| all_sources(self.scope)));
                            }
                            FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => {
                                let found = all_sources(self.scope);
                                self.out.extend(found);
                            }
                            FunctionArgExpr::Expr(_) => {}
                        }
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.skipping.last().is_some_and(|p| std::ptr::eq(*p, std::ptr::from_ref(e).cast())) {
            self.skipping.pop();
        }
        ControlFlow::Continue(())
    }
}
