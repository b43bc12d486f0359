//! `Host::reload` under load: eight threads check requests while another thread swaps the
//! policy back and forth between two versions that decide every request differently.
//!
//! Checked: no decision is lost (checks made = decisions returned = audit events recorded, per
//! policy version and outcome), none is torn (each decision is exactly what the version it
//! names decides: effect, rules, reason, per-part effects; its audit event says the same), and
//! both versions were really seen by every thread.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use writ::audit::{AuditError, AuditEvent, AuditSink};
use writ::{Decision, Effect, Engine, Host, Principal, Request};

const THREADS: usize = 8;
const CHECKS_PER_THREAD: usize = 2_000;

const RESOURCES: &str = "version: 1\nresources:\n  - {name: db, kind: postgres, default_schema: public}\n  - {name: box, kind: shell}\n";

/// Version 1: reads allowed, deletes denied, DDL needs approval, `ls` allowed.
const V1: &str = "rules:
  - {id: v1-reads, effect: allow, reason: v1 reads, when: {sql: {kinds: [select]}}}
  - {id: v1-no-deletes, effect: deny, reason: v1 no deletes, when: {sql: {kinds: [delete]}}}
  - {id: v1-ddl, effect: approval, reason: v1 ddl, when: {sql: {kinds: [create]}}}
  - {id: v1-ls, effect: allow, reason: v1 ls, when: {command: {programs: [ls]}}}
";

/// Version 2: every one of those decided otherwise.
const V2: &str = "rules:
  - {id: v2-reads-ask, effect: approval, reason: v2 reads ask, when: {sql: {kinds: [select]}}}
  - {id: v2-deletes, effect: allow, reason: v2 deletes, when: {sql: {kinds: [delete]}}}
  - {id: v2-no-ddl, effect: deny, reason: v2 no ddl, when: {sql: {kinds: [create]}}}
  - {id: v2-no-ls, effect: deny, reason: v2 no ls, when: {command: {programs: [ls]}}}
";

fn requests() -> Vec<Request> {
    let who = || Principal::new("agent:a", ["g"]);
    vec![
        Request::sql(who(), "db", "SELECT * FROM orders WHERE id = 1"),
        Request::sql(who(), "db", "DELETE FROM orders WHERE id = 1"),
        Request::sql(who(), "db", "CREATE TABLE t (id int)"),
        Request::sql(who(), "db", "SELECT 1; DELETE FROM orders WHERE id = 2"),
        Request::command(who(), "box", "ls -la"),
    ]
}

/// What a decision says, for comparison and counting.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Outcome {
    policy: String,
    effect: Effect,
    rules: Vec<String>,
    reason: String,
    digest: String,
}

impl Outcome {
    fn of(d: &Decision) -> Outcome {
        Outcome {
            policy: d.policy.clone(),
            effect: d.effect,
            rules: d.rules.clone(),
            reason: d.reason.clone(),
            digest: d.digest.clone(),
        }
    }

    fn of_event(e: &AuditEvent) -> Outcome {
        Outcome {
            policy: e.metadata.policy.clone(),
            effect: e.writ.effect,
            rules: e.writ.rules.clone(),
            reason: e.writ.reason.clone(),
            digest: e.writ.digest.clone(),
        }
    }
}

/// Counts events by outcome.
#[derive(Default)]
struct CountingSink {
    seen: Mutex<HashMap<Outcome, usize>>,
}

impl AuditSink for CountingSink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        *self.seen.lock().unwrap().entry(Outcome::of_event(event)).or_default() += 1;
        Ok(())
    }
}

