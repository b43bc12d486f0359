//! `writ`: check policies, see what the engine sees, and evaluate requests.
//!
//! Exit codes (stable, for scripts and CI):
//! - 0: success; for `eval`, every request was allowed;
//! - 1: `eval`: at least one request was denied or needs approval; `test`: a case failed or
//!   rule coverage is below `--min-coverage`; `scan`: something sensitive was found;
//!   `grant mint`: refused (wider or deeper than the parent, or the parent is invalid);
//!   `grant verify`: the grant is invalid; `mask`: the query is denied or needs approval;
//! - 2: an error: an invalid policy, unreadable input, a malformed request, key, scope or
//!   grant.

use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod audit_cmd;
mod grant_cmd;
mod keys;
mod mask_cmd;
mod test_cmd;

use clap::{Parser, Subcommand, ValueEnum};
use writ::identity::{ApprovalUse, Checked};
use writ::sql::{self, Dialect};
use writ::{ActionView, Decision, Effect, Engine, Host, PolicyError, Request};

pub(crate) const EXIT_OK: u8 = 0;
/// Something was denied or needs approval (`eval`), or a test failed (`test`).
pub(crate) const EXIT_DENIED: u8 = 1;
pub(crate) const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "writ",
    version,
    about = "Policy enforcement for AI agents: check, inspect, evaluate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate policy documents (a file or a directory); errors name file, line and column.
    Check {
        /// Policy files or directories; each is compiled as one policy.
        #[arg(required = true)]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat lint warnings (covered rules, allows a deny always overrides, conditions
        /// that never match, resources without rules) as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print the engine's view of an action.
    Inspect {
        #[command(subcommand)]
        what: Inspect,
    },
    /// Run policy test files (`*.test.yaml`) against the policies beside them.
    Test {
        /// Packs, directories to search, or test files (default: the current directory).
        paths: Vec<PathBuf>,
        /// Run only cases whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = test_cmd::TestFormat::Human)]
        format: test_cmd::TestFormat,
        /// Fail when fewer than this percentage of rules decided at least one case.
        #[arg(long, value_name = "PERCENT")]
        min_coverage: Option<f64>,
    },
    /// Find sensitive content in text lines from stdin: one JSON finding per line on stdout,
    /// with byte offsets and never the value. No policy needed.
    Scan {
        /// Detectors to run, comma-separated (default: all built-in detectors).
        #[arg(long, value_delimiter = ',')]
        detectors: Option<Vec<String>>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Decide requests: JSON Lines requests on stdin, one JSON decision per line on stdout.
    ///
    /// Requests may carry a `token`, a `grant` and an `approval`; give the keys that verify
    /// them (`--grant-key`, `--approval-key`, `--shared-secret`, `--hmac-secret-file`). With
    /// any of these flags (or `--now`), each decision also reports the principal decided for,
    /// the grant chain, the single-use grant ids consumed and what happened to the approval;
    /// a single-use grant is honoured once per run.
    #[command(after_help = grant_cmd::KEY_FILES_HELP)]
    Eval {
        /// The policy file or directory.
        #[arg(long, short)]
        policy: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[command(flatten)]
        trust: keys::TrustArgs,
        /// Append one hash-chained audit event per request to this JSON Lines log (the chain
        /// continues across runs; see `writ audit verify`).
        #[arg(long, value_name = "FILE")]
        audit_log: Option<PathBuf>,
        /// Key the audit chain with the secret in this file (HMAC-SHA-256, 32 bytes or more).
        #[arg(long, value_name = "FILE", requires = "audit_log")]
        audit_key_file: Option<PathBuf>,
    },
    /// Verify an audit log's hash chain, or replay its requests against another policy.
    Audit {
        #[command(subcommand)]
        what: audit_cmd::AuditCommand,
    },
    /// Explain one request (JSON, the argument or stdin): every rule considered for every
    /// part, whether it matched and, when not, the first condition that failed.
    Explain {
        /// The policy file or directory.
        #[arg(long, short)]
        policy: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// The request as JSON; read from stdin when absent.
        request: Option<String>,
    },
    /// Print the JSON Schema of the policy document or test-file format, for editors.
    Schema {
        /// Which format.
        #[arg(value_enum, default_value_t = SchemaKind::Policy)]
        kind: SchemaKind,
    },
    /// Generate an Ed25519 key pair that signs grants or approvals.
    ///
    /// Without `--out`, prints the private key PEM, then the public key, on stdout. With
    /// `--out FILE`, writes the private key to FILE (owner-only) and the public key to
    /// FILE.pub. Each PEM is preceded by a `kid: ID` line, so the key id travels with the file.
    #[command(after_help = grant_cmd::KEY_FILES_HELP)]
    Keygen {
        /// The key id, written into everything the key signs.
        #[arg(long)]
        kid: String,
        /// Write the private key here and the public key to FILE.pub.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Format of the public key.
        #[arg(long, value_enum, default_value_t = grant_cmd::PublicFormat::Pem)]
        public_format: grant_cmd::PublicFormat,
        /// Overwrite existing files.
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// Mint, inspect and verify grants: narrowing authority for nested agents.
    Grant {
        #[command(subcommand)]
        what: grant_cmd::GrantCommand,
    },
    /// Sign an approval token (`writa1.…`) for one request digest and print it.
    ///
    /// Sent back with the same request (`"approval"`), it turns `approval_required` into
    /// `allow` when the approver is in one of the rule's `approvers` groups and is not the
    /// requester.
    #[command(after_help = grant_cmd::KEY_FILES_HELP)]
    Approve(grant_cmd::ApproveArgs),
    /// Mask result rows (CSV or JSON Lines on stdin) as the policy says for one principal and
    /// query; masked rows on stdout, what was masked (types and counts) on stderr.
    Mask(mask_cmd::MaskArgs),
}

#[derive(Subcommand)]
enum Inspect {
    /// Classify SQL text (the argument, or stdin without one) and print the JSON view.
    Sql {
        /// SQL dialect.
        #[arg(long, short, default_value = "postgres", value_parser = parse_dialect)]
        dialect: Dialect,
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
        /// The SQL text; read from stdin when absent.
        sql: Option<String>,
    },
    /// Parse a shell command line (the argument, or stdin without one) and print the JSON view.
    Command {
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
        /// The command line; read from stdin when absent.
        line: Option<String>,
    },
}

/// Which JSON Schema `writ schema` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    /// Policy documents.
    Policy,
    /// Policy test files (`*.test.yaml`).
    Test,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Human,
    /// For programs.
    Json,
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse().map_err(|e: sql::UnknownDialect| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check { policies, format, deny_warnings } => {
            check(&policies, format, deny_warnings)
        }
        Command::Inspect { what: Inspect::Sql { dialect, pretty, sql } } => {
            inspect(pretty, sql, |text| serde_json::to_value(sql::classify(text, dialect)))
        }
        Command::Inspect { what: Inspect::Command { pretty, line } } => {
            inspect(pretty, line, |text| {
                serde_json::to_value(writ::command::parse_line(
                    text,
                    &writ::command::Limits::default(),
                ))
            })
        }
        Command::Eval { policy, format, trust, audit_log, audit_key_file } => {
            eval(&policy, format, &trust, audit_log.as_deref(), audit_key_file.as_deref())
        }
        Command::Audit { what } => audit_cmd::run(&what),
        Command::Explain { policy, format, request } => explain(&policy, format, request),
        Command::Schema { kind } => {
            let schema = match kind {
                SchemaKind::Policy => writ::schema::policy_document(),
                SchemaKind::Test => writ::schema::test_file(),
            };
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    emit(&text);
                    EXIT_OK
                }
                Err(e) => {
                    eprintln!("error: cannot print the schema: {e}");
                    EXIT_ERROR
                }
            }
        }
        Command::Keygen { kid, out, public_format, force } => {
            grant_cmd::keygen(&kid, out.as_deref(), public_format, force)
        }
        Command::Grant { what: grant_cmd::GrantCommand::Mint(args) } => grant_cmd::mint(&args),
        Command::Grant { what: grant_cmd::GrantCommand::Inspect { grant, format } } => {
            grant_cmd::inspect(&grant, format)
        }
        Command::Grant {
            what:
                grant_cmd::GrantCommand::Verify {
                    grant,
                    grant_keys,
                    hmac_secret_file,
                    kid,
                    now,
                    revoked,
                    format,
                },
        } => grant_cmd::verify(&grant_cmd::VerifyOptions {
            grant: &grant,
            grant_keys: &grant_keys,
            hmac_secret_file: hmac_secret_file.as_deref(),
            kid: kid.as_deref(),
            now,
            revoked: &revoked,
            format,
        }),
        Command::Approve(args) => grant_cmd::approve(&args),
        Command::Mask(args) => mask_cmd::run(&args),
        Command::Scan { detectors, format } => scan(detectors.as_deref(), format),
        Command::Test { paths, filter, format, min_coverage } => {
            let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths };
            test_cmd::run(&test_cmd::TestOptions { paths, filter, format, min_coverage })
        }
    };
    ExitCode::from(code)
}

