//! The policy document model: what a YAML or JSON policy file says, before compilation.
//!
//! Every struct denies unknown fields, so a misspelt key is an error with a location rather than
//! a silently ignored condition. Field docs here are the reference for policy authors.

use serde::{Deserialize, Serialize};

use super::document_tools::{AwsConditions, GitConditions, KubectlConditions, SqlClientRoute};
use crate::sql::{Dialect, Flag, StatementKind};

/// The only document format version this build reads.
pub const DOCUMENT_VERSION: u32 = 1;

/// One policy document (one file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Format version; must be `1`.
    pub version: u32,
    /// Resources the rules talk about. Every resource a rule names must be declared in one of
    /// the documents compiled together.
    #[serde(default)]
    pub resources: Vec<ResourceDoc>,
    /// What happens when no rule decides. At most one document of a set may say it.
    #[serde(default)]
    pub defaults: Option<DefaultsDoc>,
    /// What the audit trail requires. At most one document of a set may say it.
    #[serde(default)]
    pub audit: Option<AuditDoc>,
    /// Rules, evaluated together: deny beats approval beats allow.
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
    /// Token issuers whose JWTs a request may carry instead of a plain principal (see
    /// [`IssuerDoc`](crate::identity::IssuerDoc)).
    #[serde(default)]
    pub issuers: Vec<crate::identity::IssuerDoc>,
    /// Column and content masking rules (see [`MaskDoc`](crate::mask::MaskDoc)).
    #[serde(default)]
    pub masks: Vec<crate::mask::MaskDoc>,
    /// Bounds on the work one request may cost (see [`LimitsDoc`](crate::limits::LimitsDoc)).
    /// At most one document of a set may say it.
    #[serde(default)]
    pub limits: Option<crate::limits::LimitsDoc>,
}

/// A resource: something a request acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDoc {
    /// Unique name, used by requests and rule `resources` globs.
    pub name: String,
    /// What the resource is.
    pub kind: ResourceKind,
    /// SQL dialect for SQL resources; defaults from `kind` (`generic` for `sql`).
    #[serde(default)]
    pub dialect: Option<Dialect>,
    /// Schema that unqualified table names resolve to (`public` for PostgreSQL's usual
    /// search path). Table globs are matched against `schema.table`.
    #[serde(default)]
    pub default_schema: Option<String>,
    /// Free text for people.
    #[serde(default)]
    pub description: Option<String>,
    /// For `tool` resources: tools whose argument holds SQL or a command, to be checked as
    /// such against another resource (an MCP database or shell tool).
    #[serde(default)]
    pub tools: Option<Vec<ToolRoute>>,
    /// For `shell` resources: database clients whose SQL (`psql -c`, `mysql -e`,
    /// `sqlite3 DB SQL`, a here-document) is also checked as a SQL request of the same
    /// principal against a SQL resource: `[{programs: [psql], resource: app-db}]`.
    #[serde(default)]
    pub sql_clients: Option<Vec<SqlClientRoute>>,
    /// For SQL resources: the columns of tables, by table name (`public.customers: [id,
    /// email]`), in table order. Masking uses them to expand `*`; a table not listed is masked
    /// by column name and content detectors when read with `*`.
    #[serde(default)]
    pub columns: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

/// A tool whose argument is SQL or a command, checked against another resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolRoute {
    /// The tool's name, exactly.
    pub name: String,
    /// The argument holds SQL for this database resource.
    #[serde(default)]
    pub sql: Option<ArgumentRoute>,
    /// The argument holds a command line for this shell resource.
    #[serde(default)]
    pub command: Option<ArgumentRoute>,
}

/// Where a routed argument is and which resource checks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgumentRoute {
    /// A JSON pointer into the arguments (`/query`, `/params/sql`).
    pub argument: String,
    /// The resource the argument's SQL or command is checked against.
    pub resource: String,
}

/// The kind of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// A PostgreSQL database.
    Postgres,
    /// A MySQL or MariaDB database.
    Mysql,
    /// A SQLite database.
    Sqlite,
    /// A Microsoft SQL Server database.
    Mssql,
    /// A Snowflake warehouse.
    Snowflake,
    /// A BigQuery project.
    Bigquery,
    /// A SQL database of another flavour (parsed with the generic dialect unless `dialect` says
    /// otherwise).
    Sql,
    /// A shell.
    Shell,
    /// A Kubernetes cluster (through `kubectl`).
    Kubernetes,
    /// An AWS account (through the `aws` CLI).
    Aws,
    /// An HTTP API.
    Http,
    /// An agent tool.
    Tool,
}

