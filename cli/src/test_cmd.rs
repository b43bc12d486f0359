//! `writ test`: run policy test files the way `cargo test` runs tests.
//!
//! A directory holding test files (`*.test.yaml`, `*.test.yml`, `*.test.json`) is a pack: its
//! other documents are the policy the tests run against. Paths may be packs, directories to
//! search for packs (recursively, skipping hidden folders, `target` and `node_modules`), or
//! single test files.
//!
//! Rule coverage counts a rule as exercised when some case's decision names it, or when it has
//! an inline example of its own effect (the policy compiled, so the rule decides it).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use writ::Engine;
use writ::cases::{CaseOutcome, TestFile, test_files_in};
use writ::policy::{Position, is_test_file_name};

use crate::{EXIT_DENIED, EXIT_ERROR, EXIT_OK, indent_error};

/// Output formats of `writ test`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TestFormat {
    /// cargo-test style text.
    Human,
    /// One JSON document.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

/// Options of `writ test`.
pub(crate) struct TestOptions {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) filter: Option<String>,
    pub(crate) format: TestFormat,
    pub(crate) min_coverage: Option<f64>,
}

struct CaseRun {
    file: PathBuf,
    position: Position,
    outcome: CaseOutcome,
}

struct PackRun {
    dir: PathBuf,
    rules: Vec<String>,
    /// Rules with an inline example of their own effect, which they decide (the policy
    /// compiled): exercised whatever the cases do.
    exemplified: Vec<String>,
    cases: Vec<CaseRun>,
}

/// Run `writ test`; returns the exit code.
pub(crate) fn run(options: &TestOptions) -> u8 {
    let packs = match discover(&options.paths) {
        Ok(packs) if !packs.is_empty() => packs,
        Ok(_) => {
            eprintln!("error: no test files (*.test.yaml, *.test.yml, *.test.json) found");
            return EXIT_ERROR;
        }
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let mut runs = Vec::new();
    let mut errors = Vec::new();
    let mut filtered_out = 0usize;
    for (dir, files) in packs {
        let engine = match Engine::from_path(&dir) {
            Ok(engine) => engine,
            Err(e) => {
                errors.push(format!("policy `{}`: {}", dir.display(), indent_error(&e)));
                continue;
            }
        };
        let mut cases = Vec::new();
        for file in files {
            let (tests, positions) = match TestFile::read_located(&file) {
                Ok(read) => read,
                Err(e) => {
                    errors.push(indent_error(&e));
                    continue;
                }
            };
            for (case, position) in tests.cases.iter().zip(positions) {
                if options.filter.as_deref().is_some_and(|f| !case.name.contains(f)) {
                    filtered_out += 1;
                    continue;
                }
                cases.push(CaseRun { file: file.clone(), position, outcome: case.run(&engine) });
            }
        }
        runs.push(PackRun {
            dir,
            rules: engine.rule_ids().map(str::to_owned).collect(),
            exemplified: engine.rule_ids_with_examples().map(str::to_owned).collect(),
            cases,
        });
    }
    let coverage = Coverage::of(&runs);
    let failed = runs.iter().flat_map(|p| &p.cases).filter(|c| !c.outcome.passed()).count();
    let below_min = options.min_coverage.is_some_and(|min| coverage.percent() < min);
    match options.format {
        TestFormat::Human => {
            print!("{}", human(&runs, &errors, filtered_out, &coverage, options.min_coverage))
        }
        TestFormat::Json => println!("{}", json(&runs, &errors, filtered_out, &coverage)),
        TestFormat::Junit => print!("{}", junit(&runs)),
    }
    if options.format != TestFormat::Human {
        for e in &errors {
            eprintln!("error: {e}");
        }
    }
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        for case in runs.iter().flat_map(|p| &p.cases).filter(|c| !c.outcome.passed()) {
            println!(
                "::error file={},line={},col={}::{}",
                case.file.display(),
                case.position.line,
                case.position.column,
                annotation(&format!("{}: {}", case.outcome.name, case.outcome.failures.join("; ")))
            );
        }
    }
    if !errors.is_empty() {
        EXIT_ERROR
    } else if failed > 0 || below_min {
        EXIT_DENIED
    } else {
        EXIT_OK
    }
}

/// Packs under `paths`: each directory with test files, with those files in name order.
fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<PathBuf>)>, String> {
    let mut packs: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut add = |dir: PathBuf, file: PathBuf| match packs.iter_mut().find(|(d, _)| *d == dir) {
        Some((_, files)) => {
            if !files.contains(&file) {
                files.push(file);
            }
        }
        None => packs.push((dir, vec![file])),
    };
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_file() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !is_test_file_name(name) {
                return Err(format!(
                    "`{}` is not a test file (*.test.yaml, *.test.yml, *.test.json)",
                    path.display()
                ));
            }
            let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
            add(dir, path.clone());
            continue;
        }
        let mut stack = vec![path.clone()];
        while let Some(dir) = stack.pop() {
            for file in test_files_in(&dir).map_err(|e| e.to_string())? {
                add(dir.clone(), file);
            }
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
            let mut subdirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    !name.starts_with('.') && name != "target" && name != "node_modules"
                })
                .collect();
            subdirs.sort();
            subdirs.reverse();
            stack.extend(subdirs);
        }
    }
    packs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(packs)
}

