//! HTTP requests and tool calls through the engine, including tool arguments routed to the
//! SQL or command checks of another resource (MCP database and shell tools).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use serde_json::json;
use writ::{
    Action, ActionView, Decision, Effect, Engine, HttpRequest, Principal, Request, ToolCall,
};

const POLICY: &str = r#"
version: 1
resources:
  - {name: api, kind: http}
  - {name: db, kind: postgres, default_schema: public}
  - {name: box, kind: shell}
  - name: mcp
    kind: tool
    tools:
      - {name: query, sql: {argument: /sql, resource: db}}
      - {name: shell, command: {argument: /args/line, resource: box}}
rules:
  - id: api-read
    effect: allow
    when: {resources: [api], http: {methods: [GET, HEAD], hosts: ["api.example.com"], paths: ["/v1/*"]}}
  - id: api-admin
    effect: deny
    when: {http: {paths: ["/v1/admin/*", "/v1/admin"]}}
  - id: api-write
    effect: approval
    when: {http: {methods: [POST, PUT, PATCH, DELETE]}}
  - id: tools
    effect: allow
    when: {tool: {names: [query, shell, read_file, write_file]}}
  - id: no-writes-outside-workspace
    effect: deny
    when: {tool: {names: [write_file], arguments: [{pointer: /path, matches: ["/*", "*..*"]}]}}
  - id: careful-mode
    effect: approval
    when: {tool: {names: [write_file], arguments: [{pointer: /mode, one_of: ["overwrite", true]}]}}
  - id: db-read
    effect: allow
    when: {sql: {read_only: true}}
  - id: box-ls
    effect: allow
    when: {command: {programs: [ls, cat]}}
"#;

fn engine() -> Engine {
    Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}"))
}

fn who() -> Principal {
    Principal::new("agent:mcp", ["agents"])
}

fn http(e: &Engine, method: &str, url: &str) -> Decision {
    let action = Action::Http(HttpRequest { method: method.into(), url: url.into() });
    e.check(&Request::new(who(), "api", action))
}

fn tool(e: &Engine, name: &str, arguments: serde_json::Value) -> Decision {
    let action = Action::Tool(ToolCall { name: name.into(), arguments });
    e.check(&Request::new(who(), "mcp", action))
}

#[test]
fn http_methods_hosts_and_paths() {
    let e = engine();
    assert_eq!(http(&e, "GET", "https://api.example.com/v1/users").effect, Effect::Allow);
    assert_eq!(http(&e, "get", "https://API.EXAMPLE.COM/v1/users?x=1").effect, Effect::Allow);
    assert_eq!(http(&e, "GET", "https://evil.example.com/v1/users").effect, Effect::Deny);
    assert_eq!(http(&e, "GET", "https://api.example.com/v2/users").effect, Effect::Deny);
    assert_eq!(
        http(&e, "POST", "https://api.example.com/v1/users").effect,
        Effect::ApprovalRequired
    );
}

#[test]
fn http_path_tricks_do_not_escape_a_deny() {
    let e = engine();
    for url in [
        "https://api.example.com/v1/admin/keys",
        "https://api.example.com/v1/users/../admin/keys",
        "https://api.example.com/v1/users/%2e%2e/admin/keys",
        "https://api.example.com/v1/admin%2Fkeys",
        "https://api.example.com//v1/admin/keys",
    ] {
        let d = http(&e, "GET", url);
        assert_eq!(d.effect, Effect::Deny, "{url}: {}", d.reason);
    }
}

#[test]
fn http_that_cannot_be_understood_is_denied() {
    let e = engine();
    for (method, url) in [
        ("GET", "not a url"),
        ("GET", "file:///etc/passwd"),
        ("G ET", "https://api.example.com/v1/x"),
    ] {
        assert_eq!(http(&e, method, url).effect, Effect::Deny, "{method} {url}");
    }
}

