//! `writ eval --audit-log`, `writ audit verify` and `writ audit replay`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

mod common;

use common::{repo, text, writ};
use std::path::PathBuf;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("writ-audit-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn demo_requests() -> String {
    std::fs::read_to_string(repo().join("examples/data-agents/requests.jsonl")).unwrap()
}

fn policy() -> String {
    repo().join("policies/data-agents").display().to_string()
}

#[test]
fn eval_writes_a_chain_that_verifies_and_continues_across_runs() {
    let dir = tempdir("eval");
    let log = dir.join("audit.jsonl");
    let log_s = log.display().to_string();
    for _ in 0..2 {
        let out = writ(&["eval", "--policy", &policy(), "--audit-log", &log_s], &demo_requests());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    }
    let n = demo_requests().lines().filter(|l| !l.trim().is_empty()).count();
    let out = writ(&["audit", "verify", &log_s], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).starts_with(&format!("ok: {} events", 2 * n)),
        "{}",
        text(&out.stdout)
    );

    // Edit one event: verify names the line and exits 1.
    let content = std::fs::read_to_string(&log).unwrap();
    let edited = content.replacen("\"effect\":\"deny\"", "\"effect\":\"allow\"", 1);
    assert_ne!(edited, content);
    std::fs::write(&log, edited).unwrap();
    let out = writ(&["audit", "verify", &log_s, "--format", "json"], "");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["broken"]["message"].as_str().unwrap().contains("hash"), "{v}");
    assert!(v["broken"]["line"].as_u64().unwrap() >= 1);
}

#[test]
fn verify_checks_the_expected_head_and_reports_missing_logs() {
    let dir = tempdir("head");
    let log = dir.join("audit.jsonl");
    let log_s = log.display().to_string();
    writ(&["eval", "--policy", &policy(), "--audit-log", &log_s], &demo_requests());
    let out = writ(&["audit", "verify", &log_s, "--format", "json"], "");
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let head = v["head"]["hash"].as_str().unwrap().to_owned();
    assert_eq!(
        writ(&["audit", "verify", &log_s, "--expect-head", &head], "").status.code(),
        Some(0)
    );
    // The last event cut off: the chain still holds, but the head does not match.
    let content = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = content.lines().collect();
    lines.pop();
    std::fs::write(&log, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let out = writ(&["audit", "verify", &log_s, "--expect-head", &head], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("cut off"), "{}", text(&out.stdout));
    let missing = dir.join("nope.jsonl").display().to_string();
    let out = writ(&["audit", "verify", &missing], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such audit log"));
}

#[test]
fn replay_is_a_ci_gate_for_a_policy_change() {
    let dir = tempdir("replay");
    let log = dir.join("audit.jsonl");
    let log_s = log.display().to_string();
    writ(&["eval", "--policy", &policy(), "--audit-log", &log_s], &demo_requests());

    // The same policy: nothing changes, exit 0.
    let out = writ(&["audit", "replay", &log_s, "--policy", &policy()], "");
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("0 changed"));

    // A looser policy: unbounded deletes need approval instead of being denied.
    let new = dir.join("new");
    std::fs::create_dir_all(&new).unwrap();
    let original =
        std::fs::read_to_string(repo().join("policies/data-agents/policy.yaml")).unwrap();
    let marker = "  - id: no-unbounded-writes\n    effect: deny";
    assert!(original.contains(marker));
    let examples = r#"deny: ["DELETE FROM sessions", "UPDATE users SET active = false"]"#;
    assert!(original.contains(examples));
    let looser = original
        .replace(marker, "  - id: no-unbounded-writes\n    effect: approval")
        .replace(examples, &examples.replace("deny:", "approval_required:"));
    std::fs::write(new.join("policy.yaml"), looser).unwrap();
    let new_s = new.display().to_string();
    let out = writ(&["audit", "replay", &log_s, "--policy", &new_s, "--format", "json"], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (summary, changes) = rows.split_last().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        assert_eq!(
            (c["before"].as_str(), c["after"].as_str()),
            (Some("deny"), Some("approval_required"))
        );
        assert_eq!(c["loosens"], true);
        assert!(
            c["action"]["sql"].as_str().unwrap().to_uppercase().starts_with("DELETE")
                || c["action"]["sql"].as_str().unwrap().to_uppercase().starts_with("UPDATE"),
            "{c}"
        );
    }
    assert_eq!(summary["summary"]["changed"].as_u64().unwrap(), changes.len() as u64);

    // `--fail-on loosen` fails on that change, because it loosens ...
    let out = writ(&["audit", "replay", &log_s, "--policy", &new_s, "--fail-on", "loosen"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("(loosens)"));

    // ... but not on the opposite change: a log recorded under the looser policy, replayed
    // against the original, only tightens.
    let loose_log = dir.join("loose.jsonl").display().to_string();
    writ(&["eval", "--policy", &new_s, "--audit-log", &loose_log], &demo_requests());
    let out =
        writ(&["audit", "replay", &loose_log, "--policy", &policy(), "--fail-on", "loosen"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = writ(&["audit", "replay", &loose_log, "--policy", &policy()], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

#[test]
fn replay_refuses_a_file_that_is_not_a_log() {
    let dir = tempdir("notalog");
    let log = dir.join("x.jsonl");
    std::fs::write(&log, "hello\n").unwrap();
    let out = writ(&["audit", "replay", &log.display().to_string(), "--policy", &policy()], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("x.jsonl:1: not an audit event"), "{}", text(&out.stderr));
}
