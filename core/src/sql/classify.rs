//! The classifier: from SQL text to a [`SqlView`].
//!
//! # How a text is classified
//! 1. The text is tokenized with sqlparser's tokenizer for the resource's dialect. MySQL
//!    executable comments are replaced by their content (see below).
//! 2. The whole token stream is parsed. When that fails, it is split at every top-level `;`
//!    token and each statement is parsed alone; each statement that still fails gets a kind
//!    from its first keywords ([`lexer::fallback`]), the [`Flag::Unparsed`] flag, and is never
//!    read-only. The view's `error` is the first parse error.
//! 3. Each parsed statement is walked with sqlparser's [`Visitor`] plus explicit matches on
//!    [`Statement`] variants ([`Analyzer`]), collecting tables, functions, flags and the kinds
//!    of statements nested inside it.
//!
//! # Tables
//! Names are lowercased when unquoted and kept as written when quoted, joined with `.`.
//! CTE names are scoped: inside a non-recursive `WITH`, a CTE body sees only the CTEs declared
//! before it (so `WITH t AS (SELECT * FROM t)` reads the real table `t`); a recursive `WITH`
//! sees all of its names. Table functions (`FROM generate_series(...)`, `unnest`, ...) are
//! functions, not tables. The targets of `INSERT`, `UPDATE`, `DELETE`, `MERGE` and of DDL are
//! writes, not reads; every other table is a read. sqlparser 0.63 parses `FROM ONLY t` as a
//! table named `only` with alias `t`: an unquoted table named `only` with an alias is read as
//! the alias' table.
//!
//! # Decisions
//! - **Empty text** (nothing but whitespace and comments): zero statements and
//!   `read_only: false`. Nothing runs, but writ only calls a text read-only when it saw at least
//!   one statement and all of them are read-only, so an empty text never satisfies a rule that
//!   asks for read-only SQL.
//! - **`SET`, `RESET`, `USE`, `DISCARD`** change session state: kind `set`, never read-only.
//!   `SET ROLE`, `SET SESSION AUTHORIZATION`, `RESET ROLE`, `RESET SESSION AUTHORIZATION`,
//!   `RESET ALL`, `SET role = ...` and MSSQL `EXECUTE AS` also get
//!   [`Flag::ChangesIdentity`].
//! - **`SET TRANSACTION ...`** (isolation level, `READ ONLY`, `READ WRITE` for the current
//!   transaction) is kind `transaction` and read-only: it changes no data and lasts only for
//!   the transaction. `SET SESSION CHARACTERISTICS AS TRANSACTION ...` is kind `set`, not
//!   read-only.
//! - **Transaction control** (`BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`,
//!   `RELEASE`) is read-only; a `BEGIN ... END` block that holds statements is as read-only
//!   as they are, and their kinds are nested kinds.
//! - **`COPY t TO STDOUT`** only reads `t`: read-only. `COPY ... TO 'file'` writes a server
//!   file ([`Flag::ServerFile`]) and `COPY ... PROGRAM` runs a command
//!   ([`Flag::CopyProgram`]): neither is read-only. `COPY t FROM ...` writes `t`.
//! - **Plain `EXPLAIN`** (no `ANALYZE`) runs nothing: the explained statement's tables are all
//!   reads, it adds no nested kinds and no flags, and the `EXPLAIN` is read-only — except that
//!   a side-effect function anywhere still sets [`Flag::SideEffectFunction`] and makes it not
//!   read-only (conservative). `EXPLAIN ANALYZE` (also `EXPLAIN (ANALYZE)`, unless the option
//!   is explicitly false) runs the statement: its writes, flags and kind (as a nested kind)
//!   count.
//! - **`PREPARE`** creates session state: never read-only; the prepared statement is
//!   classified too, its writes and flags count and its kind is a nested kind.
//! - **`EXECUTE`, `CALL`, `DO`, MSSQL `EXEC`**: [`Flag::DynamicSql`], never read-only. For
//!   MSSQL the executed procedure name is listed under `functions`.
//! - **SQLite `PRAGMA`** is read-only only for a documented pure query: a pragma of
//!   [`QUERY_PRAGMAS`] (with or without an argument), or a pragma of [`GETTER_PRAGMAS`]
//!   without a value; any `=` makes it not read-only.
//! - **Executable comments** `/*! ... */`, `/*!NNNNN ... */`, `/*M! ... */` are replaced by
//!   their content in every dialect (MySQL runs them; other dialects would not, but treating
//!   them the same way is conservative) and every statement of the text gets
//!   [`Flag::ExecutableComment`]. The flag alone does not make a statement read-only or not.
//! - **Routine bodies** that sqlparser parses (MSSQL `CREATE PROCEDURE ... AS BEGIN ... END`,
//!   triggers) are walked like any other statement: their tables and nested kinds are
//!   reported although they only run later. Conservative, and `CREATE` is never read-only.
//! - **Statement kinds without a better word** (`LISTEN`, `NOTIFY`, `DECLARE`, `FETCH`,
//!   `KILL`, control flow, ...) are kind `other` and never read-only.
//! - **MSSQL `DENY`** is kind `revoke`. `ANALYZE`, `OPTIMIZE`, `MSCK` are kind `vacuum`.
//! - **`TABLE t`**: sqlparser drops the quotes of `t`, so its name is always lowercased.
//! - **Operator chains**: a statement whose operator chains add up to more than
//!   [`SqlLimits::max_operator_chain`] (at most [`lexer::MAX_CHAIN_OPERATORS`]) is not parsed
//!   (its tree would be too deep to walk safely); it falls back to its keywords with an error
//!   and the bound named in [`SqlView::limit`].
//! - **Limits** ([`SqlLimits`]): a text longer than `max_text_bytes` is not tokenized, one with
//!   more than `max_statements` statements is not parsed, a statement nesting deeper than
//!   `max_nesting_depth` stops the parser (sqlparser's recursion limit), and one with longer
//!   operator chains than `max_operator_chain` is not parsed. Each gives an unknown, unparsed
//!   view with the bound named in [`SqlView::limit`].

