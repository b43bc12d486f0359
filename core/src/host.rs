//! [`Host`]: an engine with what a host process keeps beside it — its keys, the audit sinks,
//! the sets of revoked and used grant ids, the masking key — and atomic policy reload.
//!
//! The CLI and every binding (Python, Node, C) go through a `Host`, so a check, its audit
//! event and the consumption of a single-use grant happen the same way everywhere; the
//! bindings only translate values.
//!
//! # Invariants
//! - Every [`Host::check`] writes one audit event to every sink; every [`Host::mask_rows`]
//!   writes one masking event. When a sink fails and the policy's `audit.on_failure` is `deny`
//!   (the default), the request is denied: nothing runs unrecorded.
//! - A single-use grant is consumed at most once, even by concurrent checks: the used set is
//!   updated under a lock after the decision, and a check that finds its ids taken is denied.
//! - [`Host::reload`] swaps the engine atomically: a check runs wholly under the old policy or
//!   wholly under the new one.
//! - A `Host` is `Send + Sync`; share one between threads.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::audit::{AuditError, AuditEvent, AuditSink, MaskSummary};
use crate::decision::{Decision, Effect};
use crate::engine::Engine;
use crate::identity::{Checked, Context, Trust};
use crate::mask::{Detectors, MaskError, MaskReport, Masker, MaskerError};
use crate::policy::AuditFailure;
use crate::request::{Principal, Request};

/// Why masking could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaskRowsError {
    /// The decision does not allow the request: its result must not be read at all.
    #[error("the decision is `{0}`, not `allow`: the result must not be returned")]
    NotAllowed(Effect),
    /// The plan cannot be applied to this result.
    #[error(transparent)]
    Masker(#[from] MaskerError),
    /// The host's detectors could not be built.
    #[error("content detectors unavailable: {0}")]
    Detectors(String),
    /// The masking event could not be recorded and the policy fails closed.
    #[error("the masking pass could not be audited: {0}")]
    Audit(AuditError),
}

