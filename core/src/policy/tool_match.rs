//! Compiling and matching the tool conditions of a rule's `command` block (`kubectl`, `aws`,
//! `git`), and validating a shell resource's `sql_clients`.
//!
//! Matching follows [`Conditions`](super::Conditions): set conditions hold for every item in
//! `allow` rules and for any item in `deny` / `approval` rules; a single value (a verb, a
//! namespace) is a set of one. A field the tool model lists as `unresolved` makes its
//! conditions hold in `deny` / `approval` rules and fail in `allow` rules. A tool block never
//! matches a command of another program.
//!
//! Validation reports, at the offending item: empty lists, bad globs, two tool blocks in one
//! rule, resource types not written as their canonical plural (`deploy` for `deployments`),
//! actions not shaped `service:Action`, and for `sql_clients` unknown client programs, a
//! program routed twice, a target that is not a declared SQL resource, and a resource that
//! does not run commands.

use std::collections::HashMap;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::compile::{CompiledResource, glob};
use super::document::{CommandConditions, ResourceDoc};
use super::document_tools::{AwsConditions, GitConditions, KubectlConditions};
use super::source::Seg;
use crate::command::tools::canonical_resource;
use crate::command::{CommandView, ToolModel};
use crate::policy::RuleEffect;

/// Where a problem is and what it is.
pub(crate) type Report<'a> = &'a mut dyn FnMut(&[Seg], String);

/// The SQL client programs writ models.
const SQL_CLIENTS: &[&str] = &["psql", "mysql", "mariadb", "sqlite3"];

/// Compiled tool conditions of one `command` block.
#[derive(Debug, Default)]
pub(crate) struct ToolMatcher {
    kubectl: Option<Box<KubectlMatcher>>,
    aws: Option<Box<AwsMatcher>>,
    git: Option<Box<GitMatcher>>,
}

#[derive(Debug)]
struct KubectlMatcher {
    verbs: Option<GlobSet>,
    resources: Option<GlobSet>,
    names: Option<GlobSet>,
    namespaces: Option<GlobSet>,
    contexts: Option<GlobSet>,
}

#[derive(Debug)]
struct AwsMatcher {
    actions: Option<GlobSet>,
    services: Option<GlobSet>,
    profiles: Option<GlobSet>,
    regions: Option<GlobSet>,
}

#[derive(Debug)]
struct GitMatcher {
    subcommands: Option<GlobSet>,
    force: Option<bool>,
}

/// A set condition on a field of a model: unresolved fields hold only outside `allow`.
fn field<'a>(
    set: &Option<GlobSet>,
    every: bool,
    unresolved: &[String],
    name: &str,
    items: impl IntoIterator<Item = &'a String>,
) -> bool {
    let Some(set) = set else { return true };
    if unresolved.iter().any(|f| f == name) {
        return !every;
    }
    let mut covered = items.into_iter().map(|item| set.is_match(item));
    if every { covered.all(|c| c) } else { covered.any(|c| c) }
}

