//! Tool models: what `kubectl`, `aws`, `git` and the SQL clients (`psql`, `mysql`,
//! `mariadb`, `sqlite3`) will really do, read from their argv so that rules can be written in
//! the tool's own terms (a kubectl verb and resource, an IAM-style AWS action, a git
//! subcommand and whether it forces, the SQL a client sends).
//!
//! A model is attached to the [`CommandView`](super::CommandView) of the command it
//! describes, in [`CommandView::tool`](super::CommandView::tool); commands of other programs
//! have none.
//!
//! # Invariants
//!
//! * **Never panics, never fails.** A model is built from whatever the argv holds; what it
//!   cannot tell is recorded, never guessed in the permissive direction.
//! * **Unresolved, not guessed.** When a field's value depends on something absent from the
//!   argv (an argument whose value is unknown, `$X`; a kubectl namespace or context, an AWS
//!   profile or region that come from configuration or the environment), the field's name is
//!   listed in the model's `unresolved`. Policy conditions on an unresolved field hold for
//!   `deny` / `approval` rules and never for `allow` rules.
//! * **Commands run by a tool are listed.** `kubectl exec POD -- CMD` (and `kubectl debug ...
//!   -- CMD`, `kubectl run --command -- CMD`) lists `CMD` as a command of the line with
//!   `via` `"kubectl exec"`; `git submodule foreach`, `git rebase --exec` and
//!   `git difftool --extcmd` list their shell code (`via` `"git submodule foreach"`, ...);
//!   `git bisect run CMD` lists `CMD`.
//! * **Arbitrary programs make the command dynamic.** `git -c alias.x=...`,
//!   `-c core.pager=...` and every other configuration key known to run a program
//!   (listed in `git.rs`), `git --exec-path=...`, `--upload-pack` / `--receive-pack` / `--exec`,
//!   `git config` writing such a key, `psql -o '|cmd'`: the command is `dynamic`, so it is
//!   never allowed.
//!
//! # Decisions
//!
//! * A kubectl command whose objects come from files (`-f`, `--filename`, `-k`,
//!   `--kustomize`) has `manifest: true` and is *not understood*: allow rules never match it,
//!   deny and approval rules on its verb still do, and its `resources` / `names` are
//!   unresolved.
//! * kubectl resource types are canonical plural names (`deploy`, `deployment`,
//!   `deployments.apps` → `deployments`); unknown types (custom resources) are kept lowercase
//!   as written. `all` is listed together with the types of its category.
//! * The AWS actions of the high-level `aws s3` commands are the IAM actions they need, from
//!   the direction of the copy (`s3 cp s3://b/k .` reads, `s3 cp f s3://b/k` writes); every
//!   other `aws SERVICE OPERATION` maps to `PREFIX:PascalCaseOperation` with a table of the
//!   services whose IAM prefix differs from the CLI name (`s3api` → `s3`).
//! * SQL given to a client (`psql -c`, `mysql -e`, `sqlite3 DB SQL`, a literal here-document)
//!   is reported in the model; the engine checks it against the SQL resource the shell
//!   resource names for that client. Client meta-commands (`\!`, `system`, `.shell`) or SQL
//!   from a file or an unknown stream leave `sql` empty with the reason in `opaque`.
//! * Not handled (documented gaps): configuration from environment variables
//!   (`GIT_CONFIG_*`, `GIT_PAGER=...`, `AWS_PROFILE=...`, `KUBECONFIG=...` prefixes are not
//!   seen by the command parser), git aliases defined in configuration files, kubectl
//!   plugins (an unknown verb is kept as written), `oc`, `ssh host kubectl ...`.

mod aws;
mod git;
mod kubectl;
mod sql_client;

use serde::{Deserialize, Serialize};

use super::analyze::{Arg, Stdin};

pub(crate) use kubectl::canonical_resource;

/// What a tool will do, as far as its argv tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tool", rename_all = "snake_case")]
pub enum ToolModel {
    /// `kubectl`.
    Kubectl(KubectlModel),
    /// The AWS CLI (`aws`).
    Aws(AwsModel),
    /// `git`.
    Git(GitModel),
    /// A SQL client: `psql`, `mysql`, `mariadb`, `sqlite3`.
    SqlClient(SqlClientModel),
}

impl ToolModel {
    /// False when writ cannot tell what the tool acts on (a kubectl manifest): allow rules
    /// never match such a command.
    pub fn understood(&self) -> bool {
        match self {
            ToolModel::Kubectl(k) => !k.manifest,
            ToolModel::Aws(_) | ToolModel::Git(_) | ToolModel::SqlClient(_) => true,
        }
    }

    /// Field names whose value writ could not resolve from the argv.
    pub fn unresolved(&self) -> &[String] {
        match self {
            ToolModel::Kubectl(k) => &k.unresolved,
            ToolModel::Aws(a) => &a.unresolved,
            ToolModel::Git(g) => &g.unresolved,
            ToolModel::SqlClient(_) => &[],
        }
    }
}

