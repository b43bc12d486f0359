//! Decisions as JSON: a decision the engine makes serializes, deserializes to an equal value, and
//! serializes again to the same bytes; arbitrary text read as a decision never panics, and what
//! parses round-trips the same way.
//!
//! Input: the first byte picks one of the policy packs of `policies/`; the second picks the
//! action kind (or, from 0xf0 up, reads the rest as decision JSON). The rest is UTF-8 fields
//! separated by U+001F: principal id, groups (comma-separated), resource, then the action text:
//! SQL, a command line, an argv (NUL-separated), `METHOD URL`, or a tool name, a newline and its
//! JSON arguments.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use writ::{Action, Decision, Engine, HttpRequest, Principal, Request, ToolCall};

/// The policy packs, in the order the first byte picks them.
const POLICIES: [&str; 7] = [
    include_str!("../../policies/aws-cli/policy.yaml"),
    include_str!("../../policies/coding-agent-shell/policy.yaml"),
    include_str!("../../policies/customer-masking/policy.yaml"),
    include_str!("../../policies/data-agents/policy.yaml"),
    include_str!("../../policies/kubernetes-ops/policy.yaml"),
    include_str!("../../policies/mcp-agent/policy.yaml"),
    include_str!("../../policies/orchestrator-grants/policy.yaml"),
];

fn engines() -> &'static [Engine] {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        POLICIES.iter().map(|p| Engine::from_yaml(p).expect("a policy pack compiles")).collect()
    })
}

fn request(kind: u8, text: &str) -> Request {
    let mut fields = text.splitn(4, '\u{1f}');
    let id = fields.next().unwrap_or_default();
    let groups: Vec<&str> =
        fields.next().unwrap_or_default().split(',').filter(|g| !g.is_empty()).collect();
    let resource = fields.next().unwrap_or_default();
    let body = fields.next().unwrap_or_default();
    let action = match kind % 5 {
        0 => Action::Sql(body.to_owned()),
        1 => Action::Command(body.to_owned()),
        2 => Action::Argv(body.split('\0').map(str::to_owned).collect()),
        3 => {
            let (method, url) = body.split_once(' ').unwrap_or((body, ""));
            Action::Http(HttpRequest { method: method.to_owned(), url: url.to_owned() })
        }
        _ => {
            let (name, arguments) = body.split_once('\n').unwrap_or((body, "{}"));
            let arguments = serde_json::from_str(arguments)
                .unwrap_or_else(|_| serde_json::Value::String(arguments.to_owned()));
            Action::Tool(ToolCall { name: name.to_owned(), arguments })
        }
    };
    Request::new(Principal::new(id, groups), resource, action)
}

/// `decision` → JSON → an equal decision → the same JSON.
fn round_trip(decision: &Decision) {
    let json = serde_json::to_string(decision).expect("a decision serializes");
    let back: Decision = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("a serialized decision does not deserialize: {e}\n{json}"));
    assert_eq!(&back, decision, "the round trip changed the decision: {json}");
    let again = serde_json::to_string(&back).expect("a decision serializes");
    assert_eq!(again, json, "serializing again gave other bytes");
}

fuzz_target!(|data: &[u8]| {
    let [policy, kind, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if *kind >= 0xf0 {
        if let Ok(decision) = serde_json::from_str::<Decision>(text) {
            round_trip(&decision);
        }
        return;
    }
    let engines = engines();
    let engine = &engines[usize::from(*policy) % engines.len()];
    round_trip(&engine.check(&request(*kind, text)));
});
