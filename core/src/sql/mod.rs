//! SQL statement classification.
//!
//! writ never trusts a caller's description of a statement: it parses the text itself with
//! `sqlparser` and reports, for every statement in the text, what kind it is, which tables it
//! reads and writes, which functions it calls, and whether it could change anything
//! ([`StatementView::read_only`]). Rules in a policy match on this view.
//!
//! # Invariants
//! - `read_only` is true only when the statement can change no data, schema, privileges,
//!   session identity, server state or files. Anything the classifier is unsure about is not
//!   read-only.
//! - A statement that sqlparser rejects still gets a `kind` from its first keywords when they
//!   make it certain, with the [`Flag::Unparsed`] flag; it is never read-only. When even the
//!   first keywords say nothing certain, the kind is [`StatementKind::Unknown`].
//! - Classification never fails and never panics: errors are reported in the view.

pub(crate) mod classify;
mod functions;
mod lexer;

pub use classify::{classify, classify_with};
/// The ceiling (and default) of [`SqlLimits::max_operator_chain`](crate::limits::SqlLimits).
pub const MAX_OPERATOR_CHAIN: usize = lexer::MAX_CHAIN_OPERATORS;
pub use functions::{SIDE_EFFECT_FUNCTIONS, is_pg_builtin};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The SQL dialect a resource speaks; it decides how text is tokenized and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
    /// Microsoft SQL Server (T-SQL).
    Mssql,
    /// Snowflake.
    Snowflake,
    /// Google BigQuery.
    Bigquery,
    /// sqlparser's generic dialect: a permissive superset, for resources of unknown flavour.
    Generic,
}

impl Dialect {
    /// Every dialect, in a stable order.
    pub const ALL: [Dialect; 7] = [
        Dialect::Postgres,
        Dialect::Mysql,
        Dialect::Sqlite,
        Dialect::Mssql,
        Dialect::Snowflake,
        Dialect::Bigquery,
        Dialect::Generic,
    ];

    /// The lowercase name used in policies and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
            Dialect::Mssql => "mssql",
            Dialect::Snowflake => "snowflake",
            Dialect::Bigquery => "bigquery",
            Dialect::Generic => "generic",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a dialect name writ does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown SQL dialect `{0}` (expected one of postgres, mysql, sqlite, mssql, snowflake, bigquery, generic)"
)]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownDialect(s.to_owned()))
    }
}

/// What a statement is, in one lowercase word (the vocabulary of DESIGN.md).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    /// `SELECT`, `VALUES`, `TABLE t` and other queries.
    Select,
    /// `INSERT`, `REPLACE`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `MERGE`.
    Merge,
    /// `CREATE ...` of any object.
    Create,
    /// `ALTER ...` of any object, including `ALTER SYSTEM`.
    Alter,
    /// `DROP ...` of any object.
    Drop,
    /// `TRUNCATE`.
    Truncate,
    /// `GRANT`.
    Grant,
    /// `REVOKE`.
    Revoke,
    /// `COPY` (either direction), MySQL `LOAD DATA`.
    Copy,
    /// `CALL` of a procedure.
    Call,
    /// `EXECUTE` of a prepared statement, MSSQL `EXEC`.
    Execute,
    /// `PREPARE`.
    Prepare,
    /// `DO` blocks (anonymous code).
    Do,
    /// `SET`, `RESET`, `SET ROLE`, `SET SESSION AUTHORIZATION`.
    Set,
    /// `SHOW`, `DESCRIBE`.
    Show,
    /// `EXPLAIN`.
    Explain,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `START TRANSACTION`.
    Transaction,
    /// `LOCK TABLE`.
    Lock,
    /// `VACUUM`, `ANALYZE`, `REINDEX`, `CLUSTER`, `CHECKPOINT` and other maintenance.
    Vacuum,
    /// `REFRESH MATERIALIZED VIEW`.
    Refresh,
    /// `COMMENT ON`.
    Comment,
    /// SQLite `ATTACH` / `DETACH`.
    Attach,
    /// SQLite `PRAGMA`.
    Pragma,
    /// A statement writ parsed but that fits none of the kinds above.
    Other,
    /// A statement writ could not understand.
    Unknown,
}

