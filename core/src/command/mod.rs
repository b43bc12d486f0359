//! Shell command-line parsing for policy enforcement.
//!
//! This module turns one command line (the string an agent would hand to
//! `bash -c`) or one argv vector into a [`CommandLineView`]: the list of every
//! program that would really run, with its decoded argv, its normalized flags
//! and the wrappers / shells it was reached through.  The shell grammar is the
//! one of the `brush-parser` crate; everything on top (word decoding, brace
//! expansion, wrapper unwrapping, interpreter detection, guards) lives here.
//!
//! # Invariants
//!
//! * **Never panics, never fails.**  Every problem (syntax error, bound
//!   exceeded, internal panic of the grammar crate, parser thread that could
//!   not be spawned) is reported in [`CommandLineView::error`], and whenever
//!   `error` is `Some`, `dynamic` is `true`.  An engine can therefore deny on
//!   `dynamic || error.is_some()` (or simply on `dynamic`).
//! * **Fail closed.**  Whenever the program that will run (or the shell code
//!   that will run) depends on something unknown at parse time (a variable, a
//!   command substitution, a glob in the program name, a script piped into a
//!   shell, ...), the command and the line are marked `dynamic`.
//! * **Bounded.**  Input length, structural nesting, recursion into re-parsed
//!   code (`bash -c`, `eval`, `$( )`, ...), brace-expansion results and the
//!   number of listed commands are all bounded by [`Limits`]; anything over a
//!   bound yields an error, never a hang, stack overflow or crash.
//! * Commands of `kubectl`, `aws`, `git` and the SQL clients carry a tool model
//!   ([`CommandView::tool`], see [`tools`]); commands a tool runs (`kubectl exec POD -- CMD`,
//!   `git submodule foreach CMD`) are listed with the tool in `via`.
//! * Every command that would run is listed, in source order, wrapper before
//!   wrapped command, an enclosing command after the commands of the
//!   substitutions in its words (they run first).
//!
//! # Decisions
//!
//! * **Carriage returns.**  `\r\n` is normalized to `\n` before parsing (so an
//!   argument `/\r` is seen as `/`, which is the conservative reading).  A bare
//!   `\r` elsewhere is kept as an ordinary character (as bash does).  A
//!   here-document delimiter that is empty or made only of whitespace / quote
//!   characters (`<<\r`, `<<\x0c`, `<<""` at end of input) makes brush-parser
//!   0.4.0 loop forever; such lines are rejected by a pre-scan.  NUL bytes are
//!   rejected (they cannot occur in a real `bash -c` argument).
//! * **Nesting.**  A cheap quote-aware pre-scan computes the structural
//!   nesting depth (subshells, groups, `$( )`, `${ }`, backticks, double
//!   quotes, `if`/`while`/`until`/`for`/`select`/`case` in command position)
//!   and rejects lines deeper than [`Limits::max_nesting_depth`].  As a second
//!   line of defence an input that is not short and shallow (over 1 KiB, or
//!   more than 12 nesting openers anywhere, quoted inner code included) is
//!   analysed on a dedicated thread whose stack is [`Limits::stack_bytes`]
//!   (virtual memory, committed only when used), so the caller's stack size
//!   (tokio workers, test threads) does not matter; short, shallow inputs, the
//!   everyday case, run on the caller's stack and skip the cost of a thread.
//! * **Words** are decoded by this module, not by brush-parser's word parser
//!   (which has `unwrap`s on integer overflow and is exponential on
//!   unbalanced braces).  Supported: backslash escapes, single quotes, double
//!   quotes, ANSI-C `$'..'` (`\a \b \e \E \f \n \r \t \v \\ \' \" \? \cX \NNN
//!   \xHH \uHHHH \UHHHHHHHH`; a NUL truncates the rest of that quoted piece, as
//!   in bash), locale `$".."`, parameter expansion, `$( )`, backticks,
//!   `$(( ))`, `$[ ]`.
//! * **Brace expansion** is implemented here with a linear scan per level, a
//!   bound on results ([`Limits::max_brace_results`]) and on brace nesting
//!   ([`Limits::max_nesting_depth`]).  Lists `{a,b}`, nesting, and sequences
//!   `{1..3}`, `{01..10..2}`, `{a..e}` are expanded; quoted / escaped braces,
//!   `${..}`, `$(..)` and backticks are opaque, as in bash.  Unquoted words
//!   that expand to the empty string are dropped, as in bash.
//! * **Expansions in arguments.**  An argument containing a parameter
//!   expansion, command or arithmetic substitution keeps its source text in
//!   `argv` and sets [`CommandView::dynamic_args`] (the argv is incomplete:
//!   `rm $F /` may be `rm -rf /`).  Such an argument is never split into
//!   flags.  Only an unknown *program* (or unknown shell code) makes the
//!   command `dynamic`.
//! * **Globs.**  A program name whose basename contains an unquoted glob
//!   (`*`, `?`, `[..]`, extglob `@( +( !(`) is dynamic (`/bin/r?`).  Globs in
//!   arguments are kept literally.
//! * **Program** is the basename of the decoded first word (last non-empty
//!   path component other than `.`), so `/usr/bin/../bin/rm`, `./rm`,
//!   `//bin///rm` and `\rm` all give `rm`.  `argv[0]` keeps the decoded word.
//! * **Flags.**  Short clusters are split (`-rf` becomes `-r -f`, flags `r`,
//!   `f`), except all-digit clusters (`-20` is flag `20`).  `--name=value`
//!   gives flag `name` and stays one argv element.  Flags after operands are
//!   still flags; after `--` everything is an operand; `-` alone is an
//!   operand.  Splitting is a heuristic: for programs whose short options
//!   take values (`tar -xzf f`, `git commit -am msg`) the split argv is still
//!   a faithful prefix (`tar -x -z -f f`); [`CommandView::raw_argv`] keeps the
//!   unsplit decoded argv for rules that need it.  Programs that use
//!   single-dash long options (`find`, `java`, ...) are not split: `find -delete`
//!   gives flag `delete`.
//! * **Wrappers** (`sudo`, `doas`, `env`, `timeout`, `nice`, `ionice`,
//!   `nohup`, `command` (not `-v`/`-V`), `builtin`, `exec`, `stdbuf`, `time`,
//!   `setsid`, `chroot`, `xargs`, `find -exec/-execdir/-ok/-okdir`, `watch`,
//!   `flock`, `busybox`/`toybox`, `su`/`runuser -c`, `trap`) are listed and
//!   their inner command is analysed recursively with the wrapper appended to
//!   `via`.  A dynamic word in a position that decides the inner program makes
//!   the inner command dynamic.  Commands run by `xargs` get
//!   `dynamic_args: true` (more operands, possibly flags, come from stdin).
//! * **Shells** (`bash sh zsh dash ksh ash mksh yash fish rbash csh tcsh`):
//!   `-c code` (also in clusters such as `-lc`, `-xc`, and with `--`) is
//!   parsed recursively with `via` `"<shell> -c"`; a here-document /
//!   here-string on a shell without `-c` is parsed as the script (`via`
//!   `"<shell> <<"` / `"<shell> <<<"`) when literal; a shell reading a script
//!   from a pipe, from the terminal or from an unknown stream is dynamic
//!   (`curl .. | sh`).  A shell running a named script file (`bash x.sh`,
//!   `bash < x.sh`) and `source` / `.` of a named file are listed but *not*
//!   dynamic: like `./x.sh`, the file is named and a policy can rule on it;
//!   the operand is visible in `operands`.  A script operand that is itself
//!   dynamic (`bash <(curl ..)`, `source "$f"`) is dynamic.  Shell code that
//!   is not literal (`bash -c "$x"`, `eval "$x"`, `sh <<EOF` with `$` in the
//!   body, `bash -c "echo $x"`) is dynamic, since the outer expansion may
//!   inject arbitrary syntax.  fish/csh code is parsed with the bash grammar
//!   (best effort; a parse error fails closed).
//! * **Interpreters** (`python* -c`, `node -e/-p/--eval/--print`, `perl -e/-E`,
//!   `ruby -e`, `php -r`, `osascript -e`, `pwsh/powershell -c/-Command`,
//!   `-EncodedCommand` (dynamic), `lua -e`, `Rscript -e`, `awk 'prog'`) report
//!   their code in [`CommandView::inline_code`]; repeated `-e` are joined with
//!   newlines.  Non-literal inline code is dynamic.
//! * `${x@P}` (prompt expansion, which runs command substitutions found in the
//!   value of `x`) makes its command dynamic wherever it appears.
//! * Function bodies are listed where they are defined (the function may be
//!   called later in the line).  `via` records only wrappers and shells, not
//!   substitutions.
//! * brush-parser 0.4.0 parses nested subshells `( (list) )` as an arithmetic
//!   command; an arithmetic command whose source does not start with an
//!   adjacent `((` is therefore re-parsed as shell code.  `$((..))` whose
//!   inner `(` does not close right before the final `)` is a command
//!   substitution (`$((rm x); ls)`), as in bash.
//! * Wrapper unwrapping counts towards [`Limits::max_recursion_depth`]
//!   (`nice nice nice ... rm` is bounded).  In `find`, options are not split,
//!   including those of the `-exec` part on the `find` entry itself (the inner
//!   command is normalized normally).
//! * Not handled (documented gaps): bash arithmetic evaluation of variable
//!   contents (`(( x ))` with `x='a[$(cmd)]'`), aliases, environment prefixes
//!   (`GIT_PAGER=cmd git log`: assignments are not passed on), `ssh host cmd`, `parallel`, `sed 'e cmd'`, make/npm scripts, and a
//!   `case` pattern `)` inside `$( )` (rejected as a syntax error).

