//! Grants for nested agents: minting narrower children, checking chains, and the property that
//! a child never allows what its parent would deny.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use writ::grant::{Authority, Grant, GrantError, GrantSpec, VerifiedGrant, verify_chain};
use writ::identity::{Context, KeyRing, SigningKey, Trust};
use writ::policy::Conditions;
use writ::{Action, Effect, Engine, Principal, Request};

const NOW: u64 = 1_800_000_000;
const SEED: [u8; 32] = [42; 32];

const POLICY: &str = r#"
version: 1
resources:
  - {name: warehouse, kind: postgres, default_schema: public}
  - {name: box, kind: shell}
rules:
  - id: orchestrator-sql
    effect: allow
    when:
      principals: ["agent:orchestrator"]
      resources: [warehouse]
      sql: {kinds: [select, insert, update, delete]}
  - id: orchestrator-shell
    effect: allow
    when:
      principals: ["agent:orchestrator"]
      resources: [box]
      command: {programs: [ls, cat, git]}
  - id: no-secrets
    effect: deny
    when: {sql: {tables: ["public.secrets"]}}
"#;

fn engine() -> Engine {
    Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}"))
}

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("host-1", &SEED).unwrap()
}

fn trust() -> Trust {
    Trust::new().grant_key(key().verifying_key())
}

fn keys() -> KeyRing {
    trust().grant_keys
}

fn scope(yaml: &str) -> Conditions {
    serde_norway::from_str(yaml).unwrap_or_else(|e| panic!("{e}: {yaml}"))
}

fn orchestrator() -> Principal {
    Principal::new("agent:orchestrator", ["agents"])
}

fn verified(grant: &Grant) -> VerifiedGrant {
    verify_chain(&grant.encode(), &keys(), NOW, &HashSet::<String>::new()).unwrap()
}

/// orchestrator → helper → sub-helper → worker.
fn chain() -> (Grant, Grant, Grant) {
    let k = key();
    let helper = Grant::mint(
        Authority::Principal(&orchestrator()),
        &GrantSpec::new(
            "agent:helper",
            scope("{resources: [warehouse], sql: {kinds: [select, insert], tables: ['public.*']}}"),
            600,
        )
        .depth(2),
        &k,
        NOW,
    )
    .unwrap();
    let sub = Grant::mint(
        Authority::Grant(&verified(&helper)),
        &GrantSpec::new(
            "agent:sub-helper",
            scope("{resources: [warehouse], sql: {kinds: [select], read_only: true, tables: ['public.orders', 'public.customers']}}"),
            300,
        )
        .depth(1),
        &k,
        NOW,
    )
    .unwrap();
    let worker = Grant::mint(
        Authority::Grant(&verified(&sub)),
        &GrantSpec::new(
            "agent:worker",
            scope("{resources: [warehouse], sql: {kinds: [select], read_only: true, tables: [public.orders]}}"),
            120,
        ),
        &k,
        NOW,
    )
    .unwrap();
    (helper, sub, worker)
}

fn with_grant(grant: &str, sql: &str) -> Request {
    let mut r = Request::sql(Principal::default(), "warehouse", sql);
    r.grant = Some(grant.to_owned());
    r
}

fn check(engine: &Engine, request: &Request) -> writ::Decision {
    let trust = trust();
    engine.check_with(request, &Context::new(&trust).at(NOW)).decision
}