#[test]
fn tool_names_and_argument_conditions() {
    let e = engine();
    assert_eq!(tool(&e, "read_file", json!({"path": "src/lib.rs"})).effect, Effect::Allow);
    assert_eq!(tool(&e, "delete_repo", json!({})).effect, Effect::Deny);
    assert_eq!(tool(&e, "write_file", json!({"path": "src/x.rs"})).effect, Effect::Allow);
    let d = tool(&e, "write_file", json!({"path": "/etc/passwd"}));
    assert_eq!(
        (d.effect, d.rules.clone()),
        (Effect::Deny, vec!["no-writes-outside-workspace".to_owned()])
    );
    assert_eq!(tool(&e, "write_file", json!({"path": "../up"})).effect, Effect::Deny);
    assert_eq!(
        tool(&e, "write_file", json!({"path": "a", "mode": "overwrite"})).effect,
        Effect::ApprovalRequired
    );
    assert_eq!(
        tool(&e, "write_file", json!({"path": "a", "mode": true})).effect,
        Effect::ApprovalRequired
    );
    assert_eq!(
        tool(&e, "write_file", json!({"path": "a", "mode": "append"})).effect,
        Effect::Allow
    );
}

#[test]
fn routed_sql_is_checked_against_the_database() {
    let e = engine();
    let d = tool(&e, "query", json!({"sql": "SELECT * FROM orders"}));
    assert_eq!(d.effect, Effect::Allow);
    assert_eq!(d.rules, ["tools", "db-read"]);
    let d = tool(
        &e,
        "query",
        json!({"sql": "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d"}),
    );
    assert_eq!(d.effect, Effect::Deny, "{}", d.reason);
    let Some(ActionView::Tool(view)) = &d.view else { panic!("no tool view") };
    let routed = view.routed.as_ref().unwrap();
    assert_eq!((routed.resource.as_str(), routed.argument.as_str()), ("db", "/sql"));
    assert!(matches!(routed.view.as_deref(), Some(ActionView::Sql(sql)) if !sql.read_only));
}

#[test]
fn routed_commands_are_checked_against_the_shell() {
    let e = engine();
    assert_eq!(tool(&e, "shell", json!({"args": {"line": "ls -la"}})).effect, Effect::Allow);
    assert_eq!(tool(&e, "shell", json!({"args": {"line": "ls; rm -rf /"}})).effect, Effect::Deny);
    assert_eq!(tool(&e, "shell", json!({"args": {"line": "curl x | sh"}})).effect, Effect::Deny);
}

#[test]
fn a_routed_argument_that_is_missing_or_not_text_fails_closed() {
    let e = engine();
    for arguments in [json!({}), json!({"sql": 42}), json!({"sql": ["SELECT 1"]}), json!(null)] {
        let d = tool(&e, "query", arguments.clone());
        assert_eq!(d.effect, Effect::Deny, "{arguments}");
        assert!(d.reason.contains("`/sql`, which is missing"), "{}", d.reason);
    }
}

#[test]
fn actions_go_only_to_resources_of_their_kind() {
    let e = engine();
    let action = Action::Http(HttpRequest {
        method: "GET".into(),
        url: "https://api.example.com/v1/x".into(),
    });
    let d = e.check(&Request::new(who(), "db", action));
    assert_eq!(d.effect, Effect::Deny);
    let action =
        Action::Tool(ToolCall { name: "query".into(), arguments: json!({"sql": "SELECT 1"}) });
    let d = e.check(&Request::new(who(), "api", action));
    assert_eq!(d.effect, Effect::Deny);
}

#[test]
fn tool_argument_digests_ignore_key_order_only() {
    let call = |arguments: serde_json::Value| {
        Request::new(who(), "mcp", Action::Tool(ToolCall { name: "q".into(), arguments }))
    };
    let a = call(json!({"a": 1, "b": 2}));
    let b = call(serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap());
    let c = call(json!({"a": 1, "b": 3}));
    assert_eq!(a.digest(), b.digest());
    assert_ne!(a.digest(), c.digest());
}

#[test]
fn route_and_condition_errors_are_located() {
    let bad = "version: 1\nresources:\n  - name: mcp\n    kind: tool\n    tools:\n      - {name: q, sql: {argument: sql, resource: nowhere}}\n";
    let err = Engine::from_yaml(bad).unwrap_err().to_string();
    assert!(err.contains("<policy>:6:35: `sql` is not a JSON pointer"), "{err}");
    assert!(err.contains("<policy>:6:50: tool `q` routes to resource `nowhere`"), "{err}");
    let bad = "version: 1\nrules:\n  - {id: r, effect: allow, when: {http: {methods: [get]}}}\n";
    let err = Engine::from_yaml(bad).unwrap_err().to_string();
    assert!(err.contains("method `get` must be written in upper case"), "{err}");
    let bad = "version: 1\nrules:\n  - {id: r, effect: allow, when: {tool: {arguments: [{pointer: /x}]}}}\n";
    let err = Engine::from_yaml(bad).unwrap_err().to_string();
    assert!(err.contains("needs `one_of` or `matches`"), "{err}");
}

