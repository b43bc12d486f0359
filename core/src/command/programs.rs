//! Per-program knowledge: normalization of argv into program / flags /
//! operands, wrapper unwrapping, shells and interpreters.

use super::analyze::{Analyzer, Arg, Frame, Stdin};
use super::{CommandView, InlineCode};

/// Programs whose options are single-dash long options (not split into clusters).
const SINGLE_DASH_LONG: &[&str] = &["find", "java", "javac", "gcc", "g++", "clang", "go"];

/// Shells that accept `-c code`.
const SHELLS: &[&str] = &[
    "bash", "sh", "zsh", "dash", "ksh", "ash", "fish", "mksh", "yash", "rbash", "pdksh", "csh",
    "tcsh",
];

/// What a command leads to.
enum Inner {
    /// Nothing more runs.
    None,
    /// The command itself cannot be resolved.
    Dynamic,
    /// Another argv runs.
    Argv { args: Vec<Arg>, label: String, extra_args: bool },
    /// Literal shell code runs.
    Code { code: String, labels: Vec<String> },
    /// Interpreter code (reported, not parsed).
    Inline { code: InlineCode, dynamic: bool },
    /// Several of the above (`find -exec ... -exec ...`).
    Many(Vec<Inner>),
}

/// Result of scanning getopt-style options.
struct Scan {
    /// Index of the first operand.
    operand: usize,
    /// Options seen (name, value).
    seen: Vec<(String, Option<Arg>)>,
}

impl Scan {
    fn has(&self, names: &[&str]) -> bool {
        self.seen.iter().any(|(n, _)| names.contains(&n.as_str()))
    }
}

/// Scans options from `start`; `None` when a dynamic word sits in option position.
fn scan_opts(args: &[Arg], start: usize, short_val: &str, long_val: &[&str]) -> Option<Scan> {
    let mut i = start;
    let mut seen = Vec::new();
    while let Some(a) = args.get(i) {
        if a.dynamic {
            return None;
        }
        let t = a.text.as_str();
        if t == "--" {
            return Some(Scan { operand: i + 1, seen });
        }
        if let Some(long) = t.strip_prefix("--") {
            if let Some((n, v)) = long.split_once('=') {
                seen.push((n.to_owned(), Some(Arg::literal(v))));
                i += 1;
            } else if long_val.contains(&long) {
                seen.push((long.to_owned(), args.get(i + 1).cloned()));
                i += 2;
            } else {
                seen.push((long.to_owned(), None));
                i += 1;
            }
            continue;
        }
        if t.len() > 1 && t.starts_with('-') {
            let body: Vec<char> = t.chars().skip(1).collect();
            let mut consumed_next = false;
            for (k, ch) in body.iter().enumerate() {
                if short_val.contains(*ch) {
                    let rest: String = body.get(k + 1..).unwrap_or_default().iter().collect();
                    if rest.is_empty() {
                        seen.push((ch.to_string(), args.get(i + 1).cloned()));
                        consumed_next = true;
                    } else {
                        seen.push((ch.to_string(), Some(Arg::literal(&rest))));
                    }
                    break;
                }
                seen.push((ch.to_string(), None));
            }
            i += if consumed_next { 2 } else { 1 };
            continue;
        }
        break;
    }
    Some(Scan { operand: i, seen })
}

fn tail(args: &[Arg], from: usize) -> Vec<Arg> {
    args.get(from..).unwrap_or_default().to_vec()
}

fn is_assignment(t: &str) -> bool {
    match t.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Basename of a program word.
pub(crate) fn basename(text: &str) -> String {
    text.split('/')
        .rfind(|s| !s.is_empty() && *s != ".")
        .map_or_else(|| text.to_owned(), str::to_owned)
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '[']) || s.contains("@(") || s.contains("+(") || s.contains("!(")
}