#[test]
fn attenuation_across_three_levels() {
    let e = engine();
    let (helper, sub, worker) = chain();
    let (helper, sub, worker) = (helper.encode(), sub.encode(), worker.encode());
    let cases = [
        (&helper, "INSERT INTO orders (id) VALUES (1)", Effect::Allow),
        (&helper, "SELECT * FROM customers", Effect::Allow),
        (&helper, "DELETE FROM orders WHERE id = 1", Effect::Deny),
        (&helper, "SELECT * FROM analytics.scores", Effect::Deny),
        (&helper, "SELECT * FROM secrets", Effect::Deny),
        (&sub, "SELECT * FROM customers", Effect::Allow),
        (&sub, "INSERT INTO orders (id) VALUES (1)", Effect::Deny),
        (&sub, "SELECT * FROM invoices", Effect::Deny),
        (&worker, "SELECT * FROM orders", Effect::Allow),
        (&worker, "SELECT * FROM customers", Effect::Deny),
        (&worker, "SELECT 1; SELECT * FROM customers", Effect::Deny),
    ];
    for (grant, sql, expected) in cases {
        let d = check(&e, &with_grant(grant, sql));
        assert_eq!(d.effect, expected, "{sql}: {}", d.reason);
    }
    let d = check(&e, &with_grant(&worker, "SELECT * FROM customers"));
    assert!(d.reason.contains("outside the scope of grant"), "{}", d.reason);
    assert!(d.reason.contains("agent:worker"), "{}", d.reason);
}

#[test]
fn the_policy_is_evaluated_for_the_root_principal() {
    let e = engine();
    let k = key();
    let intern = Principal::new("agent:intern", Vec::<String>::new());
    let g = Grant::mint(
        Authority::Principal(&intern),
        &GrantSpec::new("agent:x", scope("{}"), 60),
        &k,
        NOW,
    )
    .unwrap();
    let d = check(&e, &with_grant(&g.encode(), "SELECT 1"));
    assert_eq!(d.effect, Effect::Deny, "the intern has no rule: neither has its delegate");
    let root = Grant::mint(
        Authority::Principal(&orchestrator()),
        &GrantSpec::new("agent:x", scope("{}"), 60),
        &k,
        NOW,
    )
    .unwrap();
    let trust = trust();
    let checked =
        engine().check_with(&with_grant(&root.encode(), "SELECT 1"), &Context::new(&trust).at(NOW));
    assert_eq!(checked.decision.effect, Effect::Allow);
    assert_eq!(checked.principal.unwrap().id, "agent:orchestrator");
    assert_eq!(checked.grant.unwrap().leaf().sub, "agent:x");
}

#[test]
fn commands_are_scoped_too() {
    let e = engine();
    let g = Grant::mint(
        Authority::Principal(&orchestrator()),
        &GrantSpec::new("agent:x", scope("{resources: [box], command: {programs: [ls, cat]}}"), 60),
        &key(),
        NOW,
    )
    .unwrap();
    let mut r = Request::command(Principal::default(), "box", "ls -la && cat README");
    r.grant = Some(g.encode());
    assert_eq!(check(&e, &r).effect, Effect::Allow);
    r.action = Action::Command("ls && git push".into());
    assert_eq!(check(&e, &r).effect, Effect::Deny);
    r.action = Action::Command("$CMD".into());
    assert_eq!(check(&e, &r).effect, Effect::Deny);
    let sql = with_grant(&g.encode(), "SELECT 1");
    assert_eq!(check(&e, &sql).effect, Effect::Deny, "the grant covers the box only");
}

