//! `Engine::explain`: every rule, for every part, with why it matched or not.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use serde_json::json;
use writ::{Action, Effect, Engine, Principal, Request, RuleTrace, ToolCall};

const POLICY: &str = r#"
version: 1
resources:
  - {name: db, kind: postgres, default_schema: public}
  - {name: other, kind: postgres}
  - {name: box, kind: shell}
  - name: mcp
    kind: tool
    tools: [{name: query, sql: {argument: /sql, resource: db}}]
rules:
  - {id: reads, effect: allow, when: {groups: [analysts], sql: {read_only: true, tables: ["public.*"]}}}
  - {id: no-secrets, effect: deny, when: {sql: {tables: [secret.*]}}}
  - {id: elsewhere, effect: allow, when: {resources: [other]}}
  - {id: shell, effect: allow, when: {command: {programs: [ls]}}}
  - {id: tools, effect: allow, when: {resources: [mcp], tool: {names: [query]}}}
"#;

fn rule<'a>(rules: &'a [RuleTrace], id: &str) -> &'a RuleTrace {
    rules.iter().find(|r| r.id == id).unwrap()
}

#[test]
fn explains_each_rule_for_each_statement() {
    let e = Engine::from_yaml(POLICY).unwrap();
    let req = Request::sql(
        Principal::new("agent:a", ["analysts"]),
        "db",
        "SELECT * FROM orders; SELECT * FROM secret.keys",
    );
    let x = e.explain(&req);
    assert_eq!(x.decision.effect, Effect::Deny);
    assert_eq!(x.parts.len(), 2);
    assert_eq!(x.parts[0].part, "statement 1 (`select`)");
    let first = &x.parts[0].rules;
    assert!(rule(first, "reads").matched);
    assert_eq!(rule(first, "no-secrets").why, "`sql.tables` does not hold");
    assert!(rule(first, "elsewhere").why.starts_with("applies to other resources"));
    assert_eq!(
        rule(first, "shell").why,
        "the rule's `command` block is for another kind of action"
    );
    let second = &x.parts[1].rules;
    assert!(rule(second, "no-secrets").matched);
    assert_eq!(rule(second, "reads").why, "`sql.tables` does not hold");
    assert_eq!(x.parts[0].rules.len(), 5, "every rule is listed");
}

#[test]
fn explains_principal_conditions_and_unknown_parts() {
    let e = Engine::from_yaml(POLICY).unwrap();
    let x = e.explain(&Request::sql(Principal::new("agent:a", ["ops"]), "db", "SELECT 1"));
    assert_eq!(
        rule(&x.parts[0].rules, "reads").why,
        "the principal is in none of the rule's `groups`"
    );
    let x =
        e.explain(&Request::sql(Principal::new("agent:a", ["analysts"]), "db", "VACUUM ANALYZE t"));
    assert!(!x.parts[0].understood);
    assert_eq!(
        rule(&x.parts[0].rules, "reads").why,
        "allow rules never match what writ could not fully understand"
    );
}

#[test]
fn explains_routed_tool_arguments_too() {
    let e = Engine::from_yaml(POLICY).unwrap();
    let call = ToolCall {
        name: "query".into(),
        arguments: json!({"sql": "DELETE FROM orders WHERE id = 1"}),
    };
    let x = e.explain(&Request::new(
        Principal::new("agent:a", ["analysts"]),
        "mcp",
        Action::Tool(call),
    ));
    assert_eq!(x.decision.effect, Effect::Deny);
    assert_eq!(x.parts.len(), 2);
    assert_eq!((x.parts[0].resource.as_str(), x.parts[1].resource.as_str()), ("mcp", "db"));
    assert!(rule(&x.parts[0].rules, "tools").matched);
    assert_eq!(rule(&x.parts[1].rules, "reads").why, "`sql.read_only` does not hold");
}

#[test]
fn the_trace_agrees_with_the_decision() {
    let e = Engine::from_yaml(POLICY).unwrap();
    for sql in [
        "SELECT 1",
        "SELECT * FROM secret.k",
        "DELETE FROM t",
        "SELECT * FROM a JOIN secret.b USING (id)",
    ] {
        let x = e.explain(&Request::sql(Principal::new("agent:a", ["analysts"]), "db", sql));
        for (trace, part) in x.parts.iter().zip(&x.decision.parts) {
            let matched: Vec<&str> =
                trace.rules.iter().filter(|r| r.matched).map(|r| r.id.as_str()).collect();
            for id in &part.rules {
                assert!(
                    matched.contains(&id.as_str()),
                    "{sql}: `{id}` decided but the trace says it did not match"
                );
            }
        }
    }
}
