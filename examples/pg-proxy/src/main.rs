//! `writ-pg-proxy`: a PostgreSQL wire-protocol proxy that checks every statement with writ
//! before the server sees it and masks the rows that come back. An example: see README.md for
//! what it does and does not do.

mod mask;
mod proxy;
mod wire;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use clap::Parser;
use writ::audit::FileSink;
use writ::{Engine, Host, PolicyError};

use crate::proxy::Config;

/// Check every SQL statement with writ on its way to PostgreSQL; mask the rows coming back.
#[derive(Debug, Parser)]
#[command(name = "writ-pg-proxy", version)]
struct Args {
    /// Address to listen on, e.g. 127.0.0.1:6432.
    #[arg(long)]
    listen: String,
    /// The PostgreSQL server, host:port.
    #[arg(long)]
    upstream: String,
    /// The policy file or directory.
    #[arg(long)]
    policy: PathBuf,
    /// The policy resource the statements are checked against.
    #[arg(long)]
    resource: String,
    /// The principal id; default `pg:<user>` with the user the client logs in as.
    #[arg(long)]
    principal: Option<String>,
    /// A group of the principal (repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Append one hash-chained audit event per check and per masked batch to this file.
    #[arg(long)]
    audit_log: Option<PathBuf>,
    /// The secret key for keyed masking methods (`hash`, `format_preserving`), from a file.
    #[arg(long)]
    mask_key_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("writ-pg-proxy: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let engine = Engine::from_path(&args.policy).map_err(|e| policy_error(&e))?;
    let mut host = Host::new(engine);
    if let Some(path) = &args.mask_key_file {
        let key = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        host = host.with_mask_key(&key).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.audit_log {
        let sink = FileSink::open(path).map_err(|e| e.to_string())?;
        host.add_sink(Arc::new(sink));
    }
    let config = Arc::new(Config {
        host,
        resource: args.resource,
        principal: args.principal,
        groups: args.groups,
        upstream: args.upstream,
    });
    let listener =
        TcpListener::bind(&args.listen).map_err(|e| format!("listen on {}: {e}", args.listen))?;
    eprintln!("writ-pg-proxy: listening on {} for {}", args.listen, config.upstream);
    for client in listener.incoming() {
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                eprintln!("writ-pg-proxy: accept: {e}");
                continue;
            }
        };
        let config = Arc::clone(&config);
        thread::spawn(move || {
            let peer = client.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = proxy::serve(client, &config) {
                eprintln!("writ-pg-proxy: {peer}: {e}");
            }
        });
    }
    Ok(())
}

/// Every diagnostic of an invalid policy, with file, line and column.
fn policy_error(e: &PolicyError) -> String {
    match e {
        PolicyError::Invalid(diagnostics) => {
            diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        }
        other => other.to_string(),
    }
}