/// Which rules decided at least one case or have an inline example of their own effect.
struct Coverage {
    total: usize,
    missed: Vec<(PathBuf, String)>,
}

impl Coverage {
    fn of(runs: &[PackRun]) -> Coverage {
        let mut total = 0;
        let mut missed = Vec::new();
        for pack in runs {
            let decided: BTreeSet<&str> = pack
                .cases
                .iter()
                .flat_map(|c| {
                    let d = &c.outcome.decision;
                    d.rules.iter().chain(d.parts.iter().flat_map(|s| &s.rules))
                })
                .chain(&pack.exemplified)
                .map(String::as_str)
                .collect();
            total += pack.rules.len();
            for rule in &pack.rules {
                if !decided.contains(rule.as_str()) {
                    missed.push((pack.dir.clone(), rule.clone()));
                }
            }
        }
        Coverage { total, missed }
    }

    fn percent(&self) -> f64 {
        if self.total == 0 {
            return 100.0;
        }
        let covered = self.total - self.missed.len();
        covered as f64 * 100.0 / self.total as f64
    }
}

fn human(
    runs: &[PackRun],
    errors: &[String],
    filtered_out: usize,
    coverage: &Coverage,
    min: Option<f64>,
) -> String {
    let mut out = String::new();
    let count: usize = runs.iter().map(|p| p.cases.len()).sum();
    let _ = writeln!(out, "\nrunning {count} policy cases");
    for case in runs.iter().flat_map(|p| &p.cases) {
        let status = if case.outcome.passed() { "ok" } else { "FAILED" };
        let _ = writeln!(out, "case {} :: {} ... {status}", case.file.display(), case.outcome.name);
    }
    let failures: Vec<&CaseRun> =
        runs.iter().flat_map(|p| &p.cases).filter(|c| !c.outcome.passed()).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nfailures:\n");
        for case in &failures {
            let d = &case.outcome.decision;
            let _ = writeln!(
                out,
                "---- {}:{} {} ----",
                case.file.display(),
                case.position.line,
                case.outcome.name
            );
            for f in &case.outcome.failures {
                let _ = writeln!(out, "{f}");
            }
            let rules = if d.rules.is_empty() {
                "(none: a default decided)".to_owned()
            } else {
                d.rules.join(", ")
            };
            let _ = writeln!(out, "actual:   {} by {rules}\nreason:   {}\n", d.effect, d.reason);
        }
    }
    for e in errors {
        let _ = writeln!(out, "error: {e}");
    }
    let passed = count - failures.len();
    let result = if failures.is_empty() && errors.is_empty() { "ok" } else { "FAILED" };
    let _ = writeln!(
        out,
        "\ntest result: {result}. {passed} passed; {} failed; {filtered_out} filtered out",
        failures.len()
    );
    let _ = write!(out, "rule coverage: {:.1}% of {} rules", coverage.percent(), coverage.total);
    if let Some(min) = min {
        let _ = write!(out, " (minimum {min:.1}%)");
    }
    let _ = writeln!(out);
    for (dir, rule) in &coverage.missed {
        let _ = writeln!(out, "  not exercised: {} :: {rule}", dir.display());
    }
    out
}

fn json(
    runs: &[PackRun],
    errors: &[String],
    filtered_out: usize,
    coverage: &Coverage,
) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = runs
        .iter()
        .flat_map(|p| &p.cases)
        .map(|c| {
            serde_json::json!({
                "file": c.file.display().to_string(), "line": c.position.line,
                "name": c.outcome.name, "passed": c.outcome.passed(),
                "failures": c.outcome.failures, "decision": c.outcome.decision,
            })
        })
        .collect();
    let failed = cases.iter().filter(|c| c["passed"] == false).count();
    serde_json::json!({
        "cases": cases,
        "errors": errors,
        "summary": {"passed": cases.len() - failed, "failed": failed, "filtered_out": filtered_out},
        "coverage": {
            "percent": coverage.percent(), "rules": coverage.total,
            "not_exercised": coverage.missed.iter().map(|(d, r)| serde_json::json!({"pack": d.display().to_string(), "rule": r})).collect::<Vec<_>>(),
        },
    })
}

fn junit(runs: &[PackRun]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"writ\">\n");
    for pack in runs {
        let failures = pack.cases.iter().filter(|c| !c.outcome.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
            xml(&pack.dir.display().to_string()),
            pack.cases.len()
        );
        for case in &pack.cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\"",
                xml(&pack.dir.display().to_string()),
                xml(&case.outcome.name),
                xml(&case.file.display().to_string()),
                case.position.line
            );
            if case.outcome.passed() {
                out.push_str("/>\n");
            } else {
                let message = case.outcome.failures.join("; ");
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(&message),
                    xml(&format!("{message}\nreason: {}", case.outcome.decision.reason))
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escape text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// GitHub workflow commands take `%`, CR and LF escaped.
fn annotation(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}