use super::functions::{is_pg_builtin, is_side_effect};
use super::lexer;
use super::{Dialect, Flag, SqlView, StatementKind, StatementView};
use crate::limits::SqlLimits;
use sqlparser::ast::{
    CopySource, CopyTarget, Expr, FromTable, GrantObjects, Ident, ObjectName, ObjectNamePart,
    Query, Reset, Select, Set, SetExpr, Statement, TableFactor, TableObject, Visit, Visitor,
};
use sqlparser::dialect::{
    BigQueryDialect, Dialect as SqlDialect, GenericDialect, MsSqlDialect, MySqlDialect,
    PostgreSqlDialect, SQLiteDialect, SnowflakeDialect,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// SQLite pragmas that only report something, with or without an argument (the argument names
/// a table, an index or a schema).
pub(crate) const QUERY_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "compile_options",
    "integrity_check",
    "quick_check",
    "data_version",
    "freelist_count",
    "page_count",
];

/// SQLite pragmas that report a setting when given no value and change it when given one.
pub(crate) const GETTER_PRAGMAS: &[&str] = &[
    "application_id",
    "auto_vacuum",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "case_sensitive_like",
    "cell_size_check",
    "checkpoint_fullfsync",
    "defer_foreign_keys",
    "encoding",
    "foreign_keys",
    "fullfsync",
    "ignore_check_constraints",
    "journal_mode",
    "journal_size_limit",
    "legacy_alter_table",
    "locking_mode",
    "max_page_count",
    "mmap_size",
    "page_size",
    "query_only",
    "read_uncommitted",
    "recursive_triggers",
    "reverse_unordered_selects",
    "schema_version",
    "secure_delete",
    "soft_heap_limit",
    "synchronous",
    "temp_store",
    "threads",
    "trusted_schema",
    "user_version",
    "wal_autocheckpoint",
];

/// Classifies `sql` as the given dialect would run it, within the default [`SqlLimits`].
/// Never fails and never panics: what could not be understood is reported in the view (see
/// the module docs).
pub fn classify(sql: &str, dialect: Dialect) -> SqlView {
    classify_with(sql, dialect, &SqlLimits::default())
}

/// Classifies `sql` within `limits`. A text over one of them is one unknown statement, never
/// read-only, whose view names the bound in `limit` (the engine denies it outright).
pub fn classify_with(sql: &str, dialect: Dialect, limits: &SqlLimits) -> SqlView {
    if sql.len() > limits.max_text_bytes {
        let error = format!(
            "the SQL text is {} bytes, over the limit of {}",
            sql.len(),
            limits.max_text_bytes
        );
        return over_limit("sql.max_text_bytes", error);
    }
    let parser_dialect = parser_dialect(dialect);
    let d: &dyn SqlDialect = parser_dialect.as_ref();
    let lex = |sql: &str| {
        lexer::tokenize(sql, d).and_then(|tokens| lexer::expand_executable_comments(sql, tokens, d))
    };
    let (tokens, executable) = match lex(sql) {
        Ok(t) => t,
        Err(e) => return unreadable(e),
    };
    let chain = limits.max_operator_chain;
    // What the pieces tell before parsing, so the tokens can move into the parser uncopied.
    // sqlparser reads `SELECT INTO t FROM u` (no select list) as a column named `into` with
    // the alias `t`: a piece holding an unquoted INTO keyword is noted here (see below).
    let (count, too_deep, into) = {
        let pieces = lexer::split(&tokens);
        let into: Vec<bool> = pieces.iter().map(|p| has_into(p)).collect();
        (pieces.len(), pieces.iter().any(|p| lexer::chain_depth(p) > chain), into)
    };
    if count > limits.max_statements {
        let error = format!(
            "the SQL text holds {count} statements, over the limit of {}",
            limits.max_statements
        );
        return over_limit("sql.max_statements", error);
    }
    let depth = limits.max_nesting_depth;
    let mut statements: Vec<StatementView> = Vec::new();
    let mut error: Option<String> = None;
    let mut limit: Option<String> = None;
    // The whole text in one parse when it can be (the common case); otherwise, piece by piece
    // from the tokens again (the parser consumed the first set), so one bad statement does not
    // hide what the others do.
    let whole = if count == 0 || too_deep {
        Err(tokens)
    } else {
        match parse(d, tokens, depth) {
            Ok(parsed) if !parsed.is_empty() => Ok(parsed),
            _ => match lex(sql) {
                Ok((tokens, _)) => Err(tokens),
                Err(e) => return unreadable(e),
            },
        }
    };
    match whole {
        Ok(parsed) => statements.extend(parsed.iter().map(|s| analyze(s, dialect))),
        Err(tokens) => {
            for piece in lexer::split(&tokens) {
                if lexer::chain_depth(piece) > chain {
                    if limit.is_none() {
                        limit = Some("sql.max_operator_chain".to_owned());
                        error = Some(format!(
                            "a statement chains more than {chain} operators (the limit): not \
                             parsed"
                        ));
                    }
                    statements.push(fallback_view(piece));
                    continue;
                }
                match parse(d, piece.to_vec(), depth) {
                    Ok(parsed) if !parsed.is_empty() => {
                        statements.extend(parsed.iter().map(|s| analyze(s, dialect)));
                    }
                    Ok(_) => {
                        error.get_or_insert_with(|| "statement could not be parsed".to_owned());
                        statements.push(fallback_view(piece));
                    }
                    Err(ParserError::RecursionLimitExceeded) => {
                        if limit.is_none() {
                            limit = Some("sql.max_nesting_depth".to_owned());
                            error =
                                Some(format!("a statement nests deeper than the limit of {depth}"));
                        }
                        statements.push(fallback_view(piece));
                    }
                    Err(e) => {
                        error.get_or_insert_with(|| lexer::one_line(&e.to_string()));
                        statements.push(fallback_view(piece));
                    }
                }
            }
        }
    }
    // A statement that still looks read-only but holds an unquoted INTO keyword is taken to
    // create a table. When the statements do not line up with the pieces, any INTO marks all.
    let into: Vec<bool> = if into.len() == statements.len() {
        into
    } else {
        vec![into.iter().any(|&i| i); statements.len()]
    };
    for (s, into) in statements.iter_mut().zip(into) {
        if into && s.read_only {
            s.read_only = false;
            s.flags.push(Flag::SelectInto);
        }
    }
    let multi = statements.len() > 1;
    for s in &mut statements {
        if multi {
            s.flags.push(Flag::MultiStatement);
        }
        if executable {
            s.flags.push(Flag::ExecutableComment);
        }
        s.flags.sort();
        s.flags.dedup();
    }
    let read_only =
        error.is_none() && !statements.is_empty() && statements.iter().all(|s| s.read_only);
    SqlView { read_only, statements, error, limit }
}

