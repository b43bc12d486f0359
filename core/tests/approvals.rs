//! Approvals: bound to one request digest, signed by the host, honoured only for approvers in
//! the rule's groups who are not the requester, never over a deny.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use writ::approval::{Approval, ApprovalError, ApprovalSpec};
use writ::grant::{Authority, Grant, GrantSpec};
use writ::identity::{ApprovalUse, Checked, Context, SigningKey, Trust};
use writ::{Effect, Engine, Principal, Request};

const NOW: u64 = 1_800_000_000;

const POLICY: &str = r#"
version: 1
resources:
  - {name: db, kind: postgres, default_schema: public}
rules:
  - id: reads
    effect: allow
    when: {sql: {read_only: true}}
  - id: ddl-needs-approval
    effect: approval
    approvers: [dba, security]
    when: {sql: {kinds: [alter, create]}}
  - id: deletes-need-approval
    effect: approval
    when: {sql: {kinds: [delete]}}
  - id: no-drop
    effect: deny
    when: {sql: {kinds: [drop]}}
"#;

fn engine() -> Engine {
    Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}"))
}

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("approvals-1", &[3; 32]).unwrap()
}

fn trust() -> Trust {
    Trust::new().approval_key(key().verifying_key())
}

fn migrator() -> Principal {
    Principal::new("agent:migrator", ["agents"])
}

fn dba() -> Principal {
    Principal::new("user:dana", ["dba"])
}

const ALTER: &str = "ALTER TABLE accounts ADD COLUMN tier text";

fn approve(approver: Principal, digest: &str, ttl: u64) -> String {
    let spec = ApprovalSpec { approver, digest: digest.to_owned(), ttl, rules: None };
    Approval::sign(&spec, &key(), NOW).unwrap()
}

fn run(engine: &Engine, sql: &str, approval: Option<&str>, now: u64) -> Checked {
    let mut r = Request::sql(migrator(), "db", sql);
    r.approval = approval.map(str::to_owned);
    let trust = trust();
    engine.check_with(&r, &Context::new(&trust).at(now))
}

fn rejected(checked: &Checked) -> ApprovalError {
    assert_eq!(checked.decision.effect, Effect::ApprovalRequired, "{}", checked.decision.reason);
    match &checked.approval {
        ApprovalUse::Rejected(e) => e.clone(),
        other => panic!("expected a rejected approval, got {other:?}"),
    }
}

#[test]
fn an_approval_turns_that_request_into_allow() {
    let e = engine();
    let first = run(&e, ALTER, None, NOW);
    assert_eq!(first.decision.effect, Effect::ApprovalRequired);
    let token = approve(dba(), &first.decision.digest, 600);
    let approved = run(&e, ALTER, Some(&token), NOW + 10);
    assert_eq!(approved.decision.effect, Effect::Allow, "{}", approved.decision.reason);
    assert_eq!(approved.decision.rules, ["ddl-needs-approval"]);
    assert!(
        approved.decision.reason.starts_with("approved by `user:dana`"),
        "{}",
        approved.decision.reason
    );
    assert!(
        matches!(&approved.approval, ApprovalUse::Honoured { approver, .. } if approver == "user:dana")
    );
    assert!(approved.decision.parts.iter().all(|p| p.effect == Effect::Allow));
    // Surrounding white space and trailing semicolons are not meaningful.
    let same = run(&e, &format!("  {ALTER};\n"), Some(&token), NOW);
    assert_eq!(same.decision.effect, Effect::Allow);
}

