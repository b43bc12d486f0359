//! Policy loading: every error names the file, line and column of the problem.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::policy::{Format, Source};
use writ::{Diagnostic, Engine, PolicyError};

fn yaml(name: &str, text: &str) -> Source {
    Source { name: name.into(), text: text.into(), format: Format::Yaml }
}

fn json(name: &str, text: &str) -> Source {
    Source { name: name.into(), text: text.into(), format: Format::Json }
}

fn errors(sources: &[Source]) -> Vec<Diagnostic> {
    match Engine::compile(sources) {
        Ok(_) => panic!("the policy compiled, but an error was expected"),
        Err(PolicyError::Invalid(list)) => list,
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

fn one(sources: &[Source]) -> Diagnostic {
    let list = errors(sources);
    assert_eq!(list.len(), 1, "expected one diagnostic, got {list:#?}");
    list.into_iter().next().unwrap()
}

fn at(d: &Diagnostic, file: &str, line: usize, column: usize, needle: &str) {
    assert_eq!((d.file.as_str(), d.line, d.column), (file, line, column), "{d}");
    assert!(d.message.contains(needle), "message `{}` lacks `{needle}`", d.message);
}

const BASE: &str = "version: 1\nresources:\n  - name: db\n    kind: postgres\n";

#[test]
fn unknown_rule_field_in_yaml() {
    let text = format!("{BASE}rules:\n  - id: r1\n    effect: allow\n    whne: {{}}\n");
    let d = one(&[yaml("p.yaml", &text)]);
    at(&d, "p.yaml", 8, 5, "unknown field `whne`");
}

#[test]
fn unknown_condition_field_is_located_deep_inside() {
    let text = format!(
        "{BASE}rules:\n  - id: r1\n    effect: allow\n    when:\n      sql:\n        kind: [select]\n"
    );
    let d = one(&[yaml("p.yaml", &text)]);
    at(&d, "p.yaml", 10, 9, "unknown field `kind`");
}

#[test]
fn unknown_field_in_json() {
    let text = "{\n  \"version\": 1,\n  \"resources\": [],\n  \"rulez\": []\n}\n";
    let d = one(&[json("p.json", text)]);
    assert_eq!((d.line, d.file.as_str()), (4, "p.json"), "{d}");
    assert!(d.message.contains("unknown field `rulez`"), "{d}");
}

#[test]
fn unknown_statement_kind_and_effect_values() {
    let text = format!(
        "{BASE}rules:\n  - id: r1\n    effect: allow\n    when: {{sql: {{kinds: [selekt]}}}}\n"
    );
    let d = one(&[yaml("p.yaml", &text)]);
    assert_eq!(d.line, 8, "{d}");
    assert!(d.message.contains("selekt"), "{d}");
    let text = format!("{BASE}rules:\n  - id: r1\n    effect: permit\n");
    let d = one(&[yaml("p.yaml", &text)]);
    at(&d, "p.yaml", 7, 13, "permit");
}

#[test]
fn yaml_syntax_error() {
    let d = one(&[yaml("p.yaml", "version: 1\nrules: [\n  - id: x\n")]);
    assert_eq!(d.file, "p.yaml");
    assert!(d.line >= 2, "{d}");
}

#[test]
fn json_syntax_error() {
    let d = one(&[json("p.json", "{\n  \"version\": 1,\n  \"rules\": [,]\n}")]);
    at(&d, "p.json", 3, 13, "");
}

#[test]
fn bad_glob_points_at_the_pattern() {
    let text = format!(
        "{BASE}rules:\n  - id: r1\n    effect: deny\n    when:\n      sql: {{tables: [\"public.*\", \"[oops\"]}}\n"
    );
    let d = one(&[yaml("p.yaml", &text)]);
    at(&d, "p.yaml", 9, 34, "invalid glob `[oops`");
}

#[test]
fn duplicate_rule_ids_across_files_name_both_places() {
    let a = format!("{BASE}rules:\n  - id: shared\n    effect: allow\n");
    let b = "version: 1\nrules:\n  - effect: deny\n    id: shared\n";
    let d = one(&[yaml("a.yaml", &a), yaml("b.yaml", b)]);
    at(&d, "b.yaml", 4, 9, "duplicate rule id `shared`");
    assert!(d.message.contains("a.yaml:6:9"), "{d}");
}

#[test]
fn undeclared_resource_is_an_error() {
    let text = format!(
        "{BASE}rules:\n  - id: r1\n    effect: allow\n    when: {{resources: [db, warehouse]}}\n"
    );
    let d = one(&[yaml("p.yaml", &text)]);
    at(&d, "p.yaml", 8, 28, "`warehouse`, which no document declares");
}

#[test]
fn resource_glob_matching_nothing_is_an_error_but_matching_something_is_fine() {
    let text =
        format!("{BASE}rules:\n  - id: r1\n    effect: allow\n    when: {{resources: [\"d*\"]}}\n");
    assert!(Engine::compile(&[yaml("p.yaml", &text)]).is_ok());
    let text =
        format!("{BASE}rules:\n  - id: r1\n    effect: allow\n    when: {{resources: [\"x*\"]}}\n");
    let d = one(&[yaml("p.yaml", &text)]);
    assert!(d.message.contains("`x*`"), "{d}");
}

#[test]
fn resources_declared_in_another_file_count() {
    let rules = "version: 1\nrules:\n  - id: r1\n    effect: allow\n    when: {resources: [db]}\n";
    assert!(Engine::compile(&[yaml("res.yaml", BASE), yaml("rules.yaml", rules)]).is_ok());
}

#[test]
fn duplicate_resources() {
    let text = format!("{BASE}  - name: db\n    kind: mysql\n");
    let d = one(&[yaml("p.yaml", &text)]);
    at(&d, "p.yaml", 5, 11, "duplicate resource `db`");
}

#[test]
fn unsupported_version() {
    let d = one(&[yaml("p.yaml", "version: 2\n")]);
    at(&d, "p.yaml", 1, 10, "unsupported version `2`");
}

#[test]
fn defaults_may_be_set_once() {
    let a = "version: 1\ndefaults: {effect: deny}\n";
    let b = "version: 1\ndefaults:\n  effect: approval\n";
    let d = one(&[yaml("a.yaml", a), yaml("b.yaml", b)]);
    at(&d, "b.yaml", 3, 3, "`defaults` already set at a.yaml:2:11");
}

#[test]
fn defaults_cannot_allow() {
    let d = one(&[yaml("p.yaml", "version: 1\ndefaults: {effect: allow}\n")]);
    assert_eq!(d.line, 2, "{d}");
    assert!(d.message.contains("allow"), "{d}");
}

#[test]
fn empty_condition_lists_are_errors() {
    let text = format!(
        "{BASE}rules:\n  - id: r1\n    effect: allow\n    when:\n      groups: []\n      sql: {{kinds: []}}\n"
    );
    let list = errors(&[yaml("p.yaml", &text)]);
    assert_eq!(list.len(), 2, "{list:#?}");
    at(&list[0], "p.yaml", 9, 15, "empty `groups` list");
    at(&list[1], "p.yaml", 10, 20, "empty `kinds` list");
}

#[test]
fn sql_options_on_a_shell_resource() {
    let text = "version: 1\nresources:\n  - name: box\n    kind: shell\n    dialect: postgres\n";
    let d = one(&[yaml("p.yaml", text)]);
    at(&d, "p.yaml", 5, 14, "`dialect` applies to SQL resources");
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = format!(
        "{BASE}rules:\n  - id: a\n    effect: allow\n    when: {{resources: [nope]}}\n  - id: a\n    effect: deny\n"
    );
    let list = errors(&[yaml("p.yaml", &text)]);
    assert_eq!(list.len(), 2, "{list:#?}");
}

#[test]
fn display_is_file_line_column_message() {
    let d = one(&[yaml("p.yaml", "version: 3\n")]);
    assert_eq!(d.to_string(), "p.yaml:1:10: unsupported version `3` (this build reads version 1)");
}

#[test]
fn directories_and_missing_paths() {
    let dir = std::env::temp_dir().join(format!("writ-policy-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    match Engine::from_path(&dir) {
        Err(PolicyError::NoDocuments(p)) => assert_eq!(p, dir),
        other => panic!("expected NoDocuments, got {other:?}"),
    }
    std::fs::write(dir.join("a.yaml"), BASE).unwrap();
    std::fs::write(
        dir.join("b.json"),
        "{\"version\": 1, \"rules\": [{\"id\": \"x\", \"effect\": \"deny\"}]}",
    )
    .unwrap();
    // A test file beside the policy is not a policy document.
    std::fs::write(dir.join("a.test.yaml"), "cases: []\n").unwrap();
    let engine = Engine::from_path(&dir).unwrap();
    assert_eq!(engine.rule_count(), 1);
    assert_eq!(engine.resource_names().collect::<Vec<_>>(), ["db"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(Engine::from_path(&dir), Err(PolicyError::Io { .. })));
}
