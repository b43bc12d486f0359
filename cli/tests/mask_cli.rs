//! `writ mask`: CSV and JSON Lines rows masked by the `customer-masking` pack, denied queries,
//! malformed input (fail closed) and keyed masks.

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
use std::process::Output;

const PACK: &str = "policies/customer-masking";
const CSV: &str = "id,name,email,ssn,card,notes
1,Ann,ann@example.com,078-05-1120,4111 1111 1111 1111,\"call +1 415 555 2671, mail ann@x.org\"
2,Bob,bob@corp.io,219-09-9999,5500 0000 0000 0004,no pii here
";
const SECRETS: &[&str] = &[
    "ann@example.com",
    "078-05-1120",
    "4111 1111 1111 1111",
    "+1 415 555 2671",
    "ann@x.org",
    "bob@corp.io",
    "219-09-9999",
    "5500 0000 0000 0004",
];

fn mask(extra: &[&str], stdin: &str) -> Output {
    let mut args =
        vec!["mask", "--policy", PACK, "--resource", "crm", "--principal", "agent:support-bot"];
    args.extend_from_slice(extra);
    writ(&args, stdin)
}

fn agent(extra: &[&str], stdin: &str) -> Output {
    let mut args = vec!["--groups", "support"];
    args.extend_from_slice(extra);
    mask(&args, stdin)
}

fn assert_no_secret(out: &Output) {
    for s in SECRETS {
        assert!(!text(&out.stdout).contains(s), "`{s}` leaked on stdout: {}", text(&out.stdout));
        assert!(!text(&out.stderr).contains(s), "`{s}` leaked on stderr: {}", text(&out.stderr));
    }
}

#[test]
fn csv_rows_are_masked_column_by_column_with_a_summary_of_counts() {
    let out = agent(&["--table", "customers"], CSV);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "id,name,email,ssn,card,notes",
            "1,Ann,***@example.com,***-**-1120,[REDACTED],\"call [REDACTED:phone], mail [REDACTED:email]\"",
            "2,Bob,***@corp.io,***-**-9999,[REDACTED],no pii here",
        ]
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("2 rows"), "{stderr}");
    for count in ["column:email=2", "column:ssn=2", "column:card=2", "phone=1", "email=1"] {
        assert!(stderr.contains(count), "`{count}` missing from {stderr}");
    }
    assert_no_secret(&out);
}

#[test]
fn json_lines_are_detected_masked_and_keep_their_key_order() {
    let input = "{\"notes\":\"card 4111 1111 1111 1111\",\"id\":1,\"email\":\"ann@example.com\"}\n\n{\"id\":2,\"email\":\"bob@corp.io\",\"notes\":null}\n";
    let out = agent(&["--table", "customers"], input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"notes\":\"card [REDACTED:credit_card]\",\"id\":1,\"email\":\"***@example.com\"}\n\
         {\"notes\":null,\"id\":2,\"email\":\"***@corp.io\"}\n"
    );
    assert!(text(&out.stderr).contains("credit_card=1"), "{}", text(&out.stderr));
    assert_no_secret(&out);
}

#[test]
fn an_exempt_group_sees_clear_values() {
    let out = mask(&["--groups", "support-leads", "--table", "customers"], CSV);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), CSV);
    assert!(text(&out.stderr).contains("nothing masked"), "{}", text(&out.stderr));
}

#[test]
fn lineage_of_the_query_decides_renamed_and_derived_columns() {
    let input = "i,contact\n1,ann@example.com\n";
    let out = agent(&["--sql", "SELECT id AS i, lower(email) AS contact FROM customers"], input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "i,contact\n1,[REDACTED]\n");
    assert!(text(&out.stderr).contains("column:contact=1"), "{}", text(&out.stderr));
}

#[test]
fn a_header_in_another_case_still_names_the_masked_column() {
    let out = agent(&["--table", "customers"], "ID,Email\n1,ann@example.com\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ID,Email\n1,***@example.com\n");
}

#[test]
fn a_denied_query_prints_no_row() {
    let out = agent(&["--sql", "SELECT id, email FROM customers WHERE ssn = '1'"], CSV);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("customer-ssn"), "{}", text(&out.stderr));
    // A principal outside the policy's groups is denied too.
    let out = mask(&["--groups", "sales", "--table", "customers"], CSV);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn a_short_csv_record_stops_the_run_with_its_line_and_nothing_after_it() {
    let input = format!("{CSV}3,Cy\n4,Di,di@example.com,078-05-1120,4111 1111 1111 1111,x\n");
    let out = agent(&["--table", "customers"], &input);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 4"), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("Cy") && !stdout.contains("Di,"), "{stdout}");
    assert!(!stdout.contains("di@example.com"), "{stdout}");
    assert_no_secret(&out);
}

#[test]
fn malformed_json_lines_stop_the_run_with_line_and_column() {
    let first = "{\"id\":1,\"email\":\"ann@example.com\"}\n";
    let cases = [
        ("{\"id\":2,\"email\":", "line 2, column"),
        ("[1, 2]", "line 2, column 1"),
        ("{\"id\":2,\"email\":\"bob@corp.io\",\"id\":3}", "appears twice"),
        ("{\"id\":2}", "column `email` of the first row is missing"),
        ("{\"id\":2,\"email\":\"bob@corp.io\",\"ssn\":\"219-09-9999\"}", "key `ssn`"),
    ];
    for (bad, expected) in cases {
        let input = format!("{first}{bad}\n{{\"id\":5,\"email\":\"bob@corp.io\"}}\n");
        let out = agent(&["--table", "customers"], &input);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(expected), "{bad}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "{\"id\":1,\"email\":\"***@example.com\"}\n", "{bad}");
        assert_no_secret(&out);
    }
}

#[test]
fn a_format_that_does_not_fit_the_input_is_an_error() {
    let out = agent(&["--table", "customers", "--format", "jsonl"], CSV);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("line 1, column 1"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("writ-mask-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn keyed_masks_need_the_key_file_and_are_stable() {
    let dir = tempdir("hash");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1
resources:
  - {name: db, kind: postgres, default_schema: public, columns: {public.users: [id, email]}}
rules:
  - {id: read, effect: allow, when: {sql: {read_only: true}}}
masks:
  - {id: email-hash, resources: [db], columns: [public.users.email], method: {method: hash}}
",
    )
    .unwrap();
    let key = dir.join("key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    let policy = policy.display().to_string();
    let key = key.display().to_string();
    let base = ["mask", "--policy", &policy, "--resource", "db", "--principal", "a"];
    let input = "id,email\n1,ann@example.com\n2,ann@example.com\n";
    let out = writ(&[&base[..], &["--table", "users"]].concat(), input);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("key"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let out = writ(&[&base[..], &["--table", "users", "--hmac-key-file", &key]].concat(), input);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert!(!stdout.contains("ann@example.com"), "{stdout}");
    assert_eq!(rows[1][1], rows[2][1], "the same value hashes the same: {stdout}");
    assert_ne!(rows[1][1], "");
}

#[test]
fn a_csv_field_that_is_not_utf8_is_named_by_line_and_column() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["mask", "--policy", PACK, "--resource", "crm", "--principal", "a", "--groups"])
        .args(["support", "--table", "customers"])
        .current_dir(common::repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = b"id,email\n1,ann@example.com\n2,b\xffb@corp.io\n3,bob@corp.io\n";
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("line 3, column 2"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "id,email\n1,***@example.com\n");
}
