//! The `kubectl` model: verb, resource types, names, namespace, context, manifests and the
//! command `kubectl exec` runs.
//!
//! Options are read the way kubectl's flag parser (pflag) reads them: anywhere in the argv,
//! global ones before the verb included (`kubectl -n prod --context x delete pod y`); short
//! clusters (`-it`), attached values (`-nprod`, `-n=prod`, `--namespace=prod`); `--` ends the
//! options and starts the container command of `exec` / `debug` / `run --command`. Options
//! that take a value are listed in [`LONG_VALUE`] and [`SHORT_VALUE`]; an unlisted option is
//! read as a switch, so a value after it is read as a positional (a name), never skipped.

use super::{Found, KubectlModel, ToolInner, ToolModel, mark};
use crate::command::analyze::Arg;

/// Canonical plural resource types and their other spellings (singular, short names).
const RESOURCES: &[(&str, &[&str])] = &[
    ("pods", &["po", "pod"]),
    ("services", &["svc", "service"]),
    ("deployments", &["deploy", "deployment"]),
    ("replicasets", &["rs", "replicaset"]),
    ("statefulsets", &["sts", "statefulset"]),
    ("daemonsets", &["ds", "daemonset"]),
    ("jobs", &["job"]),
    ("cronjobs", &["cj", "cronjob"]),
    ("configmaps", &["cm", "configmap"]),
    ("secrets", &["secret"]),
    ("namespaces", &["ns", "namespace"]),
    ("nodes", &["no", "node"]),
    ("persistentvolumeclaims", &["pvc", "persistentvolumeclaim"]),
    ("persistentvolumes", &["pv", "persistentvolume"]),
    ("serviceaccounts", &["sa", "serviceaccount"]),
    ("ingresses", &["ing", "ingress"]),
    ("ingressclasses", &["ingressclass"]),
    ("networkpolicies", &["netpol", "networkpolicy"]),
    ("horizontalpodautoscalers", &["hpa", "horizontalpodautoscaler"]),
    ("poddisruptionbudgets", &["pdb", "poddisruptionbudget"]),
    ("roles", &["role"]),
    ("rolebindings", &["rolebinding"]),
    ("clusterroles", &["clusterrole"]),
    ("clusterrolebindings", &["clusterrolebinding"]),
    ("customresourcedefinitions", &["crd", "crds", "customresourcedefinition"]),
    ("events", &["ev", "event"]),
    ("endpoints", &["ep"]),
    ("endpointslices", &["endpointslice"]),
    ("limitranges", &["limits", "limitrange"]),
    ("resourcequotas", &["quota", "resourcequota"]),
    ("replicationcontrollers", &["rc", "replicationcontroller"]),
    ("storageclasses", &["sc", "storageclass"]),
    ("priorityclasses", &["pc", "priorityclass"]),
    ("certificatesigningrequests", &["csr", "certificatesigningrequest"]),
    ("podtemplates", &["podtemplate"]),
    ("leases", &["lease"]),
    ("mutatingwebhookconfigurations", &["mutatingwebhookconfiguration"]),
    ("validatingwebhookconfigurations", &["validatingwebhookconfiguration"]),
    ("apiservices", &["apiservice"]),
    ("componentstatuses", &["cs", "componentstatus"]),
    ("controllerrevisions", &["controllerrevision"]),
    ("runtimeclasses", &["runtimeclass"]),
    ("volumeattachments", &["volumeattachment"]),
    ("csidrivers", &["csidriver"]),
    ("csinodes", &["csinode"]),
];

/// The types `kubectl get all` / `delete all` covers.
const ALL_CATEGORY: &[&str] = &[
    "pods",
    "services",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "replicationcontrollers",
];

