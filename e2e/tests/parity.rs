//! Front-end parity, the Rust side: every request of `e2e/parity/requests.jsonl` decided
//! through the Rust API gives exactly the line of `e2e/parity/decisions.jsonl` (see
//! `e2e/parity/README.md`). The CLI, Python, Node and C suites compare with the same file.
//!
//! `WRIT_BLESS=1 cargo test -p writ-e2e --test parity` rewrites the golden file from
//! `Engine::check`; review its diff like code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use writ::{Decision, Engine, Host, Request};

/// The fixed clock given to every front end that takes one (`Host::at`, `--now` is not used:
/// it switches `writ eval` to its extended output). No request of the set depends on the
/// clock: `Engine::check` on the system clock must give the same lines.
const NOW: u64 = 1_767_225_600;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn parity_dir() -> PathBuf {
    repo().join("e2e/parity")
}

/// One line of `requests.jsonl`: `{"id":ID,"pack":PACK,"request":REQUEST}`.
struct Line {
    id: String,
    pack: String,
    /// The request's JSON text exactly as written in the file.
    raw: String,
}

/// Reads `requests.jsonl` and checks the layout the C test relies on: compact `id` and `pack`
/// first, in that order, then `request` up to the line's final `}`.
fn requests() -> Vec<Line> {
    let path = parity_dir().join("requests.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), n + 1);
        assert!(!line.trim().is_empty(), "{at}: blank line");
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: not JSON: {e}"));
        let object = value.as_object().unwrap_or_else(|| panic!("{at}: not an object"));
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3, "{at}: expected exactly id, pack and request, got {keys:?}");
        let id = object["id"].as_str().unwrap_or_else(|| panic!("{at}: `id` is not a string"));
        let pack =
            object["pack"].as_str().unwrap_or_else(|| panic!("{at}: `pack` is not a string"));
        assert!(
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{at}: id `{id}` must be lowercase letters, digits and dashes"
        );
        assert!(seen.insert(id.to_owned()), "{at}: duplicate id `{id}`");
        assert!(repo().join("policies").join(pack).is_dir(), "{at}: no pack `{pack}`");
        let prefix = format!(r#"{{"id":"{id}","pack":"{pack}","request":"#);
        let raw = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{at}: the line must read {prefix}REQUEST}}"));
        let request: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(request, object["request"], "{at}: request text");
        lines.push(Line { id: id.to_owned(), pack: pack.to_owned(), raw: raw.to_owned() });
    }
    assert!(lines.len() >= 30, "{}: only {} requests", path.display(), lines.len());
    lines
}

/// The golden line for a decision, or for a request no front end may decide.
fn golden_line(id: &str, decision: Option<&Decision>) -> String {
    let id = serde_json::to_string(id).unwrap();
    match decision {
        Some(decision) => {
            format!(r#"{{"id":{id},"decision":{}}}"#, serde_json::to_string(decision).unwrap())
        }
        None => format!(r#"{{"id":{id},"error":"invalid request"}}"#),
    }
}

/// Compares produced lines with the golden file line by line; a missing, extra or different
/// line is named by its id.
fn assert_matches_golden(front_end: &str, produced: &[String]) {
    let path = parity_dir().join("decisions.jsonl");
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (bless it: WRIT_BLESS=1 cargo test -p writ-e2e --test parity)",
            path.display()
        )
    });
    let golden: Vec<&str> = golden.lines().collect();
    let id_of = |line: &str| -> String {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("<unparsable: {line}>"))
    };
    let mut problems = Vec::new();
    for i in 0..golden.len().max(produced.len()) {
        match (golden.get(i), produced.get(i)) {
            (Some(g), Some(p)) if *g == p.as_str() => {}
            (Some(g), Some(p)) => problems.push(format!(
                "line {}: `{}` differs:\n  golden: {g}\n  {front_end}: {p}",
                i + 1,
                id_of(g)
            )),
            (Some(g), None) => {
                problems.push(format!("line {}: `{}` missing from {front_end}", i + 1, id_of(g)))
            }
            (None, Some(p)) => {
                problems.push(format!("line {}: `{}` extra in {front_end}", i + 1, id_of(p)))
            }
            (None, None) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{front_end} differs from {} in {} lines (bless with WRIT_BLESS=1 only if the change is intended):\n{}",
        path.display(),
        problems.len(),
        problems.join("\n")
    );
}

