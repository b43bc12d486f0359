//! Identity tokens (JWT) and delegated grants.
//!
//! The input is structured (`arbitrary`): a token or grant is built from fuzzer-chosen fields and
//! signed with the host's real keys, then optionally changed byte by byte; or raw text is fed
//! straight to verification. Invariants:
//! - nothing panics;
//! - raw text never verifies (it cannot carry a valid signature);
//! - a token or grant whose bytes were changed after signing never verifies with other claims:
//!   a changed token that verifies signs exactly the same header and payload, and names the same
//!   principal; a changed grant that verifies has exactly the original's links (the chain's seal
//!   names them all, so a child that drops its own link, keeping or dropping its seal, is
//!   refused: the first version of this target found that hole);
//! - a freshly minted grant verifies;
//! - a child grant never widens its parent: when a child could be minted (the syntactic
//!   narrowing proof said yes), its scope alone allows nothing the parent's scope denies; and a
//!   child signed correctly whatever scope it claims (crafted by hand) is still held to the
//!   parent's scope at check time.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use hmac::{KeyInit as _, Mac as _};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sha2::Digest as _;
use writ::grant::{Authority, Grant, GrantSpec, verify_chain};
use writ::identity::{Context, SigningKey, Trust};
use writ::policy::Conditions;
use writ::{Effect, Engine, Principal, Request};

const NOW: u64 = 1_800_000_000;
const IDP: &str = "https://idp.example";
const HS_SECRET: &[u8] = b"a shared secret of at least thirty-two bytes";
const GRANT_SECRET: &[u8] = b"the grant key of the fuzz host, 32+ bytes";
const ED_SEED: [u8; 32] = [7; 32];

struct Fixture {
    engine: Engine,
    trust: Trust,
    grant_key: SigningKey,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ed = ed25519_dalek::SigningKey::from_bytes(&ED_SEED);
        let x = b64(ed.verifying_key().as_bytes());
        let policy = format!(
            r#"version: 1
resources:
  - {{name: warehouse, kind: postgres, default_schema: public}}
  - {{name: box, kind: shell}}
issuers:
  - issuer: "{IDP}"
    audiences: [writ]
    algorithms: [EdDSA]
    jwks: {{keys: [{{kty: OKP, crv: Ed25519, kid: ed-1, x: "{x}"}}]}}
    principal_prefix: "user:"
  - issuer: legacy
    audiences: [writ, other]
    algorithms: [HS256]
    shared_secret: legacy-hs
rules:
  - {{id: all-sql, effect: allow, when: {{resources: [warehouse], sql: {{kinds: [select, insert, update, delete, drop]}}}}}}
  - {{id: all-commands, effect: allow, when: {{resources: [box]}}}}
"#
        );
        let engine = Engine::from_yaml(&policy).expect("the fuzz policy compiles");
        let grant_key = SigningKey::hmac("hmac-1", GRANT_SECRET).expect("a valid grant key");
        let trust = Trust::new()
            .grant_key(grant_key.verifying_key())
            .shared_secret("legacy-hs", HS_SECRET);
        Fixture { engine, trust, grant_key }
    })
}

/// A change made to signed bytes.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Mutation {
    Set(u16, u8),
    Insert(u16, u8),
    Delete(u16),
    Truncate(u16),
    Xor(u16, u8),
}

fn mutate(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len();
        let at = |i: u16| if len == 0 { 0 } else { usize::from(i) % len };
        match *m {
            Mutation::Set(i, b) if len > 0 => bytes[at(i)] = b,
            Mutation::Xor(i, b) if len > 0 => bytes[at(i)] ^= b.max(1),
            Mutation::Insert(i, b) => bytes.insert(usize::from(i) % (len + 1), b),
            Mutation::Delete(i) if len > 0 => {
                bytes.remove(at(i));
            }
            Mutation::Truncate(i) => bytes.truncate(usize::from(i) % (len + 1)),
            _ => {}
        }
    }
    bytes
}