#[test]
fn one_changed_byte_breaks_the_binding() {
    let e = engine();
    let token = approve(dba(), &run(&e, ALTER, None, NOW).decision.digest, 600);
    for other in [
        "ALTER TABLE accounts ADD COLUMN tieR text",
        "ALTER TABLE accounts  ADD COLUMN tier text",
        "ALTER TABLE accounts ADD COLUMN tier text -- note",
        "alter TABLE accounts ADD COLUMN tier text",
        "ALTER TABLE account ADD COLUMN tier text",
    ] {
        let err = rejected(&run(&e, other, Some(&token), NOW));
        assert!(matches!(err, ApprovalError::WrongDigest { .. }), "{other}: {err:?}");
    }
    // Another principal making the same request gets another digest.
    let mut r = Request::sql(Principal::new("agent:other", ["agents"]), "db", ALTER);
    r.approval = Some(token);
    let trust = trust();
    let d = e.check_with(&r, &Context::new(&trust).at(NOW));
    assert_eq!(d.decision.effect, Effect::ApprovalRequired);
}

#[test]
fn the_approver_must_be_in_the_rule_approver_groups() {
    let e = engine();
    let digest = run(&e, ALTER, None, NOW).decision.digest;
    let token = approve(Principal::new("user:eve", ["analysts"]), &digest, 600);
    let err = rejected(&run(&e, ALTER, Some(&token), NOW));
    assert!(matches!(err, ApprovalError::WrongGroup { .. }), "{err:?}");
    assert!(err.to_string().contains("dba, security"), "{err}");
    let token = approve(Principal::new("user:sam", ["security"]), &digest, 600);
    assert_eq!(run(&e, ALTER, Some(&token), NOW).decision.effect, Effect::Allow);
}

#[test]
fn nobody_approves_their_own_request() {
    let e = engine();
    let digest = run(&e, ALTER, None, NOW).decision.digest;
    let token = approve(Principal::new("agent:migrator", ["dba"]), &digest, 600);
    let err = rejected(&run(&e, ALTER, Some(&token), NOW));
    assert_eq!(err, ApprovalError::SelfApproval("agent:migrator".into()));

    // Nor does a delegate approve what it asks for under a grant.
    let gkey = SigningKey::hmac("g", &[8; 32]).unwrap();
    let grant = Grant::mint(
        Authority::Principal(&migrator()),
        &GrantSpec::new("user:dana", serde_norway::from_str("{resources: [db]}").unwrap(), 60),
        &gkey,
        NOW,
    )
    .unwrap();
    let mut r = Request::sql(Principal::default(), "db", ALTER);
    r.grant = Some(grant.encode());
    r.approval = Some(approve(dba(), &digest, 600));
    let trust = trust().grant_key(gkey.verifying_key());
    let checked = e.check_with(&r, &Context::new(&trust).at(NOW));
    assert_eq!(checked.decision.digest, digest, "the digest binds the root principal");
    assert_eq!(rejected(&checked), ApprovalError::SelfApproval("user:dana".into()));
}

#[test]
fn expired_tampered_and_unknown_key_approvals_are_refused() {
    let e = engine();
    let digest = run(&e, ALTER, None, NOW).decision.digest;
    let token = approve(dba(), &digest, 60);
    let err = rejected(&run(&e, ALTER, Some(&token), NOW + 61));
    assert!(matches!(err, ApprovalError::Expired { .. }), "{err:?}");

    let mut approval = Approval::parse(&token).unwrap();
    assert_eq!(approval.approver.id, "user:dana");
    approval.approver.groups.push("dba".into());
    let payload = token.trim_start_matches("writa1.").split('.').collect::<Vec<_>>();
    use base64::Engine as _;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&approval).unwrap());
    let tampered = format!("writa1.{forged}.{}", payload[1]);
    assert_eq!(rejected(&run(&e, ALTER, Some(&tampered), NOW)), ApprovalError::BadSignature);

    let other = SigningKey::ed25519_from_seed("approvals-2", &[4; 32]).unwrap();
    let spec = ApprovalSpec { approver: dba(), digest: digest.clone(), ttl: 60, rules: None };
    let foreign = Approval::sign(&spec, &other, NOW).unwrap();
    assert_eq!(
        rejected(&run(&e, ALTER, Some(&foreign), NOW)),
        ApprovalError::UnknownKey("approvals-2".into())
    );
    assert!(matches!(
        rejected(&run(&e, ALTER, Some("writg2.x.y~s.t"), NOW)),
        ApprovalError::Malformed(_)
    ));

    let revoked: std::collections::HashSet<String> = [Approval::parse(&token).unwrap().id].into();
    let mut r = Request::sql(migrator(), "db", ALTER);
    r.approval = Some(token);
    let trust = trust();
    let checked = e.check_with(&r, &Context::new(&trust).at(NOW).revoked(&revoked));
    assert!(matches!(rejected(&checked), ApprovalError::Revoked(_)));
}

