//! The decision cache never changes a decision: for every request of every policy pack's test
//! cases, the decision an engine with a cache gives (first miss, then hits, shared or copied)
//! is the decision an engine without one gives, and a host reload starts from an empty cache.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::PathBuf;
use std::sync::Arc;

use writ::cases::{TestFile, test_files_in};
use writ::{Effect, Engine, Host, Principal, Request};

fn pack_requests() -> Vec<(PathBuf, Vec<Request>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut packs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    packs.sort();
    packs
        .into_iter()
        .map(|pack| {
            let requests = test_files_in(&pack)
                .unwrap()
                .iter()
                .flat_map(|f| TestFile::read(f).unwrap().cases)
                .map(|c| c.request)
                .collect();
            (pack, requests)
        })
        .collect()
}

#[test]
fn cached_decisions_are_the_decisions_of_an_engine_without_a_cache() {
    let mut compared = 0;
    for (pack, requests) in pack_requests() {
        let cached = Engine::from_path(&pack).unwrap();
        let uncached = Engine::from_path(&pack).unwrap().with_decision_cache(0);
        // Twice over: the first pass fills the cache, the second reads it.
        for round in 0..2 {
            for request in &requests {
                let want = serde_json::to_value(uncached.check(request)).unwrap();
                let copied = serde_json::to_value(cached.check(request)).unwrap();
                let shared = serde_json::to_value(&*cached.check_shared(request)).unwrap();
                assert_eq!(copied, want, "{} round {round}: {request:?}", pack.display());
                assert_eq!(shared, want, "{} round {round}: {request:?}", pack.display());
                compared += 1;
            }
        }
    }
    assert!(compared > 200, "only {compared} requests compared");
}

#[test]
fn a_hit_is_the_same_shared_decision_and_a_changed_request_is_a_miss() {
    let engine = Engine::from_yaml(
        "version: 1\nresources: [{name: db, kind: postgres}]\nrules:\n  - {id: reads, effect: allow, when: {groups: [readers], sql: {read_only: true}}}\n",
    )
    .unwrap();
    let reader = Request::sql(Principal::new("a", ["readers"]), "db", "SELECT 1");
    let first = engine.check_shared(&reader);
    let again = engine.check_shared(&reader);
    assert!(Arc::ptr_eq(&first, &again), "the second check did not hit the cache");
    assert_eq!(first.effect, Effect::Allow);
    // Same text, another group: decided afresh, and denied.
    let outsider = Request::sql(Principal::new("a", ["others"]), "db", "SELECT 1");
    assert_eq!(engine.check_shared(&outsider).effect, Effect::Deny);
    // A request with a token is never served from the cache (it is verified every time).
    let mut tokened = reader.clone();
    tokened.principal = Principal::default();
    tokened.token = Some("not-a-jwt".into());
    assert_eq!(engine.check_shared(&tokened).effect, Effect::Deny);
    // An engine without a cache makes a new decision each time.
    let off = engine.clone().with_decision_cache(0);
    assert!(!Arc::ptr_eq(&off.check_shared(&reader), &off.check_shared(&reader)));
}

#[test]
fn a_reload_never_serves_a_decision_of_the_old_policy() {
    let allow =
        "version: 1\nresources: [{name: db, kind: postgres}]\nrules: [{id: all, effect: allow}]\n";
    let deny = "version: 1\nresources: [{name: db, kind: postgres}]\nrules: []\n";
    let host = Host::new(Engine::from_yaml(allow).unwrap());
    let request = Request::sql(Principal::new("a", ["g"]), "db", "DELETE FROM t");
    for _ in 0..3 {
        assert_eq!(host.check(&request).decision.effect, Effect::Allow);
    }
    host.reload(Engine::from_yaml(deny).unwrap());
    for _ in 0..3 {
        assert_eq!(host.check(&request).decision.effect, Effect::Deny);
    }
}
