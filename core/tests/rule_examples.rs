//! Inline rule examples (`examples: {allow, deny, approval_required}`): checked against the
//! whole policy when it compiles, and every failing one reported at its line and column.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::policy::{Format, Source};
use writ::{Diagnostic, Engine, PolicyError};

fn yaml(text: &str) -> Source {
    Source { name: "p.yaml".into(), text: text.into(), format: Format::Yaml }
}

fn compiles(text: &str) -> Engine {
    Engine::compile(&[yaml(text)]).unwrap_or_else(|e| panic!("does not compile:\n{e}"))
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match Engine::compile(&[yaml(text)]) {
        Ok(_) => panic!("the policy compiled, but an error was expected"),
        Err(PolicyError::Invalid(list)) => list,
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

fn one(text: &str) -> Diagnostic {
    let list = errors(text);
    assert_eq!(list.len(), 1, "expected one diagnostic, got {list:#?}");
    list.into_iter().next().unwrap()
}

/// `d` is in `p.yaml` at `(line, column)` and its message holds every needle.
fn at(d: &Diagnostic, (line, column): (usize, usize), needles: &[&str]) {
    assert_eq!((d.file.as_str(), d.line, d.column), ("p.yaml", line, column), "{d}");
    for needle in needles {
        assert!(d.message.contains(needle), "message `{}` lacks `{needle}`", d.message);
    }
}

/// The 1-based line and column where `needle` first stands in `text`.
fn find(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// Two databases, an HTTP API and a shell; analytics agents read the warehouse, the migrator's
/// DDL on the application database needs approval, DROP is denied for everyone, DBAs vacuum.
/// Each `#MARKER` comment is where a test puts that rule's examples.
const POLICY: &str = r#"version: 1
resources:
  - {name: warehouse, kind: postgres, default_schema: public}
  - {name: app-db, kind: postgres, default_schema: public}
  - {name: api, kind: http}
defaults: {effect: deny}
rules:
  - id: no-drop
    effect: deny
    when: {sql: {kinds: [drop, truncate]}}
    #NO_DROP
  - id: analytics-read
    effect: allow
    when:
      principals: ["agent:analytics*"]
      resources: [warehouse]
      sql: {read_only: true, tables: ["public.*"]}
    #ANALYTICS_READ
  - id: analytics-no-secrets
    effect: deny
    when: {principals: ["agent:analytics*"], sql: {tables: [public.api_keys]}}
  - id: migrator-ddl
    effect: approval
    when: {principals: [agent:migrator], resources: [app-db], sql: {kinds: [create, alter]}}
    #MIGRATOR_DDL
  - id: dba
    effect: allow
    when: {groups: [dba], sql: {kinds: [vacuum, select]}}
    #DBA
  - id: api-reads
    effect: allow
    when: {principals: [agent:bot], http: {methods: [GET]}}
    #API_READS
"#;

/// `POLICY` with `block` (YAML at rule-field indentation) in place of `#marker`.
fn policy(marker: &str, block: &str) -> String {
    policy_in(POLICY, marker, block)
}

/// `text` with `block` in place of `#marker`.
fn policy_in(text: &str, marker: &str, block: &str) -> String {
    let indented: String = block.lines().map(|l| format!("    {l}\n")).collect();
    let out = text.replacen(&format!("    #{marker}\n"), &indented, 1);
    assert_ne!(out, text, "no marker `{marker}`");
    out
}

#[test]
fn passing_examples_compile_and_count_as_exercising_their_rule() {
    let text = policy(
        "ANALYTICS_READ",
        r#"examples:
  allow:
    - "SELECT id, total FROM orders"
    - {principal: {id: agent:analytics-7}, resource: warehouse, action: {sql: "SELECT 1"}}
  deny:
    - "DELETE FROM orders WHERE id = 1"
    - SELECT * FROM finance.ledger
    - SELECT key FROM api_keys
    - {principal: {id: agent:other}, resource: warehouse, action: {sql: "SELECT 1"}}"#,
    );
    let text = policy_in(
        &text,
        "MIGRATOR_DDL",
        "examples:\n  approval_required: [\"ALTER TABLE t ADD COLUMN c int\"]\n  deny: [DROP TABLE t]",
    );
    let text = policy_in(
        &text,
        "NO_DROP",
        "examples:\n  principal: {id: agent:anyone}\n  deny: [DROP TABLE orders, TRUNCATE t]\n  allow: []",
    );
    let text = policy_in(
        &text,
        "DBA",
        "examples: {allow: [VACUUM orders], deny: [DELETE FROM t WHERE id = 1]}",
    );
    let text = policy_in(
        &text,
        "API_READS",
        "examples:\n  allow: [{resource: api, action: {http: {method: GET, url: \"https://x.test/a\"}}}]",
    );
    let engine = compiles(&text);
    let with: Vec<&str> = engine.rule_ids_with_examples().collect();
    assert_eq!(with, ["no-drop", "analytics-read", "migrator-ddl", "dba", "api-reads"]);
    // A rule whose examples are all near misses is not exercised by them.
    let text = policy("ANALYTICS_READ", "examples: {deny: [SELECT * FROM finance.ledger]}");
    assert_eq!(compiles(&text).rule_ids_with_examples().count(), 0);
}

#[test]
fn a_failing_allow_example_is_located_with_expected_and_actual_effects() {
    let text = policy(
        "ANALYTICS_READ",
        "examples:\n  allow:\n    - SELECT id FROM orders\n    - SELECT key FROM api_keys",
    );
    let d = one(&text);
    at(
        &d,
        find(&text, "SELECT key FROM api_keys"),
        &[
            "example of rule `analytics-read` expects `allow`",
            "the policy decides `deny` by rule `analytics-no-secrets`",
            "for `agent:analytics` on `warehouse`",
        ],
    );
}

#[test]
fn a_failing_deny_example_is_located() {
    // Allowed by the analytics rule, not denied by `no-drop`.
    let text = policy(
        "NO_DROP",
        "examples:\n  principal: {id: agent:analytics}\n  deny:\n    - DROP TABLE t\n    - {resource: warehouse, action: {sql: SELECT 1}}",
    );
    let d = one(&text);
    at(
        &d,
        find(&text, "{resource: warehouse"),
        &["example of rule `no-drop` expects `deny`", "decides `allow` by rule `analytics-read`"],
    );
}

#[test]
fn an_own_effect_example_decided_by_other_rules_does_not_exercise_the_rule() {
    // Denied, but by the analytics deny rule and the default, not by `no-drop`.
    let text = policy(
        "NO_DROP",
        "examples:\n  principal: {id: agent:analytics}\n  deny: [{resource: warehouse, action: {sql: SELECT key FROM api_keys}}]",
    );
    let d = one(&text);
    at(
        &d,
        find(&text, "{resource: warehouse"),
        &["is decided `deny` by rule `analytics-no-secrets`, not by rule `no-drop`"],
    );
    // Denied by the default, on each database: no rule at all.
    let text = policy("NO_DROP", "examples:\n  principal: {id: agent:nobody}\n  deny: [SELECT 1]");
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    at(&list[0], find(&text, "SELECT 1]"), &["by no rule", "not by rule `no-drop`", "`warehouse`"]);
    at(&list[1], find(&text, "SELECT 1]"), &["by no rule", "not by rule `no-drop`", "`app-db`"]);
}

#[test]
fn a_failing_near_miss_is_located() {
    // Listed as a near miss the analytics rule does not allow, but the policy allows it.
    let text = policy(
        "ANALYTICS_READ",
        "examples:\n  allow: [SELECT 1]\n  deny:\n    - SELECT * FROM finance.ledger\n    - SELECT * FROM orders",
    );
    let d = one(&text);
    at(
        &d,
        find(&text, "SELECT * FROM orders"),
        &["expects `deny`, but the policy decides `allow` by rule `analytics-read`"],
    );
}

#[test]
fn a_near_miss_the_rule_decides_in_part_fails() {
    // The text is denied as listed (DROP), but the allow rule allowed its first statement: it
    // is no near miss of that rule.
    let text = policy("ANALYTICS_READ", "examples:\n  deny: [\"SELECT 1; DROP TABLE orders\"]");
    let d = one(&text);
    at(
        &d,
        find(&text, "\"SELECT 1; DROP"),
        &["near miss of rule `analytics-read`", "decides part 1 of it as `allow`"],
    );
}

#[test]
fn an_approval_rule_checks_approval_required_examples() {
    let text = policy(
        "MIGRATOR_DDL",
        "examples:\n  approval_required:\n    - CREATE INDEX i ON t (c)\n    - INSERT INTO t VALUES (1)",
    );
    let d = one(&text);
    at(
        &d,
        find(&text, "INSERT INTO t"),
        &[
            "expects `approval_required`, but the policy decides `deny` by no rule",
            "`agent:migrator` on `app-db`",
        ],
    );
}

#[test]
fn every_failing_example_is_reported() {
    let text = policy(
        "ANALYTICS_READ",
        "examples:\n  allow: [SELECT key FROM api_keys, SELECT 2]\n  deny: [SELECT 3]",
    );
    let text = policy_in(&text, "DBA", "examples:\n  allow:\n    - DELETE FROM t WHERE a = 1");
    let list = errors(&text);
    assert_eq!(list.len(), 4, "{list:#?}");
    at(&list[0], find(&text, "SELECT key"), &["`analytics-read` expects `allow`"]);
    at(&list[1], find(&text, "SELECT 3"), &["expects `deny`"]);
    // A text example of a rule for both databases fails on each.
    let delete = find(&text, "DELETE FROM t WHERE a");
    at(&list[2], delete, &["`dba` expects `allow`", "for `example:dba` on `warehouse`"]);
    at(&list[3], delete, &["`dba` expects `allow`", "for `example:dba` on `app-db`"]);
}

#[test]
fn a_text_example_is_checked_on_every_resource_the_rule_applies_to() {
    // `no-drop` applies to both databases; the example fails only on the warehouse, where the
    // analytics agent may read.
    let text = policy(
        "NO_DROP",
        "examples:\n  principal: {id: agent:analytics}\n  deny: [SELECT 1 FROM orders]",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    at(&list[0], find(&text, "SELECT 1 FROM"), &["on `warehouse`", "decides `allow`"]);
    at(&list[1], find(&text, "SELECT 1 FROM"), &["on `app-db`", "by no rule"]);
}

#[test]
fn a_text_example_on_a_rule_that_cannot_take_one_is_a_clear_error() {
    let text = policy("API_READS", "examples:\n  allow: [GET /a]");
    let d = one(&text);
    at(
        &d,
        find(&text, "GET /a"),
        &["rule `api-reads` has `http` conditions", "write it as a request"],
    );
    // A rule without an action block that applies to a database and to a shell.
    let text = "version: 1\nresources:\n  - {name: db, kind: postgres}\n  - {name: sh, kind: shell}\nrules:\n  - id: nobody\n    effect: deny\n    when: {principals: [agent:evil]}\n    examples: {deny: [ls]}\n";
    let d = one(text);
    at(&d, find(text, "ls]"), &["applies to SQL databases and shells", "write it as a request"]);
    // A SQL rule scoped to an HTTP API only.
    let text = "version: 1\nresources:\n  - {name: api, kind: http}\nrules:\n  - id: r\n    effect: deny\n    when: {principals: [a], resources: [api], sql: {kinds: [drop]}}\n    examples: {deny: [DROP TABLE t]}\n";
    let d = one(text);
    at(&d, find(text, "DROP TABLE t]"), &["applies to no SQL database"]);
}

#[test]
fn command_examples_are_command_lines_on_shells() {
    let text = r#"version: 1
resources:
  - {name: workstation, kind: shell}
rules:
  - id: no-recursive-delete
    effect: deny
    when: {command: {programs: [rm], flags: [r, R, recursive]}}
    examples:
      principal: {id: agent:coder}
      deny: ["rm -rf build", "sudo rm -r /", "find . -exec rm -r {} +"]
      allow: [rm notes.txt]
  - id: edit
    effect: allow
    when: {command: {programs: [rm, sudo, find]}}
    examples:
      principal: {id: agent:coder}
      allow: [rm notes.txt]
      deny: [rm -r x, "ls | rm -R y"]
"#;
    let engine = compiles(text);
    assert_eq!(
        engine.rule_ids_with_examples().collect::<Vec<_>>(),
        ["no-recursive-delete", "edit"]
    );
    // The line is denied as listed, but `edit` allows its first command: no near miss.
    let bad = text.replace("\"ls | rm -R y\"", "\"rm a; rm -R y\"");
    let d = one(&bad);
    at(&d, find(&bad, "\"rm a; rm -R y\""), &["near miss of rule `edit`", "part 1"]);
}

#[test]
fn the_default_principal_comes_from_the_rule() {
    // `agent:analytics*` gives `agent:analytics`; the message says so.
    let text = policy("ANALYTICS_READ", "examples: {allow: [DELETE FROM t WHERE id = 1]}");
    at(&one(&text), find(&text, "DELETE"), &["for `agent:analytics` on `warehouse`"]);
    // A rule that names no principals or groups needs one.
    let text = policy("NO_DROP", "examples:\n  deny: [DROP TABLE t]");
    let d = one(&text);
    at(
        &d,
        find(&text, "DROP TABLE t]"),
        &["rule `no-drop` names no principals or groups", "set `examples.principal`"],
    );
    // ... unless every example names its own.
    let text = policy(
        "NO_DROP",
        "examples:\n  deny: [{principal: {id: a}, resource: app-db, action: {sql: DROP TABLE t}}]",
    );
    compiles(&text);
    // A pattern that is no id once its `*` are gone.
    let text = "version: 1\nresources:\n  - {name: db, kind: postgres}\nrules:\n  - id: r\n    effect: deny\n    when: {principals: [\"agent:[ab]\"], sql: {kinds: [drop]}}\n    examples: {deny: [DROP TABLE t]}\n";
    at(
        &one(text),
        find(text, "DROP TABLE t]"),
        &["no principal id can be read from the `principals` patterns of rule `r`"],
    );
    let text = policy("NO_DROP", "examples:\n  principal: {id: \"\"}\n  deny: [DROP TABLE t]");
    at(&one(&text), find(&text, "\"\"}"), &["principal id is empty"]);
}

#[test]
fn an_example_refused_before_the_rules_fails() {
    let text = policy(
        "ANALYTICS_READ",
        "examples:\n  deny:\n    - {resource: warehous, action: {sql: SELECT 1}}\n    - {resource: api, action: {sql: SELECT 1}}",
    );
    let list = errors(&text);
    assert_eq!(list.len(), 2, "{list:#?}");
    at(
        &list[0],
        find(&text, "{resource: warehous"),
        &["refused before any rule applies", "resource `warehous` is not declared"],
    );
    at(&list[1], find(&text, "{resource: api"), &["refused", "not a SQL database"]);
}

#[test]
fn examples_are_plain_requests() {
    let text = policy(
        "ANALYTICS_READ",
        "examples:\n  allow:\n    - resource: warehouse\n      action: {sql: SELECT 1}\n      approval: writa1.x",
    );
    at(&one(&text), find(&text, "writa1.x"), &["`approval` belongs in a test file"]);
}

#[test]
fn malformed_examples_are_located_by_the_parser() {
    let text = policy("ANALYTICS_READ", "examples:\n  alow: [SELECT 1]");
    at(&one(&text), find(&text, "alow"), &["unknown field `alow`"]);
    let text = policy(
        "ANALYTICS_READ",
        "examples:\n  allow:\n    - resource: warehouse\n      principle: {id: a}\n      action: {sql: SELECT 1}",
    );
    let d = one(&text);
    assert_eq!(d.line, find(&text, "principle").0, "{d}");
    assert!(d.message.contains("unknown field `principle`"), "{d}");
    let text = policy("ANALYTICS_READ", "examples:\n  allow: [42]");
    let d = one(&text);
    assert!(d.message.contains("an action text (SQL or a command line) or a request"), "{d}");
}

#[test]
fn examples_in_json_documents_are_located() {
    let text = r#"{"version": 1,
 "resources": [{"name": "db", "kind": "postgres"}],
 "rules": [
  {"id": "reads", "effect": "allow", "when": {"principals": ["a"], "sql": {"read_only": true}},
   "examples": {"allow": ["SELECT 1",
                         "DELETE FROM t WHERE id = 1"]}}
 ]}
"#;
    let list = match Engine::compile(&[Source::new("p.json", text)]) {
        Err(PolicyError::Invalid(list)) => list,
        other => panic!("{other:?}"),
    };
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!((list[0].file.as_str(), list[0].line, list[0].column), ("p.json", 6, 26));
}

#[test]
fn shape_errors_are_reported_before_examples_are_checked() {
    // A bad glob elsewhere: the examples cannot be checked against a policy that does not
    // compile, so only the glob is reported.
    let text = policy("ANALYTICS_READ", "examples: {allow: [DELETE FROM t WHERE id = 1]}")
        .replace("[vacuum, select]}}", "[vacuum, select]}, resources: [\"[\"]}");
    let d = one(&text);
    assert!(d.message.contains("invalid glob"), "{d}");
}
