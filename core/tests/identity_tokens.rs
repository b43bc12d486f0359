//! JWT verification against the issuers a policy declares, with real keys generated here:
//! RSA-2048 (once per test binary), EC P-256 and P-384, Ed25519, and HS256 with a secret the
//! host supplies. Every rejection reason has its own test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use writ::identity::{Context, TokenError, Trust};
use writ::{Effect, Engine, Principal, Request};

const NOW: u64 = 1_800_000_000;
const ISS: &str = "https://login.example.com/realms/agents";
const HS_SECRET: &[u8] = b"a shared secret of at least thirty-two bytes";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

struct Keys {
    rsa_der: Vec<u8>,
    rsa_jwk: Value,
    p256_der: Vec<u8>,
    p256_jwk: Value,
    p384_der: Vec<u8>,
    p384_jwk: Value,
    ed_der: Vec<u8>,
    ed_jwk: Value,
}

/// One set of keys per test binary: RSA-2048 generation is slow in a debug build.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand_core::OsRng;
        let rsa = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let rsa_jwk = json!({"kty": "RSA", "kid": "rsa-1", "use": "sig",
            "n": b64(&rsa.n().to_bytes_be()), "e": b64(&rsa.e().to_bytes_be())});
        let rsa_der = rsa.to_pkcs1_der().unwrap().as_bytes().to_vec();

        use p256::elliptic_curve::sec1::ToEncodedPoint as _;
        use p256::pkcs8::EncodePrivateKey as _;
        let p256 = p256::SecretKey::random(&mut rng);
        let point = p256.public_key().to_encoded_point(false);
        let p256_jwk = json!({"kty": "EC", "crv": "P-256", "kid": "ec-256",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
        let p256_der = p256.to_pkcs8_der().unwrap().as_bytes().to_vec();

        let p384 = p384::SecretKey::random(&mut rng);
        let point = p384.public_key().to_encoded_point(false);
        let p384_jwk = json!({"kty": "EC", "crv": "P-384", "kid": "ec-384", "alg": "ES384",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
        let p384_der = p384.to_pkcs8_der().unwrap().as_bytes().to_vec();

        let ed = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let ed_jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-1",
            "x": b64(ed.verifying_key().as_bytes())});
        let ed_der = ed.to_pkcs8_der().unwrap().as_bytes().to_vec();
        Keys { rsa_der, rsa_jwk, p256_der, p256_jwk, p384_der, p384_jwk, ed_der, ed_jwk }
    })
}

fn policy(issuer_extra: &str) -> String {
    let k = keys();
    let jwks = json!({"keys": [k.rsa_jwk, k.p256_jwk, k.p384_jwk, k.ed_jwk]});
    format!(
        r#"version: 1
resources:
  - {{name: db, kind: postgres, default_schema: public}}
issuers:
  - issuer: "{ISS}"
    audiences: [writ, other]
    algorithms: [RS256, PS256, ES256, ES384, EdDSA]
    jwks: {jwks}
    principal_prefix: "user:"
    required_claims: [email]
{issuer_extra}  - issuer: legacy
    audiences: [writ]
    algorithms: [HS256]
    shared_secret: legacy-hs
rules:
  - id: analysts-read
    effect: allow
    when: {{groups: [analysts], sql: {{read_only: true}}}}
"#
    )
}

fn engine() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::from_yaml(&policy("")).unwrap_or_else(|e| panic!("{e}"))).clone()
}

fn claims() -> Value {
    json!({"iss": ISS, "aud": "writ", "sub": "alice", "email": "alice@example.com",
           "groups": ["analysts"], "iat": NOW - 10, "exp": NOW + 300})
}

