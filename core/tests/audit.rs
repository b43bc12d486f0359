//! The audit trail: events from the host, the hash chain across rotation and restart, tamper
//! detection, concurrent writers, failing sinks, and replay against a new policy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use writ::audit::{
    AuditSink, CallbackSink, ChainKey, EventKind, FileOptions, FileSink, MemorySink, replay,
    verify, verify_files,
};
use writ::grant::{Authority, Grant, GrantSpec};
use writ::identity::{SigningKey, Trust};
use writ::policy::Conditions;
use writ::{Effect, Engine, Host, MaskRowsError, Principal, Request};

const NOW: u64 = 1_800_000_000;

const POLICY: &str = r#"
version: 1
resources:
  - name: crm
    kind: postgres
    default_schema: public
    columns:
      public.customers: [id, name, email]
  - {name: box, kind: shell}
rules:
  - id: read
    effect: allow
    when: {groups: [agents], sql: {read_only: true}}
  - id: orchestrator-writes
    effect: allow
    when: {principals: ["agent:orchestrator"], sql: {kinds: [insert, update]}}
  - id: deletes-need-approval
    effect: approval
    when: {sql: {kinds: [delete]}}
  - id: shell-ls
    effect: allow
    when: {groups: [agents], command: {programs: [ls, cat]}}
masks:
  - id: email
    resources: [crm]
    columns: ["public.customers.email"]
    method: {method: email}
"#;

fn engine(text: &str) -> Engine {
    Engine::from_yaml(text).unwrap_or_else(|e| panic!("{e}"))
}