#[test]
fn minting_wider_than_the_parent_fails_with_the_reason() {
    let (helper, _, _) = chain();
    let parent = verified(&helper);
    let k = key();
    let mint = |scope_yaml: &str, ttl: u64, depth: u32| {
        Grant::mint(
            Authority::Grant(&parent),
            &GrantSpec::new("agent:sub", scope(scope_yaml), ttl).depth(depth),
            &k,
            NOW,
        )
    };
    let narrow = "{resources: [warehouse], sql: {kinds: [select], tables: [public.orders]}}";
    assert!(mint(narrow, 60, 1).is_ok());
    let wider = [
        (
            "{resources: [warehouse], sql: {kinds: [select, delete], tables: [public.orders]}}",
            "`sql.kinds`: `delete`",
        ),
        ("{resources: [warehouse], sql: {kinds: [select], tables: ['*']}}", "`sql.tables`: `*`"),
        ("{resources: [warehouse], sql: {kinds: [select]}}", "the parent limits `sql.tables`"),
        ("{resources: ['*'], sql: {kinds: [select], tables: [public.orders]}}", "`resources`: `*`"),
        ("{sql: {kinds: [select], tables: [public.orders]}}", "the parent limits `resources`"),
        ("{resources: [warehouse]}", "the parent limits SQL"),
        ("{resources: [warehouse], command: {programs: [ls]}}", "the parent limits SQL"),
    ];
    for (s, why) in wider {
        let err = mint(s, 60, 1).unwrap_err();
        assert!(matches!(err, GrantError::Wider(_)), "{s}: {err:?}");
        assert!(err.to_string().contains(why), "{s}: {err}");
    }
    let err = mint(narrow, 601, 1).unwrap_err();
    assert!(err.to_string().contains("after its parent"), "{err}");
    let err = mint(narrow, 60, 2).unwrap_err();
    assert!(err.to_string().contains("depth 2 is not below the parent's 2"), "{err}");
    let err = mint("{groups: [admins]}", 60, 0).unwrap_err();
    assert!(matches!(err, GrantError::InvalidScope(_)), "{err:?}");

    let (_, _, worker) = chain();
    let err = Grant::mint(
        Authority::Grant(&verified(&worker)),
        &GrantSpec::new("agent:deeper", scope(narrow), 10),
        &k,
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, GrantError::TooDeep { .. }), "{err:?}");
}

// --- hand-crafted chains, signed with the host key ----------------------------------------------

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sign a hand-written link as the host would: Ed25519 with `SEED` (kid `host-1`), or
/// HMAC-SHA-256 with `HMAC_SECRET` (kid `hmac-1`).
fn segment_of(link: &Value) -> String {
    signed("writ-grant-v1", link)
}

/// Sign `payload` over `domain` with the key its `kid` names.
fn signed(domain: &str, payload: &Value) -> String {
    let link = payload;
    let payload = b64(link.to_string().as_bytes());
    let input = format!("{domain}.{payload}");
    let signature = if link["kid"] == "hmac-1" {
        use hmac::{KeyInit as _, Mac as _};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(HMAC_SECRET).unwrap();
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        ed25519_dalek::SigningKey::from_bytes(&SEED).sign(input.as_bytes()).to_bytes().to_vec()
    };
    format!("{payload}.{}", b64(&signature))
}

const HMAC_SECRET: &[u8] = b"property tests sign with hmac: fast in debug builds";

fn hash(segment: &str) -> String {
    b64(&sha2::Sha256::digest(segment.as_bytes()))
}

/// The link segments of a grant (its seal left out).
fn segments(grant: &Grant) -> Vec<String> {
    let mut all: Vec<String> =
        grant.encode().trim_start_matches("writg2.").split('~').map(str::to_owned).collect();
    all.pop();
    all
}

/// The seal segment of a grant.
fn seal(grant: &Grant) -> String {
    grant.encode().rsplit('~').next().unwrap().to_owned()
}

/// A seal over `segments`, signed by the host key as minting would.
fn seal_of(segments: &[String]) -> String {
    let leaf = segments.last().unwrap().split('.').next().unwrap();
    let leaf: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(leaf).unwrap()).unwrap();
    let kid = if leaf["kid"] == "hmac-1" { "hmac-1" } else { "host-1" };
    signed(
        "writ-grant-seal-v1",
        &json!({"kid": kid, "chain": hash(&segments.join("~")), "links": segments.len(),
                "leaf": leaf["id"]}),
    )
}

/// Links joined into a grant, sealed by the host key: what the links themselves allow.
fn join(segments: &[String]) -> String {
    format!("writg2.{}~{}", segments.join("~"), seal_of(segments))
}

