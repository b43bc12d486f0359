//! Replays the inputs fuzzing found (`fuzz/regressions/<target>/`) through the same entry
//! points as the fuzz targets. A replay fails on any panic, even one writ would catch, because
//! a host built with `panic = "abort"` would not survive it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use writ::command::{Limits, parse_argv, parse_line};
use writ::mask::{Detectors, Method};

static PANICS: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

/// Run `f` and count the panics raised while it runs, caught or not.
fn panics_during(f: impl FnOnce()) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = PANICS.load(Ordering::SeqCst);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {
        PANICS.fetch_add(1, Ordering::SeqCst);
    }));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    let raised = PANICS.load(Ordering::SeqCst) - before;
    raised + usize::from(outcome.is_err())
}

#[test]
fn command_parse_regressions() {
    let found = inputs("command_parse");
    assert!(!found.is_empty(), "no regression inputs");
    for (name, data) in found {
        let Some((&selector, rest)) = data.split_first() else { continue };
        let text = String::from_utf8_lossy(rest).into_owned();
        let mut view = None;
        let raised = panics_during(|| {
            let limits = Limits::default();
            view = Some(if selector % 4 == 0 {
                let argv: Vec<String> = text.split('\0').map(str::to_owned).collect();
                parse_argv(&argv, &limits)
            } else {
                parse_line(&text, &limits)
            });
        });
        assert_eq!(raised, 0, "{name}: a panic was raised for {text:?}");
        let view = view.unwrap();
        if view.error.is_some() {
            assert!(view.dynamic, "{name}: an error must make the line dynamic");
        }
        // An input that once hung or took seconds must now be refused by a guard before the
        // grammar runs (asserting behaviour, not time).
        if name.contains("timeout-") || name.contains("slow-") {
            assert!(
                view.error
                    .as_deref()
                    .is_some_and(|e| e.contains("over the limit") || e.contains("refused")),
                "{name}: not refused by a guard: {:?}",
                view.error
            );
        }
    }
}

#[test]
fn deep_or_numerous_parentheses_are_refused_and_ordinary_ones_parse() {
    let limits = Limits::default();
    let deep = format!(
        "{}a{}",
        "(".repeat(limits.max_paren_depth + 1),
        ")".repeat(limits.max_paren_depth + 1)
    );
    assert!(parse_line(&deep, &limits).error.is_some_and(|e| e.contains("nested")));
    let many = vec!["(a)"; limits.max_parens + 1].join(";");
    assert!(parse_line(&many, &limits).error.is_some_and(|e| e.contains("parentheses")));
    for line in
        ["(cd core && (make test))", "echo $(date) $((1 + 2))", "((x++))", "[ -f x ] && (ls)"]
    {
        assert_eq!(parse_line(line, &limits).error, None, "{line}");
    }
}

#[test]
fn words_with_many_open_subscripts_are_refused_and_ordinary_subscripts_parse() {
    let limits = Limits::default();
    let over = limits.max_subscript_brackets;
    // `$2`, quotes and escapes cut the word into pieces: each open `y[` doubles brush's work.
    let refused = [
        format!("x[{}", "$2y[".repeat(over)),
        format!("x[{}", "\"a\"y[".repeat(over)),
        format!("echo ok; ((( x_[{}", "\\ay[".repeat(over)),
        // closing brackets the grammar does not take as closers do not hide open ones
        format!("a[{}=1", "$2y[\"]\"".repeat(over)),
        format!("arr[{}=(a b)", "${z]}y[".repeat(over)),
    ];
    for line in &refused {
        let view = parse_line(line, &limits);
        assert!(
            view.error.as_deref().is_some_and(|e| e.contains("subscripts, over the limit")),
            "{line}: {view:?}"
        );
        assert!(view.dynamic, "{line}");
    }
    let at_bound = format!("x[{}", "$2y[".repeat(over - 1));
    for line in [
        at_bound.as_str(),
        "a[0]=1 b[1]=2 env",
        "declare -A m; m[${k[$i]}]=${v[$i]}; echo \"${m[a]}\"",
        "ls file[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].txt",
        "echo -x[$2y[$2y[$2y[$2y[$2y[$2y[$2y[$2y[$2y[$2y[",
        "arr=([0]=a [1]=b [2]=c [3]=d [4]=e [5]=f [6]=g [7]=h [8]=i [9]=j)",
    ] {
        assert_eq!(parse_line(line, &limits).error, None, "{line}");
    }
    // the bound is a setting
    let strict = Limits { max_subscript_brackets: 1, ..Limits::default() };
    assert!(parse_line("a[b[1]]=2", &strict).error.is_some());
    assert_eq!(parse_line("a[b[1]]=2", &limits).error, None);
}

