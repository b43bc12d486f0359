//! Column masking with lineage: mask plans in decisions, masking rules in policies, and the
//! masker on rows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use serde_json::{Value, json};
use writ::mask::{Detectors, MaskPlan, Masker, OnProbe};
use writ::{Decision, Effect, Engine, PolicyError, Principal, Request};

const POLICY: &str = r#"
version: 1
resources:
  - name: crm
    kind: postgres
    default_schema: public
    columns:
      public.customers: [id, name, email, ssn, card, notes]
      public.orders: [id, customer_id, total]
  - name: raw
    kind: postgres
    default_schema: public
rules:
  - id: read
    effect: allow
    when: {sql: {read_only: true}}
  - id: writer
    effect: allow
    when: {principals: ["agent:writer"], sql: {kinds: [update, insert, delete]}}
masks:
  - id: email
    columns: ["public.customers.email"]
    method: {method: email}
    exempt: {groups: [support-leads]}
  - id: ssn
    columns: ["*.ssn"]
    method: {method: partial, keep_last: 4}
    exempt: {groups: [support-leads]}
    on_probe: deny
  - id: card
    columns: ["public.customers.card"]
    method: {method: redact}
    on_probe: allow
  - id: notes
    columns: ["public.customers.notes"]
    detectors: {types: [email, phone]}
"#;

fn engine() -> Engine {
    Engine::from_yaml(POLICY).unwrap()
}

fn check(e: &Engine, who: &str, groups: &[&str], resource: &str, sql: &str) -> Decision {
    let p = Principal::new(who, groups.iter().copied());
    e.check(&Request::sql(p, resource, sql))
}

/// One label per plan entry: the method name, `content`, `*` (expands) or `-`.
fn labels(plan: &MaskPlan) -> Vec<String> {
    plan.columns
        .iter()
        .map(|c| match (&c.method, &c.content, &c.expands) {
            (Some(m), _, _) => m.name().to_owned(),
            (None, Some(_), _) => "content".to_owned(),
            (None, None, Some(_)) => "*".to_owned(),
            (None, None, None) => "-".to_owned(),
        })
        .collect()
}

fn plan_labels(e: &Engine, who: &str, groups: &[&str], resource: &str, sql: &str) -> Vec<String> {
    let d = check(e, who, groups, resource, sql);
    assert_eq!(d.effect, Effect::Allow, "{sql}: {}", d.reason);
    let plan = d.mask.unwrap_or_else(|| panic!("{sql}: no mask plan"));
    labels(&plan)
}