fn crafted_child(parent: &Grant, scope: Value, depth: u32, exp: u64) -> String {
    let kid = parent.links()[0].kid.clone();
    let mut segs = segments(parent);
    let link = json!({"id": "crafted", "kid": kid, "parent": hash(segs.last().unwrap()),
        "sub": "agent:rogue", "scope": scope, "iat": NOW, "exp": exp, "depth": depth});
    segs.push(segment_of(&link));
    join(&segs)
}

#[test]
fn a_signed_child_that_claims_more_still_gets_only_the_intersection() {
    let e = engine();
    let (helper, sub, _) = chain();
    // Signed correctly, but claims every resource and statement kind.
    let rogue = crafted_child(&sub, json!({}), 0, NOW + 100);
    verify_chain(&rogue, &keys(), NOW, &HashSet::<String>::new()).unwrap();
    for sql in [
        "DELETE FROM orders WHERE id = 1",
        "INSERT INTO orders (id) VALUES (1)",
        "SELECT * FROM invoices",
    ] {
        let d = check(&e, &with_grant(&rogue, sql));
        assert_eq!(d.effect, Effect::Deny, "{sql}");
        assert!(!d.reason.contains("`crafted`"), "denied by an ancestor's scope: {}", d.reason);
    }
    assert_eq!(check(&e, &with_grant(&rogue, "SELECT * FROM orders")).effect, Effect::Allow);
    // The same under the helper: INSERT is the helper's, DELETE is nobody's.
    let rogue = crafted_child(&helper, json!({}), 0, NOW + 100);
    assert_eq!(
        check(&e, &with_grant(&rogue, "INSERT INTO orders (id) VALUES (1)")).effect,
        Effect::Allow
    );
    assert_eq!(
        check(&e, &with_grant(&rogue, "DELETE FROM orders WHERE id = 1")).effect,
        Effect::Deny
    );
}

fn refused(grant: &str) -> GrantError {
    verify_chain(grant, &keys(), NOW, &HashSet::<String>::new()).unwrap_err()
}

#[test]
fn tampered_reordered_truncated_and_spliced_chains_are_refused() {
    let (_, _, worker) = chain();
    let segs = segments(&worker);
    assert_eq!(segs.len(), 3);

    // Tampered: one byte of the last payload.
    let mut t = segs.clone();
    let (payload, sig) = t[2].split_once('.').unwrap();
    let mut json: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    json["scope"] = json!({});
    t[2] = format!("{}.{sig}", b64(json.to_string().as_bytes()));
    assert!(matches!(refused(&join(&t)), GrantError::BadSignature { index: 3 }));

    // Re-ordered.
    let r = vec![segs[0].clone(), segs[2].clone(), segs[1].clone()];
    assert!(
        matches!(refused(&join(&r)), GrantError::BrokenLink { index: 2, .. }),
        "{:?}",
        refused(&join(&r))
    );
    let r = vec![segs[1].clone(), segs[0].clone(), segs[2].clone()];
    assert!(matches!(refused(&join(&r)), GrantError::Truncated(_)));

    // Truncated from the front, or a middle link dropped.
    assert!(matches!(refused(&join(&segs[1..])), GrantError::Truncated(_)));
    let s = vec![segs[0].clone(), segs[2].clone()];
    assert!(matches!(refused(&join(&s)), GrantError::BrokenLink { index: 2, .. }));

    // Spliced: the worker link under another chain's sub-helper.
    let (_, other_sub, _) = chain();
    let mut s = segments(&other_sub);
    s.push(segs[2].clone());
    assert!(matches!(refused(&join(&s)), GrantError::BrokenLink { index: 3, .. }));

    // Garbage.
    assert!(matches!(refused("writg2."), GrantError::Malformed(_)));
    assert!(matches!(refused("nope"), GrantError::Malformed(_)));
    assert!(matches!(refused(&format!("writg2.{}", "a.b~".repeat(10))), GrantError::Malformed(_)));
    // The first format (no seal) is refused with a reason.
    let old = format!("writg1.{}", segs.join("~"));
    assert!(matches!(refused(&old), GrantError::Malformed(why) if why.contains("mint it again")));
}

