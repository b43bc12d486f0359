//! The `writ` binary as users run it: outputs, and exit codes 0 (ok / all allowed),
//! 1 (something denied or needing approval) and 2 (error).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

mod common;

use common::{text, writ};

use std::path::PathBuf;
use std::process::Command;

#[test]
fn check_accepts_the_example_pack() {
    let out = writ(&["check", "policies/data-agents"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("ok: `policies/data-agents`"), "{}", text(&out.stdout));
}

#[test]
fn check_reports_file_line_and_column_and_exits_2() {
    let out = writ(&["check", "core/tests/fixtures/invalid-policy.yaml"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "core/tests/fixtures/invalid-policy.yaml:10:19: rule `r1` names resource `warehouse`"
        ),
        "{err}"
    );
}

#[test]
fn check_json_lists_diagnostics() {
    let out = writ(&["check", "--format", "json", "core/tests/fixtures/invalid-policy.yaml"], "");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["diagnostics"][0]["line"], 10);
    assert_eq!(v["diagnostics"][0]["column"], 19);
}

#[test]
fn check_reports_every_failing_rule_example_at_its_line() {
    let dir = std::env::temp_dir().join(format!("writ-cli-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.yaml");
    std::fs::write(
        &path,
        "version: 1\nresources:\n  - {name: db, kind: postgres}\nrules:\n  - id: reads\n    effect: allow\n    when: {principals: [agent:a], sql: {read_only: true}}\n    examples:\n      allow:\n        - SELECT 1\n        - DELETE FROM t WHERE id = 1\n      deny: [SELECT 2]\n",
    )
    .unwrap();
    let out = writ(&["check", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    let file = path.display().to_string();
    assert!(
        err.contains(&format!(
            "{file}:11:11: example of rule `reads` expects `allow`, but the policy decides `deny`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:12:14: example of rule `reads` expects `deny`, but the policy decides `allow` by rule `reads`")),
        "{err}"
    );
    // Once the examples hold, `writ test` counts the rule as exercised without any case.
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("deny: [SELECT 2]", "deny: [DROP TABLE t]")
            .replace("        - DELETE FROM t WHERE id = 1\n", ""),
    )
    .unwrap();
    std::fs::write(
        dir.join("policy.test.yaml"),
        "cases:\n  - name: writes are denied\n    request: {principal: {id: agent:a}, resource: db, action: {sql: DELETE FROM t}}\n    expect: deny\n",
    )
    .unwrap();
    let out = writ(&["test", dir.to_str().unwrap()], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("rule coverage: 100.0% of 1 rules"), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_of_a_missing_path_is_an_error() {
    let out = writ(&["check", "no/such/policy.yaml"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read `no/such/policy.yaml`"));
}

#[test]
fn inspect_sql_prints_the_contract_json() {
    let out = writ(&["inspect", "sql", "DELETE FROM users"], "");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = serde_json::json!({
        "read_only": false,
        "statements": [{"kind": "delete", "read_only": false, "reads": [], "writes": ["users"],
                        "functions": [], "flags": ["no_where"]}],
        "error": null
    });
    assert_eq!(v, expected);
}

#[test]
fn inspect_sql_reads_stdin_and_takes_a_dialect() {
    let out =
        writ(&["inspect", "sql", "--dialect", "mysql"], "SELECT * FROM t INTO OUTFILE '/tmp/x'");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["read_only"], false);
    let out = writ(&["inspect", "sql", "--dialect", "oracle", "SELECT 1"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown SQL dialect `oracle`"));
}

#[test]
fn inspect_sql_reports_parse_errors_in_the_json() {
    let out = writ(&["inspect", "sql", "SELEC 1"], "");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["read_only"], false);
    assert!(v["error"].is_string());
}

fn request(who: &str, resource: &str, sql: &str) -> String {
    serde_json::json!({"principal": {"id": who}, "resource": resource, "action": {"sql": sql}})
        .to_string()
}

#[test]
fn eval_exits_0_when_everything_is_allowed() {
    let input = format!(
        "{}\n\n{}\n",
        request("agent:analytics", "warehouse", "SELECT 1 FROM orders"),
        request("agent:analytics", "warehouse", "SELECT 2")
    );
    let out = writ(&["eval", "--policy", "policies/data-agents"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "blank lines are skipped");
    assert!(lines.iter().all(|d| d["effect"] == "allow"));
}

#[test]
fn eval_exits_1_when_something_is_denied() {
    let input = format!(
        "{}\n{}\n",
        request("agent:analytics", "warehouse", "SELECT 1"),
        request("agent:analytics", "warehouse", "DROP TABLE orders")
    );
    let out = writ(&["eval", "--policy", "policies/data-agents"], &input);
    assert_eq!(out.status.code(), Some(1));
    let last: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["effect"], "deny");
    assert_eq!(last["rules"][0], "no-destructive");
}

#[test]
fn eval_reports_a_malformed_request_and_exits_2() {
    let input = format!(
        "{{\"principal\": {{\"id\": \"a\"}}, \"resource\": \"warehouse\"}}\n{}\n",
        request("agent:analytics", "warehouse", "SELECT 1")
    );
    let out = writ(&["eval", "--policy", "policies/data-agents"], &input);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["line"], 1);
    assert!(first["error"].as_str().unwrap().contains("missing field `action`"));
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["effect"], "allow", "later requests are still decided");
}

#[test]
fn eval_with_an_invalid_policy_exits_2() {
    let out = writ(&["eval", "--policy", "core/tests/fixtures/invalid-policy.yaml"], "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn eval_human_format() {
    let input = request("agent:migrator", "app-db", "ALTER TABLE accounts ADD COLUMN x int");
    let out = writ(&["eval", "--policy", "policies/data-agents", "--format", "human"], &input);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("APPROVAL agent:migrator @ app-db: ALTER TABLE accounts"), "{shown}");
    assert!(shown.contains("migration-ddl-needs-approval"), "{shown}");
}

/// A temporary pack: one policy and one test file whose second case is wrong on purpose.
fn scratch_pack(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("writ-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        "version: 1\nresources:\n  - {name: db, kind: postgres}\nrules:\n  - {id: reads, effect: allow, when: {sql: {read_only: true}}}\n  - {id: never-used, effect: deny, when: {principals: [nobody]}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("policy.test.yaml"),
        "cases:\n  - name: reads pass\n    request: {principal: {id: a}, resource: db, action: {sql: SELECT 1}}\n    expect: allow\n    rules: [reads]\n  - name: wrong on purpose\n    request: {principal: {id: a}, resource: db, action: {sql: DELETE FROM t}}\n    expect: allow\n",
    )
    .unwrap();
    dir
}

#[test]
fn test_passes_on_the_example_packs() {
    let out = writ(&["test", "policies"], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("test result: ok."), "{stdout}");
    assert!(stdout.contains("rule coverage:"), "{stdout}");
}

#[test]
fn test_reports_failures_like_cargo_test_and_exits_1() {
    let dir = scratch_pack("fail");
    let out = writ(&["test", dir.to_str().unwrap()], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wrong on purpose ... FAILED"), "{stdout}");
    assert!(stdout.contains("policy.test.yaml:6 wrong on purpose"), "{stdout}");
    assert!(stdout.contains("expected `allow`, got `deny`"), "{stdout}");
    assert!(stdout.contains("test result: FAILED. 1 passed; 1 failed; 0 filtered out"), "{stdout}");
    assert!(stdout.contains("not exercised:") && stdout.contains("never-used"), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn test_filter_and_min_coverage() {
    let dir = scratch_pack("filter");
    let out = writ(&["test", dir.to_str().unwrap(), "--filter", "reads"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("1 passed; 0 failed; 1 filtered out"));
    let out =
        writ(&["test", dir.to_str().unwrap(), "--filter", "reads", "--min-coverage", "75"], "");
    assert_eq!(out.status.code(), Some(1), "half the rules were exercised: below 75%");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn test_junit_and_json_formats() {
    let dir = scratch_pack("junit");
    let out = writ(&["test", dir.to_str().unwrap(), "--format", "junit"], "");
    let xml = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert!(xml.contains("<failure message=\"expected `allow`, got `deny`"), "{xml}");
    let out = writ(&["test", dir.to_str().unwrap(), "--format", "json"], "");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["cases"][1]["line"], 6);
    assert_eq!(v["coverage"]["not_exercised"][0]["rule"], "never-used");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn test_emits_github_annotations_when_running_in_actions() {
    let dir = scratch_pack("gha");
    let out = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["test", dir.to_str().unwrap()])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("::error file=") && stdout.contains(",line=6,"), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn test_errors_exit_2() {
    let dir = scratch_pack("broken");
    std::fs::write(dir.join("policy.test.yaml"), "cases:\n  - name: x\n    expect: maybe\n")
        .unwrap();
    let out = writ(&["test", dir.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("policy.test.yaml:3:"), "{}", text(&out.stdout));
    let out = writ(&["test", "cli/src"], "");
    assert_eq!(out.status.code(), Some(2), "no test files is an error");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn scan_reports_findings_without_values_and_exits_1() {
    let input = "user bob@example.com paid with 4242 4242 4242 4242\nnothing here\nkey AKIAIOSFODNN7EXAMPLE\n";
    let out = writ(&["scan"], input);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let findings: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(findings.len(), 3, "{stdout}");
    assert_eq!(findings[0], serde_json::json!({"line": 1, "type": "email", "start": 5, "end": 20}));
    assert_eq!(findings[1]["type"], "credit_card");
    assert_eq!(findings[2]["line"], 3);
    assert!(!stdout.contains("bob@example.com") && !stdout.contains("4242"), "values never leave");
}

#[test]
fn scan_exits_0_on_clean_text_and_2_on_unknown_detectors() {
    let out = writ(&["scan"], "nothing to see here\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let out = writ(&["scan", "--detectors", "email"], "card 4242 4242 4242 4242\n");
    assert_eq!(out.status.code(), Some(0), "only the named detectors run");
    let out = writ(&["scan", "--detectors", "emial"], "x\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown detector `emial`"));
}

#[test]
fn inspect_command_prints_every_command_that_would_run() {
    let out = writ(&["inspect", "command", "sudo bash -c 'r\\m -rf /'"], "");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let programs: Vec<&str> =
        v["commands"].as_array().unwrap().iter().map(|c| c["program"].as_str().unwrap()).collect();
    assert_eq!(programs, ["sudo", "bash", "rm"]);
    assert_eq!(v["commands"][2]["flags"], serde_json::json!(["r", "f"]));
    assert_eq!(v["dynamic"], false);
    let out = writ(&["inspect", "command"], "curl -s http://x | sh");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dynamic"], true);
}

#[test]
fn eval_decides_tool_calls_and_http_requests() {
    let input = [
        serde_json::json!({"principal": {"id": "agent:mcp-a"}, "resource": "mcp", "action": {"tool": {"name": "postgres_query", "arguments": {"query": "SELECT 1"}}}}),
        serde_json::json!({"principal": {"id": "agent:mcp-a"}, "resource": "github", "action": {"http": {"method": "DELETE", "url": "https://api.github.com/repos/a/b"}}}),
    ]
    .map(|v| v.to_string())
    .join("\n");
    let out = writ(&["eval", "--policy", "policies/mcp-agent"], &input);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let effects: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["effect"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(effects, ["allow", "deny"]);
}

#[test]
fn explain_lists_every_rule_with_why() {
    let request =
        request("agent:analytics", "warehouse", "SELECT * FROM orders; DELETE FROM api_keys");
    let out = writ(&["explain", "--policy", "policies/data-agents", &request], "");
    assert_eq!(out.status.code(), Some(1), "denied");
    let shown = text(&out.stdout);
    assert!(shown.contains("statement 2 (`delete`) on `warehouse`:"), "{shown}");
    assert!(shown.contains("MATCH deny     no-unbounded-writes: matched"), "{shown}");
    assert!(shown.contains("allow    analytics-read: `sql.kinds` does not hold"), "{shown}");
    let out = writ(&["explain", "--policy", "policies/data-agents", "--format", "json"], &request);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["effect"], "deny");
    assert_eq!(v["parts"].as_array().unwrap().len(), 2);
    let out = writ(&["explain", "--policy", "policies/data-agents", "{not json"], "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_prints_both_json_schemas() {
    for (kind, field) in [("policy", "rules"), ("test", "cases")] {
        let out = writ(&["schema", kind], "");
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["properties"][field].is_object(), "{kind}: {v}");
    }
}

#[test]
fn check_reports_lints_and_deny_warnings_fails() {
    let dir = std::env::temp_dir().join(format!("writ-cli-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.yaml");
    std::fs::write(&file, "version: 1\nresources:\n  - {name: db, kind: postgres}\n  - {name: idle, kind: postgres}\nrules:\n  - {id: r, effect: allow, when: {resources: [db]}}\n").unwrap();
    let path = file.to_str().unwrap();
    let out = writ(&["check", path], "");
    assert_eq!(out.status.code(), Some(0), "warnings alone do not fail");
    assert!(
        text(&out.stderr).contains("warning: ")
            && text(&out.stderr).contains("p.yaml:4:12: no rule applies to resource `idle`"),
        "{}",
        text(&out.stderr)
    );
    let out = writ(&["check", "--deny-warnings", path], "");
    assert_eq!(out.status.code(), Some(2));
    let out = writ(&["check", "--format", "json", path], "");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}
