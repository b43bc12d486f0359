//! The decision semantics of DESIGN.md, one rule at a time: deny beats approval beats allow,
//! nothing matched means deny, what is not understood is never allowed, every statement of a
//! text must be allowed, and set conditions read in the direction that fails closed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::{ActionView, Decision, Effect, Engine, Principal, Request};

fn engine(rules: &str) -> Engine {
    let text = format!(
        "version: 1\nresources:\n  - {{name: db, kind: postgres, default_schema: public}}\n  - {{name: lite, kind: sqlite}}\n  - {{name: box, kind: shell}}\nrules:\n{rules}"
    );
    Engine::from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn engine_with_defaults(defaults: &str, rules: &str) -> Engine {
    let text = format!(
        "version: 1\nresources:\n  - {{name: db, kind: postgres}}\ndefaults: {defaults}\nrules:\n{rules}"
    );
    Engine::from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn ask(engine: &Engine, who: &str, groups: &[&str], resource: &str, sql: &str) -> Decision {
    engine.check(&Request::sql(Principal::new(who, groups.iter().copied()), resource, sql))
}

fn effect(engine: &Engine, sql: &str) -> Effect {
    ask(engine, "agent:a", &[], "db", sql).effect
}

const ALLOW_READS: &str = "  - id: reads\n    effect: allow\n    when: {sql: {read_only: true}}\n";

#[test]
fn nothing_matched_means_deny() {
    let e = engine(ALLOW_READS);
    let d = ask(&e, "agent:a", &[], "db", "INSERT INTO t VALUES (1)");
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.rules.is_empty());
    assert!(d.reason.contains("no rule allows"), "{}", d.reason);
}

#[test]
fn an_empty_policy_denies_everything() {
    let e = engine("  []\n");
    assert_eq!(effect(&e, "SELECT 1"), Effect::Deny);
}

#[test]
fn allow_when_an_allow_rule_matches() {
    let e = engine(ALLOW_READS);
    let d = ask(&e, "agent:a", &[], "db", "SELECT * FROM t");
    assert_eq!((d.effect, d.rules.as_slice()), (Effect::Allow, &["reads".to_owned()][..]));
}

#[test]
fn deny_beats_allow_and_approval() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: ask\n    effect: approval\n    when: {sql: {tables: [public.t]}}\n  - id: no\n    effect: deny\n    reason: t is closed\n    when: {sql: {tables: [public.t]}}\n",
    );
    let d = ask(&e, "agent:a", &[], "db", "SELECT * FROM t");
    assert_eq!(d.effect, Effect::Deny);
    assert_eq!(d.rules, ["no"]);
    assert_eq!(d.reason, "t is closed");
    assert_eq!(effect(&e, "SELECT * FROM u"), Effect::Allow);
}

#[test]
fn approval_beats_allow() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: ddl\n    effect: approval\n    when: {sql: {kinds: [create, alter]}}\n",
    );
    let d = ask(&e, "agent:a", &[], "db", "CREATE TABLE x (id int)");
    assert_eq!(d.effect, Effect::ApprovalRequired);
    assert_eq!(d.rules, ["ddl"]);
    assert_eq!(effect(&e, "SELECT 1"), Effect::Allow);
}

#[test]
fn every_statement_of_a_text_must_be_allowed() {
    let e = engine(ALLOW_READS);
    assert_eq!(effect(&e, "SELECT 1; SELECT 2"), Effect::Allow);
    let d = ask(&e, "agent:a", &[], "db", "SELECT 1; DELETE FROM t WHERE id = 1; SELECT 2");
    assert_eq!(d.effect, Effect::Deny);
    let per: Vec<Effect> = d.parts.iter().map(|s| s.effect).collect();
    assert_eq!(per, [Effect::Allow, Effect::Deny, Effect::Allow]);
}

#[test]
fn the_most_restrictive_statement_decides_and_its_rules_are_reported() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: ddl\n    effect: approval\n    when: {sql: {kinds: [create]}}\n  - id: drops\n    effect: deny\n    when: {sql: {kinds: [drop]}}\n",
    );
    let d = ask(&e, "agent:a", &[], "db", "CREATE TABLE a (x int); SELECT 1");
    assert_eq!((d.effect, d.rules.clone()), (Effect::ApprovalRequired, vec!["ddl".to_owned()]));
    let d = ask(&e, "agent:a", &[], "db", "CREATE TABLE a (x int); DROP TABLE b");
    assert_eq!((d.effect, d.rules.clone()), (Effect::Deny, vec!["drops".to_owned()]));
}