fn engines(lines: &[Line]) -> BTreeMap<String, Engine> {
    let mut engines = BTreeMap::new();
    for line in lines {
        engines.entry(line.pack.clone()).or_insert_with(|| {
            Engine::from_path(repo().join("policies").join(&line.pack))
                .unwrap_or_else(|e| panic!("pack {} does not compile: {e}", line.pack))
        });
    }
    engines
}

#[test]
fn rust_api_gives_the_golden_decisions() {
    let lines = requests();
    let engines = engines(&lines);
    let mut produced = Vec::new();
    for line in &lines {
        let decision = match serde_json::from_str::<Request>(&line.raw) {
            Ok(request) => {
                let decision = engines[&line.pack].check(&request);
                // The JSON reads back as the same decision.
                let json = serde_json::to_string(&decision).unwrap();
                assert_eq!(
                    serde_json::from_str::<Decision>(&json).unwrap(),
                    decision,
                    "{}",
                    line.id
                );
                Some(decision)
            }
            Err(_) => None,
        };
        produced.push(golden_line(&line.id, decision.as_ref()));
    }
    if std::env::var_os("WRIT_BLESS").is_some_and(|v| v == "1") {
        let path = parity_dir().join("decisions.jsonl");
        std::fs::write(&path, produced.iter().map(|l| format!("{l}\n")).collect::<String>())
            .unwrap();
        eprintln!("wrote {} lines to {}", produced.len(), path.display());
        return;
    }
    assert_matches_golden("Engine::check", &produced);
}

#[test]
fn host_with_a_fixed_clock_gives_the_golden_decisions() {
    let lines = requests();
    let hosts: BTreeMap<String, Host> = engines(&lines)
        .into_iter()
        .map(|(pack, engine)| (pack, Host::new(engine).at(NOW)))
        .collect();
    let produced: Vec<String> = lines
        .iter()
        .map(|line| {
            let decision = serde_json::from_str::<Request>(&line.raw)
                .ok()
                .map(|request| hosts[&line.pack].check(&request).decision);
            golden_line(&line.id, decision.as_ref())
        })
        .collect();
    assert_matches_golden("Host::check", &produced);
}

#[test]
fn the_set_covers_every_pack_and_every_kind_of_request() {
    let lines = requests();
    let packs: HashSet<&str> = lines.iter().map(|l| l.pack.as_str()).collect();
    let on_disk = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .count();
    assert_eq!(packs.len(), on_disk, "every pack in policies/ has requests");
    let raw: String = lines.iter().map(|l| l.raw.as_str()).collect();
    for action in [
        r#""sql":"#,
        r#""command":"#,
        r#""argv":"#,
        r#""http":"#,
        r#""tool":"#,
        r#""token":"#,
        r#""grant":"#,
        r#""approval":"#,
    ] {
        assert!(raw.contains(action), "no request with {action}");
    }
    let malformed =
        lines.iter().filter(|l| serde_json::from_str::<Request>(&l.raw).is_err()).count();
    assert!(malformed >= 3, "only {malformed} malformed requests");
    let golden = std::fs::read_to_string(parity_dir().join("decisions.jsonl")).unwrap();
    for effect in ["allow", "deny", "approval_required"] {
        assert!(golden.contains(&format!(r#"{{"effect":"{effect}""#)), "no decision is {effect}");
    }
    assert!(golden.contains(r#""mask":{"#), "no decision carries a mask plan");
}