mod analyze;
mod guard;
mod programs;
pub mod tools;
mod word;

pub use tools::{AwsModel, GitModel, KubectlModel, SqlClientModel, ToolModel};

use serde::{Deserialize, Serialize};

/// Bounds applied while parsing one command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Limits {
    /// Maximum length of a command line (and of any re-parsed inner code) in bytes.
    pub max_line_bytes: usize,
    /// Maximum structural nesting depth (parentheses, groups, substitutions,
    /// quotes, compound keywords, brace-expansion nesting) of one piece of code.
    pub max_nesting_depth: usize,
    /// Maximum nesting of bare parentheses (subshells, `((`), which brush-parser's grammar
    /// parses in time exponential in their depth (found by fuzzing: 27 unbalanced `(` took
    /// seconds). `$(` and `$((` are not counted: they parse in linear time.
    pub max_paren_depth: usize,
    /// Maximum number of bare parentheses in one piece of code, bounding the total cost of
    /// many groups each under [`Limits::max_paren_depth`].
    pub max_parens: usize,
    /// Maximum number of `[` that follow a name character in one word that starts like an
    /// array-element assignment (`name[`). brush-parser checks such words with a backtracking
    /// grammar whose time is exponential in the number of subscripts left open (found by
    /// fuzzing: a 244-byte word took seconds). Quoting and closing `]` are not taken into
    /// account, so the count can only over-estimate.
    pub max_subscript_brackets: usize,
    /// Maximum depth of recursive re-parsing of inner shell code (`$( )`,
    /// backticks, `bash -c`, `eval`, here-documents fed to shells, wrappers).
    pub max_recursion_depth: usize,
    /// Maximum number of words one word may brace-expand to.
    pub max_brace_results: usize,
    /// Maximum number of commands listed for one line.
    pub max_commands: usize,
    /// Stack size of the dedicated parser thread used for inputs that are not
    /// short and shallow, in bytes; `0` runs every analysis on the caller's
    /// thread (then the caller's stack must be large enough for
    /// [`Limits::max_nesting_depth`]).
    pub stack_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_line_bytes: 128 * 1024,
            max_nesting_depth: 100,
            max_paren_depth: 12,
            max_parens: 256,
            max_subscript_brackets: 6,
            max_recursion_depth: 16,
            max_brace_results: 1024,
            max_commands: 1024,
            stack_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Inline program text handed to a non-shell interpreter (`python -c`, `node -e`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct InlineCode {
    /// Language of the code: `python`, `node`, `perl`, `ruby`, `php`,
    /// `applescript`, `powershell`, `powershell-encoded`, `lua`, `r`, `awk`.
    pub language: String,
    /// The decoded code (several `-e` pieces joined with `\n`).
    pub code: String,
}

/// One command that would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub struct CommandView {
    /// Basename of the program with path tricks resolved (`/usr/bin/../bin/rm` → `rm`).
    /// For a dynamic program this is the source text of the word (e.g. `$x`).
    pub program: String,
    /// Decoded argv with short flag clusters split (`rm -r -f /`).
    pub argv: Vec<String>,
    /// Normalized flags: short flags as single characters, long flags without
    /// dashes and without `=value`.
    pub flags: Vec<String>,
    /// Non-flag arguments after `argv[0]` (everything after `--` included).
    pub operands: Vec<String>,
    /// Decoded argv before cluster splitting (added field).
    pub raw_argv: Vec<String>,
    /// Wrappers and shells this command was reached through, outermost first
    /// (e.g. `["sudo", "bash -c"]`) (added field).
    pub via: Vec<String>,
    /// Inline code for interpreters (`python -c`, `node -e`, ...) (added field).
    pub inline_code: Option<InlineCode>,
    /// The program, or the shell code / interpreter code this command runs,
    /// cannot be resolved statically (added field).
    pub dynamic: bool,
    /// Some argument contains an expansion whose value is unknown, or more
    /// arguments come from elsewhere (`xargs`); `argv` is incomplete (added field).
    pub dynamic_args: bool,
    /// What `kubectl`, `aws`, `git` or a SQL client will do (absent for other programs and
    /// in JSON when absent) (added field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<ToolModel>,
}