/// An engine with the host's keys, sinks and grant bookkeeping (see the module docs).
pub struct Host {
    engine: RwLock<Arc<Engine>>,
    trust: RwLock<Arc<Trust>>,
    sinks: RwLock<Vec<Arc<dyn AuditSink>>>,
    revoked: RwLock<HashSet<String>>,
    used: RwLock<HashSet<String>>,
    mask_key: Option<Vec<u8>>,
    detectors: Result<Detectors, MaskError>,
    clock: Option<u64>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("policy", &self.engine().policy_version())
            .field("sinks", &read(&self.sinks).len())
            .field("mask_key", &self.mask_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A host for `engine`, with no keys, no sinks and the system clock.
    ///
    /// # Example
    /// ```
    /// use std::sync::Arc;
    /// use writ::{Effect, Engine, Host, Principal, Request};
    /// use writ::audit::MemorySink;
    ///
    /// let engine = Engine::from_yaml(
    ///     "version: 1\nresources: [{name: db, kind: postgres}]\nrules:\n  - {id: r, effect: allow, when: {sql: {read_only: true}}}\n",
    /// ).unwrap();
    /// let sink = Arc::new(MemorySink::new());
    /// let host = Host::new(engine);
    /// host.add_sink(sink.clone());
    /// let checked = host.check(&Request::sql(Principal::new("agent:a", ["g"]), "db", "SELECT 1"));
    /// assert_eq!(checked.decision.effect, Effect::Allow);
    /// assert_eq!(sink.events().len(), 1);
    /// ```
    pub fn new(engine: Engine) -> Host {
        Host {
            engine: RwLock::new(Arc::new(engine)),
            trust: RwLock::new(Arc::new(Trust::new())),
            sinks: RwLock::new(Vec::new()),
            revoked: RwLock::new(HashSet::new()),
            used: RwLock::new(HashSet::new()),
            mask_key: None,
            detectors: Detectors::with_defaults(),
            clock: None,
        }
    }

    /// Use `key` for keyed masking methods (`hash`, `format_preserving`): the host's secret,
    /// never the policy's.
    ///
    /// # Errors
    /// The key is too weak for HMAC-SHA-256 masking.
    pub fn with_mask_key(mut self, key: &[u8]) -> Result<Host, MaskError> {
        self.detectors = Ok(Detectors::builder().hmac_key(key.to_vec()).build()?);
        self.mask_key = Some(key.to_vec());
        Ok(self)
    }

    /// Decide at a fixed Unix time instead of the system clock (tests, replays).
    pub fn at(mut self, now: u64) -> Host {
        self.clock = Some(now);
        self
    }

    /// Replace the keys grants, approvals and shared-secret tokens are verified with.
    pub fn set_trust(&self, trust: Trust) {
        *write(&self.trust) = Arc::new(trust);
    }

    /// Send every later event to `sink` too.
    pub fn add_sink(&self, sink: Arc<dyn AuditSink>) {
        write(&self.sinks).push(sink);
    }

    /// Revoke a grant link or approval by id: later checks using it are denied.
    pub fn revoke(&self, id: impl Into<String>) {
        write(&self.revoked).insert(id.into());
    }

    /// The current engine.
    pub fn engine(&self) -> Arc<Engine> {
        Arc::clone(&read(&self.engine))
    }

    /// Swap in a new engine; checks already running finish under the old one.
    pub fn reload(&self, engine: Engine) {
        *write(&self.engine) = Arc::new(engine);
    }

    /// Decide a request, record its audit event, and consume its single-use grants when it is
    /// allowed. Never fails: whatever cannot be verified or recorded is denied.
    pub fn check(&self, request: &Request) -> Checked {
        let started = Instant::now();
        let time_ms = unix_millis();
        let engine = self.engine();
        let trust = Arc::clone(&read(&self.trust));
        let now = self.clock.unwrap_or_else(crate::identity::unix_now);
        let mut checked = {
            let revoked = read(&self.revoked);
            let used = read(&self.used);
            let ctx = Context::new(&trust).at(now).revoked(&*revoked).used(&*used);
            engine.check_with(request, &ctx)
        };
        if !checked.consume.is_empty() {
            let mut used = write(&self.used);
            if let Some(id) = checked.consume.iter().find(|id| used.contains(*id)) {
                let reason = format!("single-use grant `{id}` was already used");
                deny(&mut checked.decision, &reason);
                checked.consume.clear();
            } else {
                used.extend(checked.consume.iter().cloned());
            }
        }
        let kind = engine.resource_kind_name(&request.resource);
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if let Err(e) =
            self.emit_with(|| AuditEvent::decision(request, &checked, kind, time_ms, latency_us))
            && engine.audit_on_failure() == AuditFailure::Deny
            && checked.decision.effect != Effect::Deny
        {
            deny(&mut checked.decision, &format!("the request could not be audited: {e}"));
            self.release(&checked.consume);
            checked.consume.clear();
        }
        checked
    }

    /// Mask `rows` (values in the order of `columns`, the result's column names) of the result
    /// of an allowed request, as `decision`'s mask plan says, and record one masking event.
    ///
    /// A decision without a mask plan leaves the rows as they are (an event is still written).
    ///
    /// # Errors
    /// [`MaskRowsError::NotAllowed`] when the decision is not `allow` (the rows are cleared so
    /// nothing leaks by accident); [`MaskRowsError::Masker`] when the plan does not fit the
    /// result or needs a key the host lacks; [`MaskRowsError::Audit`] when the event cannot be
    /// recorded and the policy fails closed (the rows are cleared).
    pub fn mask_rows(
        &self,
        principal: &Principal,
        resource: &str,
        decision: &Decision,
        columns: &[impl AsRef<str>],
        rows: &mut Vec<Vec<Value>>,
    ) -> Result<MaskReport, MaskRowsError> {
        let started = Instant::now();
        let time_ms = unix_millis();
        if decision.effect != Effect::Allow {
            rows.clear();
            return Err(MaskRowsError::NotAllowed(decision.effect));
        }
        let (report, masked) = match &decision.mask {
            Some(plan) => {
                let detectors =
                    self.detectors.as_ref().map_err(|e| MaskRowsError::Detectors(e.to_string()))?;
                let masker = Masker::new(plan, columns, detectors, self.mask_key.as_deref())?;
                let report = masker.mask_rows(rows);
                (report, masker.masked_columns())
            }
            None => (MaskReport::default(), Vec::new()),
        };
        let engine = self.engine();
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if let Err(e) = self.emit_with(|| {
            AuditEvent::masking(
                principal,
                resource,
                engine.resource_kind_name(resource),
                decision,
                MaskSummary::new(masked, rows.len() as u64, &report),
                time_ms,
                latency_us,
            )
        }) && engine.audit_on_failure() == AuditFailure::Deny
        {
            rows.clear();
            return Err(MaskRowsError::Audit(e));
        }
        Ok(report)
    }

    /// Write the event `event` builds to every sink; the first failure (all sinks are still
    /// tried). With no sink the event is not built: building one costs more than a cached
    /// check (a SQL event carries the statement's fingerprint, which tokenizes the text again).
    fn emit_with(&self, event: impl FnOnce() -> AuditEvent) -> Result<(), AuditError> {
        let sinks: Vec<Arc<dyn AuditSink>> = read(&self.sinks).clone();
        if sinks.is_empty() {
            return Ok(());
        }
        let event = event();
        let mut first = None;
        for sink in sinks {
            if let Err(e) = sink.record(&event) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn release(&self, ids: &[String]) {
        let mut used = write(&self.used);
        for id in ids {
            used.remove(id);
        }
    }
}

/// A read lock. A poisoned lock still guards a consistent value here: every write is a single
/// insert, push or assignment, so a panic elsewhere cannot leave it half done.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// A write lock (see [`read`]).
fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn deny(decision: &mut Decision, reason: &str) {
    decision.effect = Effect::Deny;
    decision.rules.clear();
    decision.reason = reason.to_owned();
    decision.mask = None;
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