/// What a `kubectl` command does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct KubectlModel {
    /// The verb (`get`, `delete`, `exec`), or verb and sub-verb for the commands that have one
    /// (`rollout restart`, `config use-context`, `set image`, `auth can-i`,
    /// `certificate approve`, `apply view-last-applied`, `cluster-info dump`).
    pub verb: Option<String>,
    /// Canonical plural resource types acted on (`pods`, `deployments`, `secrets`).
    pub resources: Vec<String>,
    /// Object names acted on (`web` in `deploy/web` or `deploy web`).
    pub names: Vec<String>,
    /// Objects are chosen without names: every object of the type, `--all`, or a label or
    /// field selector.
    pub selector: bool,
    /// The namespace (`-n`, `--namespace`); `*` for `-A` / `--all-namespaces`. When absent
    /// the kubeconfig's current namespace applies, which writ cannot see (`unresolved`).
    pub namespace: Option<String>,
    /// The kubeconfig context (`--context`); when absent, the current context (`unresolved`).
    pub context: Option<String>,
    /// The objects come from manifest files (`-f`, `-k`): not understood.
    pub manifest: bool,
    /// For `exec` / `debug` / `run --command`: the command run in the container, also listed
    /// as a command of the line (`via` `kubectl exec`).
    pub exec_command: Option<Vec<String>>,
    /// Fields whose value writ could not resolve (`verb`, `resources`, `names`, `namespace`,
    /// `context`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

/// What an `aws` command does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct AwsModel {
    /// The CLI service name (`s3`, `ec2`, `s3api`).
    pub service: Option<String>,
    /// The operation (`rm`, `terminate-instances`).
    pub operation: Option<String>,
    /// IAM-style actions the command performs (`s3:DeleteObject`, `ec2:TerminateInstances`).
    pub actions: Vec<String>,
    /// `--profile`; when absent the default profile or `AWS_PROFILE` applies (`unresolved`).
    pub profile: Option<String>,
    /// `--region`; when absent the profile's or `AWS_REGION`'s applies (`unresolved`).
    pub region: Option<String>,
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--recursive`, and the commands that are recursive by nature (`s3 sync`,
    /// `s3 rb --force`).
    pub recursive: bool,
    /// Fields whose value writ could not resolve (`service`, `actions`, `profile`, `region`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

/// What a `git` command does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct GitModel {
    /// The subcommand, after global options (`-C dir`, `-c k=v`, `--git-dir=...`,
    /// `--no-pager`, ...).
    pub subcommand: Option<String>,
    /// The command discards or overwrites work or history: a force push in any spelling
    /// (`-f`, `--force`, `--force-with-lease`, `--force-if-includes`, `+refspec`, `--mirror`),
    /// a remote delete (`--delete`, `-d`, `:ref`, `--prune`), `reset --hard`, `clean -f`,
    /// `checkout -f` / `checkout -- PATHS` / `checkout .`, `restore` of the work tree,
    /// `switch -f` / `--discard-changes` / `-C`, `branch -D` / `-f` / `-M` / `-C`, `tag -f`,
    /// `stash drop` / `clear`, `worktree remove -f`, `reflog expire` / `delete`,
    /// `update-ref -d`, `filter-branch`, `filter-repo`.
    pub force: bool,
    /// Fields whose value writ could not resolve (`subcommand`, `force`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

/// What a SQL client command sends.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SqlClientModel {
    /// `psql`, `mysql`, `mariadb` or `sqlite3`.
    pub client: String,
    /// The SQL sent, when all of it is in the command line or a literal here-document.
    pub sql: Option<String>,
    /// A script file the client reads (`-f`, `--file`, `-init`, `source`).
    pub file: Option<String>,
    /// Why the SQL cannot be checked, when `sql` is empty or incomplete (interactive, a file,
    /// a meta-command).
    pub opaque: Option<String>,
}

/// A command a tool runs.
pub(crate) enum ToolInner {
    /// An argv, reached through `label`.
    Argv(Vec<Arg>, String),
    /// Shell code words (joined with spaces), reached through `label`.
    Code(Vec<Arg>, String),
}

/// A model and what comes with it.
pub(crate) struct Found {
    pub(crate) model: ToolModel,
    /// A command the tool runs.
    pub(crate) inner: Option<ToolInner>,
    /// The tool runs a program writ cannot see.
    pub(crate) dynamic: bool,
}

impl Found {
    fn plain(model: ToolModel) -> Found {
        Found { model, inner: None, dynamic: false }
    }
}

/// The model of a command whose program (lowercase, without `.exe`) is `name`.
pub(crate) fn model(name: &str, args: &[Arg], stdin: &Stdin) -> Option<Found> {
    match name {
        "kubectl" => Some(kubectl::model(args)),
        "aws" => Some(Found::plain(ToolModel::Aws(aws::model(args)))),
        "git" => Some(git::model(args)),
        "psql" | "mysql" | "mariadb" | "sqlite3" => Some(sql_client::model(name, args, stdin)),
        _ => None,
    }
}

/// Adds `field` to `list` once.
fn mark(list: &mut Vec<String>, field: &str) {
    if !list.iter().any(|f| f == field) {
        list.push(field.to_owned());
    }
}

/// `--name=value` split, or `(name, None)`.
fn long_option(t: &str) -> Option<(&str, Option<&str>)> {
    let long = t.strip_prefix("--").filter(|l| !l.is_empty())?;
    Some(match long.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (long, None),
    })
}