/// Builds the view of one argv (program, argv, flags, operands).
fn base_view(args: &[Arg], frame: &Frame) -> CommandView {
    let first = args.first().cloned().unwrap_or_else(|| Arg::literal(""));
    let program = if first.dynamic { first.text.clone() } else { basename(&first.text) };
    let dynamic = first.dynamic || (first.glob && has_glob_chars(&program));
    let no_split = SINGLE_DASH_LONG.contains(&program.as_str());
    let mut argv = vec![first.text.clone()];
    let mut flags: Vec<String> = Vec::new();
    let mut operands = Vec::new();
    let mut after_dd = false;
    let add_flag = |flags: &mut Vec<String>, f: String| {
        if !flags.contains(&f) {
            flags.push(f);
        }
    };
    for a in args.iter().skip(1) {
        let t = a.text.clone();
        if a.dynamic || after_dd {
            argv.push(t.clone());
            operands.push(t);
            continue;
        }
        if t == "--" {
            after_dd = true;
            argv.push(t);
            continue;
        }
        if let Some(long) = t.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            add_flag(&mut flags, name.to_owned());
            argv.push(t);
            continue;
        }
        if let Some(body) = t.strip_prefix('-').filter(|b| !b.is_empty()) {
            if no_split || body.chars().all(|c| c.is_ascii_digit()) {
                add_flag(&mut flags, body.to_owned());
                argv.push(t);
            } else {
                for ch in body.chars() {
                    add_flag(&mut flags, ch.to_string());
                    argv.push(format!("-{ch}"));
                }
            }
            continue;
        }
        argv.push(t.clone());
        operands.push(t);
    }
    CommandView {
        program,
        argv,
        flags,
        operands,
        raw_argv: args.iter().map(|a| a.text.clone()).collect(),
        via: frame.via.clone(),
        inline_code: None,
        dynamic,
        dynamic_args: args.iter().skip(1).any(|a| a.dynamic),
        tool: None,
    }
}

/// Name used to recognise wrappers, shells and interpreters.
fn class_name(program: &str) -> String {
    let lower = program.to_ascii_lowercase();
    lower.strip_suffix(".exe").map_or(lower.clone(), str::to_owned)
}