/// The engine's view of one command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub struct CommandLineView {
    /// Every command that would run, in order.
    pub commands: Vec<CommandView>,
    /// True when any command is dynamic or when `error` is set: deny.
    pub dynamic: bool,
    /// Why the line could not be (fully) analysed.
    pub error: Option<String>,
    /// The bound of [`Limits`] the line exceeded, named as the policy's `limits` block names it
    /// (`command.max_line_bytes`, ...); `error` says by how much. The engine denies such a line
    /// outright. Absent from the JSON when no bound was exceeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// What to analyse: a shell line or an exec-style argv.
enum Input {
    Line(String),
    Argv(Vec<String>),
}

/// Parses one shell command line as `bash -c` would see it.
pub fn parse_line(line: &str, limits: &Limits) -> CommandLineView {
    if line.len() > limits.max_line_bytes {
        return limit_view(format!(
            "command line is {} bytes, over the limit of {}",
            line.len(),
            limits.max_line_bytes
        ));
    }
    run(Input::Line(line.to_owned()), limits)
}

/// Analyses an exec-style argv (no shell involved: no quote removal, no expansion).
pub fn parse_argv(argv: &[String], limits: &Limits) -> CommandLineView {
    let total: usize = argv.iter().map(|a| a.len() + 1).sum();
    if total > limits.max_line_bytes {
        return limit_view(format!(
            "argv is {total} bytes, over the limit of {}",
            limits.max_line_bytes
        ));
    }
    if argv.is_empty() {
        return error_view("empty argv".to_owned());
    }
    run(Input::Argv(argv.to_vec()), limits)
}