impl StatementKind {
    /// Every kind, in a stable order.
    pub const ALL: [StatementKind; 28] = [
        StatementKind::Select,
        StatementKind::Insert,
        StatementKind::Update,
        StatementKind::Delete,
        StatementKind::Merge,
        StatementKind::Create,
        StatementKind::Alter,
        StatementKind::Drop,
        StatementKind::Truncate,
        StatementKind::Grant,
        StatementKind::Revoke,
        StatementKind::Copy,
        StatementKind::Call,
        StatementKind::Execute,
        StatementKind::Prepare,
        StatementKind::Do,
        StatementKind::Set,
        StatementKind::Show,
        StatementKind::Explain,
        StatementKind::Transaction,
        StatementKind::Lock,
        StatementKind::Vacuum,
        StatementKind::Refresh,
        StatementKind::Comment,
        StatementKind::Attach,
        StatementKind::Pragma,
        StatementKind::Other,
        StatementKind::Unknown,
    ];

    /// The lowercase word used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Select => "select",
            StatementKind::Insert => "insert",
            StatementKind::Update => "update",
            StatementKind::Delete => "delete",
            StatementKind::Merge => "merge",
            StatementKind::Create => "create",
            StatementKind::Alter => "alter",
            StatementKind::Drop => "drop",
            StatementKind::Truncate => "truncate",
            StatementKind::Grant => "grant",
            StatementKind::Revoke => "revoke",
            StatementKind::Copy => "copy",
            StatementKind::Call => "call",
            StatementKind::Execute => "execute",
            StatementKind::Prepare => "prepare",
            StatementKind::Do => "do",
            StatementKind::Set => "set",
            StatementKind::Show => "show",
            StatementKind::Explain => "explain",
            StatementKind::Transaction => "transaction",
            StatementKind::Lock => "lock",
            StatementKind::Vacuum => "vacuum",
            StatementKind::Refresh => "refresh",
            StatementKind::Comment => "comment",
            StatementKind::Attach => "attach",
            StatementKind::Pragma => "pragma",
            StatementKind::Other => "other",
            StatementKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Notable properties of a statement that rules can match on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// `UPDATE` or `DELETE` with no `WHERE` clause: every row is affected.
    NoWhere,
    /// The text holds more than one statement.
    MultiStatement,
    /// A `WITH` clause holds an `INSERT`, `UPDATE`, `DELETE` or `MERGE`.
    DataModifyingCte,
    /// `EXPLAIN ANALYZE`: the explained statement really runs.
    ExplainAnalyze,
    /// `SELECT ... INTO new_table`: creates a table.
    SelectInto,
    /// A locking clause: `FOR UPDATE`, `FOR SHARE`, `FOR NO KEY UPDATE`, `FOR KEY SHARE`.
    LockingClause,
    /// Calls a function from the side-effect list ([`SIDE_EFFECT_FUNCTIONS`]).
    SideEffectFunction,
    /// `COPY ... TO PROGRAM` / `FROM PROGRAM`: runs a shell command on the server.
    CopyProgram,
    /// `COPY ... TO 'file'` / `FROM 'file'` on the server's file system.
    ServerFile,
    /// MySQL `SELECT ... INTO OUTFILE` / `DUMPFILE`.
    IntoOutfile,
    /// The text holds a MySQL executable comment `/*! ... */` whose content was classified.
    ExecutableComment,
    /// Changes the session's identity: `SET ROLE`, `SET SESSION AUTHORIZATION`, `EXECUTE AS`.
    ChangesIdentity,
    /// Runs code that writ cannot see statically: `DO`, `EXECUTE` of a prepared or dynamic
    /// statement, `CALL`, MSSQL `EXEC`.
    DynamicSql,
    /// sqlparser rejected the statement; its kind comes from its first keywords only.
    Unparsed,
    /// PostgreSQL: calls a function PostgreSQL does not ship (a user-defined function, or one
    /// in another schema than `pg_catalog`). Its body is not visible to writ and may write, so
    /// the statement is not read-only; allow such calls by name with a rule's `functions`.
    UserFunction,
}

