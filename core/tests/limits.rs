//! Adversarial inputs against every bound of `writ::limits` and the detectors' pattern limits:
//! each one exceeded is a clear deny (or a clear build error), never a hang, a stack overflow
//! or a crash, and `defaults.unknown: approval` does not soften it. The bounds are set from the
//! policy's `limits` block, which is validated with located errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::mask::{CustomPattern, Detectors, EntityType, MaskError, PatternLimits};
use writ::{ActionView, Decision, Effect, Engine, Principal, Request};

/// A policy that allows every read and every `echo` / `true` / `ls`, asks a human for anything
/// not understood, and sets `limits` as given (YAML flow mapping, or nothing).
fn engine(limits: &str) -> Engine {
    let limits = if limits.is_empty() { String::new() } else { format!("limits: {limits}\n") };
    let text = format!(
        "version: 1\n\
         resources:\n  - {{name: db, kind: postgres}}\n  - {{name: box, kind: shell}}\n\
         defaults: {{unknown: approval}}\n\
         {limits}\
         rules:\n\
         \x20 - {{id: reads, effect: allow, when: {{resources: [db], sql: {{read_only: true}}}}}}\n\
         \x20 - {{id: harmless, effect: allow, when: {{resources: [box], command: {{programs: [echo, 'true', ls]}}}}}}\n"
    );
    Engine::from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn sql(e: &Engine, text: &str) -> Decision {
    e.check(&Request::sql(Principal::new("agent:a", ["agents"]), "db", text))
}

fn command(e: &Engine, line: &str) -> Decision {
    e.check(&Request::command(Principal::new("agent:a", ["agents"]), "box", line))
}

/// The decision is a deny naming `limit`, in the reason and in the view.
fn assert_over(d: &Decision, limit: &str) {
    assert_eq!(d.effect, Effect::Deny, "{}", d.reason);
    assert!(d.rules.is_empty(), "{:?}", d.rules);
    assert!(d.reason.contains(&format!("`limits.{limit}`")), "{}", d.reason);
    let named = match &d.view {
        Some(ActionView::Sql(v)) => v.limit.as_deref(),
        Some(ActionView::Command(v)) => v.limit.as_deref(),
        other => panic!("no view: {other:?}"),
    };
    assert_eq!(named, Some(limit), "{}", d.reason);
}

fn nested(open: &str, middle: &str, close: &str, depth: usize) -> String {
    format!("{}{middle}{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn ten_thousand_nested_parentheses_in_sql_are_a_clear_deny() {
    let e = engine("");
    let text = format!("SELECT {}", nested("(", "1", ")", 10_000));
    assert_over(&sql(&e, &text), "sql.max_nesting_depth");
    let subqueries =
        format!("SELECT a FROM {} AS t", nested("(SELECT a FROM ", "t", ") AS t", 10_000));
    assert_over(&sql(&e, &subqueries), "sql.max_nesting_depth");
    // A long operator chain builds a deep tree without nesting: its own bound.
    assert_over(&sql(&e, &format!("SELECT 1{}", " + 1".repeat(5000))), "sql.max_operator_chain");
    let unions = format!("SELECT 1{}", " UNION SELECT 1".repeat(5000));
    assert_over(&sql(&e, &unions), "sql.max_operator_chain");
    // Unbalanced: the parser stops at the bound before it finds the missing parenthesis.
    assert_over(&sql(&e, &format!("SELECT {}1", "(".repeat(10_000))), "sql.max_nesting_depth");
    // Within the bound, the same shape is understood and allowed.
    assert_eq!(sql(&e, &format!("SELECT {}", nested("(", "1", ")", 20))).effect, Effect::Allow);
}

#[test]
fn a_100_mb_line_is_refused_before_any_parsing() {
    let e = engine("");
    let mut text = String::from("SELECT '");
    text.push_str(&"x".repeat(100 * 1024 * 1024));
    text.push('\'');
    assert_over(&sql(&e, &text), "sql.max_text_bytes");
    let line = format!("echo {}", "y".repeat(100 * 1024 * 1024));
    assert_over(&command(&e, &line), "command.max_line_bytes");
    let argv = vec!["echo".to_owned(), "z".repeat(100 * 1024 * 1024)];
    let d = e.check(&Request::new(
        Principal::new("agent:a", ["agents"]),
        "box",
        writ::Action::Argv(argv),
    ));
    assert_over(&d, "command.max_line_bytes");
}

#[test]
fn statement_count_is_bounded_and_the_policy_sets_the_bound() {
    let e = engine("");
    assert_over(&sql(&e, &"SELECT 1;".repeat(100_001)), "sql.max_statements");

    let tight = engine("{sql: {max_statements: 5, max_text_bytes: 64, max_nesting_depth: 5}}");
    assert_eq!(sql(&tight, &"SELECT 1;".repeat(5)).effect, Effect::Allow);
    assert_over(&sql(&tight, &"SELECT 1;".repeat(6)), "sql.max_statements");
    assert_over(&sql(&tight, &format!("SELECT '{}'", "a".repeat(60))), "sql.max_text_bytes");
    assert_over(
        &sql(&tight, &format!("SELECT {}", nested("(", "1", ")", 8))),
        "sql.max_nesting_depth",
    );
}

#[test]
fn shell_nesting_and_recursion_bounds_are_a_clear_deny() {
    let e = engine("");
    assert_over(&command(&e, &nested("(", "echo", ")", 10_000)), "command.max_paren_depth");
    assert_over(&command(&e, &"(echo) ".repeat(300)), "command.max_parens");
    assert_over(&command(&e, &nested("echo $(", "x", ")", 10_000)), "command.max_nesting_depth");
    assert_over(&command(&e, &nested("{ ", "echo", "; }", 10_000)), "command.max_nesting_depth");
    assert_over(
        &command(&e, &format!("{}echo hi", "eval ".repeat(40))),
        "command.max_recursion_depth",
    );
    assert_over(
        &command(&e, &format!("{}echo hi", "sudo ".repeat(40))),
        "command.max_recursion_depth",
    );
    assert_over(&command(&e, &format!("echo {}", "{a,b}".repeat(20))), "command.max_brace_results");
    assert_over(&command(&e, &"true; ".repeat(1100)), "command.max_commands");
    assert_over(&command(&e, "a[b[c[d[e[f[g[h[i=1 echo"), "command.max_subscript_brackets");
    // The same shapes within the bounds are understood and allowed.
    for line in [nested("(", "echo", ")", 5), format!("{}echo hi", "eval ".repeat(3))] {
        let d = command(&e, &line);
        let Some(ActionView::Command(view)) = &d.view else { panic!("{:?}", d.view) };
        assert_eq!((view.limit.as_deref(), view.error.as_deref()), (None, None), "{}", d.reason);
    }
    assert_eq!(command(&e, &"true; ".repeat(100)).effect, Effect::Allow);
}

#[test]
fn command_bounds_come_from_the_policy() {
    let e = engine("{command: {max_line_bytes: 32, max_commands: 3, max_recursion_depth: 2}}");
    assert_eq!(command(&e, "echo a; echo b; echo c").effect, Effect::Allow);
    assert_over(&command(&e, "echo a; echo b; echo c; echo d"), "command.max_commands");
    assert_over(&command(&e, &format!("echo {}", "a".repeat(40))), "command.max_line_bytes");
    assert_over(&command(&e, "bash -c 'bash -c \"bash -c ls\"'"), "command.max_recursion_depth");
}

#[test]
fn a_syntax_error_is_not_a_limit_and_still_goes_to_defaults_unknown() {
    let e = engine("");
    let d = sql(&e, "SELEC 1");
    assert_eq!(d.effect, Effect::ApprovalRequired, "{}", d.reason);
    let Some(ActionView::Sql(view)) = &d.view else { panic!("{:?}", d.view) };
    assert_eq!(view.limit, None);
    let d = command(&e, "echo $(");
    assert_eq!(d.effect, Effect::ApprovalRequired, "{}", d.reason);
}

#[test]
fn the_limit_field_is_absent_from_json_unless_a_bound_was_exceeded() {
    let e = engine("");
    let ok = serde_json::to_value(sql(&e, "SELECT 1")).unwrap();
    assert!(ok["view"]["sql"].get("limit").is_none(), "{ok}");
    let over = serde_json::to_value(sql(&e, &"SELECT 1;".repeat(100_001))).unwrap();
    assert_eq!(over["view"]["sql"]["limit"], "sql.max_statements", "{over}");
    let back: Decision = serde_json::from_value(over.clone()).unwrap();
    assert_eq!(serde_json::to_value(back).unwrap(), over);
}

#[test]
fn limits_in_the_policy_are_validated_with_locations() {
    let base = "version: 1\nresources:\n  - {name: db, kind: postgres}\n";
    let cases = [
        ("limits:\n  sql:\n    max_statements: 0\n", "policy.yaml:6:21", "between 1 and 1000000"),
        ("limits:\n  sql:\n    max_nesting_depth: 5000\n", "policy.yaml:6:24", "not 5000"),
        ("limits:\n  command:\n    max_paren_depth: 40\n", "policy.yaml:6:22", "between 1 and 16"),
        ("limits:\n  sql:\n    max_rows: 3\n", "policy.yaml:6:5", "max_rows"),
        ("limits:\n  shell: {}\n", "policy.yaml:5:3", "shell"),
        ("limits:\n  sql:\n    max_statements: -1\n", "policy.yaml:6:21", "max_statements"),
    ];
    for (block, at, says) in cases {
        let text = format!("{base}{block}");
        let source = writ::policy::Source::new("policy.yaml", text.clone());
        let err = Engine::compile(&[source]).expect_err(&text).to_string();
        assert!(err.contains(at) && err.contains(says), "{text}\n--> {err}");
    }
    let twice = [
        writ::policy::Source::new(
            "a.yaml",
            format!("{base}limits: {{sql: {{max_statements: 3}}}}\n"),
        ),
        writ::policy::Source::new("b.yaml", "version: 1\nlimits: {command: {max_commands: 3}}\n"),
    ];
    let err = Engine::compile(&twice).expect_err("two limits blocks").to_string();
    assert!(err.contains("b.yaml:2:9") && err.contains("already set at a.yaml:4:9"), "{err}");
}

#[test]
fn deeply_nested_request_and_policy_documents_are_errors_not_overflows() {
    let deep_json = format!(
        "{{\"principal\": {{\"id\": \"a\"}}, \"resource\": \"db\", \"action\": {{\"tool\": {{\"name\": \"t\", \"arguments\": {}}}}}}}",
        nested("[", "1", "]", 10_000)
    );
    let err = serde_json::from_str::<Request>(&deep_json).expect_err("10,000 nested arrays");
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // Where a policy takes any JSON value (a tool argument's `one_of`), nesting is bounded by
    // the YAML and JSON readers' own recursion limits.
    let deep = nested("[", "1", "]", 10_000);
    let deep_yaml = format!(
        "version: 1\nresources: [{{name: t, kind: tool}}]\nrules:\n  - id: x\n    effect: allow\n    when: {{tool: {{arguments: [{{pointer: /a, one_of: [{deep}]}}]}}}}\n"
    );
    let err = Engine::from_yaml(&deep_yaml).expect_err("10,000 nested YAML sequences").to_string();
    assert!(err.contains("<policy>:6:"), "{err}");
    let deep_json_policy = format!(
        "{{\"version\": 1, \"resources\": [{{\"name\": \"t\", \"kind\": \"tool\"}}], \"rules\": [{{\"id\": \"x\", \"effect\": \"allow\", \"when\": {{\"tool\": {{\"arguments\": [{{\"pointer\": \"/a\", \"one_of\": [{deep}]}}]}}}}}}]}}"
    );
    let err =
        Engine::from_json(&deep_json_policy).expect_err("10,000 nested JSON arrays").to_string();
    assert!(err.contains("recursion limit"), "{err}");
}

#[test]
fn a_100_mb_line_is_scanned_in_one_linear_pass() {
    let detectors = Detectors::builder().build().unwrap();
    let mut text = "lorem ipsum dolor sit amet ".repeat(100 * 1024 * 1024 / 27);
    text.push_str(" card 4111 1111 1111 1111 end");
    let findings = detectors.scan(&text);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].entity, EntityType::CreditCard);
    let masked = detectors.mask_text(&text, None);
    assert_eq!(
        masked.text.len(),
        text.len() - "4111 1111 1111 1111".len() + masked_token_len(&masked.text)
    );
    assert!(!masked.text.contains("4111 1111 1111 1111"));
}