fn check(paths: &[PathBuf], format: Format, deny_warnings: bool) -> u8 {
    let mut code = EXIT_OK;
    for path in paths {
        let result = Engine::from_path(path);
        let lints = result.as_ref().map(Engine::lints).unwrap_or_default();
        if result.is_err() || (deny_warnings && !lints.is_empty()) {
            code = EXIT_ERROR;
        }
        match format {
            Format::Human => match &result {
                Ok(engine) => {
                    for lint in &lints {
                        let level = if deny_warnings { "error" } else { "warning" };
                        eprintln!("{level}: {}: {}", lint.at, lint.message);
                    }
                    println!(
                        "{}: `{}`: {} resources, {} rules, {} warnings (policy {})",
                        if deny_warnings && !lints.is_empty() { "failed" } else { "ok" },
                        path.display(),
                        engine.resource_names().count(),
                        engine.rule_count(),
                        lints.len(),
                        engine.policy_version()
                    )
                }
                Err(e) => eprintln!("error: {}", indent_error(e)),
            },
            Format::Json => {
                let value = match &result {
                    Ok(engine) => serde_json::json!({
                        "path": path.display().to_string(),
                        "ok": !deny_warnings || lints.is_empty(),
                        "resources": engine.resource_names().count(),
                        "rules": engine.rule_count(), "policy": engine.policy_version(),
                        "diagnostics": [], "warnings": lints,
                    }),
                    Err(e) => serde_json::json!({
                        "path": path.display().to_string(), "ok": false,
                        "error": e.to_string(), "diagnostics": e.diagnostics(),
                    }),
                };
                println!("{value}");
            }
        }
    }
    code
}