/// Counts a worker as finished when it returns or panics, so the reloader always stops.
struct Finished(Arc<AtomicUsize>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[test]
fn reload_under_load_loses_and_tears_nothing() {
    let v1 = Engine::from_yaml(&format!("{RESOURCES}{V1}")).unwrap();
    let v2 = Engine::from_yaml(&format!("{RESOURCES}{V2}")).unwrap();
    assert_ne!(v1.policy_version(), v2.policy_version());
    let requests = requests();

    // What each version decides for each request, decided alone beforehand.
    let mut expected: HashMap<(String, usize), Decision> = HashMap::new();
    for engine in [&v1, &v2] {
        for (i, r) in requests.iter().enumerate() {
            expected.insert((engine.policy_version().to_owned(), i), engine.check(r));
        }
    }
    for (i, _) in requests.iter().enumerate() {
        let a = &expected[&(v1.policy_version().to_owned(), i)];
        let b = &expected[&(v2.policy_version().to_owned(), i)];
        assert_ne!(a.effect, b.effect, "request {i} must be decided differently by the versions");
    }

    let host = Arc::new(Host::new(v1.clone()));
    let sink = Arc::new(CountingSink::default());
    host.add_sink(sink.clone());
    let expected = Arc::new(expected);
    let requests = Arc::new(requests);
    let done = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(THREADS + 2));
    let deadline = Instant::now() + Duration::from_secs(60);

    let reloader = {
        let (host, done, start) = (host.clone(), done.clone(), start.clone());
        let (v1, v2) = (v1.clone(), v2.clone());
        thread::spawn(move || {
            start.wait();
            let mut reloads = 0usize;
            while done.load(Ordering::Acquire) < THREADS {
                host.reload(if reloads.is_multiple_of(2) { v2.clone() } else { v1.clone() });
                reloads += 1;
                thread::sleep(Duration::from_micros(50));
            }
            reloads
        })
    };

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (host, expected, requests, done, start) =
                (host.clone(), expected.clone(), requests.clone(), done.clone(), start.clone());
            thread::spawn(move || {
                let _finished = Finished(done);
                start.wait();
                let mut tally: HashMap<Outcome, usize> = HashMap::new();
                let mut checks = 0usize;
                // At least CHECKS_PER_THREAD checks, and on until this thread has seen both
                // versions (so the outcome does not depend on how the threads were scheduled).
                while checks < CHECKS_PER_THREAD
                    || tally.keys().map(|o| &o.policy).collect::<HashSet<_>>().len() < 2
                {
                    if Instant::now() > deadline {
                        panic!("thread {t} saw one policy version only in {checks} checks");
                    }
                    let i = (checks + t) % requests.len();
                    let checked = host.check(&requests[i]);
                    checks += 1;
                    let d = &checked.decision;
                    let Some(want) = expected.get(&(d.policy.clone(), i)) else {
                        panic!("decision names an unknown policy version `{}`", d.policy);
                    };
                    assert_eq!(Outcome::of(d), Outcome::of(want), "torn decision for request {i}");
                    let parts: Vec<Effect> = d.parts.iter().map(|p| p.effect).collect();
                    let want_parts: Vec<Effect> = want.parts.iter().map(|p| p.effect).collect();
                    assert_eq!(parts, want_parts, "torn parts for request {i}");
                    *tally.entry(Outcome::of(d)).or_default() += 1;
                }
                (checks, tally)
            })
        })
        .collect();

    start.wait();
    let mut checks = 0usize;
    let mut decided: HashMap<Outcome, usize> = HashMap::new();
    for w in workers {
        let (n, tally) = w.join().unwrap();
        assert!(n >= CHECKS_PER_THREAD);
        checks += n;
        for (o, c) in tally {
            *decided.entry(o).or_default() += c;
        }
    }
    let reloads = reloader.join().unwrap();

    let recorded = sink.seen.lock().unwrap().clone();
    let decisions: usize = decided.values().sum();
    let events: usize = recorded.values().sum();
    assert_eq!((checks, decisions, events), (checks, checks, checks), "lost decisions or events");
    assert_eq!(decided, recorded, "events and decisions disagree");
    let per_version = |v: &Engine| -> usize {
        decided.iter().filter(|(o, _)| o.policy == v.policy_version()).map(|(_, n)| n).sum()
    };
    let (n1, n2) = (per_version(&v1), per_version(&v2));
    assert!(n1 > 0 && n2 > 0, "both versions must decide: {n1} / {n2}");
    assert!(reloads >= 2, "{reloads} reloads");
    eprintln!("{checks} checks, {reloads} reloads: {n1} under v1, {n2} under v2");
}
