//! Runs the classifier over PostgreSQL's regression-test SQL files
//! (`../shared/corpora/postgres-regress/*.sql` beside the repository; never copied into it).
//!
//! Asserts that no statement makes the classifier panic and that no statement starting with a
//! write keyword is read-only, then prints (visible with `--nocapture`) how many statements
//! parsed, fell back to a keyword-based kind, or stayed unknown.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::{Path, PathBuf};
use std::time::Instant;
use writ::sql::{Dialect, Flag, StatementKind, classify};
use writ_e2e::{corpus_dir, first_word, split_psql};

/// True when a statement's first keyword makes it a write.
fn is_write(text: &str) -> bool {
    let word = first_word(text);
    match word.as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "CREATE" | "DROP" | "ALTER" | "TRUNCATE"
        | "GRANT" | "REVOKE" | "VACUUM" | "REINDEX" | "CLUSTER" | "DO" | "CALL" => true,
        "COPY" => {
            // `COPY (query) TO ...` reads; `COPY t [(cols)] FROM ...` writes.
            let lower = text.to_lowercase();
            let after = lower.trim_start().trim_start_matches("copy").trim_start();
            !after.starts_with('(') && after.split_whitespace().any(|w| w == "from")
        }
        _ => false,
    }
}

#[test]
fn splitter_respects_quotes_comments_and_copy_data() {
    let script = "SELECT 'a;b', $$ ; $$, $f$ ; $f$ -- c; d\n;\n\\set x 1\n\
                  COPY t FROM stdin;\n1\t;x\n\\.\nSELECT E'\\';' /* ; /* ; */ */;\nSELECT 2 \\gset\n";
    let parts = split_psql(script);
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert!(parts.first().is_some_and(|p| p.contains("$f$ ; $f$")), "{parts:?}");
    assert!(parts.get(1).is_some_and(|p| p.trim() == "COPY t FROM stdin"), "{parts:?}");
    assert!(parts.get(2).is_some_and(|p| p.contains("E'\\';'")), "{parts:?}");
    assert!(parts.get(3).is_some_and(|p| p.trim() == "SELECT 2"), "{parts:?}");
    assert!(is_write("copy t from stdin"));
    assert!(!is_write("copy t to stdout"));
    assert!(!is_write("copy (select * from t) to stdout"));
    assert!(is_write("copy t (a, b) from '/tmp/x'"));
    assert_eq!(first_word("-- x\n/* y */ insert into t"), "INSERT");
}

#[test]
fn postgres_regression_corpus() {
    let Some(dir) = corpus_dir() else {
        panic!(
            "corpus directory missing: expected ../shared/corpora/postgres-regress at {}",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/corpora/postgres-regress")
                .display()
        );
    };
    let entries = std::fs::read_dir(&dir);
    assert!(entries.is_ok(), "cannot read {}: {:?}", dir.display(), entries.err());
    let Ok(entries) = entries else { return };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .sql files in {}", dir.display());

    let started = Instant::now();
    let (mut total, mut parsed, mut fallback, mut unknown) = (0usize, 0usize, 0usize, 0usize);
    let mut panics = Vec::new();
    let mut read_only_writes = Vec::new();
    // The default hook would print every caught panic; the offenders are listed below instead.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for file in &files {
        let bytes = std::fs::read(file);
        assert!(bytes.is_ok(), "cannot read {}", file.display());
        let Ok(bytes) = bytes else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for stmt in split_psql(&text) {
            let result = std::panic::catch_unwind(|| classify(&stmt, Dialect::Postgres));
            let Ok(view) = result else {
                panics.push(format!("{}: {}", file.display(), stmt.trim()));
                continue;
            };
            for s in &view.statements {
                total += 1;
                if !s.flags.contains(&Flag::Unparsed) {
                    parsed += 1;
                } else if s.kind != StatementKind::Unknown {
                    fallback += 1;
                }
                if s.kind == StatementKind::Unknown {
                    unknown += 1;
                }
            }
            if is_write(&stmt) && (view.read_only || view.statements.iter().any(|s| s.read_only)) {
                read_only_writes.push(format!("{}: {}", file.display(), stmt.trim()));
            }
        }
    }
    std::panic::set_hook(hook);
    let elapsed = started.elapsed();
    let share = if total == 0 { 0.0 } else { unknown as f64 * 100.0 / total as f64 };
    eprintln!(
        "postgres-regress corpus: {} files, {total} statements, {parsed} parsed, {fallback} fallback \
         with known kind, {unknown} unknown ({share:.2}% unknown), {:.2?}",
        files.len(),
        elapsed
    );
    assert!(
        panics.is_empty(),
        "classify panicked on {} statements:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(
        read_only_writes.is_empty(),
        "{} write statements classified read-only:\n{}",
        read_only_writes.len(),
        read_only_writes.join("\n---\n")
    );
    assert!(total > 10_000, "only {total} statements found: the splitter is broken");
}