fn agent() -> Principal {
    Principal::new("agent:analytics", ["agents"])
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("writ-audit-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn requests() -> Vec<Request> {
    vec![
        Request::sql(agent(), "crm", "SELECT id, email FROM customers WHERE id = 42"),
        Request::sql(agent(), "crm", "DELETE FROM customers WHERE id = 7"),
        Request::sql(agent(), "crm", "UPDATE customers SET name = 'x' WHERE id = 1"),
        Request::command(agent(), "box", "ls -la /tmp"),
        Request::command(agent(), "box", "rm -rf /tmp/x"),
        Request::sql(
            Principal::new("agent:orchestrator", ["agents"]),
            "crm",
            "INSERT INTO customers VALUES (1)",
        ),
    ]
}

/// A log of `n` events written through a host.
fn write_log(path: &Path, n: usize, options: FileOptions) {
    let host = Host::new(engine(POLICY)).at(NOW);
    host.add_sink(Arc::new(FileSink::open_with(path, options).unwrap()));
    let reqs = requests();
    for i in 0..n {
        host.check(&reqs[i % reqs.len()]);
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

#[test]
fn events_say_who_did_what_and_what_was_decided() {
    let sink = Arc::new(MemorySink::new());
    let host = Host::new(engine(POLICY)).at(NOW);
    host.add_sink(sink.clone());
    for r in requests() {
        host.check(&r);
    }
    let events = sink.events();
    assert_eq!(events.len(), 6);
    let select = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(select["class_uid"], 6003);
    assert_eq!(select["activity_id"], 2);
    assert_eq!(select["disposition"], "allow");
    assert_eq!(select["actor"]["user"]["uid"], "agent:analytics");
    assert_eq!(select["resources"][0], json!({"name": "crm", "type": "postgres"}));
    assert_eq!(select["api"]["operation"], "sql");
    assert_eq!(select["writ"]["fingerprint"], "select id, email from customers where id = ?");
    assert_eq!(select["writ"]["classification"], json!(["select"]));
    assert_eq!(select["writ"]["rules"], json!(["read"]));
    assert!(select["writ"]["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(select["metadata"]["policy"], engine(POLICY).policy_version());
    assert!(select["writ"]["latency_us"].is_u64());
    let delete = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(
        (delete["activity_id"].clone(), delete["disposition_id"].clone()),
        (json!(4), json!(99))
    );
    assert_eq!(delete["disposition"], "approval_required");
    let rm = serde_json::to_value(&events[4]).unwrap();
    assert_eq!(rm["disposition"], "deny");
    assert_eq!(rm["writ"]["fingerprint"], "rm -r -f ?");
    assert_eq!(rm["writ"]["classification"], json!(["rm"]));
}

#[test]
fn a_delegated_request_records_the_chain_and_never_the_grant() {
    let key = SigningKey::ed25519_from_seed("host", &[9; 32]).unwrap();
    let scope: Conditions =
        serde_norway::from_str("{resources: [crm], sql: {read_only: true}}").unwrap();
    let grant = Grant::mint(
        Authority::Principal(&agent()),
        &GrantSpec::new("agent:helper", scope, 600),
        &key,
        NOW,
    )
    .unwrap()
    .encode();
    let sink = Arc::new(MemorySink::new());
    let host = Host::new(engine(POLICY)).at(NOW);
    host.set_trust(Trust::new().grant_key(key.verifying_key()));
    host.add_sink(sink.clone());
    let mut request = Request::sql(Principal::default(), "crm", "SELECT id FROM customers");
    request.grant = Some(grant.clone());
    assert_eq!(host.check(&request).decision.effect, Effect::Allow);
    // Under the grant, a write the root could not do either stays denied, and the policy's own
    // effect is what the event keeps for replay.
    let mut write =
        Request::sql(Principal::default(), "crm", "UPDATE customers SET name = 'x' WHERE id = 1");
    write.grant = Some(grant.clone());
    assert_eq!(host.check(&write).decision.effect, Effect::Deny);
    let events = sink.events();
    let e = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(e["actor"]["user"]["uid"], "agent:analytics");
    assert_eq!(e["actor"]["delegation"][0]["uid"], "agent:helper");
    assert!(e["actor"]["delegation"][0]["grant_id"].is_string());
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&grant), "the grant token must not be logged");
    assert!(!text.contains("writg1."));
    assert_eq!(events[1].writ.policy_effect, Some(Effect::Deny));
}

#[test]
fn masking_passes_are_audited_with_counts_and_never_values() {
    let sink = Arc::new(MemorySink::new());
    let host = Host::new(engine(POLICY)).at(NOW);
    host.add_sink(sink.clone());
    let request = Request::sql(agent(), "crm", "SELECT id, email FROM customers");
    let checked = host.check(&request);
    assert_eq!(checked.decision.effect, Effect::Allow);
    let mut rows =
        vec![vec![json!(1), json!("alice@example.com")], vec![json!(2), json!("bob@example.org")]];
    let report =
        host.mask_rows(&agent(), "crm", &checked.decision, &["id", "email"], &mut rows).unwrap();
    assert_eq!(report.total(), 2);
    assert_ne!(rows[0][1], json!("alice@example.com"));
    let events = sink.events();
    assert_eq!(events.len(), 2);
    let mask = &events[1];
    assert_eq!(mask.writ.kind, EventKind::Mask);
    let summary = mask.writ.mask.as_ref().unwrap();
    assert_eq!(summary.columns, vec![1]);
    assert_eq!(summary.rows, 2);
    assert_eq!(summary.entities.values().sum::<u64>(), 2);
    let text = serde_json::to_string(mask).unwrap();
    assert!(!text.contains("alice") && !text.contains("bob@"), "{text}");

    // Rows of a request that was not allowed are never returned.
    let denied = host.check(&Request::sql(agent(), "crm", "DELETE FROM customers WHERE id = 1"));
    let mut rows = vec![vec![json!(1), json!("alice@example.com")]];
    let err = host.mask_rows(&agent(), "crm", &denied.decision, &["id", "email"], &mut rows);
    assert!(matches!(err, Err(MaskRowsError::NotAllowed(Effect::ApprovalRequired))));
    assert!(rows.is_empty());
}

#[test]
fn a_failing_sink_denies_by_default_and_the_policy_may_let_it_continue() {
    let failing = || Arc::new(CallbackSink::new(|_| Err("collector unreachable".to_owned())));
    let host = Host::new(engine(POLICY)).at(NOW);
    host.add_sink(failing());
    let d = host.check(&requests()[0]).decision;
    assert_eq!(d.effect, Effect::Deny);
    assert!(
        d.reason.contains("could not be audited") && d.reason.contains("collector unreachable"),
        "{}",
        d.reason
    );

    let relaxed = format!("{POLICY}audit: {{on_failure: continue}}\n");
    let host = Host::new(engine(&relaxed)).at(NOW);
    host.add_sink(failing());
    assert_eq!(host.check(&requests()[0]).decision.effect, Effect::Allow);

    // Two documents may not both say it.
    let err = Engine::compile(&[
        writ::policy::Source {
            name: "a.yaml".into(),
            text: relaxed.clone(),
            format: writ::policy::Format::Yaml,
        },
        writ::policy::Source {
            name: "b.yaml".into(),
            text: "version: 1\naudit: {on_failure: deny}\n".into(),
            format: writ::policy::Format::Yaml,
        },
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("b.yaml:2:") && err.contains("`audit` already set at a.yaml"), "{err}");
}

#[test]
fn verification_finds_edited_deleted_inserted_and_reordered_events() {
    let dir = tempdir("tamper");
    let path = dir.join("audit.jsonl");
    write_log(&path, 8, FileOptions::default());
    let good = lines(&path);
    let report = verify(&path, None, false).unwrap();
    assert_eq!((report.events, report.broken.clone()), (8, None));
    assert_eq!(report.head.as_ref().unwrap().0, 7);

    let broken_at = |edited: Vec<String>| -> (usize, String) {
        let p = dir.join("tampered.jsonl");
        write_lines(&p, &edited);
        let b = verify_files(&[p], None, false).unwrap().broken.expect("tampering went unnoticed");
        (b.line, b.message)
    };

    // Edited: the effect of event 3 turned from deny into allow.
    let mut edited = good.clone();
    let mut v: Value = serde_json::from_str(&edited[4]).unwrap();
    assert_eq!(v["writ"]["effect"], "deny");
    v["writ"]["effect"] = json!("allow");
    edited[4] = v.to_string();
    let (line, message) = broken_at(edited);
    assert_eq!(line, 5);
    assert!(message.contains("does not match its hash"), "{message}");

    // Deleted.
    let mut deleted = good.clone();
    deleted.remove(3);
    let (line, message) = broken_at(deleted);
    assert_eq!(line, 4);
    assert!(message.contains("missing"), "{message}");

    // Inserted: a copy of an earlier event.
    let mut inserted = good.clone();
    inserted.insert(5, good[1].clone());
    let (line, message) = broken_at(inserted);
    assert_eq!(line, 6);
    assert!(message.contains("out of order"), "{message}");

    // Inserted: a forged event whose own hash is right, numbered to fit.
    let mut forged = good.clone();
    let mut v: Value = serde_json::from_str(&good[2]).unwrap();
    v["writ"]["reason"] = json!("forged");
    forged.insert(3, v.to_string());
    assert_eq!(broken_at(forged).0, 4);

    // Reordered.
    let mut reordered = good.clone();
    reordered.swap(2, 3);
    let (line, message) = broken_at(reordered);
    assert_eq!(line, 3);
    assert!(message.contains("follows"), "{message}");

    // The first event removed: the log starts mid-chain.
    let (line, message) = broken_at(good[1..].to_vec());
    assert_eq!(line, 1);
    assert!(message.contains("starts at event 1"), "{message}");
    let p = dir.join("tail.jsonl");
    write_lines(&p, &good[1..]);
    assert!(verify_files(&[p], None, true).unwrap().broken.is_none());

    // Not JSON.
    let mut garbage = good.clone();
    garbage[6] = "{not json".to_owned();
    assert_eq!(broken_at(garbage).0, 7);
}

#[test]
fn a_keyed_chain_defeats_an_attacker_who_rehashes_the_log() {
    let dir = tempdir("keyed");
    let path = dir.join("audit.jsonl");
    let key = ChainKey::new(&[5; 32]).unwrap();
    write_log(&path, 4, FileOptions { key: Some(key.clone()), ..FileOptions::default() });
    assert!(verify(&path, Some(&key), false).unwrap().broken.is_none());
    // Without the key, the keyed hashes cannot be checked.
    let report = verify(&path, None, false).unwrap();
    assert!(report.broken.unwrap().message.contains("keyed"));
    // With another key, nothing verifies.
    let other = ChainKey::new(&[6; 32]).unwrap();
    assert_eq!(verify(&path, Some(&other), false).unwrap().broken.unwrap().line, 1);
}

#[test]
fn rotation_and_restart_keep_one_chain() {
    let dir = tempdir("rotate");
    let path = dir.join("audit.jsonl");
    let options = FileOptions { rotate_bytes: Some(4096), ..FileOptions::default() };
    write_log(&path, 20, options.clone());
    // A restart continues the same chain, in the active file and across later rotations.
    write_log(&path, 15, options);
    let rotated = writ::audit::rotated_files(&path).unwrap();
    assert!(rotated.len() >= 3, "{rotated:?}");
    let report = verify(&path, None, false).unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.events, 35);
    assert_eq!(report.head.unwrap().0, 34);
    for (_, p) in &rotated {
        assert!(std::fs::metadata(p).unwrap().len() <= 4096);
    }
    // A rotated file removed from the middle breaks the chain where it was.
    std::fs::remove_file(&rotated[1].1).unwrap();
    let broken = verify(&path, None, false).unwrap().broken.unwrap();
    assert_eq!(broken.file, rotated[2].1.display().to_string());
    assert!(broken.message.contains("missing"), "{}", broken.message);
}

#[test]
fn many_threads_writing_at_once_lose_no_event_and_keep_the_chain() {
    let dir = tempdir("threads");
    let path = dir.join("audit.jsonl");
    let sink = Arc::new(
        FileSink::open_with(
            &path,
            FileOptions { rotate_bytes: Some(256 * 1024), ..FileOptions::default() },
        )
        .unwrap(),
    );
    let counted = Arc::new(AtomicUsize::new(0));
    let host = Arc::new(Host::new(engine(POLICY)).at(NOW));
    host.add_sink(sink);
    let c = Arc::clone(&counted);
    host.add_sink(Arc::new(CallbackSink::new(move |_| {
        c.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })));
    const THREADS: usize = 8;
    const EACH: usize = 150;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let host = Arc::clone(&host);
            s.spawn(move || {
                let reqs = requests();
                for i in 0..EACH {
                    host.check(&reqs[(i + t) % reqs.len()]);
                }
            });
        }
    });
    assert_eq!(counted.load(Ordering::Relaxed), THREADS * EACH);
    let report = verify(&path, None, false).unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.events, (THREADS * EACH) as u64);
    let mut seqs: Vec<u64> = Vec::new();
    for file in &report.files {
        for line in lines(Path::new(file)) {
            let v: Value = serde_json::from_str(&line).unwrap();
            seqs.push(v["chain"]["seq"].as_u64().unwrap());
        }
    }
    assert_eq!(seqs, (0..(THREADS * EACH) as u64).collect::<Vec<_>>());
}