impl Flag {
    /// Every flag, in a stable order.
    pub const ALL: [Flag; 15] = [
        Flag::NoWhere,
        Flag::MultiStatement,
        Flag::DataModifyingCte,
        Flag::ExplainAnalyze,
        Flag::SelectInto,
        Flag::LockingClause,
        Flag::SideEffectFunction,
        Flag::CopyProgram,
        Flag::ServerFile,
        Flag::IntoOutfile,
        Flag::ExecutableComment,
        Flag::ChangesIdentity,
        Flag::DynamicSql,
        Flag::Unparsed,
        Flag::UserFunction,
    ];

    /// The snake_case word used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::NoWhere => "no_where",
            Flag::MultiStatement => "multi_statement",
            Flag::DataModifyingCte => "data_modifying_cte",
            Flag::ExplainAnalyze => "explain_analyze",
            Flag::SelectInto => "select_into",
            Flag::LockingClause => "locking_clause",
            Flag::SideEffectFunction => "side_effect_function",
            Flag::CopyProgram => "copy_program",
            Flag::ServerFile => "server_file",
            Flag::IntoOutfile => "into_outfile",
            Flag::ExecutableComment => "executable_comment",
            Flag::ChangesIdentity => "changes_identity",
            Flag::DynamicSql => "dynamic_sql",
            Flag::Unparsed => "unparsed",
            Flag::UserFunction => "user_function",
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine's view of one SQL text: the JSON of `writ inspect sql`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlView {
    /// True only when every statement is read-only and the text parsed.
    pub read_only: bool,
    /// Each statement of the text, in order.
    pub statements: Vec<StatementView>,
    /// Why the text (or part of it) could not be parsed; `None` when all of it parsed.
    pub error: Option<String>,
    /// The bound of [`Limits`](crate::limits::SqlLimits) the text exceeded, named as the
    /// policy's `limits` block names it (`sql.max_text_bytes`, `sql.max_statements`,
    /// `sql.max_nesting_depth`, `sql.max_operator_chain`); `error` says by how much. The engine denies such a text
    /// outright. Absent from the JSON when no bound was exceeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// The engine's view of one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementView {
    /// What the statement is.
    pub kind: StatementKind,
    /// True only when the statement can change nothing (see the module docs).
    pub read_only: bool,
    /// Tables read (including subqueries, joins, CTE bodies, `UPDATE ... FROM`,
    /// `DELETE ... USING`), sorted and deduplicated. CTE names and table functions are not
    /// tables.
    pub reads: Vec<String>,
    /// Tables or other objects written, created, altered, dropped or locked, sorted and
    /// deduplicated.
    pub writes: Vec<String>,
    /// Functions called, lowercase, qualified as written, sorted and deduplicated.
    pub functions: Vec<String>,
    /// Notable properties, sorted and deduplicated.
    pub flags: Vec<Flag>,
    /// Kinds of the statements this one runs inside itself: the `DELETE` in a data-modifying
    /// CTE, the statement under `EXPLAIN ANALYZE`. Rules that name kinds see these too, so an
    /// allow for `select` never covers a hidden `delete`. Sorted and deduplicated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested_kinds: Vec<StatementKind>,
}

impl StatementView {
    /// False when writ could not fully understand the statement: its kind is `unknown`, or it
    /// carries the [`Flag::Unparsed`] flag. Allow rules never match such a statement.
    pub fn understood(&self) -> bool {
        self.kind != StatementKind::Unknown && !self.flags.contains(&Flag::Unparsed)
    }

    /// The statement's own kind followed by its nested kinds.
    pub fn all_kinds(&self) -> impl Iterator<Item = StatementKind> + '_ {
        std::iter::once(self.kind).chain(self.nested_kinds.iter().copied())
    }
}