impl ResourceKind {
    /// The SQL dialect a resource of this kind speaks, or `None` when it is not a database.
    pub fn default_dialect(self) -> Option<Dialect> {
        match self {
            ResourceKind::Postgres => Some(Dialect::Postgres),
            ResourceKind::Mysql => Some(Dialect::Mysql),
            ResourceKind::Sqlite => Some(Dialect::Sqlite),
            ResourceKind::Mssql => Some(Dialect::Mssql),
            ResourceKind::Snowflake => Some(Dialect::Snowflake),
            ResourceKind::Bigquery => Some(Dialect::Bigquery),
            ResourceKind::Sql => Some(Dialect::Generic),
            ResourceKind::Shell
            | ResourceKind::Kubernetes
            | ResourceKind::Aws
            | ResourceKind::Http
            | ResourceKind::Tool => None,
        }
    }

    /// Whether commands (a shell line or an argv) run on a resource of this kind.
    pub fn runs_commands(self) -> bool {
        matches!(self, ResourceKind::Shell | ResourceKind::Kubernetes | ResourceKind::Aws)
    }

    /// The lowercase name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Postgres => "postgres",
            ResourceKind::Mysql => "mysql",
            ResourceKind::Sqlite => "sqlite",
            ResourceKind::Mssql => "mssql",
            ResourceKind::Snowflake => "snowflake",
            ResourceKind::Bigquery => "bigquery",
            ResourceKind::Sql => "sql",
            ResourceKind::Shell => "shell",
            ResourceKind::Kubernetes => "kubernetes",
            ResourceKind::Aws => "aws",
            ResourceKind::Http => "http",
            ResourceKind::Tool => "tool",
        }
    }
}

/// What happens when no rule decides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsDoc {
    /// Effect when no rule matches a statement: `deny` (the default) or `approval`.
    /// `allow` is not accepted: writ is default-deny.
    #[serde(default)]
    pub effect: Option<FallbackEffect>,
    /// Effect for a statement writ cannot fully understand and that no deny or approval rule
    /// matched: `deny` (the default) or `approval`. Allow rules never match such statements.
    #[serde(default)]
    pub unknown: Option<FallbackEffect>,
    /// Reason shown when the default effect decides.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the audit trail requires.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditDoc {
    /// What happens to a request whose audit event a sink fails to record: `deny` (the
    /// default: no unrecorded request runs) or `continue` (the decision stands).
    #[serde(default)]
    pub on_failure: Option<AuditFailure>,
}

/// What a failing audit sink does to the request.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AuditFailure {
    /// The request is denied.
    #[default]
    Deny,
    /// The decision stands; the failure is reported to the host.
    Continue,
}

/// An effect a default may have: never `allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FallbackEffect {
    /// Deny.
    Deny,
    /// Ask a human.
    Approval,
}

/// The effect a rule has when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleEffect {
    /// Allow the statement, unless a deny or approval rule also matches it.
    Allow,
    /// Deny the statement, whatever else matches.
    Deny,
    /// Require a human approval, unless a deny rule also matches.
    Approval,
}

impl RuleEffect {
    /// The lowercase name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleEffect::Allow => "allow",
            RuleEffect::Deny => "deny",
            RuleEffect::Approval => "approval",
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Unique id across all documents compiled together; reported in decisions.
    pub id: String,
    /// What the rule does when it matches.
    pub effect: RuleEffect,
    /// Shown to the caller when this rule decides.
    #[serde(default)]
    pub reason: Option<String>,
    /// Free text for people.
    #[serde(default)]
    pub description: Option<String>,
    /// Conditions; all that are present must hold. A rule with none matches every request.
    #[serde(default)]
    pub when: Conditions,
    /// For `approval` rules only: the groups whose members may approve what the rule stops.
    /// An approval rule without approvers can never be satisfied by an approval token.
    #[serde(default)]
    pub approvers: Option<Vec<String>>,
    /// Requests the rule decides and near misses it must not decide, checked against the whole
    /// policy when it compiles (see [`RuleExamples`]).
    #[serde(default)]
    pub examples: Option<RuleExamples>,
}