#[test]
fn an_approval_never_turns_a_deny_into_allow() {
    let e = engine();
    let sql = "ALTER TABLE accounts ADD COLUMN tier text; DROP TABLE accounts";
    let first = run(&e, sql, None, NOW);
    assert_eq!(first.decision.effect, Effect::Deny);
    let token = approve(dba(), &first.decision.digest, 600);
    let again = run(&e, sql, Some(&token), NOW);
    assert_eq!(again.decision.effect, Effect::Deny);
    assert_eq!(again.approval, ApprovalUse::Unused);
}

#[test]
fn an_approval_for_a_request_that_needs_none_is_unused() {
    let e = engine();
    let d = run(&e, "SELECT 1", None, NOW).decision;
    let checked = run(&e, "SELECT 1", Some(&approve(dba(), &d.digest, 60)), NOW);
    assert_eq!(checked.decision.effect, Effect::Allow);
    assert_eq!(checked.approval, ApprovalUse::Unused);
    assert_eq!(checked.decision.reason, d.reason);
}

#[test]
fn rules_without_approvers_and_unnamed_rules_are_not_honoured() {
    let e = engine();
    let sql = "DELETE FROM accounts WHERE id = 1";
    let digest = run(&e, sql, None, NOW).decision.digest;
    let err = rejected(&run(&e, sql, Some(&approve(dba(), &digest, 60)), NOW));
    assert_eq!(err, ApprovalError::NoApprovers("rule `deletes-need-approval`".into()));

    let digest = run(&e, ALTER, None, NOW).decision.digest;
    let spec = ApprovalSpec {
        approver: dba(),
        digest,
        ttl: 60,
        rules: Some(vec!["some-other-rule".into()]),
    };
    let token = Approval::sign(&spec, &key(), NOW).unwrap();
    let err = rejected(&run(&e, ALTER, Some(&token), NOW));
    assert_eq!(err, ApprovalError::RuleNotApproved("ddl-needs-approval".into()));
}

#[test]
fn approvers_are_validated_with_locations() {
    let err = Engine::from_yaml(
        "version: 1\nrules:\n  - id: a\n    effect: allow\n    approvers: [dba]\n  - id: b\n    effect: approval\n    approvers: []\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("<policy>:5:") && err.contains("`approvers` applies to `approval` rules"),
        "{err}"
    );
    assert!(
        err.contains("<policy>:8:") && err.contains("at least one non-empty approver group"),
        "{err}"
    );
}

#[test]
fn signing_checks_its_input_and_hmac_keys_work() {
    let k = SigningKey::hmac("h", &[1; 32]).unwrap();
    let bad = ApprovalSpec { approver: dba(), digest: "nope".into(), ttl: 60, rules: None };
    assert!(matches!(Approval::sign(&bad, &k, NOW), Err(ApprovalError::Invalid(_))));
    assert!(SigningKey::hmac("h", &[1; 8]).is_err());
    let e = engine();
    let digest = run(&e, ALTER, None, NOW).decision.digest;
    let spec = ApprovalSpec { approver: dba(), digest, ttl: 60, rules: None };
    let token = Approval::sign(&spec, &k, NOW).unwrap();
    let mut r = Request::sql(migrator(), "db", ALTER);
    r.approval = Some(token);
    let trust = Trust::new().approval_key(k.verifying_key());
    assert_eq!(e.check_with(&r, &Context::new(&trust).at(NOW)).decision.effect, Effect::Allow);
}
