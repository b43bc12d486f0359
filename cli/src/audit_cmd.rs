//! `writ audit verify` and `writ audit replay`.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use writ::Engine;
use writ::audit::{self, ChainKey, FileOptions, FileSink};

use crate::{EXIT_DENIED, EXIT_ERROR, EXIT_OK, Format, indent_error, keys};

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Check a log's hash chain (with its rotated files `LOG.000001`, ...) and report the
    /// first broken link. Exit 0 when the chain holds, 1 when it is broken, 2 on an error.
    Verify {
        /// The log (the active file; its rotated files are found beside it).
        log: PathBuf,
        /// The chain's key, for a keyed log.
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Accept a log whose oldest files were removed on purpose (it starts mid-chain).
        #[arg(long)]
        partial: bool,
        /// Fail unless the last event has this hash (a head kept elsewhere): catches events
        /// cut off the end.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Decide every recorded request again under another policy and print the decisions that
    /// would change. Exit 0 when none changes (as `--fail-on` counts), 1 when some do, 2 on an
    /// error: a CI gate for a policy change.
    Replay {
        /// Logs to replay (each with its rotated files), oldest first.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// The new policy file or directory.
        #[arg(long, short)]
        policy: PathBuf,
        /// Which changes fail the run: any, or only those that let more through
        /// (deny to approval or allow, approval to allow).
        #[arg(long, value_enum, default_value_t = FailOn::Any)]
        fail_on: FailOn,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Every changed decision.
    Any,
    /// Only decisions that loosen.
    Loosen,
}

pub(crate) fn run(command: &AuditCommand) -> u8 {
    match command {
        AuditCommand::Verify { log, key_file, partial, expect_head, format } => {
            verify(log, key_file.as_deref(), *partial, expect_head.as_deref(), *format)
        }
        AuditCommand::Replay { logs, policy, fail_on, format } => {
            replay(logs, policy, *fail_on, *format)
        }
    }
}

fn chain_key(path: Option<&Path>) -> Result<Option<ChainKey>, String> {
    path.map(|p| {
        let secret = keys::secret_file(p)?;
        ChainKey::new(&secret).map_err(|e| format!("{}: {e}", p.display()))
    })
    .transpose()
}

/// The file sink `writ eval --audit-log` writes to.
pub(crate) fn open_sink(path: &Path, key_file: Option<&Path>) -> Result<FileSink, String> {
    let options = FileOptions { key: chain_key(key_file)?, ..FileOptions::default() };
    FileSink::open_with(path, options).map_err(|e| e.to_string())
}

fn verify(
    log: &Path,
    key_file: Option<&Path>,
    partial: bool,
    expect_head: Option<&str>,
    format: Format,
) -> u8 {
    let key = match chain_key(key_file) {
        Ok(key) => key,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    if !log.exists() && audit::rotated_files(log).map(|r| r.is_empty()).unwrap_or(true) {
        eprintln!("error: {}: no such audit log", log.display());
        return EXIT_ERROR;
    }
    let report = match audit::verify(log, key.as_ref(), partial) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let head_hash = report.head.as_ref().map(|(_, h)| h.as_str());
    let head_mismatch = match (expect_head, &report.broken) {
        (Some(expected), None) if head_hash != Some(expected) => Some(format!(
            "the last event's hash is {}, not the expected {expected}: events were cut off the \
             end or added after it",
            head_hash.unwrap_or("(none)")
        )),
        _ => None,
    };
    let ok = report.broken.is_none() && head_mismatch.is_none();
    match format {
        Format::Json => {
            let value = serde_json::json!({
                "ok": ok,
                "files": report.files,
                "events": report.events,
                "first_seq": report.first_seq,
                "head": report.head.as_ref().map(|(seq, hash)| serde_json::json!({"seq": seq, "hash": hash})),
                "broken": report.broken.as_ref().map(|b| serde_json::json!({
                    "file": b.file, "line": b.line, "message": b.message,
                })).or_else(|| head_mismatch.as_ref().map(|m| serde_json::json!({"message": m}))),
            });
            println!("{value}");
        }
        Format::Human => {
            if let Some(b) = &report.broken {
                println!("broken: {}:{}: {}", b.file, b.line, b.message);
                println!("{} events verified before the break", report.events);
            } else if let Some(message) = &head_mismatch {
                println!("broken: {message}");
            } else {
                println!(
                    "ok: {} events in {} file(s) verified{}",
                    report.events,
                    report.files.len(),
                    match &report.head {
                        Some((seq, hash)) => format!("; head: event {seq}, {hash}"),
                        None => String::new(),
                    }
                );
            }
        }
    }
    if ok { EXIT_OK } else { EXIT_DENIED }
}

fn replay(logs: &[PathBuf], policy: &Path, fail_on: FailOn, format: Format) -> u8 {
    let engine = match Engine::from_path(policy) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {}", indent_error(&e));
            return EXIT_ERROR;
        }
    };
    let mut files = Vec::new();
    for log in logs {
        match audit::rotated_files(log) {
            Ok(rotated) => files.extend(rotated.into_iter().map(|(_, p)| p)),
            Err(e) => {
                eprintln!("error: {}: {e}", log.display());
                return EXIT_ERROR;
            }
        }
        if log.exists() {
            files.push(log.clone());
        } else if files.is_empty() {
            eprintln!("error: {}: no such audit log", log.display());
            return EXIT_ERROR;
        }
    }
    let result = match audit::replay(&files, &engine) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let failing = result.changes.iter().filter(|c| fail_on == FailOn::Any || c.loosens()).count();
    match format {
        Format::Json => {
            for c in &result.changes {
                let value = serde_json::json!({
                    "file": c.file,
                    "line": c.line,
                    "seq": c.seq,
                    "principal": c.request.principal.id,
                    "resource": c.request.resource,
                    "action": serde_json::to_value(&c.request).ok().and_then(|v| v.get("action").cloned()),
                    "before": c.before,
                    "after": c.after,
                    "loosens": c.loosens(),
                    "rules": c.rules,
                    "reason": c.reason,
                });
                println!("{value}");
            }
            let summary = serde_json::json!({
                "summary": {
                    "events": result.events,
                    "replayed": result.replayed,
                    "changed": result.changes.len(),
                    "loosened": result.changes.iter().filter(|c| c.loosens()).count(),
                    "skipped": result.skipped.len(),
                }
            });
            println!("{summary}");
        }
        Format::Human => {
            for c in &result.changes {
                let action = serde_json::to_value(&c.request)
                    .ok()
                    .and_then(|v| v.get("action").cloned())
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                println!(
                    "changed: {}:{}: {} on {}: {} -> {}{}",
                    c.file,
                    c.line,
                    c.request.principal.id,
                    c.request.resource,
                    c.before,
                    c.after,
                    if c.loosens() { " (loosens)" } else { "" }
                );
                println!("         action: {action}");
                if c.rules.is_empty() {
                    println!("         now: {}", c.reason);
                } else {
                    println!("         now: {} ({})", c.reason, c.rules.join(", "));
                }
            }
            for s in &result.skipped {
                println!("skipped: {}:{}: {}", s.file, s.line, s.reason);
            }
            println!(
                "{} events, {} decisions replayed, {} changed ({} loosen), {} skipped",
                result.events,
                result.replayed,
                result.changes.len(),
                result.changes.iter().filter(|c| c.loosens()).count(),
                result.skipped.len()
            );
        }
    }
    if failing > 0 { EXIT_DENIED } else { EXIT_OK }
}