impl Analyzer<'_> {
    /// Lists one command (and what it wraps).
    pub(crate) fn run_command(
        &mut self,
        args: Vec<Arg>,
        frame: &Frame,
        stdin: Stdin,
        extra_args: bool,
    ) {
        if self.failed() || self.too_deep(frame) || args.is_empty() {
            return;
        }
        if self.commands.len() >= self.limits.max_commands {
            self.fail_limit(
                frame,
                "command.max_commands",
                &format!("more than {} commands in one line", self.limits.max_commands),
            );
            return;
        }
        let mut view = base_view(&args, frame);
        view.dynamic_args |= extra_args;
        if args.iter().any(|a| a.prompt) {
            view.dynamic = true;
        }
        let mut inner = if view.dynamic {
            Inner::None
        } else {
            classify(&class_name(&view.program), &args, &stdin)
        };
        if !view.dynamic
            && let Some(found) = super::tools::model(&class_name(&view.program), &args, &stdin)
        {
            view.dynamic |= found.dynamic;
            view.tool = Some(found.model);
            match found.inner {
                Some(super::tools::ToolInner::Argv(args, label)) => {
                    inner = Inner::Argv { args, label, extra_args: false };
                }
                Some(super::tools::ToolInner::Code(words, label)) => {
                    inner = code_inner(&words, &label);
                }
                None => {}
            }
        }
        self.finish_command(view, inner, frame, &stdin);
    }

    fn finish_command(
        &mut self,
        mut view: CommandView,
        inner: Inner,
        frame: &Frame,
        stdin: &Stdin,
    ) {
        match inner {
            Inner::None => self.commands.push(view),
            Inner::Dynamic => {
                view.dynamic = true;
                self.commands.push(view);
            }
            Inner::Inline { code, dynamic } => {
                view.inline_code = Some(code);
                view.dynamic |= dynamic;
                self.commands.push(view);
            }
            Inner::Argv { args, label, extra_args } => {
                self.commands.push(view);
                self.run_command(args, &frame.child(Some(&label)), stdin.clone(), extra_args);
            }
            Inner::Code { code, labels } => {
                self.commands.push(view);
                self.parse_code(&code, &labelled(frame, &labels));
            }
            Inner::Many(list) => {
                let mut rest = Vec::new();
                let mut dynamic = false;
                for item in list {
                    match item {
                        Inner::Dynamic => dynamic = true,
                        other => rest.push(other),
                    }
                }
                view.dynamic |= dynamic;
                self.commands.push(view);
                for item in rest {
                    match item {
                        Inner::Argv { args, label, extra_args } => self.run_command(
                            args,
                            &frame.child(Some(&label)),
                            stdin.clone(),
                            extra_args,
                        ),
                        Inner::Code { code, labels } => {
                            self.parse_code(&code, &labelled(frame, &labels));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

fn argv_inner(args: Vec<Arg>, label: &str) -> Inner {
    if args.is_empty() {
        Inner::None
    } else {
        Inner::Argv { args, label: label.to_owned(), extra_args: false }
    }
}

/// Joins words into shell code; dynamic when any word is.
fn code_inner(words: &[Arg], label: &str) -> Inner {
    if words.iter().any(|a| a.dynamic) {
        return Inner::Dynamic;
    }
    let code = words.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join(" ");
    Inner::Code { code, labels: vec![label.to_owned()] }
}

/// A child frame reached through several labels.
fn labelled(frame: &Frame, labels: &[String]) -> Frame {
    let mut child = frame.child(None);
    child.via.extend(labels.iter().cloned());
    child
}

/// Wrapper that runs `args[scan.operand..]`.
fn simple_wrapper(args: &[Arg], name: &str, short_val: &str, long_val: &[&str]) -> Inner {
    match scan_opts(args, 1, short_val, long_val) {
        Some(scan) => argv_inner(tail(args, scan.operand), name),
        None => Inner::Dynamic,
    }
}

fn classify(name: &str, args: &[Arg], stdin: &Stdin) -> Inner {
    match name {
        "sudo" => sudo(args, stdin),
        "doas" => match scan_opts(args, 1, "uC", &[]) {
            Some(scan) if scan.has(&["C"]) => Inner::None,
            Some(scan) if scan.operand < args.len() => argv_inner(tail(args, scan.operand), "doas"),
            Some(scan) if scan.has(&["s"]) => shell_stdin("sh", stdin, "doas"),
            Some(_) => Inner::None,
            None => Inner::Dynamic,
        },
        "env" => env(args),
        "timeout" => match scan_opts(args, 1, "sk", &["signal", "kill-after"]) {
            Some(scan) => argv_inner(tail(args, scan.operand + 1), "timeout"),
            None => Inner::Dynamic,
        },
        "nice" => simple_wrapper(args, "nice", "n", &["adjustment"]),
        "ionice" => {
            match scan_opts(args, 1, "cnpPu", &["class", "classdata", "pid", "pgid", "uid"]) {
                Some(scan) if scan.has(&["p", "P", "u", "pid", "pgid", "uid"]) => Inner::None,
                Some(scan) => argv_inner(tail(args, scan.operand), "ionice"),
                None => Inner::Dynamic,
            }
        }
        "nohup" => simple_wrapper(args, "nohup", "", &[]),
        "builtin" => simple_wrapper(args, "builtin", "", &[]),
        "command" => match scan_opts(args, 1, "", &[]) {
            Some(scan) if scan.has(&["v", "V"]) => Inner::None,
            Some(scan) => argv_inner(tail(args, scan.operand), "command"),
            None => Inner::Dynamic,
        },
        "exec" => simple_wrapper(args, "exec", "a", &[]),
        "stdbuf" => simple_wrapper(args, "stdbuf", "ioe", &["input", "output", "error"]),
        "time" => simple_wrapper(args, "time", "fo", &["format", "output"]),
        "setsid" => simple_wrapper(args, "setsid", "", &[]),
        "chroot" => match scan_opts(args, 1, "", &["userspec", "groups"]) {
            Some(scan) => argv_inner(tail(args, scan.operand + 1), "chroot"),
            None => Inner::Dynamic,
        },
        "busybox" | "toybox" => match args.get(1) {
            Some(a) if a.dynamic => Inner::Dynamic,
            Some(a) if !a.text.starts_with('-') => argv_inner(tail(args, 1), name),
            _ => Inner::None,
        },
        "xargs" => match scan_opts(
            args,
            1,
            "adEILnPs",
            &[
                "arg-file",
                "delimiter",
                "max-args",
                "max-procs",
                "max-lines",
                "max-chars",
                "process-slot-var",
            ],
        ) {
            Some(scan) if scan.operand < args.len() => Inner::Argv {
                args: tail(args, scan.operand),
                label: "xargs".to_owned(),
                extra_args: true,
            },
            Some(_) => Inner::None,
            None => Inner::Dynamic,
        },
        "find" => find(args),
        "watch" => match scan_opts(args, 1, "nq", &["interval", "equexit"]) {
            Some(scan) if scan.has(&["x", "exec"]) => argv_inner(tail(args, scan.operand), "watch"),
            Some(scan) if scan.operand < args.len() => {
                code_inner(args.get(scan.operand..).unwrap_or_default(), "watch")
            }
            Some(_) => Inner::None,
            None => Inner::Dynamic,
        },
        "flock" => flock(args),
        "su" | "runuser" => su(name, args),
        "trap" => trap(args),
        "eval" => {
            let start = usize::from(args.get(1).is_some_and(|a| a.text == "--")) + 1;
            let words = args.get(start..).unwrap_or_default();
            if words.is_empty() { Inner::None } else { code_inner(words, "eval") }
        }
        "source" | "." => match args.get(1) {
            Some(a) if a.dynamic => Inner::Dynamic,
            _ => Inner::None,
        },
        _ if SHELLS.contains(&name) => shell(name, args, stdin),
        _ => interpreter(name, args),
    }
}

fn sudo(args: &[Arg], stdin: &Stdin) -> Inner {
    let Some(scan) = scan_opts(
        args,
        1,
        "CDghpRrTtUuc",
        &[
            "user",
            "group",
            "host",
            "prompt",
            "role",
            "type",
            "other-user",
            "chdir",
            "chroot",
            "close-from",
            "command-timeout",
            "login-class",
        ],
    ) else {
        return Inner::Dynamic;
    };
    if scan.has(&[
        "e",
        "l",
        "v",
        "V",
        "K",
        "edit",
        "list",
        "validate",
        "version",
        "remove-timestamp",
        "help",
    ]) {
        return Inner::None;
    }
    let mut i = scan.operand;
    while let Some(a) = args.get(i) {
        if a.dynamic {
            return Inner::Dynamic;
        }
        if !is_assignment(&a.text) {
            break;
        }
        i += 1;
    }
    if i < args.len() {
        argv_inner(tail(args, i), "sudo")
    } else if scan.has(&["s", "i", "shell", "login"]) {
        shell_stdin("sh", stdin, "sudo")
    } else {
        Inner::None
    }
}

fn env(args: &[Arg]) -> Inner {
    let mut list: Vec<Arg> = tail(args, 1);
    let mut i = 0usize;
    let mut rounds = 0usize;
    loop {
        rounds += 1;
        if rounds > 10_000 {
            return Inner::Dynamic;
        }
        let Some(a) = list.get(i).cloned() else {
            return Inner::None;
        };
        if a.dynamic {
            return Inner::Dynamic;
        }
        let t = a.text.as_str();
        if t == "--" {
            i += 1;
            while list.get(i).is_some_and(|a| !a.dynamic && is_assignment(&a.text)) {
                i += 1;
            }
            break;
        }
        if t == "-" {
            i += 1;
            continue;
        }
        let mut split: Option<String> = None;
        let mut consumed = 1usize;
        if let Some(long) = t.strip_prefix("--") {
            let (n, v) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            if matches!(n, "unset" | "chdir" | "split-string") && v.is_none() {
                consumed = 2;
            }
            if n == "split-string" {
                match v {
                    Some(v) => split = Some(v),
                    None => match list.get(i + 1) {
                        Some(x) if x.dynamic => return Inner::Dynamic,
                        Some(x) => split = Some(x.text.clone()),
                        None => return Inner::None,
                    },
                }
            }
        } else if t.len() > 1 && t.starts_with('-') {
            let body: Vec<char> = t.chars().skip(1).collect();
            for (k, ch) in body.iter().enumerate() {
                if matches!(ch, 'u' | 'C' | 'S') {
                    let rest: String = body.get(k + 1..).unwrap_or_default().iter().collect();
                    let value = if rest.is_empty() {
                        consumed = 2;
                        match list.get(i + 1) {
                            Some(x) if x.dynamic => return Inner::Dynamic,
                            Some(x) => x.text.clone(),
                            None => return Inner::None,
                        }
                    } else {
                        rest
                    };
                    if *ch == 'S' {
                        split = Some(value);
                    }
                    break;
                }
            }
        } else if is_assignment(t) {
            i += 1;
            continue;
        } else {
            break;
        }
        match split {
            Some(s) => {
                let Some(words) = split_string(&s) else {
                    return Inner::Dynamic;
                };
                let end = (i + consumed).min(list.len());
                list.splice(i..end, words.iter().map(|w| Arg::literal(w)));
            }
            None => i += consumed,
        }
    }
    argv_inner(tail(&list, i), "env")
}

/// Splits an `env -S` string; `None` when it refers to variables.
fn split_string(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '$' => return None,
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '$' => return None,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                cur.push(env_escape(e)?);
                            }
                        }
                        _ => cur.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('c') => break,
                    Some('_') => {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                    Some(e) => cur.push(env_escape(e)?),
                    None => {}
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

fn env_escape(e: char) -> Option<char> {
    Some(match e {
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        '_' => ' ',
        other => other,
    })
}

fn find(args: &[Arg]) -> Inner {
    let mut inners = Vec::new();
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if !a.dynamic && matches!(t, "-exec" | "-execdir" | "-ok" | "-okdir") {
            let mut cmd = Vec::new();
            let mut j = i + 1;
            while let Some(b) = args.get(j) {
                if !b.dynamic && (b.text == ";" || (b.text == "+" && !cmd.is_empty())) {
                    break;
                }
                cmd.push(b.clone());
                j += 1;
            }
            inners.push(argv_inner(cmd, &format!("find {t}")));
            i = j + 1;
            continue;
        }
        i += 1;
    }
    if inners.is_empty() { Inner::None } else { Inner::Many(inners) }
}

fn flock(args: &[Arg]) -> Inner {
    let mut i = 1usize;
    let mut file_seen = false;
    while let Some(a) = args.get(i) {
        if a.dynamic {
            return Inner::Dynamic;
        }
        let t = a.text.as_str();
        if matches!(t, "-c" | "--command") {
            return match args.get(i + 1) {
                Some(code) => code_inner(std::slice::from_ref(code), "flock -c"),
                None => Inner::None,
            };
        }
        if let Some(code) = t.strip_prefix("--command=") {
            return code_inner(&[Arg::literal(code)], "flock -c");
        }
        if t == "--" {
            i += 1;
            if !file_seen {
                i += 1;
            }
            break;
        }
        if matches!(t, "-w" | "-E" | "--timeout" | "--wait" | "--conflict-exit-code") {
            i += 2;
            continue;
        }
        if t.starts_with('-') && t.len() > 1 {
            i += 1;
            continue;
        }
        if file_seen {
            break;
        }
        file_seen = true;
        i += 1;
    }
    argv_inner(tail(args, i), "flock")
}

fn su(name: &str, args: &[Arg]) -> Inner {
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if a.dynamic {
            i += 1;
            continue;
        }
        let label = format!("{name} -c");
        if matches!(t, "-c" | "--command" | "-C" | "--session-command") {
            return match args.get(i + 1) {
                Some(code) => code_inner(std::slice::from_ref(code), &label),
                None => Inner::None,
            };
        }
        if let Some(code) =
            t.strip_prefix("--command=").or_else(|| t.strip_prefix("--session-command="))
        {
            return code_inner(&[Arg::literal(code)], &label);
        }
        if matches!(t, "-s" | "--shell" | "-g" | "--group" | "-G" | "--supp-group" | "-w") {
            i += 2;
            continue;
        }
        i += 1;
    }
    Inner::None
}

fn trap(args: &[Arg]) -> Inner {
    let start = usize::from(args.get(1).is_some_and(|a| a.text == "--")) + 1;
    let rest = args.get(start..).unwrap_or_default();
    match rest.first() {
        Some(a) if rest.len() >= 2 => {
            if a.dynamic {
                Inner::Dynamic
            } else if a.text.is_empty() || a.text == "-" || a.text.starts_with('-') {
                Inner::None
            } else {
                code_inner(std::slice::from_ref(a), "trap")
            }
        }
        _ => Inner::None,
    }
}

/// A shell that reads its script from standard input.
fn shell_stdin(name: &str, stdin: &Stdin, wrapper: &str) -> Inner {
    match stdin {
        Stdin::Doc { text, literal, label } => {
            if *literal {
                let mut labels = Vec::new();
                if !wrapper.is_empty() {
                    labels.push(wrapper.to_owned());
                }
                labels.push(format!("{name} {label}"));
                Inner::Code { code: text.clone(), labels }
            } else {
                Inner::Dynamic
            }
        }
        Stdin::File => Inner::None,
        Stdin::Pipe | Stdin::Inherited => Inner::Dynamic,
    }
}

fn shell(name: &str, args: &[Arg], stdin: &Stdin) -> Inner {
    let mut i = 1usize;
    let mut saw_c = false;
    let mut saw_s = false;
    while let Some(a) = args.get(i) {
        if a.dynamic {
            return Inner::Dynamic;
        }
        let t = a.text.as_str();
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            i += if matches!(long, "rcfile" | "init-file") { 2 } else { 1 };
            if long == "command" {
                saw_c = true;
            }
            continue;
        }
        if t.len() > 1 && (t.starts_with('-') || t.starts_with('+')) {
            let mut extra = 0usize;
            for ch in t.chars().skip(1) {
                match ch {
                    'c' => saw_c = true,
                    's' => saw_s = true,
                    'o' | 'O' => extra += 1,
                    _ => {}
                }
            }
            i += 1 + extra;
            continue;
        }
        break;
    }
    if saw_c {
        return match args.get(i) {
            Some(code) => code_inner(std::slice::from_ref(code), &format!("{name} -c")),
            None => Inner::None,
        };
    }
    if !saw_s && let Some(script) = args.get(i) {
        return if script.dynamic { Inner::Dynamic } else { Inner::None };
    }
    shell_stdin(name, stdin, "")
}

fn inline(language: &str, pieces: &[Arg]) -> Inner {
    if pieces.is_empty() {
        return Inner::None;
    }
    Inner::Inline {
        code: InlineCode {
            language: language.to_owned(),
            code: pieces.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join("\n"),
        },
        dynamic: pieces.iter().any(|a| a.dynamic),
    }
}

/// Collects code given with short options `code_opts` (clustered, attached or
/// separate) or long options `long_opts`; stops at the first operand.
/// `rest_opts` are short options that consume the rest of their cluster.
fn collect_code(
    args: &[Arg],
    code_opts: &str,
    long_opts: &[&str],
    rest_opts: &str,
    value_opts: &str,
    stop_after_first: bool,
) -> Vec<Arg> {
    let mut pieces = Vec::new();
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if a.dynamic || t == "--" || !t.starts_with('-') || t == "-" {
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            if let Some((n, v)) = long.split_once('=') {
                if long_opts.contains(&n) {
                    pieces.push(Arg { text: v.to_owned(), ..a.clone() });
                    if stop_after_first {
                        break;
                    }
                }
                i += 1;
                continue;
            }
            if long_opts.contains(&long) {
                if let Some(code) = args.get(i + 1) {
                    pieces.push(code.clone());
                }
                if stop_after_first {
                    break;
                }
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        let body: Vec<char> = t.chars().skip(1).collect();
        let mut step = 1usize;
        for (k, ch) in body.iter().enumerate() {
            let rest: String = body.get(k + 1..).unwrap_or_default().iter().collect();
            if code_opts.contains(*ch) {
                if rest.is_empty() {
                    if let Some(code) = args.get(i + 1) {
                        pieces.push(code.clone());
                    }
                    step = 2;
                } else {
                    pieces.push(Arg { text: rest, ..a.clone() });
                }
                break;
            }
            if value_opts.contains(*ch) {
                if rest.is_empty() {
                    step = 2;
                }
                break;
            }
            if rest_opts.contains(*ch) {
                break;
            }
        }
        if stop_after_first && !pieces.is_empty() {
            break;
        }
        i += step;
    }
    pieces
}

fn interpreter(name: &str, args: &[Arg]) -> Inner {
    let is_python = name.starts_with("python") || name.starts_with("pypy");
    if is_python {
        return inline("python", &collect_code(args, "c", &[], "", "WXm", true));
    }
    match name {
        "node" | "nodejs" | "bun" => {
            inline("node", &collect_code(args, "ep", &["eval", "print"], "", "r", true))
        }
        "deno" => match args.get(1) {
            Some(a) if a.text == "eval" => {
                inline("node", &tail(args, 2).into_iter().take(1).collect::<Vec<_>>())
            }
            _ => Inner::None,
        },
        "perl" => inline("perl", &collect_code(args, "eE", &[], "iIMmxdDC", "", false)),
        "ruby" => inline("ruby", &collect_code(args, "e", &[], "", "rICEF", false)),
        "php" => inline("php", &collect_code(args, "r", &[], "", "cdz", true)),
        "osascript" => inline("applescript", &collect_code(args, "e", &[], "", "l", false)),
        "lua" | "luajit" => inline("lua", &collect_code(args, "e", &[], "", "l", false)),
        "rscript" => inline("r", &collect_code(args, "e", &[], "", "", false)),
        "pwsh" | "powershell" => powershell(args),
        "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => awk(args),
        _ => Inner::None,
    }
}

fn powershell(args: &[Arg]) -> Inner {
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        let t = a.text.to_ascii_lowercase();
        let opt = t.trim_start_matches('-');
        if !t.starts_with('-') {
            // a bare operand is a script file / command
            return inline("powershell", &tail(args, i));
        }
        if !opt.is_empty() && "command".starts_with(opt) && !opt.is_empty() {
            return inline("powershell", &tail(args, i + 1));
        }
        if ["e", "ec", "en", "enc", "encodedcommand"].contains(&opt)
            || (opt.len() >= 2 && "encodedcommand".starts_with(opt))
        {
            return match inline(
                "powershell-encoded",
                &tail(args, i + 1).into_iter().take(1).collect::<Vec<_>>(),
            ) {
                Inner::Inline { code, .. } => Inner::Inline { code, dynamic: true },
                other => other,
            };
        }
        if [
            "file",
            "f",
            "configurationname",
            "executionpolicy",
            "ep",
            "workingdirectory",
            "wd",
            "outputformat",
            "of",
            "inputformat",
            "if",
            "windowstyle",
            "w",
            "settingsfile",
            "psconsolefile",
        ]
        .contains(&opt)
        {
            i += 2;
            continue;
        }
        i += 1;
    }
    Inner::None
}

fn awk(args: &[Arg]) -> Inner {
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if t.starts_with("-f") || t == "--file" {
            return Inner::None; // program from a file
        }
        if matches!(t, "-F" | "-v" | "--assign" | "--field-separator") {
            i += 2;
            continue;
        }
        if t.starts_with('-') && t.len() > 1 {
            i += 1;
            continue;
        }
        break;
    }
    match args.get(i) {
        Some(p) => inline("awk", std::slice::from_ref(p)),
        None => Inner::None,
    }
}
