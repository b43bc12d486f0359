//! The `git` model: the subcommand after global options, whether it forces (discards or
//! overwrites work or history), and the ways git runs programs of the caller's choosing.
//!
//! # Programs git runs
//!
//! The command is *dynamic* (never allowed; its program cannot be known) when:
//! * `-c KEY=VALUE`, `--config-env=KEY=VAR`, `git clone -c/--config KEY=VALUE` or
//!   `git config [set] KEY VALUE` (which plants it for later) names a key that runs a program or
//!   changes what a subcommand means: `alias.*`, `pager.*`, `core.pager`, `core.sshCommand`,
//!   `core.editor`, `core.hooksPath`, `core.fsmonitor`, `core.askPass`, `core.gitProxy`,
//!   `core.alternateRefsCommand`, `sequence.editor`, `credential[.URL].helper`,
//!   `diff.external`, `diff.*.textconv`, `diff.*.command`, `filter.*.clean|smudge|process`,
//!   `merge.*.driver`, `gpg[.FORMAT].program`, `include.path`, `includeIf.*.path`,
//!   `uploadpack.packObjectsHook`, `protocol[.NAME].allow`, `remote.*.uploadpack`,
//!   `remote.*.receivepack`, `sendemail.*`, `web.browser`, `browser|difftool|mergetool|man|
//!   guitool.*.cmd|path`, `interactive.diffFilter`, `submodule.*.update`, `init.templateDir`,
//!   `trailer.*.command|cmd`, `imap.tunnel`, `instaweb.httpd`; or a key that is not literal;
//! * `--exec-path=DIR` (git runs its subcommands from `DIR`);
//! * `--upload-pack`, `--receive-pack`, `--exec` (fetch, pull, clone, push, ls-remote,
//!   archive), `git clone -u`, `git grep -O`/`--open-files-in-pager`;
//! * `git filter-branch` with a `--*-filter` (shell code run per commit).
//!
//! Shell code git runs is listed as commands of the line: `git submodule foreach CMD`,
//! `git rebase -x/--exec CMD`, `git difftool -x/--extcmd CMD`; `git bisect run CMD ARGS`
//! lists `CMD ARGS`.

use super::{Found, GitModel, ToolInner, ToolModel, mark};
use crate::command::analyze::Arg;

/// Global options that take the next word as their value.
const GLOBAL_VALUE: &[&str] = &[
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
    "--super-prefix",
    "--attr-source",
    "--list-cmds",
];

/// Subcommands whose arguments decide `force`: an unknown argument leaves it unresolved.
const FORCE_SUBCOMMANDS: &[&str] = &[
    "push",
    "reset",
    "clean",
    "checkout",
    "restore",
    "switch",
    "branch",
    "tag",
    "stash",
    "worktree",
    "reflog",
    "update-ref",
];

/// Whether a configuration key (any case) runs a program or changes what a command means.
pub(crate) fn dangerous_config(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let section = key.split('.').next().unwrap_or_default();
    let variable = key.rsplit('.').next().unwrap_or_default();
    if !key.contains('.') {
        return false;
    }
    match section {
        "alias" | "pager" | "sendemail" => true,
        "core" => matches!(
            variable,
            "pager"
                | "sshcommand"
                | "editor"
                | "hookspath"
                | "fsmonitor"
                | "askpass"
                | "gitproxy"
                | "alternaterefscommand"
        ),
        "sequence" => variable == "editor",
        "credential" => variable == "helper",
        "diff" => matches!(variable, "external" | "textconv" | "command"),
        "filter" => matches!(variable, "clean" | "smudge" | "process"),
        "merge" => variable == "driver",
        "gpg" => variable == "program",
        "include" | "includeif" => variable == "path",
        "uploadpack" => variable == "packobjectshook",
        "protocol" => variable == "allow",
        "remote" => matches!(variable, "uploadpack" | "receivepack"),
        "web" => variable == "browser",
        "browser" | "difftool" | "mergetool" | "man" | "guitool" => {
            matches!(variable, "cmd" | "path")
        }
        "interactive" => variable == "difffilter",
        "submodule" => variable == "update",
        "init" => variable == "templatedir",
        "trailer" => matches!(variable, "command" | "cmd"),
        "imap" => variable == "tunnel",
        "instaweb" => variable == "httpd",
        _ => false,
    }
}

/// A `KEY=VALUE` configuration argument that is dangerous or not literal.
fn dangerous_assignment(arg: &Arg) -> bool {
    arg.dynamic || dangerous_config(arg.text.split_once('=').map_or(&arg.text, |(k, _)| k))
}

/// The options (split into single letters and long names) and operands after the subcommand.
struct Rest {
    shorts: Vec<char>,
    longs: Vec<String>,
    operands: Vec<String>,
    /// Operands after `--`.
    after_dashes: Vec<String>,
    dynamic_value: bool,
}