/// Long options that take a value (as `--name value` as well as `--name=value`).
pub(crate) const LONG_VALUE: &[&str] = &[
    // global
    "namespace",
    "context",
    "cluster",
    "user",
    "kubeconfig",
    "server",
    "token",
    "as",
    "as-group",
    "as-uid",
    "certificate-authority",
    "client-certificate",
    "client-key",
    "request-timeout",
    "tls-server-name",
    "cache-dir",
    "log-file",
    "log-dir",
    "password",
    "username",
    "profile",
    "profile-output",
    "vmodule",
    "v",
    // per verb
    "output",
    "selector",
    "field-selector",
    "filename",
    "kustomize",
    "container",
    "template",
    "sort-by",
    "label-columns",
    "chunk-size",
    "grace-period",
    "timeout",
    "image",
    "replicas",
    "port",
    "target-port",
    "type",
    "name",
    "env",
    "labels",
    "overrides",
    "patch",
    "patch-file",
    "since",
    "since-time",
    "tail",
    "limit-bytes",
    "max-log-requests",
    "pod-running-timeout",
    "for",
    "field-manager",
    "resource-version",
    "subresource",
    "current-replicas",
    "min",
    "max",
    "cpu-percent",
    "external-ip",
    "protocol",
    "cluster-ip",
    "restart",
    "requests",
    "limits",
    "serviceaccount",
    "image-pull-policy",
    "address",
    "from-literal",
    "from-file",
    "from-env-file",
    "docker-server",
    "docker-username",
    "docker-password",
    "docker-email",
    "cert",
    "key",
    "role",
    "clusterrole",
    "group",
    "verb",
    "resource",
    "resource-name",
    "schedule",
    "duration",
    "audience",
    "to-revision",
    "revision",
    "copy-to",
    "target",
    "selector",
    "local-ssd-count",
    "prune-allowlist",
    "raw",
];

/// Short options that take a value (`-n prod`, `-nprod`, `-n=prod`); `-p` too for `patch`.
const SHORT_VALUE: &str = "nslcfkoLv";

/// Verbs with a sub-verb, reported as `verb sub-verb`.
const GROUP_VERBS: &[&str] = &["rollout", "config", "auth", "set", "certificate", "plugin"];

/// Verbs whose first positional is a pod (or `type/name`).
const POD_VERBS: &[&str] = &["exec", "logs", "attach", "port-forward", "debug"];

/// Verbs that act on nodes by name.
const NODE_VERBS: &[&str] = &["drain", "cordon", "uncordon", "taint"];

/// Verbs that take no objects.
const NO_OBJECT_VERBS: &[&str] = &[
    "version",
    "api-resources",
    "api-versions",
    "cluster-info",
    "config",
    "auth",
    "plugin",
    "completion",
    "kustomize",
    "options",
    "help",
    "proxy",
    "events",
    "alpha",
];

/// The canonical plural name of a resource type spelling (`deploy` → `deployments`,
/// `deployments.apps` → `deployments`), or `None` when it is not a built-in type.
pub(crate) fn canonical_resource(spelling: &str) -> Option<&'static str> {
    let lower = spelling.to_ascii_lowercase();
    let base = lower.split('.').next().unwrap_or_default();
    RESOURCES
        .iter()
        .find(|(canonical, others)| *canonical == base || others.contains(&base))
        .map(|(canonical, _)| *canonical)
}

/// The types one type word stands for (`pods,svc` → `pods`, `services`; `all` → `all` and
/// its category); unknown types are kept lowercase.
fn types_of(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in word.split(',').filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        if lower == "all" {
            out.push("all".to_owned());
            out.extend(ALL_CATEGORY.iter().map(|t| (*t).to_owned()));
        } else {
            out.push(canonical_resource(&lower).map_or(lower, str::to_owned));
        }
    }
    out
}

/// Options and positionals of one kubectl argv.
#[derive(Default)]
struct Scan {
    verb: Option<String>,
    positionals: Vec<String>,
    /// Index in the argv of each positional.
    positional_at: Vec<usize>,
    namespace: Option<String>,
    context: Option<String>,
    manifest: bool,
    selector: bool,
    run_command: bool,
    /// Everything after `--`.
    after_dashes: Option<Vec<Arg>>,
    unresolved: Vec<String>,
}

impl Scan {
    fn option(&mut self, name: &str, value: Option<&Arg>) {
        let dynamic = value.is_some_and(|v| v.dynamic);
        let text = value.map(|v| v.text.clone());
        match name {
            "n" | "namespace" => {
                self.namespace = text;
                if dynamic {
                    mark(&mut self.unresolved, "namespace");
                }
            }
            "A" | "all-namespaces" => self.namespace = Some("*".to_owned()),
            "context" => {
                self.context = text;
                if dynamic {
                    mark(&mut self.unresolved, "context");
                }
            }
            "f" | "filename" | "k" | "kustomize" => self.manifest = true,
            "l" | "selector" | "field-selector" | "all" => self.selector = true,
            "command" => self.run_command = true,
            _ => {}
        }
    }
}