#[test]
fn lineage_cases() {
    let e = engine();
    let cases: &[(&str, &[&str])] = &[
        ("SELECT email FROM customers", &["email"]),
        ("SELECT email AS e FROM customers", &["email"]),
        ("SELECT c.email AS e FROM customers c", &["email"]),
        ("SELECT public.customers.email FROM public.customers", &["email"]),
        ("SELECT id, name FROM customers", &["-", "-"]),
        ("SELECT lower(email) FROM customers", &["redact"]),
        ("SELECT email || '' FROM customers", &["redact"]),
        ("SELECT concat(name, email) FROM customers", &["redact"]),
        ("SELECT CASE WHEN id > 1 THEN email ELSE 'x' END FROM customers", &["redact"]),
        ("SELECT CAST(email AS text) FROM customers", &["email"]),
        ("SELECT email::varchar AS v FROM customers", &["email"]),
        ("SELECT (SELECT email FROM customers LIMIT 1) AS e", &["email"]),
        ("SELECT x.e FROM (SELECT email AS e FROM customers) x", &["email"]),
        ("SELECT * FROM (SELECT email AS e, id FROM customers) x", &["email", "-"]),
        ("WITH c AS (SELECT email FROM customers) SELECT email FROM c", &["email"]),
        ("WITH c(m) AS (SELECT email FROM customers) SELECT m FROM c", &["email"]),
        ("WITH customers AS (SELECT 1 AS email) SELECT email FROM customers", &["-"]),
        ("SELECT name FROM customers UNION SELECT email FROM customers", &["email"]),
        ("SELECT email FROM customers UNION ALL SELECT ssn FROM customers", &["redact"]),
        ("SELECT name FROM customers INTERSECT SELECT email FROM customers", &["email"]),
        ("SELECT name FROM customers EXCEPT SELECT email FROM customers", &["email"]),
        ("SELECT * FROM customers", &["-", "-", "email", "partial", "redact", "content"]),
        ("SELECT c.* FROM customers c", &["-", "-", "email", "partial", "redact", "content"]),
        (
            "SELECT o.*, c.email FROM orders o JOIN customers c ON c.id = o.customer_id",
            &["-", "-", "-", "email"],
        ),
        ("SELECT count(email) FROM customers", &["-"]),
        ("SELECT count(*) FROM customers", &["-"]),
        ("SELECT min(email) FROM customers", &["email"]),
        ("SELECT max(ssn) FROM customers", &["partial"]),
        ("SELECT string_agg(email, ',') FROM customers", &["redact"]),
        ("SELECT array_agg(ssn) FROM customers", &["redact"]),
        ("SELECT first_value(email) OVER (ORDER BY id) FROM customers", &["email"]),
        ("SELECT row_number() OVER (PARTITION BY email ORDER BY id) FROM customers", &["-"]),
        ("SELECT DISTINCT email FROM customers", &["email"]),
        ("SELECT email FROM customers c JOIN orders o ON o.customer_id = c.id", &["email"]),
        ("SELECT id FROM customers, orders", &["-"]),
        ("SELECT c FROM customers c", &["redact"]),
        ("SELECT row_to_json(c.*) FROM customers c", &["redact"]),
        ("SELECT e FROM (SELECT * FROM customers) s(i, n, e)", &["email"]),
        (
            "SELECT l.x FROM orders o, LATERAL (SELECT email AS x FROM customers c WHERE c.id = o.customer_id) l",
            &["email"],
        ),
        (
            "SELECT o.id, (SELECT c.ssn FROM customers c WHERE c.id = o.customer_id) FROM orders o",
            &["-", "partial"],
        ),
        (
            "WITH RECURSIVE r(e, n) AS (SELECT email, 1 FROM customers UNION ALL SELECT e, n + 1 FROM r WHERE n < 3) SELECT e FROM r",
            &["email"],
        ),
        ("SELECT notes FROM customers", &["content"]),
        ("SELECT coalesce(ssn, 'none') FROM customers", &["redact"]),
        ("SELECT upper(name) FROM customers", &["-"]),
        ("SELECT y.e FROM (SELECT x.e FROM (SELECT email AS e FROM customers) x) y", &["email"]),
        (
            "WITH a AS (SELECT name FROM customers), b AS (SELECT email FROM customers) SELECT * FROM a UNION SELECT * FROM b",
            &["email"],
        ),
        ("SELECT name FROM customers WHERE email IN (SELECT email FROM customers)", &["-"]),
        (
            "SELECT total, email FROM orders JOIN customers ON customers.id = orders.customer_id",
            &["-", "email"],
        ),
        ("SELECT EXISTS (SELECT 1 FROM customers) AS any", &["-"]),
        ("SELECT (email) FROM customers", &["email"]),
    ];
    let mut failures = Vec::new();
    for (sql, want) in cases {
        let got = plan_labels(&e, "agent:analytics", &[], "crm", sql);
        if got != *want {
            failures.push(format!("{sql}\n    want {want:?}\n    got  {got:?}"));
        }
    }
    assert!(cases.len() >= 40);
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn sources_are_qualified_and_names_follow_aliases() {
    let d =
        check(&engine(), "agent:a", &[], "crm", "SELECT c.email AS contact, id FROM customers c");
    let plan = d.mask.unwrap();
    assert_eq!(plan.columns[0].name, "contact");
    assert_eq!(plan.columns[0].sources, vec!["public.customers.email".to_owned()]);
    assert_eq!(plan.columns[0].rules, vec!["email".to_owned()]);
    assert_eq!(plan.columns[1].sources, vec!["public.customers.id".to_owned()]);
    assert_eq!(plan.masked_positions(), vec![0]);
}

#[test]
fn returning_clauses_are_planned() {
    let e = engine();
    let got = plan_labels(
        &e,
        "agent:writer",
        &[],
        "crm",
        "UPDATE customers SET name = 'x' WHERE id = 1 RETURNING id, email",
    );
    assert_eq!(got, vec!["-", "email"]);
    let got = plan_labels(
        &e,
        "agent:writer",
        &[],
        "crm",
        "DELETE FROM customers WHERE id = 1 RETURNING *",
    );
    assert_eq!(got, vec!["-", "-", "email", "partial", "redact", "content"]);
    let got = plan_labels(
        &e,
        "agent:writer",
        &[],
        "crm",
        "INSERT INTO customers (id, email) VALUES (1, 'a@b.c') RETURNING email AS e",
    );
    assert_eq!(got, vec!["email"]);
}

#[test]
fn exempt_groups_see_clear_values() {
    let e = engine();
    let got = plan_labels(
        &e,
        "user:lead",
        &["support-leads"],
        "crm",
        "SELECT email, ssn, card FROM customers",
    );
    assert_eq!(got, vec!["-", "-", "redact"], "card has no exemption");
    let d = check(
        &e,
        "user:lead",
        &["support-leads"],
        "crm",
        "SELECT email FROM customers WHERE ssn = '123-45-6789'",
    );
    assert_eq!(d.effect, Effect::Allow, "an exempt principal's probe is no probe");
}

#[test]
fn probes_are_flagged_denied_or_allowed_by_rule() {
    let e = engine();
    let d = check(
        &e,
        "agent:a",
        &[],
        "crm",
        "SELECT id FROM customers WHERE email = 'alice@example.com'",
    );
    assert_eq!(d.effect, Effect::Allow);
    let plan = d.mask.unwrap();
    assert_eq!(plan.probes.len(), 1);
    assert_eq!(plan.probes[0].column, "public.customers.email");
    assert_eq!(plan.probes[0].action, OnProbe::Flag);

    let d = check(&e, "agent:a", &[], "crm", "SELECT id FROM customers WHERE ssn LIKE '%6789'");
    assert_eq!(d.effect, Effect::Deny);
    assert_eq!(d.rules, vec!["ssn".to_owned()]);
    assert!(d.reason.contains("public.customers.ssn"), "{}", d.reason);

    let d = check(
        &e,
        "agent:a",
        &[],
        "crm",
        "SELECT id FROM customers c JOIN orders o ON o.id = c.id AND c.ssn = 'x'",
    );
    assert_eq!(d.effect, Effect::Deny, "join conditions are probes too");

    let d = check(&e, "agent:a", &[], "crm", "SELECT id FROM customers WHERE card = '4242'");
    assert_eq!(d.effect, Effect::Allow);
    assert!(d.mask.unwrap().probes.is_empty(), "on_probe: allow is not reported");

    let d = check(
        &e,
        "agent:a",
        &[],
        "crm",
        "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE email = 'x')",
    );
    assert_eq!(d.mask.unwrap().probes.len(), 1, "probes inside subqueries count");
}

#[test]
fn star_over_undeclared_table_falls_back_to_names_and_detectors() {
    let e = engine();
    let d = check(&e, "agent:a", &[], "raw", "SELECT * FROM customers");
    let plan = d.mask.unwrap();
    assert_eq!(labels(&plan), vec!["*"]);
    assert_eq!(plan.columns[0].expands.as_deref(), Some("public.customers"));
    let fb = plan.fallback.clone().unwrap();
    assert!(fb.detectors);
    let names: Vec<&str> = fb.by_name.iter().map(|b| b.column.as_str()).collect();
    assert_eq!(names, vec!["email", "ssn", "card", "notes"]);
    assert!(plan.notes.iter().any(|n| n.contains("not declared")), "{:?}", plan.notes);

    // Named columns of an undeclared table are still known by name.
    assert_eq!(
        plan_labels(&e, "agent:a", &[], "raw", "SELECT email FROM customers"),
        vec!["email"]
    );
    assert_eq!(
        plan_labels(&e, "agent:a", &[], "raw", "SELECT id, *, lower(email) FROM customers"),
        vec!["-", "*", "redact"]
    );
    // A derived table over an undeclared `*` still resolves names through it.
    assert_eq!(
        plan_labels(&e, "agent:a", &[], "raw", "SELECT d.ssn FROM (SELECT * FROM customers) d"),
        vec!["partial"]
    );
}

fn host() -> Detectors {
    Detectors::with_defaults().unwrap()
}

#[test]
fn masker_masks_rows_by_plan_and_reports_counts() {
    let d = check(
        &engine(),
        "agent:a",
        &[],
        "crm",
        "SELECT email AS e, ssn, card, notes, id FROM customers",
    );
    let plan = d.mask.unwrap();
    let m = Masker::new(&plan, &["e", "ssn", "card", "notes", "id"], &host(), None).unwrap();
    let mut row = vec![
        json!("alice@example.com"),
        json!(123456789),
        json!("4242 4242 4242 4242"),
        json!("call +1 415 555 2671 or mail bob@example.org"),
        json!(7),
    ];
    let report = m.mask_row(&mut row);
    assert_eq!(row[0], json!("***@example.com"));
    assert_eq!(row[1], json!("*****6789"), "numbers are masked as strings");
    assert_eq!(row[2], json!("[REDACTED]"));
    let notes = row[3].as_str().unwrap();
    assert!(!notes.contains("bob@example.org") && !notes.contains("555 2671"), "{notes}");
    assert_eq!(row[4], json!(7));
    assert_eq!(report.count(&"column:e".parse().unwrap()), 1);
    assert_eq!(report.count(&"email".parse().unwrap()), 1);
    let shown = format!("{report} {report:?}");
    assert!(!shown.contains("alice") && !shown.contains("6789"), "{shown}");
    assert_eq!(m.masked_columns(), vec![0, 1, 2]);
}

#[test]
fn masker_masks_json_documents_field_by_field_and_batches() {
    let d = check(&engine(), "agent:a", &[], "crm", "SELECT notes, email FROM customers");
    let plan = d.mask.unwrap();
    let m = Masker::new(&plan, &["notes", "email"], &host(), None).unwrap();
    let mut rows = vec![
        vec![
            json!({"contact": "carol@example.com", "n": 1}),
            json!({"work": "a@x.io", "home": "b@y.io"}),
        ],
        vec![Value::Null, json!("dave@example.net")],
    ];
    let report = m.mask_rows(&mut rows);
    assert_eq!(rows[0][0]["n"], json!(1));
    assert_ne!(rows[0][0]["contact"], json!("carol@example.com"));
    assert_eq!(rows[0][1], json!({"work": "***@x.io", "home": "***@y.io"}));
    assert_eq!(rows[1][0], Value::Null);
    assert_eq!(rows[1][1], json!("***@example.net"));
    assert_eq!(report.count(&"column:email".parse().unwrap()), 2);

    let mut columns = vec![vec![json!("x eve@example.com")], vec![json!("frank@example.com")]];
    let report = m.mask_columns(&mut columns);
    assert_eq!(columns[1][0], json!("***@example.com"));
    assert!(!columns[0][0].as_str().unwrap().contains("eve@"));
    assert_eq!(report.total(), 2);
}

#[test]
fn masker_fallback_masks_star_columns_by_name_and_content() {
    let d =
        check(&engine(), "agent:a", &[], "raw", "SELECT id, *, lower(email) AS le FROM customers");
    let plan = d.mask.unwrap();
    let names = ["id", "id", "name", "email", "ssn", "comment", "le"];
    let m = Masker::new(&plan, &names, &host(), None).unwrap();
    let mut row = vec![
        json!(1),
        json!(1),
        json!("Alice"),
        json!("alice@example.com"),
        json!("123-45-6789"),
        json!("reach me at zed@example.com"),
        json!("alice@example.com"),
    ];
    m.mask_row(&mut row);
    assert_eq!(row[0], json!(1));
    assert_eq!(row[2], json!("Alice"));
    assert_eq!(row[3], json!("***@example.com"), "by name");
    assert_eq!(row[4], json!("***-**-6789"), "by name");
    assert!(!row[5].as_str().unwrap().contains("zed@"), "host detectors on undeclared columns");
    assert_eq!(row[6], json!("[REDACTED]"), "aligned from the end");
    assert!(Masker::new(&plan, &["id"], &host(), None).is_err(), "too narrow to align");
}

#[test]
fn masker_refuses_a_result_of_the_wrong_width_and_a_missing_key() {
    let d = check(&engine(), "agent:a", &[], "crm", "SELECT email, id FROM customers");
    let plan = d.mask.unwrap();
    let err = Masker::new(&plan, &["email"], &host(), None).unwrap_err();
    assert_eq!(err.to_string(), "the result has 1 columns but the mask plan needs 2");

    let policy = r#"
version: 1
resources: [{name: db, kind: postgres, default_schema: public}]
rules: [{id: read, effect: allow, when: {sql: {read_only: true}}}]
masks: [{id: h, columns: ["public.users.email"], method: {method: hash}}]
"#;
    let e = Engine::from_yaml(policy).unwrap();
    let d = check(&e, "agent:a", &[], "db", "SELECT email FROM users");
    let plan = d.mask.unwrap();
    assert!(plan.needs_key);
    assert!(Masker::new(&plan, &["email"], &host(), None).is_err());
    let m = Masker::new(&plan, &["email"], &host(), Some(b"0123456789abcdef0123")).unwrap();
    let mut row = vec![json!("a@b.c")];
    m.mask_row(&mut row);
    assert!(row[0].as_str().unwrap().starts_with("h:"));
}

#[test]
fn no_plan_without_rules_or_rows_and_serde_roundtrip() {
    let e = engine();
    let d = check(&e, "agent:a", &[], "crm", "SELECT id, total FROM orders");
    let plan = d.mask.clone().unwrap();
    assert!(plan.masked_positions().is_empty());
    let text = serde_json::to_string(&d).unwrap();
    let back: Decision = serde_json::from_str(&text).unwrap();
    assert_eq!(back, d);
    let d = check(&e, "agent:a", &[], "crm", "DROP TABLE customers");
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.mask.is_none());
    assert!(!serde_json::to_string(&d).unwrap().contains("\"mask\""));
}

