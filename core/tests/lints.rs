//! `Engine::lints`: each lint fires on what it proves, and stays quiet where it cannot prove.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::Engine;

fn lints(rules: &str) -> Vec<String> {
    let text = format!(
        "version: 1\nresources:\n  - {{name: db, kind: postgres}}\n  - {{name: box, kind: shell}}\nrules:\n  - {{id: base, effect: deny, when: {{resources: [db, box], principals: [nobody]}}}}\n{rules}"
    );
    Engine::from_yaml(&text)
        .unwrap()
        .lints()
        .into_iter()
        .map(|l| format!("{}: {}", l.at, l.message))
        .collect()
}

#[test]
fn a_rule_covered_by_an_earlier_one_with_the_same_effect() {
    let found = lints(
        "  - {id: a, effect: allow, when: {sql: {tables: [\"public.*\"]}}}\n  - {id: b, effect: allow, when: {resources: [db], sql: {tables: [public.orders]}}}\n",
    );
    assert_eq!(
        found,
        [
            "<policy>:8:10: rule `b` is covered by the earlier allow rule `a`: it never changes a decision"
        ]
    );
    // The other way round, or with different effects, nothing is covered.
    assert!(lints("  - {id: b, effect: allow, when: {sql: {tables: [public.orders]}}}\n  - {id: a, effect: allow, when: {sql: {tables: [\"public.*\"]}}}\n").is_empty());
    assert!(lints("  - {id: a, effect: approval, when: {sql: {tables: [\"public.*\"]}}}\n  - {id: b, effect: allow, when: {sql: {tables: [public.orders]}}}\n").is_empty());
}

#[test]
fn an_allow_that_a_deny_always_overrides() {
    let found = lints(
        "  - {id: ban, effect: deny, when: {groups: [interns]}}\n  - {id: interns-read, effect: allow, when: {groups: [interns], sql: {read_only: true}}}\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("allow rule `interns-read` can never allow: deny rule `ban`"),
        "{found:?}"
    );
    // A deny with action conditions does not override everything: no lint.
    assert!(lints("  - {id: ban, effect: deny, when: {groups: [interns], sql: {read_only: false}}}\n  - {id: interns-read, effect: allow, when: {groups: [interns], sql: {read_only: true}}}\n").is_empty());
    // A narrower deny does not cover a broader allow.
    assert!(lints("  - {id: ban, effect: deny, when: {groups: [interns], principals: [x]}}\n  - {id: interns-read, effect: allow, when: {groups: [interns]}}\n").is_empty());
}

#[test]
fn conditions_that_can_never_match_and_unused_resources() {
    let found = lints(
        "  - {id: shell-sql, effect: allow, when: {resources: [box], sql: {read_only: true}}}\n",
    );
    assert_eq!(
        found,
        [
            "<policy>:7:10: rule `shell-sql` can never match: its `sql` conditions apply to none of the resources it names"
        ]
    );
    let text = "version: 1\nresources:\n  - {name: db, kind: postgres}\n  - {name: idle, kind: postgres}\nrules:\n  - {id: r, effect: allow, when: {resources: [db]}}\n";
    let found: Vec<String> =
        Engine::from_yaml(text).unwrap().lints().into_iter().map(|l| l.message).collect();
    assert_eq!(found, ["no rule applies to resource `idle`: every request on it is denied"]);
}

#[test]
fn the_example_packs_are_clean() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    for pack in std::fs::read_dir(root).unwrap() {
        let pack = pack.unwrap().path();
        if pack.is_dir() {
            let lints = Engine::from_path(&pack).unwrap().lints();
            assert!(lints.is_empty(), "{}: {lints:?}", pack.display());
        }
    }
}