#[derive(Arbitrary, Debug)]
enum Choice {
    Idp,
    Legacy,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Alg {
    EdDsa,
    Hs256,
    None,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Ed,
    Hs,
    WrongHs,
}

#[derive(Arbitrary, Debug)]
enum Aud {
    Writ,
    List(Vec<String>),
    Other(String),
    Number(i64),
    Absent,
}

#[derive(Arbitrary, Debug)]
struct TokenInput {
    issuer: Choice,
    alg: Alg,
    kid: Option<String>,
    key: Key,
    aud: Aud,
    sub: Option<String>,
    groups: Option<Vec<String>>,
    exp: Option<i32>,
    iat: Option<i32>,
    nbf: Option<i32>,
    extra: Vec<(String, String)>,
    mutations: Vec<Mutation>,
}

fn sign_token(input: &TokenInput) -> (String, String) {
    let alg = match &input.alg {
        Alg::EdDsa => "EdDSA".to_owned(),
        Alg::Hs256 => "HS256".to_owned(),
        Alg::None => "none".to_owned(),
        Alg::Other(s) => s.clone(),
    };
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = &input.kid {
        header["kid"] = json!(kid);
    }
    let mut claims = serde_json::Map::new();
    for (k, v) in &input.extra {
        claims.insert(k.clone(), json!(v));
    }
    let iss = match &input.issuer {
        Choice::Idp => IDP.to_owned(),
        Choice::Legacy => "legacy".to_owned(),
        Choice::Other(s) => s.clone(),
    };
    claims.insert("iss".into(), json!(iss));
    match &input.aud {
        Aud::Writ => {
            claims.insert("aud".into(), json!("writ"));
        }
        Aud::List(l) => {
            claims.insert("aud".into(), json!(l));
        }
        Aud::Other(s) => {
            claims.insert("aud".into(), json!(s));
        }
        Aud::Number(n) => {
            claims.insert("aud".into(), json!(n));
        }
        Aud::Absent => {}
    }
    if let Some(sub) = &input.sub {
        claims.insert("sub".into(), json!(sub));
    }
    if let Some(groups) = &input.groups {
        claims.insert("groups".into(), json!(groups));
    }
    let now = NOW as i64;
    for (name, delta) in [("exp", input.exp), ("iat", input.iat), ("nbf", input.nbf)] {
        if let Some(d) = delta {
            claims.insert(name.into(), json!(now + i64::from(d)));
        }
    }
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(Value::Object(claims).to_string().as_bytes())
    );
    let signature = match input.key {
        Key::Ed => ed25519_dalek::SigningKey::from_bytes(&ED_SEED)
            .sign(message.as_bytes())
            .to_bytes()
            .to_vec(),
        Key::Hs | Key::WrongHs => {
            let secret: &[u8] =
                if matches!(input.key, Key::Hs) { HS_SECRET } else { b"not the secret" };
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
            mac.update(message.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    (format!("{message}.{}", b64(&signature)), message)
}

fn check_token(input: &TokenInput) {
    let f = fixture();
    let ctx = Context::new(&f.trust).at(NOW);
    let (token, message) = sign_token(input);
    let original = f.engine.verify_token(&token, &ctx);
    if let Ok(p) = &original {
        let sub = input.sub.as_deref().unwrap_or_default();
        assert!(p.id.ends_with(sub), "principal {:?} is not the token's sub {sub:?}", p.id);
        assert!(!matches!(input.key, Key::WrongHs), "verified with the wrong secret");
        assert!(!matches!(input.alg, Alg::None), "an unsigned token verified");
    }
    let changed = mutate(&token, &input.mutations);
    if changed == token.as_bytes() {
        return;
    }
    let Ok(changed) = String::from_utf8(changed) else { return };
    if let Ok(p) = f.engine.verify_token(&changed, &ctx) {
        let signed = changed.trim().rsplit_once('.').map(|(m, _)| m);
        assert_eq!(signed, Some(message.as_str()), "a changed token verified with another message");
        assert_eq!(original.as_ref().ok(), Some(&p), "a changed token verified with other claims");
    }
}

// --- grants ------------------------------------------------------------------------------------

const RESOURCES: &[&str] = &["warehouse", "box", "*", "ware*", "b*", "nothing"];
const KINDS: &[&str] = &["select", "insert", "update", "delete", "drop", "create", "other"];
const TABLES: &[&str] = &[
    "public.orders",
    "public.customers",
    "public.*",
    "analytics.*",
    "*",
    "public.ord*",
    "*.orders",
    "orders",
];
const PROGRAMS: &[&str] = &["ls", "cat", "git", "*", "c*", "rm", "g*t"];
const FLAGS: &[&str] = &["f", "r", "rf", "force", "-f", "v"];
const SQL: &[&str] = &[
    "SELECT * FROM orders",
    "SELECT * FROM customers JOIN orders ON true",
    "SELECT * FROM analytics.scores",
    "INSERT INTO orders (id) VALUES (1)",
    "UPDATE public.orders SET a = 1 WHERE id = 1",
    "DELETE FROM customers WHERE id = 1",
    "DROP TABLE orders",
    "SELECT 1; DELETE FROM orders WHERE id = 2",
    "WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x",
];
const COMMANDS: &[&str] = &[
    "ls -la",
    "cat notes",
    "git push origin main",
    "rm -rf /tmp/x",
    "cat -f x | ls",
    "ls && git status",
    "git -C . log --force",
];

fn pick(list: &[&str], picks: &[u8]) -> Vec<String> {
    picks.iter().map(|&i| list[usize::from(i) % list.len()].to_owned()).collect()
}

#[derive(Arbitrary, Debug)]
enum Block {
    None,
    Sql { kinds: Option<Vec<u8>>, tables: Option<Vec<u8>>, read_only: Option<bool> },
    Command { programs: Option<Vec<u8>>, flags: Option<Vec<u8>>, without_flags: Option<Vec<u8>> },
}

#[derive(Arbitrary, Debug)]
enum Scope {
    Built {
        resources: Option<Vec<u8>>,
        block: Block,
    },
    /// Any JSON the scope's deserializer takes.
    Raw(String),
}

impl Scope {
    fn conditions(&self) -> Option<Conditions> {
        let value = match self {
            Scope::Raw(text) => return serde_json::from_str(text).ok(),
            Scope::Built { resources, block } => {
                let mut scope = serde_json::Map::new();
                if let Some(r) = resources {
                    scope.insert("resources".into(), json!(pick(RESOURCES, r)));
                }
                match block {
                    Block::None => {}
                    Block::Sql { kinds, tables, read_only } => {
                        let mut sql = serde_json::Map::new();
                        if let Some(k) = kinds {
                            sql.insert("kinds".into(), json!(pick(KINDS, k)));
                        }
                        if let Some(t) = tables {
                            sql.insert("tables".into(), json!(pick(TABLES, t)));
                        }
                        if let Some(r) = read_only {
                            sql.insert("read_only".into(), json!(r));
                        }
                        scope.insert("sql".into(), Value::Object(sql));
                    }
                    Block::Command { programs, flags, without_flags } => {
                        let mut command = serde_json::Map::new();
                        if let Some(p) = programs {
                            command.insert("programs".into(), json!(pick(PROGRAMS, p)));
                        }
                        if let Some(f) = flags {
                            command.insert("flags".into(), json!(pick(FLAGS, f)));
                        }
                        if let Some(f) = without_flags {
                            command.insert("without_flags".into(), json!(pick(FLAGS, f)));
                        }
                        scope.insert("command".into(), Value::Object(command));
                    }
                }
                Value::Object(scope)
            }
        };
        serde_json::from_value(value).ok()
    }
}

#[derive(Arbitrary, Debug)]
enum Action {
    Sql(u8),
    Command(u8),
    FreeSql(String),
    FreeCommand(String),
}

impl Action {
    fn request(&self, grant: &str) -> Request {
        let who = Principal::default();
        let mut r = match self {
            Action::Sql(i) => Request::sql(who, "warehouse", SQL[usize::from(*i) % SQL.len()]),
            Action::Command(i) => {
                Request::command(who, "box", COMMANDS[usize::from(*i) % COMMANDS.len()])
            }
            Action::FreeSql(s) => Request::sql(who, "warehouse", s.as_str()),
            Action::FreeCommand(s) => Request::command(who, "box", s.as_str()),
        };
        r.grant = Some(grant.to_owned());
        r
    }
}

#[derive(Arbitrary, Debug)]
struct GrantInput {
    parent: Scope,
    child: Scope,
    parent_depth: u8,
    child_depth: u8,
    parent_ttl: u16,
    child_ttl: u16,
    crafted_exp: u16,
    actions: Vec<Action>,
    mutate_child: bool,
    mutations: Vec<Mutation>,
}

fn signed(domain: &str, payload: &Value) -> String {
    let payload = b64(payload.to_string().as_bytes());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(GRANT_SECRET).expect("any key length");
    mac.update(format!("{domain}.{payload}").as_bytes());
    format!("{payload}.{}", b64(&mac.finalize().into_bytes()))
}

/// The link segments of a grant (its seal left out).
fn links_of(grant: &Grant) -> Vec<String> {
    let text = grant.encode();
    let mut segments: Vec<String> =
        text.trim_start_matches("writg2.").split('~').map(str::to_owned).collect();
    segments.pop();
    segments
}

/// `segments` and a seal over them, signed with the host's key.
fn sealed(segments: &[String], leaf: &str) -> String {
    let chain = segments.join("~");
    let seal = json!({"kid": "hmac-1", "chain": b64(&sha2::Sha256::digest(chain.as_bytes())),
        "links": segments.len(), "leaf": leaf});
    format!("writg2.{chain}~{}", signed("writ-grant-seal-v1", &seal))
}

/// A child of `parent` signed (and sealed) with the host's key whatever scope it claims.
fn crafted(parent: &Grant, scope: &Conditions, exp: u64) -> String {
    let mut segments = links_of(parent);
    let leaf = segments.last().cloned().unwrap_or_default();
    let link = json!({"id": "crafted", "kid": "hmac-1", "parent": b64(&sha2::Sha256::digest(leaf.as_bytes())),
        "sub": "agent:rogue", "scope": scope, "iat": NOW, "exp": exp, "depth": 0});
    segments.push(signed("writ-grant-v1", &link));
    sealed(&segments, "crafted")
}

fn decide(request: &Request) -> writ::Decision {
    let f = fixture();
    f.engine.check_with(request, &Context::new(&f.trust).at(NOW)).decision
}

fn effect(request: &Request) -> Effect {
    decide(request).effect
}

fn check_grant(input: &GrantInput) {
    let f = fixture();
    let keys = &f.trust.grant_keys;
    let none = HashSet::<String>::new();
    let root = Principal::new("agent:root", Vec::<String>::new());
    let Some(parent_scope) = input.parent.conditions() else { return };
    let spec = GrantSpec::new("agent:p", parent_scope, u64::from(input.parent_ttl))
        .depth(u32::from(input.parent_depth % 4));
    let Ok(parent) = Grant::mint(Authority::Principal(&root), &spec, &f.grant_key, NOW) else {
        return;
    };
    let parent_text = parent.encode();
    let verified = verify_chain(&parent_text, keys, NOW, &none).expect("a fresh grant verifies");
    let Some(child_scope) = input.child.conditions() else { return };
    let child_spec = GrantSpec::new("agent:c", child_scope.clone(), u64::from(input.child_ttl))
        .depth(u32::from(input.child_depth % 4));
    let child = Grant::mint(Authority::Grant(&verified), &child_spec, &f.grant_key, NOW);
    let alone = Grant::mint(
        Authority::Principal(&root),
        &GrantSpec::new("agent:c", child_scope.clone(), 600),
        &f.grant_key,
        NOW,
    )
    .map(|g| g.encode());
    let crafted = crafted(&parent, &child_scope, NOW + 1 + u64::from(input.crafted_exp % 600));
    let child_text = child.as_ref().ok().map(Grant::encode);
    for action in input.actions.iter().take(4) {
        let parent_decision = decide(&action.request(&parent_text));
        let by_parent = parent_decision.effect;
        if let Some(child_text) = &child_text {
            if effect(&action.request(child_text)) == Effect::Allow {
                assert_eq!(by_parent, Effect::Allow, "a minted child got more: {action:?}");
            }
        }
        // The narrowing proof is about scopes that compile under the policy: a parent scope
        // naming an undeclared resource denies everything (and so does any child of it).
        let parent_invalid = parent_decision.reason.contains("invalid grant scope");
        if let (Ok(_), Ok(alone), false) = (&child, &alone, parent_invalid) {
            if effect(&action.request(alone)) == Effect::Allow {
                assert_eq!(by_parent, Effect::Allow, "a minted child's scope is wider: {action:?}");
            }
        }
        if effect(&action.request(&crafted)) == Effect::Allow {
            assert_eq!(by_parent, Effect::Allow, "a crafted child got more: {action:?}");
        }
    }
    let (Ok(child), Some(child_text)) = (child, child_text) else { return };
    verify_chain(&child_text, keys, NOW, &none).expect("a fresh child verifies");
    // The child presents its parent's links: with its own seal, or with none.
    let mut segments = links_of(&child);
    segments.pop();
    let child_seal = child_text.rsplit('~').next().unwrap_or_default();
    for truncated in [
        format!("writg2.{}~{child_seal}", segments.join("~")),
        format!("writg2.{}", segments.join("~")),
    ] {
        assert!(verify_chain(&truncated, keys, NOW, &none).is_err(), "a child dropped its link");
    }
    let (original, text) = if input.mutate_child {
        (child.links(), &child_text)
    } else {
        (parent.links(), &parent_text)
    };
    let changed = mutate(text, &input.mutations);
    if changed == text.as_bytes() {
        return;
    }
    let Ok(changed) = String::from_utf8(changed) else { return };
    let _ = Grant::parse(&changed);
    if let Ok(v) = verify_chain(&changed, keys, NOW, &none) {
        let links = v.links();
        assert!(links == original, "a changed grant verified with other links");
    }
}

#[derive(Arbitrary, Debug)]
enum Input {
    Token(TokenInput),
    Grant(GrantInput),
    RawToken(String),
    RawGrant(String),
}

fuzz_target!(|input: Input| {
    let f = fixture();
    match &input {
        Input::Token(t) => check_token(t),
        Input::Grant(g) => check_grant(g),
        Input::RawToken(text) => {
            let ctx = Context::new(&f.trust).at(NOW);
            assert!(f.engine.verify_token(text, &ctx).is_err(), "raw text verified as a token");
        }
        Input::RawGrant(text) => {
            let _ = Grant::parse(text);
            let none = HashSet::<String>::new();
            assert!(
                verify_chain(text, &f.trust.grant_keys, NOW, &none).is_err(),
                "raw text verified as a grant"
            );
        }
    }
});