/// Found by the `jwt_grant` fuzz target: a child holds every link of its parent's grant, and
/// those links verify on their own. The seal names the exact chain, and only the delegate of
/// the newest link receives it.
#[test]
fn a_child_cannot_present_its_parents_grant() {
    let e = engine();
    let (helper, sub, worker) = chain();
    let segs = segments(&worker);
    // The sub-helper's scope reads customers; the worker's does not.
    let customers = "SELECT * FROM customers";
    assert_eq!(check(&e, &with_grant(&sub.encode(), customers)).effect, Effect::Allow);
    assert_eq!(check(&e, &with_grant(&worker.encode(), customers)).effect, Effect::Deny);

    // The worker drops its own link and keeps its seal.
    let dropped = format!("writg2.{}~{}", segs[..2].join("~"), seal(&worker));
    assert!(matches!(refused(&dropped), GrantError::BadSeal(why) if why.contains("dropped")));
    // ... or drops its link and its seal: the parent's last link is no seal.
    let bare = format!("writg2.{}", segs[..2].join("~"));
    assert!(matches!(refused(&bare), GrantError::BadSeal(_)), "{:?}", refused(&bare));
    // ... or uses its link as the seal.
    let as_seal = format!("writg2.{}", segs.join("~"));
    assert!(matches!(refused(&as_seal), GrantError::BadSeal(_)), "{:?}", refused(&as_seal));
    for text in [&dropped, &bare, &as_seal] {
        let d = check(&e, &with_grant(text, customers));
        assert_eq!(d.effect, Effect::Deny, "{text}");
        assert!(d.reason.contains("seal"), "{}", d.reason);
    }
    // A seal from another chain of the same length does not fit either.
    let (_, other_sub, _) = chain();
    let swapped = format!("writg2.{}~{}", segs[..2].join("~"), seal(&other_sub));
    assert!(matches!(refused(&swapped), GrantError::BadSeal(_)));
    // Adding a link under a sealed chain without a new seal fails too.
    let appended = format!("writg2.{}~{}~{}", segments(&helper).join("~"), segs[1], seal(&helper));
    assert!(matches!(refused(&appended), GrantError::BadSeal(_)), "{:?}", refused(&appended));
    // The parent's own grant, as it was minted, still verifies.
    verified(&sub);
    verified(&helper);
}

#[test]
fn too_deep_expired_revoked_and_unknown_key_are_refused() {
    let e = engine();
    let (_, sub, worker) = chain();
    // The worker (depth 0) "delegates" anyway, signed with the host key.
    let deeper = crafted_child(&worker, json!({}), 0, NOW + 60);
    assert!(matches!(refused(&deeper), GrantError::TooDeep { .. }));
    // A child that does not decrease depth.
    let same = crafted_child(&sub, json!({}), 1, NOW + 60);
    assert!(matches!(refused(&same), GrantError::TooDeep { .. }));
    // A child that outlives its parent.
    let long = crafted_child(&sub, json!({}), 0, NOW + 100_000);
    assert!(matches!(refused(&long), GrantError::Wider(_)));

    let later = verify_chain(&worker.encode(), &keys(), NOW + 121, &HashSet::<String>::new());
    assert!(matches!(later, Err(GrantError::Expired { .. })), "{later:?}");

    let middle = worker.links()[1].id.clone();
    let revoked: HashSet<String> = [middle.clone()].into();
    let trust = trust();
    let ctx = Context::new(&trust).at(NOW).revoked(&revoked);
    let d = e.check_with(&with_grant(&worker.encode(), "SELECT * FROM orders"), &ctx).decision;
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.reason.contains(&format!("grant `{middle}` is revoked")), "{}", d.reason);

    let other = KeyRing::new()
        .with(SigningKey::ed25519_from_seed("host-2", &[1; 32]).unwrap().verifying_key());
    let err = verify_chain(&worker.encode(), &other, NOW, &HashSet::<String>::new()).unwrap_err();
    assert_eq!(err, GrantError::UnknownKey { index: 1, kid: "host-1".into() });
    // Same kid, different key: a bad signature.
    let impostor = KeyRing::new()
        .with(SigningKey::ed25519_from_seed("host-1", &[1; 32]).unwrap().verifying_key());
    let err =
        verify_chain(&worker.encode(), &impostor, NOW, &HashSet::<String>::new()).unwrap_err();
    assert_eq!(err, GrantError::BadSignature { index: 1 });
    // No keys at all (plain `check`): denied.
    assert_eq!(e.check(&with_grant(&worker.encode(), "SELECT * FROM orders")).effect, Effect::Deny);
}