fn sign(header: Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message =
        format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn rs256(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_der(&keys().rsa_der);
    sign(json!({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}), claims, &key, Algorithm::RS256)
}

fn verify(token: &str) -> Result<Principal, TokenError> {
    let trust = Trust::new().shared_secret("legacy-hs", HS_SECRET);
    engine().verify_token(token, &Context::new(&trust).at(NOW))
}

#[test]
fn a_valid_rs256_token_yields_its_principal() {
    let p = verify(&rs256(&claims())).unwrap();
    assert_eq!(p, Principal::new("user:alice", ["analysts"]));
}

#[test]
fn every_asymmetric_algorithm_verifies() {
    let k = keys();
    let cases = [
        (Algorithm::PS256, "rsa-1", EncodingKey::from_rsa_der(&k.rsa_der)),
        (Algorithm::ES256, "ec-256", EncodingKey::from_ec_der(&k.p256_der)),
        (Algorithm::ES384, "ec-384", EncodingKey::from_ec_der(&k.p384_der)),
        (Algorithm::EdDSA, "ed-1", EncodingKey::from_ed_der(&k.ed_der)),
    ];
    for (alg, kid, key) in cases {
        let token = sign(json!({"alg": format!("{alg:?}"), "kid": kid}), &claims(), &key, alg);
        assert_eq!(verify(&token).unwrap().id, "user:alice", "{alg:?}");
    }
}

#[test]
fn the_crypto_backend_really_checks_signatures() {
    // A token signed by another RSA key with the same kid: the backend must say no.
    let mut rng = rand_core::OsRng;
    let other = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
    let key = EncodingKey::from_rsa_der(other.to_pkcs1_der().unwrap().as_bytes());
    let token = sign(json!({"alg": "RS256", "kid": "rsa-1"}), &claims(), &key, Algorithm::RS256);
    assert!(matches!(verify(&token), Err(TokenError::BadSignature { .. })), "{:?}", verify(&token));
}

#[test]
fn a_changed_payload_breaks_the_signature() {
    let token = rs256(&claims());
    let mut forged = claims();
    forged["groups"] = json!(["admins"]);
    let forged_payload = b64(forged.to_string().as_bytes());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert!(matches!(verify(&tampered), Err(TokenError::BadSignature { .. })));
}

#[test]
fn alg_none_is_refused() {
    let token = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims().to_string().as_bytes())
    );
    assert_eq!(verify(&token), Err(TokenError::AlgNone));
    let token = format!("{}x", token);
    assert_eq!(verify(&token), Err(TokenError::AlgNone));
}

#[test]
fn an_hs256_token_made_with_the_rsa_public_key_is_algorithm_confusion() {
    // The classic attack: HMAC keyed with the public key the verifier holds.
    let public = keys().rsa_jwk["n"].as_str().unwrap().as_bytes().to_vec();
    let key = EncodingKey::from_secret(&public);
    let token = sign(json!({"alg": "HS256", "kid": "rsa-1"}), &claims(), &key, Algorithm::HS256);
    assert!(
        matches!(verify(&token), Err(TokenError::AlgorithmConfusion(_))),
        "{:?}",
        verify(&token)
    );
}

#[test]
fn a_key_of_the_wrong_type_for_the_algorithm_is_algorithm_confusion() {
    let key = EncodingKey::from_ec_der(&keys().p256_der);
    let token = sign(json!({"alg": "ES256", "kid": "rsa-1"}), &claims(), &key, Algorithm::ES256);
    let err = verify(&token).unwrap_err();
    assert!(matches!(err, TokenError::AlgorithmConfusion(_)), "{err:?}");
    assert!(err.to_string().contains("an RSA key"), "{err}");
}

#[test]
fn an_algorithm_the_issuer_does_not_allow_is_refused() {
    let key = EncodingKey::from_rsa_der(&keys().rsa_der);
    let token = sign(json!({"alg": "RS512", "kid": "rsa-1"}), &claims(), &key, Algorithm::RS512);
    assert!(matches!(verify(&token), Err(TokenError::AlgorithmNotAllowed { .. })));
}

#[test]
fn an_unknown_kid_is_refused() {
    let key = EncodingKey::from_rsa_der(&keys().rsa_der);
    let token = sign(json!({"alg": "RS256", "kid": "rsa-2"}), &claims(), &key, Algorithm::RS256);
    assert_eq!(
        verify(&token),
        Err(TokenError::UnknownKid { kid: "rsa-2".into(), issuer: ISS.into() })
    );
}

#[test]
fn a_token_without_kid_uses_the_one_fitting_key() {
    let key = EncodingKey::from_rsa_der(&keys().rsa_der);
    let token = sign(json!({"alg": "RS256"}), &claims(), &key, Algorithm::RS256);
    assert_eq!(verify(&token).unwrap().id, "user:alice");
}

#[test]
fn a_wrong_issuer_is_refused() {
    let mut c = claims();
    c["iss"] = json!("https://evil.example.com");
    assert_eq!(verify(&rs256(&c)), Err(TokenError::WrongIssuer("https://evil.example.com".into())));
}

#[test]
fn a_wrong_audience_is_refused_and_a_list_may_name_ours() {
    let mut c = claims();
    c["aud"] = json!("billing");
    assert!(matches!(verify(&rs256(&c)), Err(TokenError::WrongAudience { .. })));
    c["aud"] = json!(["billing", "other"]);
    assert!(verify(&rs256(&c)).is_ok());
}