fn scan(args: &[Arg]) -> Scan {
    let mut s = Scan::default();
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        i += 1;
        if a.dynamic {
            // An unknown word may be any option or positional: everything but a verb already
            // read is unresolved.
            let fields = ["resources", "names", "namespace", "context"];
            for f in fields {
                mark(&mut s.unresolved, f);
            }
            if s.verb.is_none() {
                mark(&mut s.unresolved, "verb");
            }
            s.positionals.push(a.text.clone());
            s.positional_at.push(i - 1);
            continue;
        }
        let t = a.text.as_str();
        if t == "--" {
            s.after_dashes = Some(args.get(i..).unwrap_or_default().to_vec());
            break;
        }
        if let Some((name, value)) = super::long_option(t) {
            match value {
                Some(v) => s.option(name, Some(&Arg::literal(v))),
                None if LONG_VALUE.contains(&name) => {
                    let value = args.get(i);
                    i += 1;
                    s.option(name, value);
                }
                None => s.option(name, None),
            }
            continue;
        }
        if t.len() > 1 && t.starts_with('-') {
            let body: Vec<char> = t.chars().skip(1).collect();
            for (k, ch) in body.iter().enumerate() {
                // `-p` takes a value for `patch` only; `-f` is `--follow` for `logs`
                let verb = s.verb.as_deref();
                let takes_value = (SHORT_VALUE.contains(*ch)
                    && !(*ch == 'f' && verb == Some("logs")))
                    || (*ch == 'p' && verb == Some("patch"));
                if *ch == 'f' && verb == Some("logs") {
                    continue;
                }
                if takes_value {
                    let rest: String = body.get(k + 1..).unwrap_or_default().iter().collect();
                    let rest = rest.strip_prefix('=').unwrap_or(&rest).to_owned();
                    if rest.is_empty() {
                        let value = args.get(i);
                        i += 1;
                        s.option(&ch.to_string(), value);
                    } else {
                        s.option(&ch.to_string(), Some(&Arg::literal(&rest)));
                    }
                    break;
                }
                s.option(&ch.to_string(), None);
            }
            continue;
        }
        if s.verb.is_none() {
            s.verb = Some(t.to_owned());
        } else {
            s.positionals.push(t.to_owned());
            s.positional_at.push(i - 1);
        }
    }
    s
}

/// `type/name` split, with the type canonicalized.
fn slashed(word: &str) -> Option<(String, String)> {
    let (kind, name) = word.split_once('/')?;
    let kind = types_of(kind).into_iter().next().unwrap_or_default();
    Some((kind, name.to_owned()))
}