/// Multi-line errors (one diagnostic a line) read better indented under `error:`.
pub(crate) fn indent_error(e: &PolicyError) -> String {
    e.to_string().replace('\n', "\n       ")
}

/// Print the JSON view `view` makes of the argument, or of stdin without one.
fn inspect(
    pretty: bool,
    text: Option<String>,
    view: impl Fn(&str) -> serde_json::Result<serde_json::Value>,
) -> u8 {
    let text = match text {
        Some(text) => text,
        None => {
            let mut buffer = String::new();
            if let Err(e) = io::stdin().read_to_string(&mut buffer) {
                eprintln!("error: cannot read stdin: {e}");
                return EXIT_ERROR;
            }
            buffer
        }
    };
    let json = view(&text).and_then(|value| {
        if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }
    });
    match json {
        Ok(json) => {
            println!("{json}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot print the view: {e}");
            EXIT_ERROR
        }
    }
}

fn eval(
    policy: &PathBuf,
    format: Format,
    trust_args: &keys::TrustArgs,
    audit_log: Option<&std::path::Path>,
    audit_key_file: Option<&std::path::Path>,
) -> u8 {
    let engine = match Engine::from_path(policy) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {}", indent_error(&e));
            return EXIT_ERROR;
        }
    };
    // Without credential flags, requests are checked exactly as before (`Engine::check`).
    let with_trust = trust_args.any();
    let trust = match trust_args.trust() {
        Ok(trust) => trust,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    // The host keeps the keys, the revoked and used grant ids (a single-use grant is honoured
    // once per run) and the audit log.
    let mut host = Host::new(engine);
    if let Some(now) = trust_args.now() {
        host = host.at(now);
    }
    host.set_trust(trust);
    for id in trust_args.revoked() {
        host.revoke(id.clone());
    }
    if let Some(path) = audit_log {
        match audit_cmd::open_sink(path, audit_key_file) {
            Ok(sink) => host.add_sink(std::sync::Arc::new(sink)),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_ERROR;
            }
        }
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut code = EXIT_OK;
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let line_no = n + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("error: cannot read stdin: {e}");
                return EXIT_ERROR;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = match serde_json::from_str(&line) {
            Ok(request) => request,
            Err(e) => {
                // A malformed request is never decided: report it and fail the run.
                let message = format!("line {line_no}, column {}: {e}", e.column());
                match format {
                    Format::Json => {
                        let _ = writeln!(
                            out,
                            "{}",
                            serde_json::json!({"error": message, "line": line_no})
                        );
                    }
                    Format::Human => {
                        eprintln!("error: stdin:{line_no}:{}: invalid request: {e}", e.column())
                    }
                }
                code = EXIT_ERROR;
                continue;
            }
        };
        let checked = host.check(&request);
        let decision = checked.decision.clone();
        // Without credential flags the output is the bare decision.
        let checked = with_trust.then_some(checked);
        if decision.effect != Effect::Allow && code == EXIT_OK {
            code = EXIT_DENIED;
        }
        let written = match format {
            Format::Json => match json_decision(&decision, checked.as_ref()) {
                Ok(json) => writeln!(out, "{json}"),
                Err(e) => writeln!(
                    out,
                    "{}",
                    serde_json::json!({"error": e.to_string(), "line": line_no})
                ),
            },
            Format::Human => {
                writeln!(out, "{}", human_checked(&request, &decision, checked.as_ref()))
            }
        };
        if written.is_err() {
            return EXIT_ERROR;
        }
    }
    code
}