#[test]
fn the_presenter_must_be_the_last_delegate() {
    let e = engine();
    let (_, _, worker) = chain();
    let mut r = Request::sql(
        Principal::new("agent:worker", Vec::<String>::new()),
        "warehouse",
        "SELECT * FROM orders",
    );
    r.grant = Some(worker.encode());
    assert_eq!(check(&e, &r).effect, Effect::Allow);
    r.principal.id = "agent:thief".into();
    let d = check(&e, &r);
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.reason.contains("issued to `agent:worker`, not to `agent:thief`"), "{}", d.reason);
}

#[test]
fn a_digest_bound_grant_is_single_use_for_that_request_only() {
    let e = engine();
    let sql = "UPDATE orders SET status = 'shipped' WHERE id = 7";
    let digest = Request::sql(orchestrator(), "warehouse", sql).digest();
    let g = Grant::mint(
        Authority::Principal(&orchestrator()),
        &GrantSpec::new("agent:shipper", scope("{resources: [warehouse]}"), 60)
            .bound_to(digest.clone()),
        &key(),
        NOW,
    )
    .unwrap();
    let trust = trust();
    let ctx = Context::new(&trust).at(NOW);
    let checked = e.check_with(&with_grant(&g.encode(), sql), &ctx);
    assert_eq!(checked.decision.effect, Effect::Allow, "{}", checked.decision.reason);
    assert_eq!(checked.consume, vec![g.links()[0].id.clone()]);
    assert_eq!(checked.decision.digest, digest);

    let other = e.check_with(
        &with_grant(&g.encode(), "UPDATE orders SET status = 'shipped' WHERE id = 8"),
        &ctx,
    );
    assert_eq!(other.decision.effect, Effect::Deny);
    assert!(other.decision.reason.contains("is bound to request"), "{}", other.decision.reason);
    assert!(other.consume.is_empty());

    let used: HashSet<String> = checked.consume.iter().cloned().collect();
    let again =
        e.check_with(&with_grant(&g.encode(), sql), &Context::new(&trust).at(NOW).used(&used));
    assert_eq!(again.decision.effect, Effect::Deny);
    assert!(again.decision.reason.contains("already used"), "{}", again.decision.reason);

    // A child of a bound grant must keep the binding.
    let err = Grant::mint(
        Authority::Principal(&orchestrator()),
        &GrantSpec::new("x", scope("{}"), 60).bound_to("sha256:nope"),
        &key(),
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, GrantError::Invalid(_)));
}