#[test]
fn here_documents_in_substitutions_left_open_are_refused() {
    // brush-parser's tokenizer looped forever on these: the text ends inside `$( )`,
    // `$(( ))` or `$[ ]` while a here-document waits for its body.
    let limits = Limits::default();
    for line in [
        "$(cat <<  c ",
        "$(cat <<-   c ",
        "$[$[]<<  c ",
        "x $(( $[] <<  cd ",
        "echo $(cat <<c x\\\n$[\\]",
    ] {
        let view = parse_line(line, &limits);
        assert!(
            view.error.as_deref().is_some_and(|e| e.contains("left open at the end")),
            "{line:?}: {view:?}"
        );
        assert!(view.dynamic, "{line:?}");
    }
    // `<<` inside `$[ ]` (a shift to bash) looped too, with the text closed: `$[ ]` is the
    // deprecated spelling of `$(( ))`, and a `<<` in it is refused.
    for line in ["$[$[]<< ] ", "echo $[1 << 2]", "x=$[ $[1] + (2 << 3) ]"] {
        let view = parse_line(line, &limits);
        assert!(
            view.error.as_deref().is_some_and(|e| e.contains("inside the deprecated arithmetic")),
            "{line:?}: {view:?}"
        );
        assert!(view.dynamic, "{line:?}");
    }
    for line in [
        "cat <<< hi",
        "echo $((1 << 4))",
        "echo $[1 + 2] $((3 << 1))",
        "cat <<EOF\nhi\nEOF",
        "x=$(cat <<EOF\nhi\nEOF\n)",
        "git log --format='%h <<%s>>' $(git rev-parse HEAD)",
    ] {
        assert_eq!(parse_line(line, &limits).error, None, "{line:?}");
    }
}

#[test]
fn here_document_delimiters_that_hang_the_parser_are_refused() {
    let limits = Limits::default();
    for line in ["cat <<\"@$(( (<<\"@$(", "cat <<\"a b\nx\na b", "cat <<`x`\n"] {
        let view = parse_line(line, &limits);
        assert!(
            view.error.as_deref().is_some_and(|e| e.contains("here-document delimiter")),
            "{line:?}: {view:?}"
        );
    }
    for line in [
        "cat <<EOF\nhi\nEOF",
        "cat <<'EOF'\nhi\nEOF",
        "cat <<\"EOF\"\nhi\nEOF",
        "cat <<-END\n\tx\n\tEND",
    ] {
        assert_eq!(parse_line(line, &limits).error, None, "{line:?}");
    }
}

#[test]
fn out_of_range_descriptors_are_refused_and_in_range_ones_parse() {
    for line in ["99999999999>x", "ls 2147483648>out", "cat 1<x 99999999999999999999<y"] {
        let view = parse_line(line, &Limits::default());
        assert!(
            view.error.as_deref().is_some_and(|e| e.contains("out of range")),
            "{line}: {view:?}"
        );
        assert!(view.dynamic);
    }
    for line in ["ls 2>/dev/null", "cmd 2147483647>x", "echo abc99999999999>x", "echo 5 > x"] {
        let view = parse_line(line, &Limits::default());
        assert_eq!(view.error, None, "{line}");
    }
}

