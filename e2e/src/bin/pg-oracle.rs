//! PostgreSQL as the oracle for writ's read-only classification.
//!
//! Every statement of the regression corpus (and of `e2e/corpus/`) is classified by writ and
//! then sent to a real server inside `BEGIN READ ONLY ... ROLLBACK`. A statement the server
//! refuses with SQLSTATE 25006 (`read_only_sql_transaction`) writes; writ must never have
//! called it read-only. After the probe the statement is run for real, so the schema builds up
//! as the regression suite intends and later statements can run.
//!
//! Statements are never sent when writ says they reach the server's file system or run a
//! program (`COPY ... PROGRAM`, server-side files), when they are transaction control, or when
//! they need the client's COPY data stream; they are counted as not run.
//!
//! Usage: `pg-oracle CONNINFO [SQL files or directories...]` (default: the corpus and
//! `e2e/corpus`). Exits 1 when writ misses a write, 2 on an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use postgres::error::SqlState;
use postgres::{Client, NoTls};
use writ::sql::{Dialect, Flag, StatementKind, classify, is_pg_builtin};
use writ_e2e::{corpus_dir, split_psql};

/// What the server said in a read-only transaction.
enum Probe {
    /// It ran.
    Ran,
    /// Refused: it writes.
    ReadOnlyViolation,
    /// Failed for another reason (a missing object, a syntax PostgreSQL rejects, ...).
    Failed,
}