impl Rest {
    fn has(&self, short: char) -> bool {
        self.shorts.contains(&short)
    }

    fn long(&self, name: &str) -> bool {
        self.longs.iter().any(|l| l == name || l.starts_with(&format!("{name}=")))
    }
}

/// Splits `args` (after the subcommand); short options in `short_value` take a value.
fn rest(args: &[Arg], short_value: &str, long_value: &[&str]) -> Rest {
    let mut r = Rest {
        shorts: Vec::new(),
        longs: Vec::new(),
        operands: Vec::new(),
        after_dashes: Vec::new(),
        dynamic_value: false,
    };
    let mut i = 0usize;
    let mut dashes = false;
    while let Some(a) = args.get(i) {
        i += 1;
        let t = a.text.as_str();
        if dashes {
            r.after_dashes.push(t.to_owned());
        } else if a.dynamic {
            r.dynamic_value = true;
            r.operands.push(t.to_owned());
        } else if t == "--" {
            dashes = true;
        } else if let Some(long) = t.strip_prefix("--") {
            r.longs.push(long.to_owned());
            if long_value.contains(&long) {
                i += 1;
            }
        } else if t.len() > 1 && t.starts_with('-') {
            let body: Vec<char> = t.chars().skip(1).collect();
            for (k, ch) in body.iter().enumerate() {
                r.shorts.push(*ch);
                if short_value.contains(*ch) {
                    // the value is the rest of the cluster, or the next word
                    if k + 1 == body.len() {
                        i += 1;
                    }
                    break;
                }
            }
        } else {
            r.operands.push(t.to_owned());
        }
    }
    r
}

/// The value of option `-x VALUE` / `-xVALUE` / `--long VALUE` / `--long=VALUE` in `args`.
fn option_values(args: &[Arg], short: Option<char>, long: &str) -> Vec<Arg> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(a) = args.get(i) {
        i += 1;
        let t = a.text.as_str();
        if t == "--" {
            break;
        }
        if t == format!("--{long}") {
            out.extend(args.get(i).cloned());
            i += 1;
        } else if let Some(v) = t.strip_prefix(&format!("--{long}=")) {
            out.push(Arg { text: v.to_owned(), ..a.clone() });
        } else if let Some(s) = short
            && t.len() > 1
            && t.starts_with('-')
            && !t.starts_with("--")
            && let Some(at) = t.find(s)
        {
            let attached = t.get(at + s.len_utf8()..).unwrap_or_default();
            if attached.is_empty() {
                out.extend(args.get(i).cloned());
                i += 1;
            } else {
                out.push(Arg { text: attached.to_owned(), ..a.clone() });
            }
        }
    }
    out
}

pub(crate) fn model(args: &[Arg]) -> Found {
    let mut model = GitModel::default();
    let mut dynamic = false;
    let mut i = 1usize;
    let mut sub_at = None;
    while let Some(a) = args.get(i) {
        if a.dynamic {
            mark(&mut model.unresolved, "subcommand");
            mark(&mut model.unresolved, "force");
            break;
        }
        let t = a.text.as_str();
        if GLOBAL_VALUE.contains(&t) {
            if let Some(value) = args.get(i + 1)
                && matches!(t, "-c" | "--config-env")
                && dangerous_assignment(value)
            {
                dynamic = true;
            }
            i += 2;
            continue;
        }
        if let Some(value) = t.strip_prefix("--config-env=") {
            dynamic |= dangerous_assignment(&Arg::literal(value));
        }
        if t.starts_with("--exec-path=") {
            dynamic = true;
        }
        if t.starts_with('-') {
            i += 1;
            continue;
        }
        model.subcommand = Some(t.to_owned());
        sub_at = Some(i);
        break;
    }
    let mut inner = None;
    if let (Some(sub), Some(at)) = (model.subcommand.clone(), sub_at) {
        let after = args.get(at + 1..).unwrap_or_default();
        let (force, is_dynamic, run) = subcommand(&sub, after);
        model.force = force;
        dynamic |= is_dynamic;
        inner = run;
        if FORCE_SUBCOMMANDS.contains(&sub.as_str()) && after.iter().any(|a| a.dynamic) {
            mark(&mut model.unresolved, "force");
        }
    }
    Found { model: ToolModel::Git(model), inner, dynamic }
}