/// Inline examples of a rule, checked when the policy compiles: a policy whose examples do not
/// hold does not compile, and each failing example is reported at its line and column.
///
/// Each list names the effect the whole policy must decide for its examples. In the list of
/// the rule's own effect (`allow` for an `allow` rule, `deny` for a `deny` rule,
/// `approval_required` for an `approval` rule) the rule must also be among the deciding rules:
/// the example shows what the rule is for. The other lists hold near misses: the policy must
/// decide their effect, and the rule must decide no part of them.
///
/// ```yaml
/// - id: analytics-read
///   effect: allow
///   when: {principals: ["agent:analytics*"], resources: [warehouse], sql: {read_only: true}}
///   examples:
///     allow: ["SELECT id FROM orders"]
///     deny:
///       - "DELETE FROM orders WHERE id = 1"
///       - {principal: {id: "agent:other"}, resource: warehouse, action: {sql: "SELECT 1"}}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleExamples {
    /// Who asks, in the examples that name no principal. Without it, a principal is made up
    /// from the rule's own conditions: its id is the first `principals` pattern without its
    /// `*` wildcards (or `example:RULE-ID` when the rule names only `groups`), and its groups
    /// are the first of the rule's `groups`. A rule that names neither needs this field.
    #[serde(default)]
    pub principal: Option<crate::Principal>,
    /// Examples the policy must allow.
    #[serde(default)]
    pub allow: Vec<RuleExample>,
    /// Examples the policy must deny.
    #[serde(default)]
    pub deny: Vec<RuleExample>,
    /// Examples for which the policy must require an approval.
    #[serde(default)]
    pub approval_required: Vec<RuleExample>,
}

/// One inline example: an action text, or a request as in a test file.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum RuleExample {
    /// SQL when the rule is about SQL databases, a command line when it is about shells
    /// (`shell`, `kubernetes` and `aws` resources). It is checked on every such resource the
    /// rule applies to. Rules on HTTP APIs and tools need the request form.
    Text(String),
    /// A request, as in a test file: `{principal, resource, action}`. The principal may be
    /// left out (see [`RuleExamples::principal`]); `token`, `grant` and `approval` may not be
    /// given.
    Request(Box<crate::Request>),
}

impl<'de> Deserialize<'de> for RuleExample {
    /// A string is a text; a mapping is read as a request, so its errors are a request's
    /// (an unknown field, a missing `resource`) rather than "matched no variant".
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExampleVisitor;
        impl<'de> serde::de::Visitor<'de> for ExampleVisitor {
            type Value = RuleExample;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an action text (SQL or a command line) or a request mapping")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RuleExample, E> {
                Ok(RuleExample::Text(text.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RuleExample, A::Error> {
                let request =
                    crate::Request::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RuleExample::Request(Box::new(request)))
            }
        }
        deserializer.deserialize_any(ExampleVisitor)
    }
}

/// The rule-condition language.
///
/// Every condition that is present must hold. Set conditions are read in the direction that
/// fails closed:
/// - in an `allow` rule, a set condition holds when **every** item the statement has (every
///   kind, table, function, flag) is covered by the list, so an allow never reaches past what
///   it names;
/// - in a `deny` or `approval` rule, it holds when **any** item matches, so one forbidden table
///   among many is enough.
///
/// Principal, group and resource conditions hold when any listed pattern matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Globs on the principal id (`agent:analytics-*`).
    #[serde(default)]
    pub principals: Option<Vec<String>>,
    /// Groups; the principal must be in at least one.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Globs on the resource name.
    #[serde(default)]
    pub resources: Option<Vec<String>>,
    /// Conditions on SQL statements. A rule with a `sql` block applies only to SQL actions.
    #[serde(default)]
    pub sql: Option<SqlConditions>,
    /// Conditions on commands. A rule with a `command` block applies only to command actions
    /// (a shell line or an argv).
    #[serde(default)]
    pub command: Option<CommandConditions>,
    /// Conditions on HTTP requests. A rule with an `http` block applies only to HTTP actions.
    #[serde(default)]
    pub http: Option<HttpConditions>,
    /// Conditions on tool calls. A rule with a `tool` block applies only to tool calls.
    #[serde(default)]
    pub tool: Option<ToolConditions>,
}

