//! Turn the conformance cases of `policies/*/*.test.yaml` into a line format the C tests read
//! (C has no YAML parser). Only the format changes: the C test program checks every request
//! through libwrit and compares the decisions itself.
//!
//! Usage: `cargo run -p writ-c --example cases_to_lines -- POLICIES_DIR OUT_FILE`
//!
//! Format: one `key value` per line; text values are lowercase hex of their UTF-8 bytes.
//! ```text
//! pack HEX(policy dir)
//! case HEX(file: case name)
//! request HEX(request JSON)
//! expect allow|deny|approval_required
//! rule HEX(id)                 zero or more: ids that must be among the deciding rules
//! masked N                     when the case lists masked columns, then N `column HEX` lines
//! direct sql|command           when the request is plain SQL or a command line (no token,
//! principal HEX, group HEX..., resource HEX, text HEX    grant or approval): the same
//!                              request for writ_check_sql / writ_check_command
//! end
//! total N                      the last line: how many cases were written
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use writ_core::Action;
use writ_core::cases::{TestFile, test_files_in};

fn hex(text: &str) -> String {
    text.bytes().fold(String::with_capacity(text.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn convert(policies: &Path) -> Result<(String, usize), String> {
    let mut packs: Vec<PathBuf> = std::fs::read_dir(policies)
        .map_err(|e| format!("{}: {e}", policies.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    packs.sort();
    let mut out = String::new();
    let mut total = 0;
    for pack in packs {
        let files = test_files_in(&pack).map_err(|e| e.to_string())?;
        for file in files {
            let test = TestFile::read(&file).map_err(|e| e.to_string())?;
            let file_name = file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            for case in &test.cases {
                let request = serde_json::to_string(&case.request).map_err(|e| e.to_string())?;
                let _ = writeln!(out, "pack {}", hex(&pack.display().to_string()));
                let _ = writeln!(out, "case {}", hex(&format!("{file_name}: {}", case.name)));
                let _ = writeln!(out, "request {}", hex(&request));
                let _ = writeln!(out, "expect {}", case.expect.as_str());
                for rule in case.rules.iter().flatten() {
                    let _ = writeln!(out, "rule {}", hex(rule));
                }
                if let Some(masked) = &case.masked {
                    let _ = writeln!(out, "masked {}", masked.len());
                    for column in masked {
                        let _ = writeln!(out, "column {}", hex(column));
                    }
                }
                let r = &case.request;
                let plain = r.token.is_none() && r.grant.is_none() && r.approval.is_none();
                let direct = match &r.action {
                    Action::Sql(text) if plain => Some(("sql", text)),
                    Action::Command(text) if plain => Some(("command", text)),
                    _ => None,
                };
                if let Some((kind, text)) = direct {
                    let _ = writeln!(out, "direct {kind}");
                    let _ = writeln!(out, "principal {}", hex(&r.principal.id));
                    for group in &r.principal.groups {
                        let _ = writeln!(out, "group {}", hex(group));
                    }
                    let _ = writeln!(out, "resource {}", hex(&r.resource));
                    let _ = writeln!(out, "text {}", hex(text));
                }
                let _ = writeln!(out, "end");
                total += 1;
            }
        }
    }
    let _ = writeln!(out, "total {total}");
    Ok((out, total))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policies, output] = args.as_slice() else {
        eprintln!("usage: cases_to_lines POLICIES_DIR OUT_FILE");
        return ExitCode::from(2);
    };
    match convert(Path::new(policies)) {
        Ok((text, total)) if total > 0 => match std::fs::write(output, text) {
            Ok(()) => {
                println!("{total} cases written to {output}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {output}: {e}");
                ExitCode::from(2)
            }
        },
        Ok(_) => {
            eprintln!("error: no cases found under {policies}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