/// Force, dynamic, and the command run, for one subcommand and its arguments.
fn subcommand(sub: &str, after: &[Arg]) -> (bool, bool, Option<ToolInner>) {
    let code = |words: Vec<Arg>, label: &str| {
        (!words.is_empty()).then(|| ToolInner::Code(words, label.to_owned()))
    };
    match sub {
        "push" => {
            let r = rest(after, "o", &["repo", "receive-pack", "exec", "push-option"]);
            let force = r.has('f')
                || r.has('d')
                || ["force", "force-with-lease", "force-if-includes", "mirror", "delete", "prune"]
                    .iter()
                    .any(|l| r.long(l))
                || r.operands
                    .iter()
                    .chain(&r.after_dashes)
                    .any(|o| o.starts_with('+') || o.starts_with(':') || o.contains(":+"));
            let dynamic = r.long("receive-pack") || r.long("exec");
            (force, dynamic, None)
        }
        "fetch" | "pull" | "ls-remote" | "archive" => {
            let r = rest(after, "", &[]);
            (false, r.long("upload-pack") || r.long("exec"), None)
        }
        "clone" => {
            let r = rest(after, "cbuoj", &["config", "branch", "upload-pack", "origin", "jobs"]);
            let configs = option_values(after, Some('c'), "config");
            let dynamic = r.has('u')
                || r.long("upload-pack")
                || r.long("template")
                || configs.iter().any(dangerous_assignment);
            (false, dynamic, None)
        }
        "config" => {
            let r = rest(after, "f", &["file", "blob", "type", "default", "comment", "value"]);
            let mut words: Vec<&String> = r.operands.iter().collect();
            let set = words.first().is_some_and(|w| *w == "set");
            if set {
                words.remove(0);
            }
            let writes = set || words.len() >= 2 || r.long("add") || r.long("replace-all");
            let dangerous =
                r.dynamic_value || words.first().is_some_and(|key| dangerous_config(key));
            (false, writes && dangerous, None)
        }
        "reset" => (rest(after, "", &[]).long("hard"), false, None),
        "clean" => {
            let r = rest(after, "e", &["exclude"]);
            (r.has('f') || r.long("force"), false, None)
        }
        "checkout" => {
            let r = rest(after, "bB", &[]);
            let force = r.has('f')
                || r.long("force")
                || r.has('B')
                || !r.after_dashes.is_empty()
                || r.operands.iter().any(|o| o == ".");
            (force, false, None)
        }
        "restore" => {
            let r = rest(after, "s", &["source"]);
            let staged_only =
                (r.has('S') || r.long("staged")) && !(r.has('W') || r.long("worktree"));
            (!staged_only, false, None)
        }
        "switch" => {
            let r = rest(after, "cC", &[]);
            (r.has('f') || r.long("force") || r.long("discard-changes") || r.has('C'), false, None)
        }
        "branch" => {
            let r = rest(after, "", &[]);
            let force = r.has('D')
                || r.has('M')
                || r.has('C')
                || r.has('f')
                || r.long("force")
                || ((r.has('d') || r.long("delete")) && r.long("force"));
            (force, false, None)
        }
        "tag" => {
            let r = rest(after, "mF", &["message", "file"]);
            (r.has('f') || r.long("force"), false, None)
        }
        "stash" => {
            let first = after.first().map(|a| a.text.as_str());
            (matches!(first, Some("drop" | "clear")), false, None)
        }
        "worktree" => {
            let r = rest(after, "", &[]);
            let remove = r.operands.first().is_some_and(|o| o == "remove");
            (remove && (r.has('f') || r.long("force")), false, None)
        }
        "reflog" => {
            let first = after.first().map(|a| a.text.as_str());
            (matches!(first, Some("expire" | "delete")), false, None)
        }
        "update-ref" => {
            let r = rest(after, "m", &[]);
            (r.has('d'), false, None)
        }
        "filter-branch" => {
            let r = rest(after, "", &[]);
            (true, r.longs.iter().any(|l| l.ends_with("-filter")), None)
        }
        "filter-repo" => (true, false, None),
        "grep" => {
            let r = rest(after, "Oefm", &[]);
            (false, r.has('O') || r.long("open-files-in-pager"), None)
        }
        "submodule" => {
            let mut words = after.iter().skip_while(|a| a.text.starts_with('-'));
            let is_foreach = words.next().is_some_and(|a| a.text == "foreach");
            if !is_foreach {
                return (false, false, None);
            }
            let command: Vec<Arg> =
                words.skip_while(|a| a.text.starts_with('-')).cloned().collect();
            (false, false, code(command, "git submodule foreach"))
        }
        "rebase" => {
            let commands = option_values(after, Some('x'), "exec");
            (false, false, code(commands, "git rebase --exec"))
        }
        "difftool" => {
            let commands = option_values(after, Some('x'), "extcmd");
            (false, false, code(commands, "git difftool --extcmd"))
        }
        "bisect" => {
            let is_run = after.first().is_some_and(|a| a.text == "run");
            let command: Vec<Arg> = after.iter().skip(1).cloned().collect();
            let inner = (is_run && !command.is_empty())
                .then(|| ToolInner::Argv(command, "git bisect run".to_owned()));
            (false, false, inner)
        }
        _ => (false, false, None),
    }
}
