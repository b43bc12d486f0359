//! The `orchestrator-grants` policy pack with grants and approvals signed at test time: an
//! orchestrator hands a reporting helper a read-only grant on one table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::PathBuf;

use writ::approval::{Approval, ApprovalSpec};
use writ::grant::{Authority, Grant, GrantSpec};
use writ::identity::{Context, SigningKey, Trust};
use writ::{Effect, Engine, Principal, Request};

const NOW: u64 = 1_800_000_000;

fn pack() -> Engine {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies/orchestrator-grants");
    Engine::from_path(&dir).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_reporting_helper_reads_one_table_and_nothing_else() {
    let engine = pack();
    let host = SigningKey::ed25519_from_seed("host-1", &[11; 32]).unwrap();
    let approvals = SigningKey::ed25519_from_seed("approvals-1", &[12; 32]).unwrap();
    let trust =
        Trust::new().grant_key(host.verifying_key()).approval_key(approvals.verifying_key());
    let ctx = Context::new(&trust).at(NOW);

    let orchestrator = Principal::new("agent:orchestrator", Vec::<String>::new());
    let scope = serde_norway::from_str(
        "{resources: [warehouse], sql: {kinds: [select], read_only: true, tables: [public.orders]}}",
    )
    .unwrap();
    let grant = Grant::mint(
        Authority::Principal(&orchestrator),
        &GrantSpec::new("agent:reporting-helper", scope, 600),
        &host,
        NOW,
    )
    .unwrap();
    let helper = |sql: &str| {
        let mut r = Request::sql(
            Principal::new("agent:reporting-helper", Vec::<String>::new()),
            "warehouse",
            sql,
        );
        r.grant = Some(grant.encode());
        engine.check_with(&r, &ctx).decision
    };
    for (sql, expected) in [
        ("SELECT id, total FROM orders WHERE total > 100", Effect::Allow),
        ("SELECT count(*) FROM public.orders", Effect::Allow),
        ("SELECT * FROM customers", Effect::Deny),
        ("SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id", Effect::Deny),
        ("UPDATE orders SET status = 'x' WHERE id = 1", Effect::Deny),
        ("SELECT * FROM orders FOR UPDATE", Effect::Deny),
        ("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", Effect::Deny),
        ("DROP TABLE orders", Effect::Deny),
        ("SELECT * FROM api_keys", Effect::Deny),
    ] {
        let d = helper(sql);
        assert_eq!(d.effect, expected, "{sql}: {}", d.reason);
    }

    // The helper may not mint a grant of its own (depth 0).
    let verified =
        writ::grant::verify_chain(&grant.encode(), &trust.grant_keys, NOW, &Vec::<String>::new())
            .unwrap();
    let sub_scope = serde_norway::from_str("{resources: [warehouse], sql: {kinds: [select], read_only: true, tables: [public.orders]}}").unwrap();
    assert!(
        Grant::mint(
            Authority::Grant(&verified),
            &GrantSpec::new("agent:x", sub_scope, 60),
            &host,
            NOW
        )
        .is_err()
    );

    // A schema change by the orchestrator itself, approved by a dba.
    let alter =
        Request::sql(orchestrator.clone(), "warehouse", "ALTER TABLE orders ADD COLUMN note text");
    let first = engine.check_with(&alter, &ctx).decision;
    assert_eq!(first.effect, Effect::ApprovalRequired);
    let spec = ApprovalSpec {
        approver: Principal::new("user:dana", ["dba"]),
        digest: first.digest,
        ttl: 900,
        rules: None,
    };
    let mut approved = alter.clone();
    approved.approval = Some(Approval::sign(&spec, &approvals, NOW).unwrap());
    assert_eq!(engine.check_with(&approved, &ctx).decision.effect, Effect::Allow);
}
