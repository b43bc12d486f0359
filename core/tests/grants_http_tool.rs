//! Grants whose scopes limit HTTP requests and tool calls.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::collections::HashSet;

use serde_json::json;
use writ::grant::{Authority, Grant, GrantSpec, verify_chain};
use writ::identity::{Context, SigningKey, Trust};
use writ::policy::Conditions;
use writ::{Action, Effect, Engine, HttpRequest, Principal, Request, ToolCall};

const NOW: u64 = 1_800_000_000;

const POLICY: &str = r#"
version: 1
resources:
  - {name: api, kind: http}
  - {name: db, kind: postgres}
  - name: mcp
    kind: tool
    tools:
      - {name: query, sql: {argument: /sql, resource: db}}
rules:
  - id: lead-http
    effect: allow
    when: {principals: [agent:lead], resources: [api], http: {methods: [GET, POST], hosts: ["*.example.com"]}}
  - id: lead-tools
    effect: allow
    when: {principals: [agent:lead], resources: [mcp], tool: {names: ["*"]}}
  - id: lead-sql
    effect: allow
    when: {principals: [agent:lead], resources: [db], sql: {read_only: true}}
"#;

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("host-1", &[7; 32]).unwrap()
}

fn scope(yaml: &str) -> Conditions {
    serde_norway::from_str(yaml).unwrap()
}

fn mint(yaml: &str) -> Result<Grant, writ::grant::GrantError> {
    let lead = Principal::new("agent:lead", ["agents"]);
    let spec = GrantSpec::new("agent:helper", scope(yaml), 300).depth(1);
    Grant::mint(Authority::Principal(&lead), &spec, &key(), NOW)
}

fn check(grant: &Grant, resource: &str, action: Action) -> writ::Decision {
    let engine = Engine::from_yaml(POLICY).unwrap();
    let trust = Trust::new().grant_key(key().verifying_key());
    let mut request = Request::new(Principal::default(), resource, action);
    request.grant = Some(grant.encode());
    engine.check_with(&request, &Context::new(&trust).at(NOW)).decision
}

fn get(url: &str) -> Action {
    Action::Http(HttpRequest { method: "GET".into(), url: url.into() })
}

#[test]
fn an_http_scope_narrows_methods_hosts_and_paths() {
    let g = mint("{resources: [api], http: {methods: [GET], hosts: [api.example.com], paths: ['/v1/reports/*']}}").unwrap();
    assert_eq!(check(&g, "api", get("https://api.example.com/v1/reports/7")).effect, Effect::Allow);
    assert_eq!(check(&g, "api", get("https://api.example.com/v1/users/7")).effect, Effect::Deny);
    assert_eq!(
        check(&g, "api", get("https://api.example.com/v1/reports/../users/7")).effect,
        Effect::Deny
    );
    assert_eq!(
        check(&g, "api", get("https://other.example.com/v1/reports/7")).effect,
        Effect::Deny
    );
    let post = Action::Http(HttpRequest {
        method: "POST".into(),
        url: "https://api.example.com/v1/reports/7".into(),
    });
    assert_eq!(check(&g, "api", post).effect, Effect::Deny, "the root may POST; the grant may not");
}

#[test]
fn a_tool_scope_narrows_names_and_arguments() {
    let g = mint("{resources: [mcp], tool: {names: [query], arguments: [{pointer: /sql, matches: ['SELECT *']}]}}").unwrap();
    let call =
        |sql: &str| Action::Tool(ToolCall { name: "query".into(), arguments: json!({"sql": sql}) });
    assert_eq!(check(&g, "mcp", call("SELECT 1")).effect, Effect::Allow);
    assert_eq!(
        check(&g, "mcp", call("DELETE FROM t")).effect,
        Effect::Deny,
        "outside the scope and the policy"
    );
    let other = Action::Tool(ToolCall { name: "write_file".into(), arguments: json!({}) });
    assert_eq!(check(&g, "mcp", other).effect, Effect::Deny);
}

#[test]
fn a_sql_scope_covers_no_tool_call() {
    let g = mint("{resources: [mcp], sql: {read_only: true}}");
    // The scope names a tool resource but limits SQL: the mint succeeds (the root has no
    // scope), and at check time the tool call is outside it.
    let g = g.unwrap();
    let call =
        Action::Tool(ToolCall { name: "query".into(), arguments: json!({"sql": "SELECT 1"}) });
    assert_eq!(check(&g, "mcp", call).effect, Effect::Deny);
}

#[test]
fn children_of_http_and_tool_scopes_must_be_narrower() {
    let k = key();
    let keys = Trust::new().grant_key(k.verifying_key()).grant_keys;
    let parent =
        mint("{resources: [api], http: {methods: [GET, POST], hosts: ['*.example.com']}}").unwrap();
    let verified = verify_chain(&parent.encode(), &keys, NOW, &HashSet::<String>::new()).unwrap();
    let child = |yaml: &str| {
        Grant::mint(
            Authority::Grant(&verified),
            &GrantSpec::new("agent:sub", scope(yaml), 60),
            &k,
            NOW,
        )
    };
    let ok = child("{resources: [api], http: {methods: [GET], hosts: [api.example.com]}}");
    assert!(ok.is_ok(), "{:?}", ok.err());
    let wider =
        child("{resources: [api], http: {methods: [GET, DELETE], hosts: [api.example.com]}}");
    assert!(wider.unwrap_err().to_string().contains("http.methods"));
    let no_block = child("{resources: [api]}");
    assert!(no_block.unwrap_err().to_string().contains("the parent limits HTTP requests"));

    let parent = mint("{resources: [mcp], tool: {names: [query], arguments: [{pointer: /sql, matches: ['SELECT *']}]}}").unwrap();
    let verified = verify_chain(&parent.encode(), &keys, NOW, &HashSet::<String>::new()).unwrap();
    let child = |yaml: &str| {
        Grant::mint(
            Authority::Grant(&verified),
            &GrantSpec::new("agent:sub", scope(yaml), 60),
            &k,
            NOW,
        )
    };
    assert!(child("{resources: [mcp], tool: {names: [query], arguments: [{pointer: /sql, matches: ['SELECT *']}, {pointer: /limit, one_of: [10]}]}}").is_ok());
    let dropped = child("{resources: [mcp], tool: {names: [query]}}");
    assert!(dropped.unwrap_err().to_string().contains("`tool.arguments` condition on `/sql`"));
    let two_blocks = mint("{resources: [api], http: {methods: [GET]}, tool: {names: [q]}}");
    assert!(two_blocks.unwrap_err().to_string().contains("more than one of"));
}