#[test]
fn grants_stay_small_enough_for_a_header() {
    let (helper, sub, worker) = chain();
    let sizes = [helper.encoded_len(), sub.encoded_len(), worker.encoded_len()];
    assert_eq!(worker.encode().len(), sizes[2]);
    eprintln!(
        "grant sizes (Ed25519): 1 link {} B, 2 links {} B, 3 links {} B",
        sizes[0], sizes[1], sizes[2]
    );
    assert!(sizes[2] < 2048, "{sizes:?}");
    assert!(worker.encode().chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)));
    // HMAC keys work the same way and are shorter.
    let hk = SigningKey::hmac("h", &[5; 32]).unwrap();
    let g = Grant::mint(
        Authority::Principal(&orchestrator()),
        &GrantSpec::new("a", scope("{resources: [warehouse]}"), 60),
        &hk,
        NOW,
    )
    .unwrap();
    let ring = KeyRing::new().with(hk.verifying_key());
    assert!(verify_chain(&g.encode(), &ring, NOW, &HashSet::<String>::new()).is_ok());
    // Inspecting without keys shows the chain.
    let parsed = Grant::parse(&worker.encode()).unwrap();
    let subs: Vec<&str> = parsed.links().iter().map(|l| l.sub.as_str()).collect();
    assert_eq!(subs, ["agent:helper", "agent:sub-helper", "agent:worker"]);
    assert_eq!(parsed.links()[0].root.as_ref().unwrap().id, "agent:orchestrator");
}

// --- property: a child never allows what its parent would deny ----------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> Vec<&'a str> {
        let picked: Vec<&str> = items.iter().copied().filter(|_| self.chance(50)).collect();
        if picked.is_empty() { vec![items[self.below(items.len())]] } else { picked }
    }
}

const KINDS: &[&str] = &["select", "insert", "update", "delete", "drop"];
const TABLES: &[&str] =
    &["public.orders", "public.customers", "public.*", "analytics.*", "*", "public.ord*"];
const RESOURCES: &[&str] = &["warehouse", "box", "*", "ware*"];
const PROGRAMS: &[&str] = &["ls", "cat", "git", "*", "c*"];

fn random_scope(rng: &mut Rng) -> Value {
    let mut scope = serde_json::Map::new();
    if rng.chance(60) {
        scope.insert("resources".into(), json!(rng.pick(RESOURCES)));
    }
    match rng.below(3) {
        0 => {
            let mut sql = serde_json::Map::new();
            if rng.chance(60) {
                sql.insert("kinds".into(), json!(rng.pick(KINDS)));
            }
            if rng.chance(50) {
                sql.insert("tables".into(), json!(rng.pick(TABLES)));
            }
            if rng.chance(30) {
                sql.insert("read_only".into(), json!(rng.chance(70)));
            }
            scope.insert("sql".into(), Value::Object(sql));
        }
        1 => {
            let mut command = serde_json::Map::new();
            if rng.chance(70) {
                command.insert("programs".into(), json!(rng.pick(PROGRAMS)));
            }
            if rng.chance(30) {
                command.insert("without_flags".into(), json!(["f"]));
            }
            scope.insert("command".into(), Value::Object(command));
        }
        _ => {}
    }
    Value::Object(scope)
}

fn random_request(rng: &mut Rng) -> Request {
    let tables = ["orders", "customers", "analytics.scores", "secrets", "public.order_items"];
    let t = tables[rng.below(tables.len())];
    let u = tables[rng.below(tables.len())];
    if rng.chance(25) {
        let lines =
            ["ls -la", "cat notes", "git push origin main", "rm -rf /tmp/x", "cat -f x | ls"];
        return Request::command(Principal::default(), "box", lines[rng.below(lines.len())]);
    }
    let sql = match rng.below(7) {
        0 => format!("SELECT * FROM {t}"),
        1 => format!("SELECT * FROM {t} JOIN {u} ON true"),
        2 => format!("INSERT INTO {t} (id) VALUES (1)"),
        3 => format!("UPDATE {t} SET a = 1 WHERE id = 1"),
        4 => format!("DELETE FROM {t} WHERE id = 1"),
        5 => format!("DROP TABLE {t}"),
        _ => format!("SELECT 1; DELETE FROM {t} WHERE id = 2"),
    };
    Request::sql(Principal::default(), "warehouse", sql)
}

fn as_grant(request: &Request, grant: &str) -> Request {
    let mut r = request.clone();
    r.grant = Some(grant.to_owned());
    r
}