fn error_view(message: String) -> CommandLineView {
    CommandLineView { commands: Vec::new(), dynamic: true, error: Some(message), limit: None }
}

/// The view of a line or argv over [`Limits::max_line_bytes`].
fn limit_view(message: String) -> CommandLineView {
    CommandLineView { limit: Some("command.max_line_bytes".to_owned()), ..error_view(message) }
}

/// Inputs at most this long may run on the caller's stack (see [`shallow`]).
const INLINE_MAX_BYTES: usize = 1024;

/// At most this many nesting openers anywhere in the input (see [`shallow`]).
const INLINE_MAX_OPENERS: usize = 12;

/// True when the input is small and shallow enough to analyse on the caller's stack.
///
/// Spawning the dedicated large-stack thread costs far more than analysing an ordinary line
/// (about 130 us against 25 us for a 100-byte line), so short, shallow inputs skip it. The
/// bound must hold for every level the analysis can reach, including shell code inside quotes
/// that is parsed again (`bash -c '...'`, `$( )`), so it counts over the whole text, quoted or
/// not: the bytes that open a nesting level (`(`, `{`, `` ` ``), the words that open a
/// compound command or run code again (`if`, `while`, `until`, `for`, `case`, `select`,
/// `function`, `eval`, `-c`), and here-documents (`<<`). Measured in a debug build, 12 such
/// levels of any shape need less than 256 KiB of stack and 24 overflow it; host threads have
/// 2 MiB or more.
fn shallow(input: &Input) -> bool {
    let texts: Vec<&str> = match input {
        Input::Line(line) => vec![line.as_str()],
        Input::Argv(argv) => argv.iter().map(String::as_str).collect(),
    };
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    if bytes > INLINE_MAX_BYTES {
        return false;
    }
    let mut openers = 0usize;
    for text in texts {
        openers += text.bytes().filter(|b| matches!(b, b'(' | b'{' | b'`')).count();
        openers += text.matches("<<").count();
        openers += text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .filter(|word| {
                matches!(
                    *word,
                    "if" | "while" | "until" | "for" | "case" | "select" | "function" | "eval"
                ) || (word.starts_with('-') && !word.starts_with("--") && word.contains('c'))
            })
            .count();
    }
    openers <= INLINE_MAX_OPENERS
}