fn errors(policy: &str) -> Vec<String> {
    match Engine::from_yaml(policy) {
        Err(PolicyError::Invalid(ds)) => {
            ds.iter().map(|d| format!("{}:{} {}", d.line, d.column, d.message)).collect()
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("policy compiled"),
    }
}

#[test]
fn mask_rules_are_validated_with_locations() {
    let base = "version: 1\nresources: [{name: db, kind: postgres, default_schema: public}]\n";
    let e = errors(&format!(
        "{base}masks:\n  - id: a\n    columns: [email]\n    method: {{method: redact}}\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("5:") && e[0].contains("must name `table.column`"), "{e:?}");
    let e = errors(&format!(
        "{base}masks:\n  - id: a\n    columns: [\"t.[x\"]\n    method: {{method: redact}}\n"
    ));
    assert!(e[0].contains("invalid glob"), "{e:?}");
    let e = errors(&format!(
        "{base}masks:\n  - id: a\n    columns: [t.x]\n    method: {{method: redact}}\n    detectors: {{types: [email]}}\n"
    ));
    assert!(e[0].contains("both `method` and `detectors`"), "{e:?}");
    let e = errors(&format!("{base}masks:\n  - id: a\n    columns: [t.x]\n"));
    assert!(e[0].contains("needs `method`"), "{e:?}");
    let e = errors(&format!("{base}masks:\n  - id: a\n    detectors: {{types: [emial]}}\n"));
    assert!(e[0].contains("unknown entity type `emial`"), "{e:?}");
    let e = errors(&format!(
        "{base}masks:\n  - id: a\n    resources: [nope]\n    columns: [t.x]\n    method: {{method: null}}\n"
    ));
    assert!(e[0].contains("no document declares"), "{e:?}");
    let e = errors(&format!(
        "{base}masks:\n  - id: a\n    columns: [t.x]\n    method: {{method: partial, mask_char: x}}\n"
    ));
    assert!(e[0].contains("mask_char"), "{e:?}");
    let e = errors(&format!(
        "{base}masks:\n  - id: a\n    columns: [t.x]\n    method: {{method: redact}}\n    unknown: 1\n"
    ));
    assert!(e[0].contains("unknown field"), "{e:?}");
    let e = errors("version: 1\nresources: [{name: sh, kind: shell, columns: {t: [a]}}]\n");
    assert!(e[0].contains("`columns` applies to SQL resources"), "{e:?}");
}

/// A schema missing on one side (the rule's column or the query's table) never lets a masked
/// column through: writ cannot know the server's search path, so it masks.
#[test]
fn a_missing_schema_on_either_side_still_masks() {
    let policy = r#"
version: 1
resources:
  - {name: bare, kind: postgres}
  - {name: withschema, kind: postgres, default_schema: public}
rules:
  - {id: read, effect: allow, when: {sql: {read_only: true}}}
masks:
  - {id: qualified, columns: ["public.users.email"], method: {method: email}}
  - {id: unqualified, columns: ["users.ssn"], method: {method: redact}}
  - {id: wildcard, columns: ["public.cards.*"], method: {method: redact}}
"#;
    let e = Engine::from_yaml(policy).unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        // No default schema: the unqualified `users` may be `public.users`.
        ("bare", "SELECT email, ssn, id FROM users", &["email", "redact", "-"]),
        ("bare", "SELECT u.email AS e FROM users u", &["email"]),
        ("bare", "SELECT email, ssn FROM public.users", &["email", "redact"]),
        ("bare", "SELECT number FROM cards", &["redact"]),
        // A schema the rule does not name is not masked by the qualified rule; the rule without
        // a schema covers every schema.
        ("bare", "SELECT email, ssn FROM other.users", &["-", "redact"]),
        ("withschema", "SELECT email, ssn FROM users", &["email", "redact"]),
        ("withschema", "SELECT email, ssn FROM other.users", &["-", "redact"]),
        ("withschema", "SELECT number FROM public.cards", &["redact"]),
        ("withschema", "SELECT number FROM other.cards", &["-"]),
    ];
    for (resource, sql, want) in cases {
        assert_eq!(&plan_labels(&e, "agent:a", &[], resource, sql), want, "{resource}: {sql}");
    }
    // `SELECT *` over the table with no declared columns masks by name.
    let d = check(&e, "agent:a", &[], "bare", "SELECT * FROM users");
    let fb = d.mask.unwrap().fallback.unwrap();
    let mut names: Vec<&str> = fb.by_name.iter().map(|b| b.column.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["email", "ssn"]);
}

/// Rows that leave outside the result a masker sees, or results no single plan fits, are denied.
#[test]
fn copy_out_and_several_masked_results_are_denied() {
    let e = engine();
    let denied = [
        "COPY customers TO STDOUT",
        "COPY public.customers (id, email) TO STDOUT WITH (FORMAT csv)",
        "COPY (SELECT lower(email) FROM customers) TO STDOUT",
        "COPY (SELECT c.ssn FROM orders o JOIN customers c ON c.id = o.customer_id) TO STDOUT",
        "SELECT email FROM customers; SELECT id FROM orders",
        "SELECT id FROM orders; SELECT name, ssn FROM customers",
    ];
    for sql in denied {
        let d = check(&e, "agent:a", &[], "crm", sql);
        assert_eq!(d.effect, Effect::Deny, "{sql}: {}", d.reason);
        assert!(d.parts.iter().any(|p| p.effect == Effect::Deny), "{sql}");
    }
    let d = check(&e, "agent:a", &[], "crm", "COPY customers TO STDOUT");
    assert!(d.reason.contains("copy stream"), "{}", d.reason);
    let d = check(&e, "agent:a", &[], "crm", "SELECT email FROM customers; SELECT 1");
    assert!(d.reason.contains("one at a time"), "{}", d.reason);

    // Nothing masked in what is copied, or one result: allowed as before.
    let allowed = [
        "COPY orders TO STDOUT",
        "COPY customers (id, name) TO STDOUT",
        "COPY (SELECT count(email) FROM customers) TO STDOUT",
        "SELECT id FROM orders; SELECT total FROM orders",
    ];
    for sql in allowed {
        let d = check(&e, "agent:a", &[], "crm", sql);
        assert_eq!(d.effect, Effect::Allow, "{sql}: {}", d.reason);
    }
    // The exempt group sees email and ssn in the clear, so copying them is fine; the notes
    // and card columns have no exemption.
    let lead = |sql: &str| check(&e, "agent:lead", &["support-leads"], "crm", sql);
    let d = lead("COPY (SELECT email, ssn FROM customers) TO STDOUT");
    assert_eq!(d.effect, Effect::Allow, "{}", d.reason);
    let d = lead("COPY customers TO STDOUT");
    assert_eq!(d.effect, Effect::Deny, "{}", d.reason);
    assert_eq!(d.rules, vec!["card".to_owned()]);
}