impl ToolMatcher {
    /// Whether every present tool condition holds for `command`, read in the direction of
    /// `effect`. True when the block has no tool condition.
    pub(crate) fn matches(&self, command: &CommandView, effect: RuleEffect) -> bool {
        let every = effect == RuleEffect::Allow;
        if let Some(m) = &self.kubectl {
            let Some(ToolModel::Kubectl(k)) = &command.tool else { return false };
            let u = &k.unresolved;
            // Deleting or editing a namespace object acts on that namespace too.
            let mut namespaces: Vec<&String> = k.namespace.iter().collect();
            if k.resources.iter().any(|r| r == "namespaces") {
                namespaces.extend(&k.names);
            }
            let namespaces_hold = match &m.namespaces {
                Some(set) if !u.iter().any(|f| f == "namespace") => {
                    // `-A` is every namespace: a deny list always meets it, an allow list
                    // only through a pattern matching `*`.
                    let mut covered = namespaces
                        .iter()
                        .map(|n| if *n == "*" && !every { true } else { set.is_match(n.as_str()) });
                    if every { covered.all(|c| c) } else { covered.any(|c| c) }
                }
                _ => field(&m.namespaces, every, u, "namespace", namespaces),
            };
            // Objects chosen without names (every object of a type, `--all`, a selector) may
            // be any object: a names condition holds for deny and approval, never for allow.
            let names_hold = if m.names.is_some() && k.selector {
                !every
            } else {
                field(&m.names, every, u, "names", &k.names)
            };
            if !(field(&m.verbs, every, u, "verb", &k.verb)
                && field(&m.resources, every, u, "resources", &k.resources)
                && names_hold
                && namespaces_hold
                && field(&m.contexts, every, u, "context", &k.context))
            {
                return false;
            }
        }
        if let Some(m) = &self.aws {
            let Some(ToolModel::Aws(a)) = &command.tool else { return false };
            let u = &a.unresolved;
            if !(field(&m.actions, every, u, "actions", &a.actions)
                && field(&m.services, every, u, "service", &a.service)
                && field(&m.profiles, every, u, "profile", &a.profile)
                && field(&m.regions, every, u, "region", &a.region))
            {
                return false;
            }
        }
        if let Some(m) = &self.git {
            let Some(ToolModel::Git(g)) = &command.tool else { return false };
            let u = &g.unresolved;
            let force_holds = match m.force {
                None => true,
                Some(_) if u.iter().any(|f| f == "force") => !every,
                Some(wanted) => g.force == wanted,
            };
            if !(field(&m.subcommands, every, u, "subcommand", &g.subcommand) && force_holds) {
                return false;
            }
        }
        true
    }
}

/// Builds a glob set, reporting bad and empty lists at `at`.
fn globs(
    report: Report<'_>,
    at: &[Seg],
    patterns: &Option<Vec<String>>,
    what: &str,
    case_insensitive: bool,
) -> Option<GlobSet> {
    let patterns = patterns.as_ref()?;
    if patterns.is_empty() {
        report(
            at,
            format!("empty `{what}` list can never match; remove it or name at least one pattern"),
        );
        return None;
    }
    let mut builder = GlobSetBuilder::new();
    for (j, pattern) in patterns.iter().enumerate() {
        let built = if case_insensitive && !pattern.is_empty() {
            GlobBuilder::new(pattern)
                .literal_separator(false)
                .backslash_escape(true)
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
        } else {
            glob(pattern)
        };
        match built {
            Ok(g) => {
                builder.add(g);
            }
            Err(message) => report(&item(at, j), message),
        }
    }
    match builder.build() {
        Ok(set) => Some(set),
        Err(e) => {
            report(at, format!("cannot compile `{what}` patterns: {}", e.kind()));
            None
        }
    }
}

fn item(at: &[Seg], j: usize) -> Vec<Seg> {
    let mut path = at.to_vec();
    path.push(Seg::Index(j));
    path
}

fn key(at: &[Seg], name: &str) -> Vec<Seg> {
    let mut path = at.to_vec();
    path.push(Seg::Key(name.to_owned()));
    path
}