#[test]
fn here_document_delimiters_ending_in_a_backslash_are_refused_but_quoting_by_backslash_works() {
    let limits = Limits::default();
    let refused = parse_line("cat <<-  ab\\\nx\nab\n", &limits);
    assert!(
        refused.error.as_deref().is_some_and(|e| e.contains("trailing backslash")),
        "{refused:?}"
    );
    assert_eq!(parse_line("cat <<\\EOF\nhi\nEOF", &limits).error, None);
}

#[test]
fn policy_load_regressions() {
    let found = inputs("policy_load");
    assert!(!found.is_empty(), "no regression inputs");
    for (name, data) in found {
        let Some((&selector, rest)) = data.split_first() else { continue };
        let text = String::from_utf8_lossy(rest).into_owned();
        let mut result = None;
        let raised = panics_during(|| {
            result = Some(if selector % 2 == 0 {
                writ::Engine::from_yaml(&text)
            } else {
                writ::Engine::from_json(&text)
            });
        });
        assert_eq!(raised, 0, "{name}: a panic was raised");
        if let Some(Err(e)) = result {
            for d in e.diagnostics() {
                assert!(d.line >= 1 && d.column >= 1, "{name}: unlocated diagnostic: {d}");
            }
        }
    }
}

#[test]
fn json_errors_at_a_line_break_point_at_the_end_of_the_previous_line() {
    // A raw newline inside a JSON string: serde_json says line 2, column 0.
    let e = writ::Engine::from_json("{\"version\": \"ab\ncd\"}").unwrap_err();
    let d = &e.diagnostics()[0];
    assert!(d.message.contains("control character"), "{d}");
    assert_eq!((d.line, d.column), (1, 16), "{d}");
    // Input that ends right after a line break.
    let e = writ::Engine::from_json("{\"version\": 1,\n").unwrap_err();
    let d = &e.diagnostics()[0];
    assert!(d.line >= 1 && d.column >= 1, "{d}");
    let e = writ::Engine::from_json("").unwrap_err();
    let d = &e.diagnostics()[0];
    assert_eq!((d.line, d.column), (1, 1), "{d}");
}

/// The masking configurations of the `mask_scan` target whose output must be a fixed point
/// (every method but `format_preserving`).
fn idempotent_detectors() -> Vec<Detectors> {
    let key = b"the fuzz host's hmac key".to_vec();
    [
        Method::Redact { token: None },
        Method::Redact { token: Some("<hidden>".into()) },
        Method::Null,
        Method::Partial { keep_first: 0, keep_last: 4, mask_char: '*' },
        Method::Partial { keep_first: 2, keep_last: 2, mask_char: '#' },
        Method::Hash,
        Method::Email,
    ]
    .into_iter()
    .map(|m| Detectors::builder().default_method(m).hmac_key(key.clone()).build().unwrap())
    .collect()
}

#[test]
fn mask_scan_regressions() {
    let found = inputs("mask_scan");
    assert!(!found.is_empty(), "no regression inputs");
    let detectors = idempotent_detectors();
    for (name, data) in found {
        // The first byte picks the target's configuration and mode; replay the text with
        // every idempotent configuration instead.
        let Some((_, rest)) = data.split_first() else { continue };
        let text = String::from_utf8_lossy(rest).into_owned();
        for d in &detectors {
            let mut twice = None;
            let raised = panics_during(|| {
                let findings = d.scan(&text);
                let mut last = 0;
                for f in &findings {
                    assert!(f.start >= last && f.start < f.end && f.end <= text.len());
                    assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                    last = f.end;
                }
                let once = d.mask_text(&text, None).text.into_owned();
                twice = Some((d.mask_text(&once, None).text.into_owned(), once));
            });
            assert_eq!(raised, 0, "{name}: a panic was raised for {text:?}");
            let (twice, once) = twice.unwrap();
            assert_eq!(twice, once, "{name}: masking twice differs from once ({d:?})");
        }
    }
}