#[derive(Default)]
struct Counts {
    statements: u64,
    agreed_read_only: u64,
    writes_caught: u64,
    writes_missed: u64,
    false_alarms: u64,
    server_failed: u64,
    not_run: u64,
    /// False alarms by the first reason writ gave (a flag, or the statement kind).
    alarm_reasons: std::collections::BTreeMap<String, u64>,
    /// Functions behind `user_function` false alarms.
    alarm_functions: std::collections::BTreeMap<String, u64>,
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(conninfo) = args.next() else {
        eprintln!("usage: pg-oracle CONNINFO [SQL files or directories...]");
        return ExitCode::from(2);
    };
    let mut inputs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if inputs.is_empty() {
        match corpus_dir() {
            Some(dir) => inputs.push(dir),
            None => {
                eprintln!("error: ../shared/corpora/postgres-regress is missing");
                return ExitCode::from(2);
            }
        }
        inputs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    }
    let files = match sql_files(&inputs) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&conninfo, &files) {
        Ok(counts) => {
            println!(
                "statements: {}\n  agreed read-only:  {}\n  writes caught:     {}\n  writes missed:     {}\n  false alarms:      {} (writ says not read-only, the server ran it read-only)\n  server could not run: {}\n  not sent:          {} (files, programs, transaction control, COPY data)",
                counts.statements,
                counts.agreed_read_only,
                counts.writes_caught,
                counts.writes_missed,
                counts.false_alarms,
                counts.server_failed,
                counts.not_run
            );
            let mut reasons: Vec<(&String, &u64)> = counts.alarm_reasons.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1));
            println!("false alarms by reason:");
            for (reason, n) in reasons {
                println!("  {n:>6}  {reason}");
            }
            let mut functions: Vec<(&String, &u64)> = counts.alarm_functions.iter().collect();
            functions.sort_by(|a, b| b.1.cmp(a.1));
            println!("functions behind user_function false alarms (top 25):");
            for (name, n) in functions.into_iter().take(25) {
                println!("  {n:>6}  {name}");
            }
            if counts.writes_missed > 0 {
                eprintln!(
                    "error: writ called {} writing statements read-only",
                    counts.writes_missed
                );
                return ExitCode::from(1);
            }
            if counts.writes_caught == 0 || counts.agreed_read_only == 0 {
                eprintln!("error: the oracle saw no writes or no reads: the run proves nothing");
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The `.sql` files of `inputs`, `test_setup.sql` first (the regression suite's base tables),
/// then by name.
fn sql_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| format!("{}: {e}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect();
            files.sort_by_key(|p| (p.file_name().is_none_or(|n| n != "test_setup.sql"), p.clone()));
            out.extend(files);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

fn connect(conninfo: &str) -> Result<Client, String> {
    let mut client = Client::connect(conninfo, NoTls).map_err(|e| format!("connect: {e}"))?;
    client
        .batch_execute("SET client_min_messages = error; SET statement_timeout = '5s'")
        .map_err(|e| format!("session setup: {e}"))?;
    Ok(client)
}

fn run(conninfo: &str, files: &[PathBuf]) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let started = Instant::now();
    for file in files {
        // A few corpus files are in other encodings (collate.windows.win1252.sql): read lossily.
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        // A fresh session per file, as the regression suite runs each file in its own.
        let mut client = connect(conninfo)?;
        for stmt in split_psql(&text) {
            counts.statements += 1;
            let view = classify(&stmt, Dialect::Postgres);
            let lower = stmt.to_lowercase();
            let unsafe_to_send = view.statements.iter().any(|s| {
                s.flags.contains(&Flag::CopyProgram)
                    || s.flags.contains(&Flag::ServerFile)
                    || s.kind == StatementKind::Transaction
                    || (s.kind == StatementKind::Copy
                        && (lower.contains("stdin") || lower.contains("stdout")))
            }) || (view.statements.is_empty() && lower.contains("copy"));
            if unsafe_to_send {
                counts.not_run += 1;
                continue;
            }
            if client.is_closed() {
                client = connect(conninfo)?;
            }
            let probe = probe(&mut client, &stmt);
            match (probe, view.read_only) {
                (Probe::ReadOnlyViolation, true) => {
                    counts.writes_missed += 1;
                    println!("MISS {}: {}", file.display(), one_line(&stmt));
                }
                (Probe::ReadOnlyViolation, false) => counts.writes_caught += 1,
                (Probe::Ran, true) => counts.agreed_read_only += 1,
                (Probe::Ran, false) => {
                    counts.false_alarms += 1;
                    let reason = view
                        .statements
                        .iter()
                        .find(|s| !s.read_only)
                        .map(|s| match s.flags.iter().find(|f| **f != Flag::MultiStatement) {
                            Some(f) => format!("flag {f}"),
                            None => format!("kind {}", s.kind.as_str()),
                        })
                        .unwrap_or_else(|| "not parsed".to_owned());
                    *counts.alarm_reasons.entry(reason).or_default() += 1;
                    for s in
                        view.statements.iter().filter(|s| s.flags.contains(&Flag::UserFunction))
                    {
                        for f in s.functions.iter().filter(|f| !is_pg_builtin(f)) {
                            *counts.alarm_functions.entry(f.clone()).or_default() += 1;
                        }
                    }
                }
                (Probe::Failed, _) => counts.server_failed += 1,
            }
            // Now for real, so that later statements find what earlier ones created.
            if client.is_closed() {
                client = connect(conninfo)?;
            }
            if client.batch_execute(&format!("{stmt}\n")).is_err() && !client.is_closed() {
                // An error inside a block the statement opened would leave it open.
                let _ = client.batch_execute("ROLLBACK");
            }
        }
        eprintln!(
            "{:>6.1}s {:<40} {} statements so far",
            started.elapsed().as_secs_f64(),
            file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            counts.statements
        );
    }
    Ok(counts)
}

fn probe(client: &mut Client, stmt: &str) -> Probe {
    if client.batch_execute("BEGIN READ ONLY").is_err() {
        return Probe::Failed;
    }
    let result = client.batch_execute(&format!("{stmt}\n"));
    if !client.is_closed() {
        let _ = client.batch_execute("ROLLBACK");
    }
    match result {
        Ok(()) => Probe::Ran,
        Err(e) if e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => {
            Probe::ReadOnlyViolation
        }
        Err(_) => Probe::Failed,
    }
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        flat.chars().take(200).collect::<String>() + "…"
    } else {
        flat
    }
}
