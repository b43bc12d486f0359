//! The parts of the document model that speak in a tool's own terms: conditions on the
//! `kubectl`, `aws` and `git` models inside a rule's `command` block, and the SQL clients a
//! shell resource routes to a database. Field docs here are the reference for policy authors.
//!
//! ```yaml
//! resources:
//!   - name: workstation
//!     kind: shell
//!     sql_clients: [{programs: [psql], resource: app-db}]
//!   - {name: app-db, kind: postgres}
//! rules:
//!   - id: no-prod-deletes
//!     effect: deny
//!     when: {command: {kubectl: {verbs: [delete], namespaces: ["prod*"]}}}
//!   - id: no-s3-deletes
//!     effect: deny
//!     when: {command: {aws: {actions: ["s3:Delete*"]}}}
//!   - id: no-force-push
//!     effect: deny
//!     when: {command: {git: {subcommands: [push], force: true}}}
//! ```
//!
//! A tool block applies only to commands of that tool: a rule with a `kubectl` block never
//! matches an `aws` or `rm` command. Set conditions read like the others (every item covered
//! for `allow`, any item for `deny` / `approval`). A field writ could not resolve from the
//! command line (an argument whose value is unknown, a namespace, context, profile or region
//! that is not given and so comes from configuration or the environment) satisfies the
//! conditions on it in `deny` and `approval` rules and never in `allow` rules.

use serde::{Deserialize, Serialize};

/// Conditions on a `kubectl` command. All present must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubectlConditions {
    /// Globs on the verb (`get`, `delete`, `exec`); verbs with a sub-verb are matched with it
    /// (`rollout restart`, `config use-context`, `set image`, so `rollout *` covers them all).
    #[serde(default)]
    pub verbs: Option<Vec<String>>,
    /// Globs on the resource types acted on, written as canonical plural names (`pods`,
    /// `deployments`, `secrets`, `namespaces`); `ns`, `deploy`, `po` and singular names are read
    /// as those, so write the canonical name here. `type/name` arguments count, and `all` is
    /// `all` plus the types of its category. Objects from manifests (`-f`, `-k`) are unresolved.
    #[serde(default)]
    pub resources: Option<Vec<String>>,
    /// Globs on the object names acted on. A command that names no object (every object of a
    /// type, `--all`, a label or field selector) is unresolved for this condition.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Globs on the namespace (`-n`, `--namespace`). `-A` / `--all-namespaces` is every
    /// namespace: it satisfies any `deny` / `approval` list, and an `allow` list only through a
    /// pattern matching `*`. Without `-n` the current namespace applies, which writ cannot see:
    /// unresolved. Deleting or editing a `namespaces` object checks its name here too.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
    /// Globs on the kubeconfig context (`--context`); without it, unresolved.
    #[serde(default)]
    pub contexts: Option<Vec<String>>,
}

/// Conditions on an `aws` CLI command. All present must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsConditions {
    /// Globs on the IAM-style actions the command performs (`s3:Delete*`,
    /// `ec2:Terminate*`, `iam:*`), matched case-insensitively as IAM does. `aws s3 rm` is
    /// `s3:DeleteObject`, `aws s3 rb` `s3:DeleteBucket`, `aws s3 sync --delete` adds
    /// `s3:DeleteObject`, `aws s3 mv` reads, writes and deletes; `aws SERVICE OPERATION` is
    /// `PREFIX:Operation` (`aws ec2 terminate-instances` is `ec2:TerminateInstances`,
    /// `aws s3api delete-object` is `s3:DeleteObject`).
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    /// Globs on the CLI service name (`s3`, `ec2`, `s3api`).
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// Globs on the profile (`--profile`); without it the default profile or `AWS_PROFILE`
    /// applies, which writ cannot see: unresolved.
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    /// Globs on the region (`--region`); without it, unresolved.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
}

/// Conditions on a `git` command. All present must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitConditions {
    /// Globs on the subcommand, read after global options (`git -C dir -c k=v push` is
    /// `push`).
    #[serde(default)]
    pub subcommands: Option<Vec<String>>,
    /// Whether the command discards or overwrites work or history: a force push in any
    /// spelling (`-f`, `--force`, `--force-with-lease`, `--force-if-includes`, `+refspec`,
    /// `--mirror`), a remote delete (`--delete`, `-d`, `:branch`, `--prune`), `reset --hard`,
    /// `clean -f`, `checkout -f` / `checkout -- PATHS` / `checkout .`, `restore` of the work
    /// tree, `switch -f` / `--discard-changes` / `-C`, `branch -D` / `-f` / `-M` / `-C`,
    /// `tag -f`, `stash drop` / `clear`, `worktree remove -f`, `reflog expire` / `delete`,
    /// `update-ref -d`, `filter-branch`, `filter-repo`.
    #[serde(default)]
    pub force: Option<bool>,
}

/// Database clients on a shell resource whose SQL is checked against a database resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlClientRoute {
    /// Client programs: `psql`, `mysql`, `mariadb`, `sqlite3`.
    pub programs: Vec<String>,
    /// The SQL resource the clients' SQL is checked against, as a SQL request of the same
    /// principal. A client command whose SQL writ cannot see in full (interactive, `-f file`,
    /// meta-commands) is decided by `defaults.unknown`.
    pub resource: String,
}