#[test]
fn replay_reports_exactly_the_decisions_that_change() {
    let dir = tempdir("replay");
    let path = dir.join("audit.jsonl");
    write_log(&path, 6, FileOptions::default());
    // Also a request refused before the policy was consulted, and a masking pass.
    {
        let host = Host::new(engine(POLICY)).at(NOW);
        host.add_sink(Arc::new(FileSink::open(&path).unwrap()));
        host.check(&Request::sql(Principal::default(), "crm", "SELECT 1"));
        let ok = host.check(&Request::sql(agent(), "crm", "SELECT id FROM customers"));
        let mut rows = vec![vec![json!(1)]];
        host.mask_rows(&agent(), "crm", &ok.decision, &["id"], &mut rows).unwrap();
    }
    assert!(verify(&path, None, false).unwrap().broken.is_none());

    // Unchanged policy: nothing changes.
    let same = replay(std::slice::from_ref(&path), &engine(POLICY)).unwrap();
    assert_eq!((same.events, same.replayed, same.changes.len(), same.skipped.len()), (9, 7, 0, 2));

    // New policy: deletes are denied outright, and `rm` becomes allowed. Exactly the DELETE
    // (line 2) and the `rm` (line 5) change; nothing else does.
    let new = POLICY
        .replace(
            "effect: approval\n    when: {sql: {kinds: [delete]}}",
            "effect: deny\n    when: {sql: {kinds: [delete]}}",
        )
        .replace("programs: [ls, cat]", "programs: [ls, cat, rm]");
    let result = replay(&[path], &engine(&new)).unwrap();
    let changes: Vec<(usize, Effect, Effect, bool)> =
        result.changes.iter().map(|c| (c.line, c.before, c.after, c.loosens())).collect();
    assert_eq!(
        changes,
        vec![
            (2, Effect::ApprovalRequired, Effect::Deny, false),
            (5, Effect::Deny, Effect::Allow, true),
        ]
    );
    assert_eq!(result.changes[1].request.principal.id, "agent:analytics");
    assert_eq!(result.skipped.len(), 2);
    assert!(result.skipped[0].reason.contains("names no principal"), "{:?}", result.skipped);
}

#[test]
fn a_callback_sink_receives_each_event_as_json() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let sink = CallbackSink::new(move |json| {
        s.lock().unwrap().push(json.to_owned());
        Ok(())
    });
    let host = Host::new(engine(POLICY)).at(NOW);
    host.add_sink(Arc::new(sink));
    host.check(&requests()[3]);
    let seen = seen.lock().unwrap();
    let v: Value = serde_json::from_str(&seen[0]).unwrap();
    assert_eq!(v["api"]["operation"], "command");
    let _: &dyn AuditSink = &MemorySink::new();
}