#[test]
fn allow_rules_never_match_what_is_not_understood() {
    // A blanket allow with no conditions still does not cover unparseable text.
    let e = engine("  - id: all\n    effect: allow\n");
    let d = ask(&e, "agent:a", &[], "db", "SELEC * FRM t");
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.rules.is_empty());
    assert!(d.reason.contains("could not be fully understood"), "{}", d.reason);
    // DO is recognised by its first keyword but its body is not understood.
    assert_eq!(effect(&e, "DO $$ BEGIN PERFORM 1; END $$"), Effect::Deny);
}

#[test]
fn unknown_goes_to_approval_where_the_policy_says_so() {
    let e = engine_with_defaults("{unknown: approval}", "  - id: all\n    effect: allow\n");
    assert_eq!(effect(&e, "SELEC * FRM t"), Effect::ApprovalRequired);
    // ... but a deny rule that matches what is known still wins.
    let e = engine_with_defaults(
        "{unknown: approval}",
        "  - id: no-do\n    effect: deny\n    when: {sql: {kinds: [do]}}\n",
    );
    assert_eq!(effect(&e, "DO $$ BEGIN PERFORM 1; END $$"), Effect::Deny);
}

#[test]
fn default_effect_may_be_approval_but_never_allow() {
    let e = engine_with_defaults("{effect: approval, reason: ask a human}", "  []\n");
    let d = ask(&e, "agent:a", &[], "db", "SELECT 1");
    assert_eq!((d.effect, d.reason.as_str()), (Effect::ApprovalRequired, "ask a human"));
}

#[test]
fn undeclared_resources_and_wrong_resource_kinds_are_denied() {
    let e = engine("  - id: all\n    effect: allow\n");
    let d = ask(&e, "agent:a", &[], "nope", "SELECT 1");
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.reason.contains("not declared"), "{}", d.reason);
    assert!(d.view.is_none());
    let d = ask(&e, "agent:a", &[], "box", "SELECT 1");
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.reason.contains("not a SQL database"), "{}", d.reason);
}

#[test]
fn empty_text_is_denied() {
    let e = engine("  - id: all\n    effect: allow\n");
    for text in ["", "   ", "-- just a comment", ";;"] {
        let d = ask(&e, "agent:a", &[], "db", text);
        assert_eq!(d.effect, Effect::Deny, "{text:?}");
    }
}

#[test]
fn principal_globs_and_groups() {
    let e = engine(
        "  - id: a\n    effect: allow\n    when: {principals: [\"agent:analytics*\"], groups: [analysts, dba]}\n",
    );
    assert_eq!(ask(&e, "agent:analytics-2", &["dba"], "db", "SELECT 1").effect, Effect::Allow);
    assert_eq!(
        ask(&e, "agent:analytics", &["x", "analysts"], "db", "SELECT 1").effect,
        Effect::Allow
    );
    assert_eq!(ask(&e, "agent:analytics", &[], "db", "SELECT 1").effect, Effect::Deny);
    assert_eq!(ask(&e, "agent:other", &["analysts"], "db", "SELECT 1").effect, Effect::Deny);
}

#[test]
fn resource_conditions_scope_rules() {
    let e = engine("  - id: a\n    effect: allow\n    when: {resources: [lite]}\n");
    assert_eq!(ask(&e, "x", &[], "lite", "SELECT 1").effect, Effect::Allow);
    assert_eq!(ask(&e, "x", &[], "db", "SELECT 1").effect, Effect::Deny);
}

#[test]
fn allow_table_conditions_must_cover_every_table() {
    let e = engine("  - id: a\n    effect: allow\n    when: {sql: {tables: [\"public.*\"]}}\n");
    assert_eq!(
        effect(&e, "SELECT * FROM orders"),
        Effect::Allow,
        "unqualified names take the default schema"
    );
    assert_eq!(
        effect(&e, "SELECT * FROM public.orders JOIN public.items USING (id)"),
        Effect::Allow
    );
    assert_eq!(effect(&e, "SELECT * FROM orders JOIN secret.keys USING (id)"), Effect::Deny);
    assert_eq!(
        effect(&e, "SELECT * FROM orders WHERE id IN (SELECT id FROM secret.keys)"),
        Effect::Deny,
        "a table in a subquery counts"
    );
}