#[test]
fn property_a_child_never_allows_what_its_parent_denies() {
    let e = Engine::from_yaml(
        "version: 1\nresources:\n  - {name: warehouse, kind: postgres, default_schema: public}\n  - {name: box, kind: shell}\nrules:\n  - {id: all-sql, effect: allow, when: {resources: [warehouse], sql: {kinds: [select, insert, update, delete, drop]}}}\n  - {id: all-commands, effect: allow, when: {resources: [box]}}\n",
    )
    .unwrap();
    // HMAC rather than Ed25519: the property is about scopes, and Ed25519 is slow unoptimized.
    let k = SigningKey::hmac("hmac-1", HMAC_SECRET).unwrap();
    let trust = Trust::new().grant_key(k.verifying_key());
    let ctx = Context::new(&trust).at(NOW);
    let ring = trust.grant_keys.clone();
    let verified =
        |g: &Grant| verify_chain(&g.encode(), &ring, NOW, &HashSet::<String>::new()).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let root = Principal::new("agent:root", Vec::<String>::new());
    let (mut minted, mut refused_wider, mut checked) = (0, 0, 0);
    for _ in 0..200 {
        let parent_scope: Conditions = serde_json::from_value(random_scope(&mut rng)).unwrap();
        let child_scope: Conditions = serde_json::from_value(random_scope(&mut rng)).unwrap();
        let parent = Grant::mint(
            Authority::Principal(&root),
            &GrantSpec::new("p", parent_scope.clone(), 600).depth(1),
            &k,
            NOW,
        )
        .unwrap();
        let parent_text = parent.encode();
        // 1. Minted children: the subset check itself must be sound. Compare the child's scope
        //    *alone* (as a root grant) with the parent's alone.
        let child = Grant::mint(
            Authority::Grant(&verified(&parent)),
            &GrantSpec::new("c", child_scope.clone(), 60),
            &k,
            NOW,
        );
        let child_alone = Grant::mint(
            Authority::Principal(&root),
            &GrantSpec::new("c", child_scope.clone(), 60),
            &k,
            NOW,
        )
        .unwrap()
        .encode();
        match &child {
            Ok(_) => minted += 1,
            Err(GrantError::Wider(_)) => refused_wider += 1,
            Err(other) => panic!("{other:?}"),
        }
        // 2. A child signed correctly whatever it claims (hand-crafted): the intersection.
        let crafted =
            crafted_child(&parent, serde_json::to_value(&child_scope).unwrap(), 0, NOW + 60);
        for _ in 0..10 {
            let request = random_request(&mut rng);
            let by_parent = e.check_with(&as_grant(&request, &parent_text), &ctx).decision;
            let by_crafted = e.check_with(&as_grant(&request, &crafted), &ctx).decision;
            checked += 1;
            if by_crafted.effect == Effect::Allow {
                assert_eq!(
                    by_parent.effect,
                    Effect::Allow,
                    "crafted child allowed {request:?}\nparent {parent_scope:?}\nchild {child_scope:?}"
                );
            }
            if let Ok(child) = &child {
                let by_child = e.check_with(&as_grant(&request, &child.encode()), &ctx).decision;
                if by_child.effect == Effect::Allow {
                    assert_eq!(by_parent.effect, Effect::Allow, "minted child allowed {request:?}");
                }
                let alone = e.check_with(&as_grant(&request, &child_alone), &ctx).decision;
                if alone.effect == Effect::Allow {
                    assert_eq!(
                        by_parent.effect,
                        Effect::Allow,
                        "subset check unsound for {request:?}\nparent {parent_scope:?}\nchild {child_scope:?}"
                    );
                }
            }
        }
    }
    eprintln!(
        "{minted} children minted, {refused_wider} refused as wider, {checked} requests compared"
    );
    assert!(
        minted > 10 && refused_wider > 10,
        "{minted} / {refused_wider}: the generator must exercise both"
    );
}