#[test]
fn expiry_and_not_before_respect_the_leeway() {
    let mut c = claims();
    c["exp"] = json!(NOW - 61);
    assert!(matches!(verify(&rs256(&c)), Err(TokenError::Expired { .. })));
    c["exp"] = json!(NOW - 30);
    assert!(verify(&rs256(&c)).is_ok(), "within the default 60 s leeway");
    let mut c = claims();
    c["nbf"] = json!(NOW + 120);
    let err = verify(&rs256(&c)).unwrap_err();
    assert!(matches!(&err, TokenError::NotYetValid { claim, .. } if claim == "nbf"), "{err:?}");
    let mut c = claims();
    c["iat"] = json!(NOW + 3600);
    assert!(matches!(verify(&rs256(&c)), Err(TokenError::NotYetValid { .. })));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(verify(&rs256(&c)), Err(TokenError::MissingClaim("exp".into())));
}

#[test]
fn malformed_tokens_are_refused() {
    for token in ["", "abc", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30.e30.e30"] {
        assert!(
            matches!(verify(token), Err(TokenError::Malformed(_))),
            "{token}: {:?}",
            verify(token)
        );
    }
    let header_not_json = format!("{}.{}.sig", b64(b"not json"), b64(b"{}"));
    assert!(matches!(verify(&header_not_json), Err(TokenError::Malformed(_))));
    let long = "a".repeat(20_000);
    assert!(matches!(verify(&long), Err(TokenError::Malformed(_))));
}

#[test]
fn a_missing_required_claim_is_refused() {
    let mut c = claims();
    c.as_object_mut().unwrap().remove("email");
    assert_eq!(verify(&rs256(&c)), Err(TokenError::MissingClaim("email".into())));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("sub");
    assert_eq!(verify(&rs256(&c)), Err(TokenError::MissingClaim("sub".into())));
}

#[test]
fn hs256_needs_the_host_secret() {
    let key = EncodingKey::from_secret(HS_SECRET);
    let mut c = claims();
    c["iss"] = json!("legacy");
    let token = sign(json!({"alg": "HS256"}), &c, &key, Algorithm::HS256);
    assert_eq!(verify(&token).unwrap().id, "alice");
    let no_secret = engine().verify_token(&token, &Context::new(&Trust::new()).at(NOW));
    assert_eq!(no_secret, Err(TokenError::MissingSecret("legacy-hs".into())));
    let wrong = EncodingKey::from_secret(b"another secret of at least thirty-two bytes");
    let token = sign(json!({"alg": "HS256"}), &c, &wrong, Algorithm::HS256);
    assert!(matches!(verify(&token), Err(TokenError::BadSignature { .. })));
    // An RS256 token for the HS256 issuer.
    assert!(matches!(verify(&rs256(&c)), Err(TokenError::AlgorithmConfusion(_))));
}

#[test]
fn groups_claims_at_configured_paths() {
    let key = EncodingKey::from_rsa_der(&keys().rsa_der);
    for (path, claims_with_groups) in [
        ("realm_access.roles", json!({"realm_access": {"roles": ["analysts", "x"]}})),
        ("cognito:groups", json!({"cognito:groups": ["analysts"]})),
        ("https://example.com/groups", json!({"https://example.com/groups": ["analysts"]})),
    ] {
        let extra = format!(
            "  - issuer: \"{ISS}/{path}\"\n    audiences: [writ]\n    algorithms: [RS256]\n    jwks: {{keys: [{}]}}\n    groups_claim: \"{path}\"\n    principal_claim: email\n",
            keys().rsa_jwk
        );
        let engine = Engine::from_yaml(&policy(&extra)).unwrap_or_else(|e| panic!("{e}"));
        let mut c = claims();
        c["iss"] = json!(format!("{ISS}/{path}"));
        c.as_object_mut().unwrap().remove("groups");
        for (k, v) in claims_with_groups.as_object().unwrap() {
            c[k] = v.clone();
        }
        let token = sign(json!({"alg": "RS256", "kid": "rsa-1"}), &c, &key, Algorithm::RS256);
        let p = engine.verify_token(&token, &Context::default().at(NOW)).unwrap();
        assert_eq!(p.id, "alice@example.com", "{path}");
        assert!(p.groups.contains(&"analysts".to_owned()), "{path}: {:?}", p.groups);
    }
}

