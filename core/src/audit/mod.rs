//! The audit trail: one event for every decision and every masking pass, written to sinks the
//! host chooses, hash-chained so that an edited, deleted, inserted or reordered event is found.
//!
//! - [`AuditEvent`]: what is recorded. Field names follow the OCSF *API Activity* class
//!   (`class_uid` 6003): `time`, `activity_id`, `actor.user`, `resources`, `api.operation`,
//!   `disposition_id`, `status_id`, `severity_id`, `metadata`. What OCSF has no field for sits
//!   under `writ` (the request, fingerprint, rules, reason, digest, approval, mask report) and
//!   `chain` (sequence number and hashes). `core/DESIGN.md` has the whole mapping.
//! - [`AuditSink`]: the trait a host implements; [`FileSink`] writes hash-chained JSON Lines
//!   with rotation and restart; [`CallbackSink`] hands each event's JSON to a closure (what the
//!   bindings use); [`MemorySink`] keeps events in memory for tests.
//! - [`verify`]: checks a chain across rotated files and reports the first broken link.
//! - [`replay`]: re-decides recorded requests under another policy and lists what changes.
//!
//! Events never hold masked values, tokens, grants or approval tokens: a request is recorded
//! with the principal the policy decided for, its resource and its action.

mod chain;
mod event;
mod file;
mod fingerprint;
mod replay;
mod verify;

pub use chain::{ChainKey, GENESIS};
pub use event::{
    Actor, ApiInfo, AuditEvent, AuditRequest, ChainInfo, Delegate, EventKind, MaskSummary,
    Metadata, ResourceRef, UserRef, WritDetails,
};
pub use file::{FileOptions, FileSink};
pub use fingerprint::fingerprint;
pub use replay::{Change, Replay, ReplayError, Skipped, replay};
pub use verify::{Broken, Verified, rotated_files, verify, verify_files};

use std::sync::Mutex;

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing a log file failed.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// An existing log file could not be continued (a line that is not a chained event).
    #[error("audit log {path}:{line}: {message}")]
    Corrupt {
        /// The file.
        path: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An earlier write failed and the file could not be restored to its last good length:
    /// the sink refuses every later event rather than extend a damaged chain.
    #[error("audit log {path} is unusable after an earlier failure: {message}")]
    Poisoned {
        /// The file.
        path: String,
        /// The earlier failure.
        message: String,
    },
    /// A host sink (a callback) refused the event.
    #[error("audit sink failed: {0}")]
    Sink(String),
}

/// Where events go. Implementations must be safe to call from many threads at once, and must
/// return `Ok` only once the event is as durable as the sink promises (a returned `Ok` is an
/// acknowledgement: the event must survive any later failure of the sink).
pub trait AuditSink: Send + Sync {
    /// Record one event.
    ///
    /// # Errors
    /// Whatever kept the event from being recorded; the host then applies the policy's
    /// `audit.on_failure`.
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError>;
}

/// A sink that hands every event, as one line of JSON, to a closure: how the Python, Node and
/// C bindings let a host receive events. The closure's `Err` is a sink failure.
pub struct CallbackSink {
    callback: Box<Callback>,
}

/// What a [`CallbackSink`] calls.
type Callback = dyn Fn(&str) -> Result<(), String> + Send + Sync;

impl CallbackSink {
    /// A sink calling `callback` with each event's JSON.
    pub fn new(callback: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Self {
        CallbackSink { callback: Box::new(callback) }
    }
}

impl std::fmt::Debug for CallbackSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackSink")
    }
}

impl AuditSink for CallbackSink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let json = serde_json::to_string(event).map_err(|e| AuditError::Sink(e.to_string()))?;
        (self.callback)(&json).map_err(AuditError::Sink)
    }
}

/// A sink that keeps every event in memory (tests, and hosts that batch events themselves).
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// A copy of the events recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        self.events
            .lock()
            .map_err(|_| AuditError::Sink("memory sink lock poisoned".to_owned()))?
            .push(event.clone());
        Ok(())
    }
}