/// Conditions on one HTTP request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpConditions {
    /// Methods (upper-case).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Globs on the host (`*.example.com`).
    #[serde(default)]
    pub hosts: Option<Vec<String>>,
    /// Globs on the normalized path (`/v1/users/*`). A `deny` or `approval` rule matches when
    /// the path or its percent-decoded form matches; an `allow` rule needs both to.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
}

/// Conditions on one tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolConditions {
    /// Globs on the tool's name.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Conditions on arguments; all must hold.
    #[serde(default)]
    pub arguments: Option<Vec<ArgumentCondition>>,
}

/// A condition on one argument of a tool call, found by JSON pointer. It holds only when the
/// argument is present and satisfies every test given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgumentCondition {
    /// A JSON pointer into the arguments (`/path`, `/options/recursive`).
    pub pointer: String,
    /// The argument equals one of these JSON values (numbers by value: `1` and `1.0` are
    /// equal).
    #[serde(default)]
    pub one_of: Option<Vec<serde_json::Value>>,
    /// The argument is a string matching one of these globs.
    #[serde(default)]
    pub matches: Option<Vec<String>>,
}

/// Conditions on one command of a command line, after wrappers (`sudo`, `env`, `timeout`,
/// ...) and inline shells (`bash -c`) are unwrapped: every command that would run is checked
/// on its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandConditions {
    /// Globs on the program's basename (`rm`, `mkfs.*`).
    #[serde(default)]
    pub programs: Option<Vec<String>>,
    /// Argument prefixes, each one string split on white space (`git push`,
    /// `kubectl delete`); the program's basename stands for the first word. Any one suffices.
    #[serde(default)]
    pub argv_prefix: Option<Vec<String>>,
    /// Flags as normalized by the parser: a short flag is one character (`r` for `-r`, and
    /// for each letter of `-rf`), a long flag has no dashes and no `=value` (`force`).
    #[serde(default)]
    pub flags: Option<Vec<String>>,
    /// Flags none of which may be present (in any rule).
    #[serde(default)]
    pub without_flags: Option<Vec<String>>,
    /// Globs on operands (the arguments that are not flags). When some argument's value cannot
    /// be known (`rm -rf "$dir"`), a `deny` or `approval` rule's operand condition holds and an
    /// `allow` rule's does not.
    #[serde(default)]
    pub operands: Option<Vec<String>>,
    /// Languages of inline code given to an interpreter (`python`, `node`, `perl`, `ruby`,
    /// `php`, `powershell`, ...).
    #[serde(default)]
    pub inline_code: Option<Vec<String>>,
    /// Globs on the wrappers and shells the command was reached through (`sudo`, `bash -c`,
    /// `kubectl exec`).
    #[serde(default)]
    pub via: Option<Vec<String>>,
    /// Conditions on a `kubectl` command's verb, resources, names, namespace and context; the
    /// rule then matches only `kubectl` commands. See [`KubectlConditions`].
    #[serde(default)]
    pub kubectl: Option<KubectlConditions>,
    /// Conditions on an `aws` command's IAM-style actions, service, profile and region; the
    /// rule then matches only `aws` commands. See [`AwsConditions`].
    #[serde(default)]
    pub aws: Option<AwsConditions>,
    /// Conditions on a `git` command's subcommand and whether it forces; the rule then matches
    /// only `git` commands. See [`GitConditions`].
    #[serde(default)]
    pub git: Option<GitConditions>,
}

/// Conditions on one SQL statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlConditions {
    /// Statement kinds, including the kinds a statement runs inside itself (a data-modifying
    /// CTE, `EXPLAIN ANALYZE`).
    #[serde(default)]
    pub kinds: Option<Vec<StatementKind>>,
    /// Whether the statement is read-only.
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Globs on `schema.table` for every table the statement touches.
    #[serde(default)]
    pub tables: Option<Vec<String>>,
    /// Globs on `schema.table` for tables read.
    #[serde(default)]
    pub reads: Option<Vec<String>>,
    /// Globs on `schema.table` for tables written.
    #[serde(default)]
    pub writes: Option<Vec<String>>,
    /// Globs on function names (lowercase).
    #[serde(default)]
    pub functions: Option<Vec<String>>,
    /// Statement flags (`no_where`, `multi_statement`, ...).
    #[serde(default)]
    pub flags: Option<Vec<Flag>>,
}