/// The sqlparser dialect for a writ dialect.
pub(crate) fn parser_dialect(dialect: Dialect) -> Box<dyn SqlDialect> {
    match dialect {
        Dialect::Postgres => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
        Dialect::Sqlite => Box::new(SQLiteDialect {}),
        Dialect::Mssql => Box::new(MsSqlDialect {}),
        Dialect::Snowflake => Box::new(SnowflakeDialect {}),
        Dialect::Bigquery => Box::new(BigQueryDialect {}),
        Dialect::Generic => Box::new(GenericDialect {}),
    }
}

/// Parses `sql` as [`classify`] does (executable comments expanded, operator chains bounded)
/// and returns the statements only when the whole text parsed. Used by column lineage.
pub(crate) fn parse_statements(
    sql: &str,
    dialect: Dialect,
    limits: &SqlLimits,
) -> Option<Vec<Statement>> {
    if sql.len() > limits.max_text_bytes {
        return None;
    }
    let parser_dialect = parser_dialect(dialect);
    let d: &dyn SqlDialect = parser_dialect.as_ref();
    let (tokens, _) = lexer::tokenize(sql, d)
        .and_then(|tokens| lexer::expand_executable_comments(sql, tokens, d))
        .ok()?;
    if lexer::split(&tokens).iter().any(|p| lexer::chain_depth(p) > limits.max_operator_chain) {
        return None;
    }
    parse(d, tokens, limits.max_nesting_depth).ok()
}

/// Parses tokens with a recursion limit of `depth`.
fn parse(
    d: &dyn SqlDialect,
    tokens: Vec<TokenWithSpan>,
    depth: usize,
) -> Result<Vec<Statement>, ParserError> {
    Parser::new(d).with_recursion_limit(depth).with_tokens_with_locations(tokens).parse_statements()
}

/// Whether a statement's tokens hold an unquoted INTO keyword.
fn has_into(piece: &[TokenWithSpan]) -> bool {
    piece.iter().any(|t| {
        matches!(&t.token, Token::Word(w) if w.keyword == Keyword::INTO && w.quote_style.is_none())
    })
}

/// The view of a text over one of the [`SqlLimits`]: one unknown statement, never read-only.
fn over_limit(limit: &str, error: String) -> SqlView {
    let mut view = unreadable(error);
    view.limit = Some(limit.to_owned());
    view
}

/// The view of a text the tokenizer rejected: one unknown statement.
fn unreadable(error: String) -> SqlView {
    SqlView {
        read_only: false,
        statements: vec![StatementView {
            kind: StatementKind::Unknown,
            read_only: false,
            reads: Vec::new(),
            writes: Vec::new(),
            functions: Vec::new(),
            flags: vec![Flag::Unparsed],
            nested_kinds: Vec::new(),
        }],
        error: Some(error),
        limit: None,
    }
}

/// The view of a statement sqlparser rejected.
fn fallback_view(piece: &[TokenWithSpan]) -> StatementView {
    let fb = lexer::fallback(piece);
    StatementView {
        kind: fb.kind,
        read_only: false,
        reads: Vec::new(),
        writes: Vec::new(),
        functions: fb.functions,
        flags: fb.flags,
        nested_kinds: Vec::new(),
    }
}

/// Classifies one parsed statement.
fn analyze(statement: &Statement, dialect: Dialect) -> StatementView {
    let mut a = Analyzer::new(dialect);
    let _ = statement.visit(&mut a);
    a.finish()
}

/// An identifier as writ names it: lowercase when unquoted, as written when quoted.
pub(crate) fn ident(i: &Ident) -> String {
    if i.quote_style.is_none() { i.value.to_lowercase() } else { i.value.clone() }
}