const MASKED: &str = r#"
version: 1
resources:
  - {name: crm, kind: postgres, default_schema: public, columns: {public.customers: [id, email, ssn]}}
  - name: mcp
    kind: tool
    tools: [{name: query, sql: {argument: /sql, resource: crm}}]
masks:
  - {id: email, columns: [public.customers.email], method: {method: email}}
  - {id: ssn, columns: [public.customers.ssn], method: {method: redact}, on_probe: deny}
rules:
  - {id: tools, effect: allow, when: {tool: {names: [query]}}}
  - {id: reads, effect: allow, when: {resources: [crm], sql: {read_only: true}}}
"#;

#[test]
fn routed_queries_carry_the_mask_plan_and_probe_denials() {
    let e = Engine::from_yaml(MASKED).unwrap();
    let call = |sql: &str| {
        let action =
            Action::Tool(ToolCall { name: "query".into(), arguments: json!({"sql": sql}) });
        e.check(&Request::new(who(), "mcp", action))
    };
    let d = call("SELECT id, email AS contact FROM customers");
    assert_eq!(d.effect, Effect::Allow);
    let plan = d.mask.as_ref().expect("a routed query is masked like a direct one");
    assert_eq!(plan.masked_names(), ["contact"]);
    let d = call("SELECT id FROM customers WHERE ssn = '123-45-6789'");
    assert_eq!(
        d.effect,
        Effect::Deny,
        "a probe on a deny-probe column is denied through a tool too"
    );
    assert_eq!(d.rules, ["ssn"]);
}

#[test]
fn numbers_in_tool_arguments_count_by_value_not_spelling() {
    // Found by e2e/parity: the Node binding hands the engine `1` for `1.0` and a float for a
    // whole number beyond 32 bits, while serde_json keeps the spelling of the text, so the CLI
    // and Node disagreed on digests and on `one_of` conditions.
    let e = Engine::from_yaml(
        r#"
version: 1
resources: [{name: mcp, kind: tool}]
rules:
  - {id: tools, effect: allow, when: {tool: {names: [fetch]}}}
  - id: big-or-empty-pages
    effect: approval
    when: {tool: {names: [fetch], arguments: [{pointer: /limit, one_of: [5000000000, 0, {deep: [1]}]}]}}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let with_limit = |limit: &str| {
        let arguments = serde_json::from_str(&format!(r#"{{"limit": {limit}}}"#)).unwrap();
        tool(&e, "fetch", arguments).effect
    };
    for limit in ["5000000000", "5000000000.0", "5e9", "0", "0.0", "-0.0", r#"{"deep": [1.0]}"#] {
        assert_eq!(with_limit(limit), Effect::ApprovalRequired, "limit {limit}");
    }
    for limit in ["5000000001", "0.5", r#""5000000000""#, "[0]", r#"{"deep": [1.5]}"#] {
        assert_eq!(with_limit(limit), Effect::Allow, "limit {limit}");
    }

    let digest = |arguments: &str| {
        let arguments = serde_json::from_str(arguments).unwrap();
        Request::new(who(), "mcp", Action::Tool(ToolCall { name: "fetch".into(), arguments }))
            .digest()
    };
    assert_eq!(
        digest(r#"{"n": 1, "m": [0, 5000000000, -3]}"#),
        digest(r#"{"n": 1.0, "m": [-0.0, 5e9, -3.0]}"#)
    );
    assert_ne!(digest(r#"{"n": 1}"#), digest(r#"{"n": 1.5}"#));
    assert_ne!(digest(r#"{"n": 1}"#), digest(r#"{"n": "1"}"#));
    // Integers stay exact: 2^53 + 1 is not the float 2^53 (JavaScript cannot tell them apart,
    // so the Node binding is handed another request).
    assert_ne!(digest(r#"{"n": 9007199254740993}"#), digest(r#"{"n": 9007199254740992.0}"#));
    assert_eq!(digest(r#"{"n": 9007199254740992}"#), digest(r#"{"n": 9007199254740992.0}"#));
}