/// Length of the token that replaced the card at the end of `masked`.
fn masked_token_len(masked: &str) -> usize {
    let tail = masked.rsplit_once(" card ").unwrap().1;
    tail.len() - " end".len()
}

#[test]
fn custom_patterns_are_bounded_by_pattern_limits() {
    let build = |limits: PatternLimits, patterns: Vec<CustomPattern>| {
        let mut b = Detectors::builder().pattern_limits(limits);
        for p in patterns {
            b = b.custom(p);
        }
        b.build()
    };
    let invalid = |r: Result<Detectors, MaskError>, says: &str| match r {
        Err(MaskError::InvalidCustomPattern { reason, .. }) => {
            assert!(reason.contains(says), "{reason}");
        }
        other => panic!("expected a refused pattern, got {:?}", other.map(|_| ())),
    };
    let d = PatternLimits::default();
    // A counted repetition whose automaton would be enormous.
    invalid(build(d, vec![CustomPattern::new("huge", "(?:a{1000}){1000}")]), "PatternLimits");
    // 10,000 nested groups.
    invalid(build(d, vec![CustomPattern::new("deep", nested("(", "a", ")", 10_000))]), "bytes");
    let deep = PatternLimits { max_pattern_bytes: 1 << 20, ..d };
    invalid(build(deep, vec![CustomPattern::new("deep", nested("(", "a", ")", 10_000))]), "nest");
    // Too long, too many.
    invalid(build(d, vec![CustomPattern::new("long", "a".repeat(5000))]), "max_pattern_bytes");
    let many: Vec<CustomPattern> =
        (0..300).map(|i| CustomPattern::new(format!("p{i}"), format!("tok{i}x"))).collect();
    invalid(build(d, many.clone()), "max_patterns");
    // Within the limits (raised where needed), the same patterns build and match.
    assert!(build(PatternLimits { max_patterns: 300, ..d }, many).is_ok());
    let small = build(d, vec![CustomPattern::new("ticket", "TCK-[0-9]{6}")]).unwrap();
    assert_eq!(small.scan("see TCK-123456").len(), 1);
}