/// Compiles the tool conditions of the `command` block at `at`.
pub(crate) fn compile(at: &[Seg], c: &CommandConditions, report: Report<'_>) -> ToolMatcher {
    let blocks: Vec<&str> = [
        c.kubectl.as_ref().map(|_| "kubectl"),
        c.aws.as_ref().map(|_| "aws"),
        c.git.as_ref().map(|_| "git"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let [first, second, ..] = blocks.as_slice() {
        report(
            &key(at, second),
            format!(
                "a command block has both `{first}` and `{second}` conditions; a command is one tool, so split the rule"
            ),
        );
    }
    ToolMatcher {
        kubectl: c.kubectl.as_ref().map(|k| Box::new(kubectl(&key(at, "kubectl"), k, report))),
        aws: c.aws.as_ref().map(|a| Box::new(aws(&key(at, "aws"), a, report))),
        git: c.git.as_ref().map(|g| Box::new(git(&key(at, "git"), g, report))),
    }
}

fn kubectl(at: &[Seg], k: &KubectlConditions, report: Report<'_>) -> KubectlMatcher {
    for (j, pattern) in k.resources.iter().flatten().enumerate() {
        let literal = !pattern.contains(['*', '?', '[', '{', '\\']);
        if pattern.chars().any(|c| c.is_ascii_uppercase()) {
            report(
                &item(&key(at, "resources"), j),
                format!("resource type `{pattern}` must be lowercase"),
            );
        } else if literal
            && let Some(canonical) = canonical_resource(pattern)
            && canonical != pattern
        {
            report(
                &item(&key(at, "resources"), j),
                format!(
                    "write resource type `{canonical}`, not `{pattern}`: types are matched by their canonical plural name"
                ),
            );
        }
    }
    KubectlMatcher {
        verbs: globs(report, &key(at, "verbs"), &k.verbs, "verbs", false),
        resources: globs(report, &key(at, "resources"), &k.resources, "resources", false),
        names: globs(report, &key(at, "names"), &k.names, "names", false),
        namespaces: globs(report, &key(at, "namespaces"), &k.namespaces, "namespaces", false),
        contexts: globs(report, &key(at, "contexts"), &k.contexts, "contexts", false),
    }
}

fn aws(at: &[Seg], a: &AwsConditions, report: Report<'_>) -> AwsMatcher {
    for (j, action) in a.actions.iter().flatten().enumerate() {
        let shaped = action.split_once(':').is_some_and(|(service, name)| {
            !service.is_empty() && !name.is_empty() && !action.contains(char::is_whitespace)
        });
        if !shaped && action != "*" {
            report(
                &item(&key(at, "actions"), j),
                format!(
                    "action `{action}` is not an IAM-style action (`service:Action`, like `s3:DeleteObject`)"
                ),
            );
        }
    }
    AwsMatcher {
        actions: globs(report, &key(at, "actions"), &a.actions, "actions", true),
        services: globs(report, &key(at, "services"), &a.services, "services", false),
        profiles: globs(report, &key(at, "profiles"), &a.profiles, "profiles", false),
        regions: globs(report, &key(at, "regions"), &a.regions, "regions", false),
    }
}

fn git(at: &[Seg], g: &GitConditions, report: Report<'_>) -> GitMatcher {
    GitMatcher {
        subcommands: globs(report, &key(at, "subcommands"), &g.subcommands, "subcommands", false),
        force: g.force,
    }
}

/// Validates the `sql_clients` of resource `i` and returns its routes, program to resource.
pub(crate) fn sql_clients(
    i: usize,
    resource: &ResourceDoc,
    index: &HashMap<String, usize>,
    resources: &[CompiledResource],
    report: Report<'_>,
) -> Vec<(String, String)> {
    let Some(routes) = &resource.sql_clients else { return Vec::new() };
    let at = [Seg::Key("resources".to_owned()), Seg::Index(i), Seg::Key("sql_clients".to_owned())];
    if !resource.kind.runs_commands() {
        report(
            &at,
            format!(
                "`sql_clients` applies to shell resources, not to `{}`",
                resource.kind.as_str()
            ),
        );
        return Vec::new();
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (j, route) in routes.iter().enumerate() {
        let here = item(&at, j);
        if route.programs.is_empty() {
            report(
                &key(&here, "programs"),
                "empty `programs` list routes nothing; name a client".to_owned(),
            );
        }
        for (p, program) in route.programs.iter().enumerate() {
            let program_at = item(&key(&here, "programs"), p);
            if !SQL_CLIENTS.contains(&program.as_str()) {
                report(
                    &program_at,
                    format!(
                        "`{program}` is not a SQL client writ understands ({})",
                        SQL_CLIENTS.join(", ")
                    ),
                );
                continue;
            }
            // mariadb is read as mysql by the command model
            let client = if program == "mariadb" { "mysql" } else { program.as_str() };
            if out.iter().any(|(c, _)| c == client) {
                report(&program_at, format!("SQL client `{program}` is routed twice"));
                continue;
            }
            out.push((client.to_owned(), route.resource.clone()));
        }
        match index.get(&route.resource).and_then(|&k| resources.get(k)) {
            None => report(
                &key(&here, "resource"),
                format!(
                    "SQL clients route to resource `{}`, which no document declares",
                    route.resource
                ),
            ),
            Some(target) if target.dialect.is_none() => report(
                &key(&here, "resource"),
                format!("SQL clients route to `{}`, which is not a SQL database", route.resource),
            ),
            Some(_) => {}
        }
    }
    out
}
