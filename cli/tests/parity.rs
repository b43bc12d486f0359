//! Front-end parity, the CLI side: `writ eval --format json` over the requests of
//! `e2e/parity/requests.jsonl` (one run per pack, requests in file order) prints exactly the
//! decisions of `e2e/parity/decisions.jsonl`, byte for byte, and refuses the malformed ones
//! with an error line (see `e2e/parity/README.md`).
//!
//! No `--now` and no key flag: with any of them `eval` adds the host's fields (principal,
//! approval outcome) to each line. No request of the set depends on the clock.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

mod common;

use common::{repo, text, writ};

/// `(id, pack, request text)` of each line of `requests.jsonl`, the request as written.
fn requests() -> Vec<(String, String, String)> {
    let path = repo().join("e2e/parity/requests.jsonl");
    let content = std::fs::read_to_string(&path).unwrap();
    content
        .lines()
        .enumerate()
        .map(|(n, line)| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
            let id = v["id"].as_str().unwrap().to_owned();
            let pack = v["pack"].as_str().unwrap().to_owned();
            // The layout is checked by e2e/tests/parity.rs; the request is what follows it.
            let prefix = format!(r#"{{"id":"{id}","pack":"{pack}","request":"#);
            let raw = line.strip_prefix(&prefix).and_then(|r| r.strip_suffix('}')).unwrap();
            (id, pack, raw.to_owned())
        })
        .collect()
}

#[test]
fn writ_eval_gives_the_golden_decisions() {
    let requests = requests();
    let golden_path = repo().join("e2e/parity/decisions.jsonl");
    let golden = std::fs::read_to_string(&golden_path).unwrap();
    let golden: Vec<&str> = golden.lines().collect();

    // Packs in order of first appearance; each run keeps the file order of its requests.
    let mut packs: Vec<&str> = Vec::new();
    for (_, pack, _) in &requests {
        if !packs.contains(&pack.as_str()) {
            packs.push(pack);
        }
    }
    let mut produced: std::collections::HashMap<&str, String> = Default::default();
    for pack in packs {
        let ours: Vec<&(String, String, String)> =
            requests.iter().filter(|(_, p, _)| p == pack).collect();
        let stdin: String = ours.iter().map(|(_, _, raw)| format!("{raw}\n")).collect();
        let policy = format!("policies/{pack}");
        let out = writ(&["eval", "--policy", &policy, "--format", "json"], &stdin);
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            ours.len(),
            "pack {pack}: {} output lines for {} requests:\n{stdout}\n{}",
            lines.len(),
            ours.len(),
            text(&out.stderr)
        );
        let mut any_error = false;
        let mut any_not_allowed = false;
        for (n, ((id, _, _), line)) in ours.iter().zip(&lines).enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let golden_line = if value.get("error").is_some() {
                // A malformed request: an error naming its line of this run, never a decision.
                assert_eq!(value["line"], n + 1, "{id}: {line}");
                assert_eq!(value.as_object().unwrap().len(), 2, "{id}: {line}");
                any_error = true;
                format!(r#"{{"id":"{id}","error":"invalid request"}}"#)
            } else {
                any_not_allowed |= value["effect"] != "allow";
                format!(r#"{{"id":"{id}","decision":{line}}}"#)
            };
            produced.insert(id.as_str(), golden_line);
        }
        let expected_code = if any_error {
            2
        } else if any_not_allowed {
            1
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(expected_code), "pack {pack}: {}", text(&out.stderr));
    }

    // Line by line against the golden file, in its order: missing, extra and different lines.
    let mut problems = Vec::new();
    let ids: Vec<&str> = requests.iter().map(|(id, _, _)| id.as_str()).collect();
    for i in 0..golden.len().max(ids.len()) {
        match (golden.get(i), ids.get(i)) {
            (Some(g), Some(id)) if produced[id] == *g => {}
            (Some(g), Some(id)) => problems.push(format!(
                "line {}: `{id}` differs:\n  golden: {g}\n  writ eval: {}",
                i + 1,
                produced[id]
            )),
            (Some(g), None) => problems.push(format!("line {}: golden has more lines: {g}", i + 1)),
            (None, Some(id)) => {
                problems.push(format!("line {}: `{id}` is not in the golden file", i + 1))
            }
            (None, None) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "writ eval differs from {} in {} lines:\n{}",
        golden_path.display(),
        problems.len(),
        problems.join("\n")
    );
}