/// One line of `eval --format json`: the decision exactly as [`Decision`] serializes (the same
/// bytes the bindings give), then, with credential flags, who was decided for, the grant chain,
/// the single-use grant ids consumed and what happened to the approval.
#[derive(serde::Serialize)]
struct EvalLine<'a> {
    #[serde(flatten)]
    decision: &'a Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a writ::Principal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    consume: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    approval: Option<serde_json::Value>,
}

/// The decision as JSON (see [`EvalLine`]); the host's fields only with a [`Checked`].
fn json_decision(decision: &Decision, checked: Option<&Checked>) -> serde_json::Result<String> {
    let mut line =
        EvalLine { decision, principal: None, grant: None, consume: &[], approval: None };
    if let Some(checked) = checked {
        line.principal = checked.principal.as_ref();
        line.grant = checked.grant.as_ref().map(|chain| {
            serde_json::json!({
                "root": chain.root().id,
                "holder": chain.leaf().sub,
                "delegates": chain.links().iter().map(|l| l.sub.as_str()).collect::<Vec<_>>(),
                "ids": chain.links().iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            })
        });
        line.consume = &checked.consume;
        line.approval = match &checked.approval {
            ApprovalUse::None => None,
            ApprovalUse::Unused => Some(serde_json::json!({"status": "unused"})),
            ApprovalUse::Honoured { id, approver } => {
                Some(serde_json::json!({"status": "honoured", "id": id, "approver": approver}))
            }
            ApprovalUse::Rejected(e) => {
                Some(serde_json::json!({"status": "rejected", "reason": e.to_string()}))
            }
        };
    }
    serde_json::to_string(&line)
}

fn human_checked(request: &Request, decision: &Decision, checked: Option<&Checked>) -> String {
    let Some(checked) = checked else {
        return human_decision(&request.principal.id, request, decision);
    };
    let who = match &checked.principal {
        Some(p) => p.id.as_str(),
        None if request.principal.id.is_empty() => "(unknown)",
        None => request.principal.id.as_str(),
    };
    let mut out = human_decision(who, request, decision);
    if let Some(chain) = &checked.grant {
        let delegates: Vec<&str> = chain.links().iter().map(|l| l.sub.as_str()).collect();
        out.push_str(&format!(
            "\n         grant: for `{}` via {}",
            chain.root().id,
            delegates.join(" > ")
        ));
    }
    match &checked.approval {
        ApprovalUse::None => {}
        ApprovalUse::Unused => out.push_str("\n         approval: unused (not needed)"),
        ApprovalUse::Honoured { id, approver } => out
            .push_str(&format!("\n         approval: honoured (`{id}`, approved by `{approver}`)")),
        ApprovalUse::Rejected(e) => {
            out.push_str(&format!("\n         approval: not honoured: {e}"));
        }
    }
    out
}

fn human_decision(who: &str, request: &Request, decision: &Decision) -> String {
    let label = match decision.effect {
        Effect::Allow => "ALLOW   ",
        Effect::Deny => "DENY    ",
        Effect::ApprovalRequired => "APPROVAL",
    };
    let shown = match &request.action {
        writ::Action::Sql(text) | writ::Action::Command(text) => one_line(text, 90),
        writ::Action::Argv(argv) => one_line(&format!("{argv:?}"), 90),
        writ::Action::Http(h) => one_line(&format!("{} {}", h.method, h.url), 90),
        writ::Action::Tool(t) => one_line(&format!("tool {} {}", t.name, t.arguments), 90),
    };
    let mut out = format!("{label} {who} @ {}: {shown}", request.resource);
    let rules =
        if decision.rules.is_empty() { "(default)".to_owned() } else { decision.rules.join(", ") };
    out.push_str(&format!("\n         rules: {rules}; {}", decision.reason));
    if let Some(ActionView::Command(view)) = &decision.view {
        for c in &view.commands {
            let mut facts = vec![c.argv.join(" ")];
            if !c.via.is_empty() {
                facts.push(format!("via {}", c.via.join(" > ")));
            }
            if c.dynamic {
                facts.push("dynamic".to_owned());
            }
            out.push_str(&format!("\n         sees: {}", facts.join("; ")));
        }
        if let Some(error) = &view.error {
            out.push_str(&format!("\n         error: {error}"));
        }
    }
    if let Some(ActionView::Sql(view)) = &decision.view {
        for s in &view.statements {
            let mut facts = vec![
                s.kind.to_string(),
                if s.read_only { "read-only".into() } else { "not read-only".into() },
            ];
            if !s.writes.is_empty() {
                facts.push(format!("writes {}", s.writes.join(",")));
            }
            if !s.flags.is_empty() {
                facts.push(s.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","));
            }
            out.push_str(&format!("\n         sees: {}", facts.join("; ")));
        }
    }
    out
}

pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn scan(detectors: Option<&[String]>, format: Format) -> u8 {
    use writ::mask::{Detectors, EntityType};
    let mut builder = Detectors::builder();
    if let Some(names) = detectors {
        let mut types = Vec::new();
        for name in names {
            match EntityType::BUILTIN.iter().find(|t| t.as_str() == name.trim()) {
                Some(t) => types.push(t.clone()),
                None => {
                    let known: Vec<&str> = EntityType::BUILTIN.iter().map(|t| t.as_str()).collect();
                    eprintln!(
                        "error: unknown detector `{name}` (expected one of {})",
                        known.join(", ")
                    );
                    return EXIT_ERROR;
                }
            }
        }
        builder = builder.only(types);
    }
    let detectors = match builder.build() {
        Ok(detectors) => detectors,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut cache = detectors.create_cache();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut found = false;
    let mut input = io::stdin().lock();
    let mut buffer = Vec::new();
    let mut line_no = 0usize;
    loop {
        buffer.clear();
        match input.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: cannot read stdin: {e}");
                return EXIT_ERROR;
            }
        }
        line_no += 1;
        let line = String::from_utf8_lossy(&buffer);
        if matches!(line, std::borrow::Cow::Owned(_)) {
            eprintln!(
                "warning: line {line_no} is not valid UTF-8; invalid bytes were replaced and offsets refer to the replaced text"
            );
        }
        let text = line.trim_end_matches(['\n', '\r']);
        for finding in detectors.scan_with(text, Some(&mut cache)) {
            found = true;
            let written = match format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    serde_json::json!({"line": line_no, "type": finding.entity.as_str(), "start": finding.start, "end": finding.end})
                ),
                Format::Human => writeln!(
                    out,
                    "line {line_no}: {} at bytes {}..{}",
                    finding.entity, finding.start, finding.end
                ),
            };
            if written.is_err() {
                return EXIT_ERROR;
            }
        }
    }
    if found { EXIT_DENIED } else { EXIT_OK }
}

fn explain(policy: &PathBuf, format: Format, request: Option<String>) -> u8 {
    let engine = match Engine::from_path(policy) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {}", indent_error(&e));
            return EXIT_ERROR;
        }
    };
    let text = match request {
        Some(text) => text,
        None => {
            let mut buffer = String::new();
            if let Err(e) = io::stdin().read_to_string(&mut buffer) {
                eprintln!("error: cannot read stdin: {e}");
                return EXIT_ERROR;
            }
            buffer
        }
    };
    let request: Request = match serde_json::from_str(&text) {
        Ok(request) => request,
        Err(e) => {
            eprintln!("error: invalid request at line {}, column {}: {e}", e.line(), e.column());
            return EXIT_ERROR;
        }
    };
    let explanation = engine.explain(&request);
    match format {
        Format::Json => match serde_json::to_string(&explanation) {
            Ok(json) => emit(&json),
            Err(e) => {
                eprintln!("error: cannot print the explanation: {e}");
                return EXIT_ERROR;
            }
        },
        Format::Human => {
            let mut out = human_decision(&request.principal.id, &request, &explanation.decision);
            for part in &explanation.parts {
                let note = if part.understood { "" } else { " (not fully understood)" };
                out.push_str(&format!("\n\n{} on `{}`{note}:", part.part, part.resource));
                for rule in &part.rules {
                    let mark = if rule.matched { "MATCH" } else { "  -  " };
                    let effect = rule.effect.as_str();
                    out.push_str(&format!("\n  {mark} {effect:<8} {}: {}", rule.id, rule.why));
                }
            }
            emit(&out);
        }
    }
    if explanation.decision.effect == Effect::Allow { EXIT_OK } else { EXIT_DENIED }
}

/// Print `text` and a newline. A reader that has gone away (`writ schema | head`) ends the
/// output quietly instead of failing.
fn emit(text: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}