fn run(input: Input, limits: &Limits) -> CommandLineView {
    let inline = limits.stack_bytes == 0 || shallow(&input);
    let owned = limits.clone();
    let work = move || analyze_input(&input, &owned);
    if inline {
        return match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(view) => view,
            Err(_) => error_view("internal error: parser panicked".to_owned()),
        };
    }
    let spawned = std::thread::Builder::new()
        .name("writ-command-parser".to_owned())
        .stack_size(limits.stack_bytes)
        .spawn(work);
    match spawned {
        Ok(handle) => match handle.join() {
            Ok(view) => view,
            Err(_) => error_view("internal error: parser panicked".to_owned()),
        },
        Err(e) => error_view(format!("could not start parser thread: {e}")),
    }
}

fn analyze_input(input: &Input, limits: &Limits) -> CommandLineView {
    let mut analyzer = analyze::Analyzer::new(limits);
    match input {
        Input::Line(line) => analyzer.parse_code(line, &analyze::Frame::top()),
        Input::Argv(argv) => analyzer.analyze_exec_argv(argv),
    }
    analyzer.finish()
}

#[cfg(test)]
mod inline_tests {
    use super::*;

    fn line(s: &str) -> Input {
        Input::Line(s.to_owned())
    }

    #[test]
    fn everyday_lines_are_shallow_and_deep_or_long_ones_are_not() {
        assert!(shallow(&line(
            "cd core && timeout 600 cargo test 2>&1 | tee log | grep -E 'FAIL|panic'"
        )));
        assert!(shallow(&line("bash -c 'rm -rf x'")));
        assert!(!shallow(&line(&format!("{}a{}", "(".repeat(13), ")".repeat(13)))));
        assert!(!shallow(&line(&format!("{}a{}", "if a; then ".repeat(13), "; fi".repeat(13)))));
        assert!(!shallow(&line(&"bash -c ".repeat(13))));
        assert!(!shallow(&line(&"a".repeat(INLINE_MAX_BYTES + 1))));
        assert!(!shallow(&Input::Argv(vec!["sh".into(), "-c".into(), "{ ".repeat(20)])));
    }

    /// The worst inputs the caller's stack may see (12 openers of each shape) must run within
    /// a quarter of the smallest common thread stack: the measured basis of `shallow`.
    #[test]
    fn the_deepest_shallow_inputs_fit_in_256_kib() {
        let n = INLINE_MAX_OPENERS;
        let shapes = [
            format!("{}a{}", "(".repeat(n), ")".repeat(n)),
            format!("{}a;{}", "{ ".repeat(n), " }".repeat(n)),
            format!("{}a{}", "$(".repeat(n / 2), ")".repeat(n / 2)),
            format!("{}true{}", "if true; then ".repeat(n), "; fi".repeat(n)),
            format!("echo {}", "${a:-".repeat(n) + &"}".repeat(n)),
            format!("{}rm -rf x", "bash -c ".repeat(n)),
            format!("{}a{}", "( { $( ".repeat(n / 3), " ) } )".repeat(n / 3)),
        ];
        for shape in shapes {
            assert!(shallow(&line(&shape)), "{shape}");
            let probe = shape.clone();
            let joined = std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || parse_line(&probe, &Limits::default()))
                .map(std::thread::JoinHandle::join);
            assert!(matches!(joined, Ok(Ok(_))), "{shape}");
        }
    }
}