#[test]
fn deny_table_conditions_match_any_table() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: s\n    effect: deny\n    when: {sql: {reads: [\"secret.*\"]}}\n",
    );
    assert_eq!(effect(&e, "SELECT * FROM orders"), Effect::Allow);
    assert_eq!(effect(&e, "SELECT * FROM orders JOIN secret.keys USING (id)"), Effect::Deny);
}

#[test]
fn a_resource_without_default_schema_matches_names_as_written() {
    let e = engine("  - id: a\n    effect: allow\n    when: {sql: {tables: [\"main.*\"]}}\n");
    assert_eq!(ask(&e, "x", &[], "lite", "SELECT * FROM main.t").effect, Effect::Allow);
    assert_eq!(ask(&e, "x", &[], "lite", "SELECT * FROM t").effect, Effect::Deny);
}

#[test]
fn allow_kinds_cover_nested_kinds_too() {
    let e = engine("  - id: a\n    effect: allow\n    when: {sql: {kinds: [select, explain]}}\n");
    assert_eq!(effect(&e, "SELECT * FROM t"), Effect::Allow);
    assert_eq!(effect(&e, "EXPLAIN SELECT * FROM t"), Effect::Allow);
    assert_eq!(effect(&e, "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"), Effect::Deny);
    assert_eq!(effect(&e, "EXPLAIN ANALYZE DELETE FROM t WHERE id = 1"), Effect::Deny);
}

#[test]
fn deny_kinds_see_nested_kinds() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: d\n    effect: deny\n    when: {sql: {kinds: [delete]}}\n",
    );
    let d = ask(&e, "x", &[], "db", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d");
    assert_eq!((d.effect, d.rules.clone()), (Effect::Deny, vec!["d".to_owned()]));
}

#[test]
fn flags_in_deny_rules_match_any_and_in_allow_rules_bound_what_is_allowed() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: nw\n    effect: deny\n    when: {sql: {flags: [no_where]}}\n",
    );
    assert_eq!(effect(&e, "DELETE FROM t"), Effect::Deny);
    assert_eq!(effect(&e, "DELETE FROM t WHERE id = 1"), Effect::Allow);
    let e = engine(
        "  - id: a\n    effect: allow\n    when: {sql: {read_only: true, flags: [multi_statement]}}\n",
    );
    assert_eq!(effect(&e, "SELECT 1; SELECT 2"), Effect::Allow);
    assert_eq!(effect(&e, "SELECT * FROM t FOR UPDATE"), Effect::Deny);
}

#[test]
fn function_conditions() {
    let e = engine(
        "  - id: all\n    effect: allow\n  - id: f\n    effect: deny\n    when: {sql: {functions: [\"pg_*\"]}}\n",
    );
    assert_eq!(effect(&e, "SELECT lower(name) FROM t"), Effect::Allow);
    assert_eq!(effect(&e, "SELECT pg_sleep(10)"), Effect::Deny);
    let e = engine("  - id: a\n    effect: allow\n    when: {sql: {functions: [lower, count]}}\n");
    assert_eq!(effect(&e, "SELECT count(*), lower(name) FROM t"), Effect::Allow);
    assert_eq!(effect(&e, "SELECT upper(name) FROM t"), Effect::Deny);
}

#[test]
fn read_only_condition() {
    let e = engine(
        "  - id: w\n    effect: approval\n    when: {sql: {read_only: false}}\n  - id: all\n    effect: allow\n",
    );
    assert_eq!(effect(&e, "SELECT 1"), Effect::Allow);
    assert_eq!(effect(&e, "UPDATE t SET a = 1 WHERE id = 2"), Effect::ApprovalRequired);
    assert_eq!(
        effect(&e, "SELECT nextval('s')"),
        Effect::ApprovalRequired,
        "side-effect functions are writes"
    );
}

#[test]
fn decisions_carry_digest_policy_version_and_view() {
    let e = engine(ALLOW_READS);
    let d = ask(&e, "agent:a", &[], "db", "SELECT * FROM t");
    assert_eq!(
        d.digest,
        Request::sql(Principal::new("agent:a", ["other"]), "db", "SELECT * FROM t;").digest()
    );
    assert_eq!(d.policy, e.policy_version());
    assert!(d.policy.starts_with("sha256:"));
    let Some(ActionView::Sql(view)) = &d.view else { panic!("no SQL view") };
    assert_eq!(view.statements.len(), 1);
    assert_eq!(view.statements[0].reads, ["t"]);
    // The JSON round trip is lossless.
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
    assert!(json.contains("\"effect\":\"allow\""), "{json}");
}

#[test]
fn approval_required_is_spelled_as_in_the_contract() {
    let e = engine("  - id: w\n    effect: approval\n");
    let json = serde_json::to_value(ask(&e, "a", &[], "db", "SELECT 1")).unwrap();
    assert_eq!(json["effect"], "approval_required");
}

#[test]
fn one_engine_is_shared_by_many_threads() {
    let e = engine(ALLOW_READS);
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                for n in 0..200 {
                    let read = format!("SELECT {n} FROM t{i}");
                    assert_eq!(effect(&e, &read), Effect::Allow);
                    let write = format!("DELETE FROM t{i} WHERE id = {n}");
                    assert_eq!(effect(&e, &write), Effect::Deny);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
