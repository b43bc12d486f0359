//! Replay: decide every recorded request again under another policy and list what changes.
//!
//! Each decision event holds the request as the policy saw it (the principal it decided for,
//! the resource, the action) and the effect the policy alone gave (`policy_effect`: before a
//! grant's scopes narrowed it and before an approval was honoured). Replay decides that request
//! under the new policy and compares effects. Tokens, grants and approvals are not in the log
//! and are not re-checked: a replay answers "what would this policy have decided", which is
//! the question a policy change raises. Masking events and requests refused before the policy
//! was consulted are counted as skipped, with the reason.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::decision::Effect;
use crate::engine::Engine;

use super::{AuditEvent, AuditRequest, EventKind};

/// The result of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Events read.
    pub events: u64,
    /// Decisions decided again.
    pub replayed: u64,
    /// Decisions whose effect changes, in log order.
    pub changes: Vec<Change>,
    /// Events not decided again, with why.
    pub skipped: Vec<Skipped>,
}

/// One decision that changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Where the event stands.
    pub file: String,
    /// Its 1-based line.
    pub line: usize,
    /// Its chain sequence number, when chained.
    pub seq: Option<u64>,
    /// The request.
    pub request: AuditRequest,
    /// The recorded policy effect.
    pub before: Effect,
    /// The new policy's effect.
    pub after: Effect,
    /// The new policy's deciding rules.
    pub rules: Vec<String>,
    /// The new policy's reason.
    pub reason: String,
}

impl Change {
    /// True when the new policy lets through what the old one stopped or sent to approval
    /// (deny → approval or allow, approval → allow).
    pub fn loosens(&self) -> bool {
        rank(self.after) < rank(self.before)
    }
}

fn rank(effect: Effect) -> u8 {
    match effect {
        Effect::Allow => 0,
        Effect::ApprovalRequired => 1,
        Effect::Deny => 2,
    }
}

/// An event that was not decided again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where the event stands.
    pub file: String,
    /// Its 1-based line.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// Why a log could not be replayed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not an audit event.
    #[error("{path}:{line}: not an audit event: {message}")]
    Event {
        /// The file.
        path: String,
        /// The 1-based line.
        line: usize,
        /// The parse error.
        message: String,
    },
}

/// Decide every decision event of `files` (read in order) again under `engine`.
///
/// # Errors
/// A file cannot be read, or a line is not an event (replay refuses to guess past it: verify
/// the log first).
pub fn replay(files: &[PathBuf], engine: &Engine) -> Result<Replay, ReplayError> {
    let mut out = Replay { events: 0, replayed: 0, changes: Vec::new(), skipped: Vec::new() };
    for path in files {
        replay_file(path, engine, &mut out)?;
    }
    Ok(out)
}

fn replay_file(path: &Path, engine: &Engine, out: &mut Replay) -> Result<(), ReplayError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|source| ReplayError::Io { path: name.clone(), source })?;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| ReplayError::Io { path: name.clone(), source })?;
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let event: AuditEvent = serde_json::from_str(&line).map_err(|e| ReplayError::Event {
            path: name.clone(),
            line: line_no,
            message: e.to_string(),
        })?;
        out.events += 1;
        let skip =
            |reason: &str| Skipped { file: name.clone(), line: line_no, reason: reason.into() };
        if event.writ.kind != EventKind::Decision {
            out.skipped.push(skip("a masking pass, not a decision"));
            continue;
        }
        let (Some(request), Some(before)) = (&event.writ.request, event.writ.policy_effect) else {
            out.skipped.push(skip(&format!(
                "refused before the policy was consulted: {}",
                event.writ.reason
            )));
            continue;
        };
        out.replayed += 1;
        let decision = engine.check(&request.to_request());
        if decision.effect != before {
            out.changes.push(Change {
                file: name.clone(),
                line: line_no,
                seq: event.chain.as_ref().map(|c| c.seq),
                request: request.clone(),
                before,
                after: decision.effect,
                rules: decision.rules,
                reason: decision.reason,
            });
        }
    }
    Ok(())
}
