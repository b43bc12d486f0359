//! A bounded cache of decisions for repeated requests.
//!
//! A plain request (no token, grant or approval) is decided from the principal (id and groups),
//! the resource, the action and the policy alone: no clock, no host keys, no revocation list.
//! An engine keeps the decisions of recent plain requests, so an agent that sends the same
//! statement again pays for a hash and a comparison instead of a parse. The cache belongs to
//! the engine, and so to one compiled policy: a reload builds a new engine with an empty cache,
//! and no decision outlives the policy that made it.
//!
//! What is cached: SQL, command-line, argv and HTTP requests whose action is at most
//! [`MAX_CACHED_BYTES`] long. Tool calls are not (their JSON arguments have no cheap hash), nor
//! are long texts (they would make the cache's memory depend on what agents send).
//!
//! How: [`SHARDS`] mutex-guarded maps keyed by a 64-bit keyed hash (std's `RandomState`, seeded
//! per cache, so no one can aim collisions at it) of the request; an entry holds the request
//! itself, and a hit requires the stored request to be equal, so a collision is a miss, never
//! another request's decision. A full shard drops an arbitrary entry to make room.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use crate::decision::Decision;
use crate::request::{Action, Request};

/// Longest action (SQL text, command line, argv bytes, URL) whose decision is cached.
pub const MAX_CACHED_BYTES: usize = 4096;

/// Number of independently locked parts of the cache.
const SHARDS: usize = 16;

/// Entries an engine's cache holds unless the host says otherwise
/// ([`Engine::with_decision_cache`](crate::Engine::with_decision_cache)).
pub const DEFAULT_CACHE_ENTRIES: usize = 4096;

type Shard = HashMap<u64, (Request, Arc<Decision>)>;

/// The decisions of recent plain requests.
pub(crate) struct DecisionCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache").field("entries", &(self.per_shard * SHARDS)).finish()
    }
}

impl DecisionCache {
    /// A cache of about `entries` decisions; `0` caches nothing.
    pub(crate) fn new(entries: usize) -> DecisionCache {
        let per_shard = entries.div_ceil(SHARDS);
        let shards = if per_shard == 0 {
            Vec::new()
        } else {
            (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect()
        };
        DecisionCache { shards, per_shard, hasher: Default::default() }
    }

    /// Whether the cache is on and `request` is one it keeps (plain, not a tool call, short).
    pub(crate) fn keeps(&self, request: &Request) -> bool {
        !self.shards.is_empty() && cacheable(request)
    }

    /// The cached decision for `request`, if any.
    pub(crate) fn get(&self, request: &Request) -> Option<Arc<Decision>> {
        let (key, shard) = self.locate(request)?;
        let map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(&key) {
            Some((stored, decision)) if same(stored, request) => Some(Arc::clone(decision)),
            _ => None,
        }
    }

    /// Remember `decision` for `request` (when the request is cacheable).
    pub(crate) fn put(&self, request: &Request, decision: &Arc<Decision>) {
        let Some((key, shard)) = self.locate(request) else { return };
        let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.per_shard
            && !map.contains_key(&key)
            && let Some(victim) = map.keys().next().copied()
        {
            map.remove(&victim);
        }
        map.insert(key, (plain_copy(request), Arc::clone(decision)));
    }

    /// The key and shard of a cacheable request; `None` when it is not cacheable or the cache
    /// is off.
    fn locate(&self, request: &Request) -> Option<(u64, &Mutex<Shard>)> {
        if !self.keeps(request) {
            return None;
        }
        let mut h = self.hasher.build_hasher();
        request.principal.id.hash(&mut h);
        request.principal.groups.hash(&mut h);
        request.resource.hash(&mut h);
        match &request.action {
            Action::Sql(text) => (0u8, text).hash(&mut h),
            Action::Command(line) => (1u8, line).hash(&mut h),
            Action::Argv(argv) => (2u8, argv).hash(&mut h),
            Action::Http(http) => (3u8, &http.method, &http.url).hash(&mut h),
            // Not cacheable (see `cacheable`).
            Action::Tool(_) => return None,
        }
        let key = h.finish();
        let index = usize::try_from(key % SHARDS as u64).unwrap_or(0);
        self.shards.get(index).map(|shard| (key, shard))
    }
}

/// Plain, and small enough to keep.
fn cacheable(request: &Request) -> bool {
    if request.token.is_some() || request.grant.is_some() || request.approval.is_some() {
        return false;
    }
    let size = match &request.action {
        Action::Sql(text) | Action::Command(text) => text.len(),
        Action::Argv(argv) => argv.iter().map(|a| a.len() + 1).sum(),
        Action::Http(http) => http.method.len() + http.url.len(),
        Action::Tool(_) => return false,
    };
    size <= MAX_CACHED_BYTES
}

/// Equal as far as a plain decision can tell (both are plain: `cacheable` held for each).
fn same(stored: &Request, request: &Request) -> bool {
    stored.principal == request.principal
        && stored.resource == request.resource
        && stored.action == request.action
}

fn plain_copy(request: &Request) -> Request {
    Request {
        principal: request.principal.clone(),
        resource: request.resource.clone(),
        action: request.action.clone(),
        token: None,
        grant: None,
        approval: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use crate::{Engine, Principal};

    fn decision(engine: &Engine, request: &Request) -> Arc<Decision> {
        Arc::new(engine.check(request))
    }

    #[test]
    fn a_hit_needs_the_same_principal_groups_resource_and_action() {
        let engine = Engine::from_yaml(
            "version: 1\nresources: [{name: db, kind: postgres}, {name: other, kind: postgres}]\nrules: []\n",
        )
        .unwrap();
        let cache = DecisionCache::new(64);
        let base = Request::sql(Principal::new("a", ["g"]), "db", "SELECT 1");
        cache.put(&base, &decision(&engine, &base));
        assert!(cache.get(&base).is_some());
        let variants = [
            Request::sql(Principal::new("b", ["g"]), "db", "SELECT 1"),
            Request::sql(Principal::new("a", ["h"]), "db", "SELECT 1"),
            Request::sql(Principal::new("a", ["g", "h"]), "db", "SELECT 1"),
            Request::sql(Principal::new("a", ["g"]), "other", "SELECT 1"),
            Request::sql(Principal::new("a", ["g"]), "db", "SELECT 2"),
            Request::command(Principal::new("a", ["g"]), "db", "SELECT 1"),
        ];
        for v in &variants {
            assert!(cache.get(v).is_none(), "{v:?}");
        }
        let mut with_token = base.clone();
        with_token.token = Some("t".into());
        assert!(cache.get(&with_token).is_none());
        cache.put(&with_token, &decision(&engine, &base));
        let long = Request::sql(Principal::new("a", ["g"]), "db", "x".repeat(MAX_CACHED_BYTES + 1));
        cache.put(&long, &decision(&engine, &long));
        assert!(cache.get(&long).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_size_and_zero_turns_it_off() {
        let engine =
            Engine::from_yaml("version: 1\nresources: [{name: db, kind: postgres}]\n").unwrap();
        let cache = DecisionCache::new(32);
        for i in 0..1000 {
            let r = Request::sql(Principal::new("a", ["g"]), "db", format!("SELECT {i}"));
            cache.put(&r, &decision(&engine, &r));
        }
        let total: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= 32, "{total}");
        let off = DecisionCache::new(0);
        let r = Request::sql(Principal::new("a", ["g"]), "db", "SELECT 1");
        off.put(&r, &decision(&engine, &r));
        assert!(off.get(&r).is_none());
    }
}