#[test]
fn a_request_may_carry_a_token_instead_of_a_principal() {
    let engine = engine();
    let mut request = Request::sql(Principal::default(), "db", "SELECT 1");
    request.token = Some(rs256(&claims()));
    let ctx = Context::default().at(NOW);
    let checked = engine.check_with(&request, &ctx);
    assert_eq!(checked.decision.effect, Effect::Allow, "{}", checked.decision.reason);
    assert_eq!(checked.principal.unwrap().id, "user:alice");
    // The digest binds the verified principal, not the token.
    let plain = Request::sql(Principal::new("user:alice", ["analysts"]), "db", "SELECT 1");
    assert_eq!(checked.decision.digest, plain.digest());

    let mut c = claims();
    c["exp"] = json!(NOW - 3600);
    request.token = Some(rs256(&c));
    let d = engine.check_with(&request, &ctx).decision;
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.reason.starts_with("token rejected: token expired"), "{}", d.reason);

    let mut both = Request::sql(Principal::new("user:alice", ["analysts"]), "db", "SELECT 1");
    both.token = Some(rs256(&claims()));
    let d = engine.check_with(&both, &ctx).decision;
    assert_eq!(d.effect, Effect::Deny);
    assert!(d.reason.contains("both a principal and a token"), "{}", d.reason);

    let nobody = Request::sql(Principal::default(), "db", "SELECT 1");
    assert_eq!(engine.check(&nobody).effect, Effect::Deny);
}

#[test]
fn requests_with_tokens_read_from_json() {
    let json = r#"{"token": "a.b.c", "resource": "db", "action": {"sql": "SELECT 1"}}"#;
    let request: Request = serde_json::from_str(json).unwrap();
    assert_eq!(request.token.as_deref(), Some("a.b.c"));
    assert!(request.principal.is_absent());
    let back = serde_json::to_string(&request).unwrap();
    assert!(!back.contains("principal"), "{back}");
}

fn policy_error(issuer: &str) -> String {
    let text = format!("version: 1\nresources: [{{name: db, kind: postgres}}]\nissuers:\n{issuer}");
    Engine::from_yaml(&text).unwrap_err().to_string()
}

#[test]
fn issuer_mistakes_are_located_errors() {
    let e = policy_error("  - {issuer: x, audiences: [writ], algorithms: [HS256]}\n");
    assert!(e.contains("<policy>:4:") && e.contains("`HS256` needs `shared_secret"), "{e}");
    let e = policy_error(
        "  - {issuer: x, audiences: [writ], algorithms: [HS256], jwks: {keys: [{kty: oct, kid: k, k: c2VjcmV0}]}}\n",
    );
    assert!(e.contains("symmetric (`oct`) key"), "{e}");
    let e =
        policy_error("  - {issuer: x, audiences: [writ], algorithms: [none], shared_secret: s}\n");
    assert!(e.contains("unknown variant `none`"), "{e}");
    let e = policy_error("  - {issuer: x, audiences: [writ], algorithms: [HS256], secret: s}\n");
    assert!(e.contains("unknown field `secret`"), "{e}");
    let e =
        policy_error("  - {issuer: x, audiences: [], algorithms: [RS256], jwks_file: nope.json}\n");
    assert!(e.contains("at least one non-empty audience"), "{e}");
    assert!(e.contains("cannot read jwks file"), "{e}");
    let e = policy_error(
        "  - {issuer: x, audiences: [a], algorithms: [HS256], shared_secret: s}\n  - {issuer: x, audiences: [a], algorithms: [HS256], shared_secret: s}\n",
    );
    assert!(e.contains("<policy>:5:") && e.contains("duplicate issuer `x`"), "{e}");
}

#[test]
fn a_jwks_file_is_read_relative_to_the_policy_file() {
    let dir = std::env::temp_dir().join(format!("writ-jwks-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let jwks = json!({"keys": [keys().rsa_jwk]});
    std::fs::write(dir.join("keys/idp.json"), jwks.to_string()).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        format!(
            "version: 1\nresources: [{{name: db, kind: postgres}}]\nissuers:\n  - {{issuer: \"{ISS}\", audiences: [writ], algorithms: [RS256], jwks_file: keys/idp.json}}\n"
        ),
    )
    .unwrap();
    let engine = Engine::from_path(&dir).unwrap_or_else(|e| panic!("{e}"));
    let p = engine.verify_token(&rs256(&claims()), &Context::default().at(NOW)).unwrap();
    assert_eq!(p.id, "alice");
    std::fs::remove_dir_all(&dir).unwrap();
}
