//! writ: policy enforcement for AI agents, automation and the helpers they spawn.
//!
//! writ sits in the data path. For every request it parses what will really run,
//! decides **allow**, **deny** or **approval required** from a declarative policy, and fails
//! closed on anything it cannot understand. It sees SQL statements, shell commands, HTTP
//! requests and tool calls (whose SQL or command arguments it checks as such).
//!
//! - [`policy`]: documents, loading and validation with located errors.
//! - [`sql`]: statement classification.
//! - [`command`]: shell command parsing and normalization.
//! - [`limits`]: bounds on the work one request may cost (the policy's `limits` block).
//! - [`http`]: HTTP request normalization.
//! - [`mask`]: content detectors and masking methods for what comes back.
//! - [`identity`]: JWT verification, host keys ([`identity::Trust`]) and
//!   [`Engine::check_with`] for requests that carry a token, a grant or an approval.
//! - [`grant`]: signed, narrowing grants for nested agents.
//! - [`approval`]: signed approvals bound to one request digest.
//! - [`Engine`]: a compiled policy; [`Engine::check`] turns a [`Request`] into a [`Decision`].
//! - [`Host`]: an engine with the host's keys, audit sinks and grant bookkeeping, and atomic
//!   reload: what the CLI and the bindings embed.
//! - [`audit`]: hash-chained audit events, sinks, verification and replay.
//! - [`cases`]: the policy test-file format shared by the CLI and every binding's tests.
//!
//! See `core/DESIGN.md` for how the modules fit together.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod approval;
pub mod audit;
pub mod cache;
pub mod cases;
pub mod command;
mod decision;
mod engine;
mod explain;
pub mod grant;
mod host;
pub mod http;
pub mod identity;
pub mod limits;
mod lint;
pub mod mask;
pub mod policy;
mod request;
pub mod schema;
pub mod sql;

pub use decision::{ActionView, Decision, Effect, PartDecision, RoutedView, ToolView};
pub use engine::Engine;
pub use explain::{Explanation, PartTrace, RuleTrace};
pub use host::{Host, MaskRowsError};
pub use lint::Lint;
pub use policy::{Diagnostic, PolicyError};
pub use request::{Action, HttpRequest, Principal, Request, ToolCall};

/// Lowercase hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// `bytes` in lower-case hex, appended to `out`.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    // A table lookup per nibble: `write!("{b:02x}")` per byte was a third of a tool-call
    // check's time (benches/HISTORY.md, the group/resource decisions).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')));
        }
    }
}
