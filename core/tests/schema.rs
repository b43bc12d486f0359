//! Every document and test file in `policies/` validates against the JSON Schemas that
//! `writ schema` prints, and the schemas reject what the loader rejects.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::PathBuf;

use serde_json::{Value, json};
use writ::policy::{is_policy_file_name, is_test_file_name};

fn yaml(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap();
    validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

#[test]
fn every_pack_file_validates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let (policy, tests) = (writ::schema::policy_document(), writ::schema::test_file());
    let mut checked = 0;
    let mut failures = Vec::new();
    for pack in std::fs::read_dir(&root).unwrap() {
        let pack = pack.unwrap().path();
        if !pack.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&pack).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_str().unwrap().to_owned();
            let schema = if is_test_file_name(&name) {
                &tests
            } else if is_policy_file_name(&name) {
                &policy
            } else {
                continue;
            };
            checked += 1;
            for e in errors(schema, &yaml(&file)) {
                failures.push(format!("{}: {e}", file.display()));
            }
        }
    }
    assert!(checked >= 8, "only {checked} files checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_schemas_reject_what_the_loader_rejects() {
    let policy = writ::schema::policy_document();
    assert!(errors(&policy, &json!({"version": 1, "rulez": []})).len() == 1, "unknown field");
    assert!(
        !errors(&policy, &json!({"version": 1, "rules": [{"id": "r", "effect": "permit"}]}))
            .is_empty()
    );
    assert!(!errors(&policy, &json!({"version": 1, "rules": [{"id": "r", "effect": "allow", "when": {"sql": {"kinds": ["selekt"]}}}]})).is_empty());
    assert!(!errors(&policy, &json!({"version": 1, "defaults": {"effect": "allow"}})).is_empty());
    assert!(errors(&policy, &json!({"version": 1, "rules": [{"id": "r", "effect": "deny", "when": {"command": {"programs": ["rm"], "flags": ["r"]}}}]})).is_empty());
    let rule = |examples: Value| json!({"version": 1, "rules": [{"id": "r", "effect": "deny", "examples": examples}]});
    let good = rule(json!({"principal": {"id": "a"}, "deny": ["DROP TABLE t",
        {"resource": "db", "action": {"sql": "TRUNCATE t"}}], "allow": []}));
    assert!(errors(&policy, &good).is_empty(), "{:?}", errors(&policy, &good));
    assert!(!errors(&policy, &rule(json!({"alow": ["SELECT 1"]}))).is_empty());
    assert!(!errors(&policy, &rule(json!({"deny": [42]}))).is_empty());
    assert!(!errors(&policy, &rule(json!({"deny": [{"resource": "db"}]}))).is_empty());
    let tests = writ::schema::test_file();
    let case = json!({"cases": [{"name": "n", "request": {"principal": {"id": "a"}, "resource": "db", "action": {"sql": "SELECT 1"}}, "expect": "allow"}]});
    assert!(errors(&tests, &case).is_empty(), "{:?}", errors(&tests, &case));
    let bad = json!({"cases": [{"name": "n", "request": {"resource": "db", "action": {"shell": "ls"}}, "expect": "allow"}]});
    assert!(!errors(&tests, &bad).is_empty());
}