/// A possibly qualified name, each part as [`ident`] names it, joined with `.`.
pub(crate) fn object_name(n: &ObjectName) -> String {
    n.0.iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => ident(i),
            other => other.to_string().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A function name: lowercase, qualified as written.
pub(crate) fn function_name(n: &ObjectName) -> String {
    n.0.iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => i.value.to_lowercase(),
            other => other.to_string().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The last part of a name, lowercase.
fn last_part(n: &ObjectName) -> String {
    match n.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.to_lowercase(),
        Some(other) => other.to_string().to_lowercase(),
        None => String::new(),
    }
}

/// The table a `TableFactor::Table` names, and whether the name has a single part. Works
/// around sqlparser 0.63 reading `ONLY t` as the table `only` aliased `t`.
pub(crate) fn table_name(
    name: &ObjectName,
    alias: Option<&sqlparser::ast::TableAlias>,
) -> (String, bool) {
    if let ([ObjectNamePart::Identifier(i)], Some(a)) = (name.0.as_slice(), alias)
        && i.quote_style.is_none()
        && i.value.eq_ignore_ascii_case("only")
    {
        return (ident(&a.name), true);
    }
    (object_name(name), name.0.len() == 1)
}

/// True for an option argument that turns the option off (`false`, `off`, `0`).
fn is_false(e: &Expr) -> bool {
    let s = e.to_string().to_lowercase();
    matches!(s.trim_matches('\''), "false" | "off" | "0" | "no")
}

/// Names in a `GRANT` / `REVOKE` / `DENY` object list.
fn grant_object_names(objects: &GrantObjects) -> Vec<&ObjectName> {
    match objects {
        GrantObjects::AllSequencesInSchema { schemas }
        | GrantObjects::AllTablesInSchema { schemas }
        | GrantObjects::AllViewsInSchema { schemas }
        | GrantObjects::AllMaterializedViewsInSchema { schemas }
        | GrantObjects::AllExternalTablesInSchema { schemas }
        | GrantObjects::AllFunctionsInSchema { schemas }
        | GrantObjects::FutureTablesInSchema { schemas }
        | GrantObjects::FutureViewsInSchema { schemas }
        | GrantObjects::FutureExternalTablesInSchema { schemas }
        | GrantObjects::FutureMaterializedViewsInSchema { schemas }
        | GrantObjects::FutureSequencesInSchema { schemas } => schemas.iter().collect(),
        GrantObjects::FutureSchemasInDatabase { databases } => databases.iter().collect(),
        GrantObjects::Databases(v)
        | GrantObjects::Schemas(v)
        | GrantObjects::Sequences(v)
        | GrantObjects::Tables(v)
        | GrantObjects::Views(v)
        | GrantObjects::Warehouses(v)
        | GrantObjects::Integrations(v)
        | GrantObjects::ResourceMonitors(v)
        | GrantObjects::Users(v)
        | GrantObjects::ComputePools(v)
        | GrantObjects::Connections(v)
        | GrantObjects::FailoverGroup(v)
        | GrantObjects::ReplicationGroup(v)
        | GrantObjects::ExternalVolumes(v) => v.iter().collect(),
        GrantObjects::Procedure { name, .. } | GrantObjects::Function { name, .. } => vec![name],
    }
}

/// Flags that by themselves make a statement not read-only.
fn flag_writes(flag: Flag) -> bool {
    !matches!(
        flag,
        Flag::NoWhere | Flag::MultiStatement | Flag::ExplainAnalyze | Flag::ExecutableComment
    )
}

/// CTE names declared by one query, and which of them are in scope.
struct Frame {
    /// The query that declares them.
    query: *const Query,
    /// Normalized CTE names, in declaration order.
    names: Vec<String>,
    /// The CTE bodies, in the same order.
    bodies: Vec<*const Query>,
    /// `WITH RECURSIVE`: every name is in scope everywhere.
    recursive: bool,
    /// How many of `names` (from the first) are in scope right now.
    visible: usize,
}

/// What the walk knows about the statement it is inside.
struct StatementContext {
    /// The statement's kind.
    kind: StatementKind,
    /// How many table factors of this statement the walk is inside.
    table_factors: usize,
    /// This statement is an `EXPLAIN` without `ANALYZE`.
    plain_explain: bool,
}

/// Walks one statement and collects its view.
struct Analyzer {
    dialect: Dialect,
    kind: Option<StatementKind>,
    reads: BTreeSet<String>,
    writes: BTreeSet<String>,
    functions: BTreeSet<String>,
    flags: BTreeSet<Flag>,
    nested: BTreeSet<StatementKind>,
    not_read_only: bool,
    frames: Vec<Frame>,
    statements: Vec<StatementContext>,
    /// Statements that are the outermost statement itself (the DML body of a top-level
    /// `WITH ... INSERT`), not nested ones.
    main: Vec<*const Statement>,
    /// Table factors that are write targets (`UPDATE t`, `DELETE FROM t`, `MERGE INTO t`).
    targets: Vec<*const TableFactor>,
    /// How many plain `EXPLAIN`s the walk is inside.
    plain_explain: usize,
    /// How many CTE bodies the walk is inside.
    cte_bodies: usize,
}

impl Analyzer {
    fn new(dialect: Dialect) -> Self {
        Analyzer {
            dialect,
            kind: None,
            reads: BTreeSet::new(),
            writes: BTreeSet::new(),
            functions: BTreeSet::new(),
            flags: BTreeSet::new(),
            nested: BTreeSet::new(),
            not_read_only: false,
            frames: Vec::new(),
            statements: Vec::new(),
            main: Vec::new(),
            targets: Vec::new(),
            plain_explain: 0,
            cte_bodies: 0,
        }
    }

    fn finish(self) -> StatementView {
        let read_only = !self.not_read_only
            && self.writes.is_empty()
            && !self.flags.iter().any(|f| flag_writes(*f));
        StatementView {
            kind: self.kind.unwrap_or(StatementKind::Unknown),
            read_only,
            reads: self.reads.into_iter().collect(),
            writes: self.writes.into_iter().collect(),
            functions: self.functions.into_iter().collect(),
            flags: self.flags.into_iter().collect(),
            nested_kinds: self.nested.into_iter().collect(),
        }
    }

    fn read(&mut self, name: String) {
        self.reads.insert(name);
    }

    /// A write; inside a plain `EXPLAIN` nothing is written, so it is a read.
    fn write(&mut self, name: String) {
        if self.plain_explain > 0 {
            self.reads.insert(name);
        } else {
            self.writes.insert(name);
        }
    }

    fn write_name(&mut self, name: &ObjectName) {
        self.write(object_name(name));
    }

    /// A flag; inside a plain `EXPLAIN` only function calls count (the planner may evaluate
    /// them).
    fn flag(&mut self, flag: Flag) {
        if self.plain_explain == 0 || matches!(flag, Flag::SideEffectFunction | Flag::UserFunction)
        {
            self.flags.insert(flag);
        }
    }

    fn not_read_only(&mut self) {
        if self.plain_explain == 0 {
            self.not_read_only = true;
        }
    }

    fn function(&mut self, name: &ObjectName) {
        // Built-ins are looked up with quoted parts as written: `"Lower"()` is not `lower()`.
        self.function_exact(function_name(name), &object_name(name));
    }

    fn function_str(&mut self, name: String) {
        let exact = name.clone();
        self.function_exact(name, &exact);
    }

    /// A call of `name` (lowercase, for policies), `exact` being the name PostgreSQL resolves.
    fn function_exact(&mut self, name: String, exact: &str) {
        if is_side_effect(&name) {
            self.flag(Flag::SideEffectFunction);
        } else if self.dialect == Dialect::Postgres && !is_pg_builtin(exact) {
            self.flag(Flag::UserFunction);
        }
        self.functions.insert(name);
    }

    fn is_cte(&self, name: &str) -> bool {
        self.frames.iter().rev().any(|f| f.names.iter().take(f.visible).any(|n| n == name))
    }

    /// Tables named by `TABLE t` in a query body.
    fn set_expr_tables(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Table(t) => {
                if let Some(table) = &t.table_name {
                    let table = table.to_lowercase();
                    match &t.schema_name {
                        Some(schema) => self.read(format!("{}.{table}", schema.to_lowercase())),
                        None if self.is_cte(&table) => {}
                        None => self.read(table),
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr_tables(left);
                self.set_expr_tables(right);
            }
            _ => {}
        }
    }

    /// Kind, base read-only-ness (before tables and flags) and whether it is a plain
    /// `EXPLAIN`, for one statement; records its explicit targets and flags.
    fn statement(&mut self, s: &Statement, outermost: bool) -> (StatementKind, bool, bool) {
        use StatementKind as K;
        match s {
            Statement::Query(q) => {
                let (kind, inner) = match q.body.as_ref() {
                    SetExpr::Insert(st) => (K::Insert, Some(st)),
                    SetExpr::Update(st) => (K::Update, Some(st)),
                    SetExpr::Delete(st) => (K::Delete, Some(st)),
                    SetExpr::Merge(st) => (K::Merge, Some(st)),
                    _ => (K::Select, None),
                };
                if let (true, Some(st)) = (outermost, inner) {
                    self.main.push(st as *const Statement);
                }
                (kind, inner.is_none(), false)
            }
            Statement::Insert(ins) => {
                match &ins.table {
                    TableObject::TableName(n) => self.write_name(n),
                    TableObject::TableFunction(f) => self.function(&f.name),
                    TableObject::TableQuery(_) => {}
                }
                for clause in &ins.multi_table_into_clauses {
                    self.write_name(&clause.table_name);
                }
                for when in &ins.multi_table_when_clauses {
                    for clause in &when.into_clauses {
                        self.write_name(&clause.table_name);
                    }
                }
                for clause in ins.multi_table_else_clause.iter().flatten() {
                    self.write_name(&clause.table_name);
                }
                (K::Insert, false, false)
            }
            Statement::Update(u) => {
                self.targets.push(&u.table.relation as *const TableFactor);
                for join in &u.table.joins {
                    self.targets.push(&join.relation as *const TableFactor);
                }
                if u.selection.is_none() {
                    self.flag(Flag::NoWhere);
                }
                (K::Update, false, false)
            }
            Statement::Delete(d) => {
                let from = match &d.from {
                    FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
                };
                if d.tables.is_empty() {
                    for twj in from {
                        self.targets.push(&twj.relation as *const TableFactor);
                    }
                } else {
                    // MySQL multi-table DELETE: the listed names (or aliases) are the targets.
                    let mut aliases: Vec<(String, String)> = Vec::new();
                    for twj in from.iter().chain(d.using.iter().flatten()) {
                        let factors = std::iter::once(&twj.relation)
                            .chain(twj.joins.iter().map(|j| &j.relation));
                        for tf in factors {
                            if let TableFactor::Table { name, alias: Some(alias), .. } = tf {
                                aliases.push((ident(&alias.name), table_name(name, Some(alias)).0));
                            }
                        }
                    }
                    for t in &d.tables {
                        let n = object_name(t);
                        let real = aliases
                            .iter()
                            .find(|(a, _)| *a == n)
                            .map(|(_, real)| real.clone())
                            .unwrap_or(n);
                        self.write(real);
                    }
                }
                if d.selection.is_none() {
                    self.flag(Flag::NoWhere);
                }
                (K::Delete, false, false)
            }
            Statement::Merge(m) => {
                self.targets.push(&m.table as *const TableFactor);
                (K::Merge, false, false)
            }
            Statement::Directory { .. } => {
                self.flag(Flag::ServerFile);
                (K::Insert, false, false)
            }
            Statement::Copy { source, to, target, .. } => {
                match target {
                    CopyTarget::Program { .. } => self.flag(Flag::CopyProgram),
                    CopyTarget::File { .. } => self.flag(Flag::ServerFile),
                    CopyTarget::Stdin | CopyTarget::Stdout => {}
                }
                if let CopySource::Table { table_name, .. } = source {
                    if *to {
                        self.read(object_name(table_name));
                    } else {
                        self.write_name(table_name);
                    }
                }
                (K::Copy, *to && matches!(target, CopyTarget::Stdout), false)
            }
            Statement::CopyIntoSnowflake { into, from_obj, .. } => {
                self.write_name(into);
                if let Some(f) = from_obj {
                    self.read(object_name(f));
                }
                (K::Copy, false, false)
            }
            Statement::LoadData { table_name, .. } => {
                self.write_name(table_name);
                (K::Copy, false, false)
            }
            Statement::Unload { .. } | Statement::ExportData(_) | Statement::Put { .. } => {
                (K::Copy, false, false)
            }
            Statement::Call(f) => {
                self.function(&f.name);
                self.flag(Flag::DynamicSql);
                (K::Call, false, false)
            }
            Statement::Execute { name, .. } => {
                self.flag(Flag::DynamicSql);
                if let Some(n) = name {
                    let as_user = matches!(n.0.as_slice(),
                        [ObjectNamePart::Identifier(i)]
                            if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("as"));
                    if as_user {
                        self.flag(Flag::ChangesIdentity);
                    } else if self.dialect == Dialect::Mssql {
                        self.function(n);
                    }
                }
                (K::Execute, false, false)
            }
            Statement::Prepare { .. } => (K::Prepare, false, false),
            Statement::Explain { analyze, options, .. } => {
                let analyze = *analyze
                    || options.iter().flatten().any(|o| {
                        (o.name.value.eq_ignore_ascii_case("analyze")
                            || o.name.value.eq_ignore_ascii_case("analyse"))
                            && !o.arg.as_ref().is_some_and(is_false)
                    });
                if analyze {
                    self.flag(Flag::ExplainAnalyze);
                }
                (K::Explain, true, !analyze)
            }
            Statement::ExplainTable { table_name, .. } => {
                self.read(object_name(table_name));
                (K::Show, true, false)
            }
            Statement::ShowCreate { obj_name, .. } => {
                self.read(object_name(obj_name));
                (K::Show, true, false)
            }
            Statement::ShowFunctions { .. }
            | Statement::ShowVariable { .. }
            | Statement::ShowStatus { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowCatalogs { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowProcessList { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowCharset(_)
            | Statement::ShowObjects(_)
            | Statement::ShowTables { .. }
            | Statement::ShowViews { .. }
            | Statement::ShowCollation { .. }
            | Statement::List(_) => (K::Show, true, false),
            Statement::Set(set) => self.set(set),
            Statement::Reset(r) => {
                let identity = match &r.reset {
                    Reset::ALL | Reset::SessionAuthorization => true,
                    Reset::ConfigurationParameter(n) => {
                        matches!(last_part(n).as_str(), "role" | "session_authorization")
                    }
                };
                if identity {
                    self.flag(Flag::ChangesIdentity);
                }
                (K::Set, false, false)
            }
            Statement::Use(_) | Statement::Discard { .. } => (K::Set, false, false),
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. } => (K::Transaction, true, false),
            Statement::Lock(_) => (K::Lock, false, false),
            Statement::LockTables { tables } => {
                for t in tables {
                    self.write(ident(&t.table));
                }
                (K::Lock, false, false)
            }
            Statement::UnlockTables => (K::Lock, false, false),
            Statement::Vacuum(v) => {
                if let Some(n) = &v.table_name {
                    self.write_name(n);
                }
                (K::Vacuum, false, false)
            }
            Statement::Analyze(a) => {
                if let Some(n) = &a.table_name {
                    self.write_name(n);
                }
                (K::Vacuum, false, false)
            }
            Statement::OptimizeTable { name, .. } => {
                self.write_name(name);
                (K::Vacuum, false, false)
            }
            Statement::Msck(m) => {
                self.write_name(&m.table_name);
                (K::Vacuum, false, false)
            }
            Statement::Truncate(t) => {
                for target in &t.table_names {
                    self.write_name(&target.name);
                }
                (K::Truncate, false, false)
            }
            Statement::Drop { names, table, .. } => {
                for n in names.iter().chain(table.iter()) {
                    self.write_name(n);
                }
                (K::Drop, false, false)
            }
            Statement::DropFunction(df) => {
                for f in &df.func_desc {
                    self.write_name(&f.name);
                }
                (K::Drop, false, false)
            }
            Statement::DropProcedure { proc_desc, .. } => {
                for f in proc_desc {
                    self.write_name(&f.name);
                }
                (K::Drop, false, false)
            }
            Statement::DropTrigger(dt) => {
                self.write_name(&dt.trigger_name);
                if let Some(t) = &dt.table_name {
                    self.write_name(t);
                }
                (K::Drop, false, false)
            }
            Statement::DropDomain(dd) => {
                self.write_name(&dd.name);
                (K::Drop, false, false)
            }
            Statement::DropExtension(de) => {
                for n in &de.names {
                    self.write(ident(n));
                }
                (K::Drop, false, false)
            }
            Statement::DropPolicy(_)
            | Statement::DropSecret { .. }
            | Statement::DropConnector { .. }
            | Statement::DropOperator(_)
            | Statement::DropOperatorFamily(_)
            | Statement::DropOperatorClass(_) => (K::Drop, false, false),
            Statement::CreateTable(ct) => {
                self.write_name(&ct.name);
                if let Some(c) = &ct.clone {
                    self.read(object_name(c));
                }
                (K::Create, false, false)
            }
            Statement::CreateView(cv) => {
                self.write_name(&cv.name);
                if let Some(to) = &cv.to {
                    self.write_name(to);
                }
                (K::Create, false, false)
            }
            Statement::CreateIndex(ci) => {
                self.write_name(&ci.table_name);
                if let Some(n) = &ci.name {
                    self.write_name(n);
                }
                (K::Create, false, false)
            }
            Statement::CreateVirtualTable { name, .. }
            | Statement::CreateSequence { name, .. }
            | Statement::CreateType { name, .. }
            | Statement::CreateProcedure { name, .. }
            | Statement::CreateMacro { name, .. }
            | Statement::CreateStage { name, .. }
            | Statement::CreateFileFormat { name, .. } => {
                self.write_name(name);
                (K::Create, false, false)
            }
            Statement::CreateFunction(cf) => {
                self.write_name(&cf.name);
                (K::Create, false, false)
            }
            Statement::CreateTrigger(ct) => {
                self.write_name(&ct.name);
                self.write_name(&ct.table_name);
                (K::Create, false, false)
            }
            Statement::CreateRole(cr) => {
                for n in &cr.names {
                    self.write_name(n);
                }
                (K::Create, false, false)
            }
            Statement::CreateSchema { schema_name, .. } => {
                match schema_name {
                    sqlparser::ast::SchemaName::Simple(n)
                    | sqlparser::ast::SchemaName::NamedAuthorization(n, _) => self.write_name(n),
                    sqlparser::ast::SchemaName::UnnamedAuthorization(i) => self.write(ident(i)),
                }
                (K::Create, false, false)
            }
            Statement::CreateDatabase { db_name, .. } => {
                self.write_name(db_name);
                (K::Create, false, false)
            }
            Statement::CreateDomain(cd) => {
                self.write_name(&cd.name);
                (K::Create, false, false)
            }
            Statement::CreateExtension(ce) => {
                self.write(ident(&ce.name));
                (K::Create, false, false)
            }
            Statement::CreateServer(cs) => {
                self.write_name(&cs.name);
                (K::Create, false, false)
            }
            Statement::CreateUser(cu) => {
                self.write(ident(&cu.name));
                (K::Create, false, false)
            }
            Statement::CreateSecret { .. }
            | Statement::CreatePolicy(_)
            | Statement::CreateConnector(_)
            | Statement::CreateOperator(_)
            | Statement::CreateOperatorFamily(_)
            | Statement::CreateOperatorClass(_)
            | Statement::CreateTextSearch(_)
            | Statement::CreateCollation(_)
            | Statement::CreateWarehouse(_) => (K::Create, false, false),
            Statement::AlterTable(at) => {
                self.write_name(&at.name);
                (K::Alter, false, false)
            }
            Statement::AlterIndex { name, .. } | Statement::AlterView { name, .. } => {
                self.write_name(name);
                (K::Alter, false, false)
            }
            Statement::AlterSchema(a) => {
                self.write_name(&a.name);
                (K::Alter, false, false)
            }
            Statement::AlterType(a) => {
                self.write_name(&a.name);
                (K::Alter, false, false)
            }
            Statement::AlterRole { name, .. } => {
                self.write(ident(name));
                (K::Alter, false, false)
            }
            Statement::AlterUser(a) => {
                self.write(ident(&a.name));
                (K::Alter, false, false)
            }
            Statement::RenameTable(renames) => {
                for r in renames {
                    self.write_name(&r.old_name);
                    self.write_name(&r.new_name);
                }
                (K::Alter, false, false)
            }
            Statement::AlterFunction(_)
            | Statement::AlterCollation(_)
            | Statement::AlterOperator(_)
            | Statement::AlterOperatorFamily(_)
            | Statement::AlterOperatorClass(_)
            | Statement::AlterTextSearch(_)
            | Statement::AlterPolicy(_)
            | Statement::AlterConnector { .. }
            | Statement::AlterSession { .. } => (K::Alter, false, false),
            Statement::Grant(g) => {
                for n in g.objects.iter().flat_map(grant_object_names) {
                    self.write_name(n);
                }
                (K::Grant, false, false)
            }
            Statement::Revoke(r) => {
                for n in r.objects.iter().flat_map(grant_object_names) {
                    self.write_name(n);
                }
                (K::Revoke, false, false)
            }
            Statement::Deny(d) => {
                for n in grant_object_names(&d.objects) {
                    self.write_name(n);
                }
                (K::Revoke, false, false)
            }
            Statement::Comment { object_name: n, .. } => {
                self.write_name(n);
                (K::Comment, false, false)
            }
            Statement::AttachDatabase { .. }
            | Statement::AttachDuckDBDatabase { .. }
            | Statement::DetachDuckDBDatabase { .. } => (K::Attach, false, false),
            Statement::Pragma { name, value, is_eq } => {
                let pragma = last_part(name);
                let read_only = !*is_eq
                    && (QUERY_PRAGMAS.contains(&pragma.as_str())
                        || (value.is_none() && GETTER_PRAGMAS.contains(&pragma.as_str())));
                (K::Pragma, read_only, false)
            }
            _ => (K::Other, false, false),
        }
    }

    /// `SET` in all its forms.
    fn set(&mut self, set: &Set) -> (StatementKind, bool, bool) {
        use StatementKind as K;
        let identity_var =
            |n: &ObjectName| matches!(last_part(n).as_str(), "role" | "session_authorization");
        match set {
            Set::SetTransaction { session: false, .. } => (K::Transaction, true, false),
            Set::SetRole { .. } | Set::SetSessionAuthorization(_) => {
                self.flag(Flag::ChangesIdentity);
                (K::Set, false, false)
            }
            Set::SingleAssignment { variable, .. } => {
                if identity_var(variable) {
                    self.flag(Flag::ChangesIdentity);
                }
                (K::Set, false, false)
            }
            Set::ParenthesizedAssignments { variables, .. } => {
                if variables.iter().any(identity_var) {
                    self.flag(Flag::ChangesIdentity);
                }
                (K::Set, false, false)
            }
            Set::MultipleAssignments { assignments } => {
                if assignments.iter().any(|a| identity_var(&a.name)) {
                    self.flag(Flag::ChangesIdentity);
                }
                (K::Set, false, false)
            }
            _ => (K::Set, false, false),
        }
    }
}

impl Visitor for Analyzer {
    type Break = ();

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
        let outermost = self.statements.is_empty();
        let main = outermost || self.main.iter().any(|p| std::ptr::eq(*p, s));
        let (kind, base_read_only, plain_explain) = self.statement(s, outermost);
        if outermost {
            self.kind = Some(kind);
        }
        if !base_read_only {
            self.not_read_only();
        }
        if !main {
            if self.plain_explain == 0 {
                self.nested.insert(kind);
            }
            let dml = matches!(
                kind,
                StatementKind::Insert
                    | StatementKind::Update
                    | StatementKind::Delete
                    | StatementKind::Merge
            );
            if dml && self.cte_bodies > 0 {
                self.flag(Flag::DataModifyingCte);
            }
        }
        self.statements.push(StatementContext { kind, table_factors: 0, plain_explain });
        if plain_explain {
            self.plain_explain += 1;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, _s: &Statement) -> ControlFlow<()> {
        if let Some(ctx) = self.statements.pop()
            && ctx.plain_explain
        {
            self.plain_explain = self.plain_explain.saturating_sub(1);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        let ptr = q as *const Query;
        if let Some(frame) = self.frames.last_mut()
            && let Some(i) = frame.bodies.iter().position(|b| std::ptr::eq(*b, ptr))
        {
            if !frame.recursive {
                frame.visible = i;
            }
            self.cte_bodies += 1;
        }
        let frame = match &q.with {
            Some(with) => Frame {
                query: ptr,
                names: with.cte_tables.iter().map(|c| ident(&c.alias.name)).collect(),
                bodies: with.cte_tables.iter().map(|c| &*c.query as *const Query).collect(),
                recursive: with.recursive,
                visible: if with.recursive { with.cte_tables.len() } else { 0 },
            },
            None => Frame {
                query: ptr,
                names: Vec::new(),
                bodies: Vec::new(),
                recursive: false,
                visible: 0,
            },
        };
        self.frames.push(frame);
        if !q.locks.is_empty() {
            self.flag(Flag::LockingClause);
        }
        self.set_expr_tables(&q.body);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        let ptr = q as *const Query;
        if self.frames.last().is_some_and(|f| std::ptr::eq(f.query, ptr)) {
            self.frames.pop();
        }
        if let Some(frame) = self.frames.last_mut()
            && let Some(i) = frame.bodies.iter().position(|b| std::ptr::eq(*b, ptr))
        {
            if !frame.recursive {
                frame.visible = i + 1;
            }
            self.cte_bodies = self.cte_bodies.saturating_sub(1);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        if let Some(into) = &select.into {
            self.flag(Flag::SelectInto);
            for target in &into.targets {
                let name = match target {
                    Expr::Identifier(i) => Some(ident(i)),
                    Expr::CompoundIdentifier(parts) => {
                        Some(parts.iter().map(ident).collect::<Vec<_>>().join("."))
                    }
                    _ => None,
                };
                if let Some(n) = name.filter(|n| !n.starts_with('@')) {
                    self.write(n);
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
        if let Some(ctx) = self.statements.last_mut() {
            ctx.table_factors += 1;
        }
        let target = self.targets.iter().any(|p| std::ptr::eq(*p, tf));
        match tf {
            TableFactor::Table { name, alias, args, with_hints, .. } => {
                if args.is_some() {
                    self.function(name);
                } else {
                    let (real, single) = table_name(name, alias.as_ref());
                    if target {
                        self.write(real);
                    } else if !(single && self.is_cte(&real)) {
                        self.read(real);
                    }
                }
                let locking = with_hints.iter().any(|h| {
                    matches!(h, Expr::Identifier(i) if ["updlock", "xlock", "holdlock", "tablock", "tablockx"]
                        .iter()
                        .any(|k| i.value.eq_ignore_ascii_case(k)))
                });
                if locking {
                    self.flag(Flag::LockingClause);
                }
            }
            TableFactor::Function { name, .. } => self.function(name),
            TableFactor::UNNEST { .. } => self.function_str("unnest".to_owned()),
            TableFactor::JsonTable { .. } => self.function_str("json_table".to_owned()),
            TableFactor::OpenJsonTable { .. } => self.function_str("openjson".to_owned()),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, _tf: &TableFactor) -> ControlFlow<()> {
        if let Some(ctx) = self.statements.last_mut() {
            ctx.table_factors = ctx.table_factors.saturating_sub(1);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        // Relations inside table factors are handled there; the others are statement targets
        // (INSERT INTO t, CREATE INDEX ON t, ...), read only for SHOW / DESCRIBE.
        let Some(ctx) = self.statements.last() else {
            return ControlFlow::Continue(());
        };
        if ctx.table_factors == 0 {
            match ctx.kind {
                StatementKind::Show | StatementKind::Select | StatementKind::Explain => {
                    self.read(object_name(relation));
                }
                _ => self.write_name(relation),
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = expr {
            self.function(&f.name);
        }
        ControlFlow::Continue(())
    }
}