/// Objects named the generic way: `TYPE[,TYPE] NAME...` or `TYPE/NAME...`. Positionals that
/// are `key=value` or `key-` (labels, annotations, `set env`) are not names.
fn generic_objects(positionals: &[String], model: &mut KubectlModel) {
    let words: Vec<&String> = positionals
        .iter()
        .filter(|p| !(p.contains('=') || (p.ends_with('-') && p.len() > 1)))
        .collect();
    let Some(first) = words.first() else { return };
    if first.contains('/') {
        for w in &words {
            if let Some((kind, name)) = slashed(w) {
                push_unique(&mut model.resources, kind);
                model.names.push(name);
            }
        }
    } else {
        for kind in types_of(first) {
            push_unique(&mut model.resources, kind);
        }
        model.names.extend(words.iter().skip(1).map(|w| (*w).clone()));
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// A pod-like target: `NAME` (a pod) or `TYPE/NAME`.
fn pod_target(word: &str, model: &mut KubectlModel) {
    match slashed(word) {
        Some((kind, name)) => {
            push_unique(&mut model.resources, kind);
            model.names.push(name);
        }
        None => {
            push_unique(&mut model.resources, "pods".to_owned());
            model.names.push(word.to_owned());
        }
    }
}

pub(crate) fn model(args: &[Arg]) -> Found {
    let s = scan(args);
    let mut model = KubectlModel {
        namespace: s.namespace.clone(),
        context: s.context.clone(),
        manifest: s.manifest,
        unresolved: s.unresolved.clone(),
        ..KubectlModel::default()
    };
    let mut positionals = s.positionals.clone();
    let verb = s.verb.clone().unwrap_or_default();
    let mut inner = None;
    // The sub-verb of grouped verbs, and of `apply view-last-applied` / `cluster-info dump`.
    let sub = positionals.first().cloned().filter(|p| {
        GROUP_VERBS.contains(&verb.as_str())
            || (verb == "apply" && p.ends_with("-last-applied"))
            || (verb == "cluster-info" && p == "dump")
    });
    model.verb = match &sub {
        Some(sub) => {
            positionals.remove(0);
            Some(format!("{verb} {sub}"))
        }
        None => s.verb.clone(),
    };
    let head = positionals.first().cloned().unwrap_or_default();
    match verb.as_str() {
        _ if s.manifest => {
            mark(&mut model.unresolved, "resources");
            mark(&mut model.unresolved, "names");
        }
        v if POD_VERBS.contains(&v) => {
            if !head.is_empty() {
                pod_target(&head, &mut model);
            }
            let label = format!("kubectl {v}");
            let command = match (&s.after_dashes, v) {
                (Some(rest), "exec" | "debug") => Some(rest.clone()),
                // the deprecated `kubectl exec POD CMD ...` form
                (None, "exec") => {
                    s.positional_at.get(1).map(|&at| args.get(at..).unwrap_or_default().to_vec())
                }
                _ => None,
            };
            if let Some(command) = command.filter(|c| !c.is_empty()) {
                model.exec_command = Some(command.iter().map(|a| a.text.clone()).collect());
                inner = Some(ToolInner::Argv(command, label));
            }
        }
        "run" => {
            if !head.is_empty() {
                push_unique(&mut model.resources, "pods".to_owned());
                model.names.push(head.clone());
            }
            if s.run_command
                && let Some(rest) = s.after_dashes.clone().filter(|r| !r.is_empty())
            {
                model.exec_command = Some(rest.iter().map(|a| a.text.clone()).collect());
                inner = Some(ToolInner::Argv(rest, "kubectl run".to_owned()));
            }
        }
        v if NODE_VERBS.contains(&v) => {
            push_unique(&mut model.resources, "nodes".to_owned());
            let mut names: Vec<&String> =
                positionals.iter().filter(|p| !p.contains('=') && !p.contains(':')).collect();
            if names.first().is_some_and(|n| canonical_resource(n) == Some("nodes")) {
                names.remove(0);
            }
            model.names.extend(names.into_iter().cloned());
        }
        "cp" => {
            for p in &positionals {
                if let Some((pod, _)) = p.split_once(':') {
                    let pod = pod.rsplit('/').next().unwrap_or(pod);
                    push_unique(&mut model.resources, "pods".to_owned());
                    model.names.push(pod.to_owned());
                }
            }
        }
        "create" => {
            if let Some(kind) = types_of(&head).into_iter().next() {
                push_unique(&mut model.resources, kind.clone());
                let skip = if matches!(kind.as_str(), "secrets" | "services") { 2 } else { 1 };
                model.names.extend(positionals.iter().skip(skip).take(1).cloned());
            }
        }
        "top" => {
            if let Some(kind) = types_of(&head).into_iter().next() {
                push_unique(&mut model.resources, kind);
                model.names.extend(positionals.iter().skip(1).cloned());
            }
        }
        "explain" => {
            if let Some(kind) = types_of(head.split('.').next().unwrap_or_default()).pop() {
                push_unique(&mut model.resources, kind);
            }
        }
        "certificate" => {
            push_unique(&mut model.resources, "certificatesigningrequests".to_owned());
            model.names.extend(positionals.iter().cloned());
        }
        v if NO_OBJECT_VERBS.contains(&v) => {}
        _ => generic_objects(&positionals, &mut model),
    }
    if !model.resources.is_empty() && (model.names.is_empty() || s.selector) {
        model.selector = true;
    }
    if model.namespace.is_none() {
        mark(&mut model.unresolved, "namespace");
    }
    if model.context.is_none() {
        mark(&mut model.unresolved, "context");
    }
    Found { model: ToolModel::Kubectl(model), inner, dynamic: false }
}
