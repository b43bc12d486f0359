//! One check with credentials: a token to verify, a grant chain to intersect, an approval to
//! honour. [`Engine::check`] is [`Engine::check_with`] with an empty [`Context`].
//!
//! # Order (and why)
//! 1. **Who presents the request.** A request names a `principal` (the host authenticated it)
//!    or carries a `token` (a JWT the engine verifies against the policy's issuers), never
//!    both. A request with neither is accepted only with a grant, which is then a bearer
//!    credential. A bad token denies the request.
//! 2. **Under whose authority.** Without a grant, the presenter's. With a grant, the chain is
//!    verified (signatures, hash links, seal, depth, expiry, revocation) and the request acts
//!    for the chain's **root** principal; a presenter, when named, must be the chain's last
//!    delegate.
//! 3. **The policy decides** for that principal, exactly as a plain request (the digest binds
//!    that principal id, the resource and the action).
//! 4. **Every scope of the chain must cover every part** (each scope is evaluated like an
//!    `allow` rule: every statement or command must be covered; a part writ could not fully
//!    understand is covered by no scope). A part outside some scope is denied, so a grant only
//!    ever narrows. A digest-bound grant must match the request's digest and must not be in the
//!    host's used set; [`Checked::consume`] lists the ids to record once the request runs.
//! 5. **An approval** is looked at only when the result is `approval_required`; it can turn
//!    that, and only that, into `allow` (see [`crate::approval`]). It never touches a deny, and
//!    is simply unused when no approval is needed.

use std::sync::OnceLock;

use crate::approval::{self, Approval, ApprovalError};
use crate::decision::{Decision, Effect, PartDecision};
use crate::engine::Engine;
use crate::grant::{self, VerifiedGrant};
use crate::request::{Principal, Request};

use super::keys::{IdSet, Trust};

/// What a check may need beyond the request: the host's [`Trust`], the clock, and the host's
/// sets of revoked and used grant ids.
///
/// # Example
/// ```
/// use std::collections::HashSet;
/// use writ::identity::{Context, Trust};
///
/// let trust = Trust::new();
/// let revoked: HashSet<String> = HashSet::new();
/// let ctx = Context::new(&trust).at(1_700_000_000).revoked(&revoked);
/// assert_eq!(ctx.now(), 1_700_000_000);
/// ```
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    trust: Option<&'a Trust>,
    now: Option<u64>,
    revoked: Option<&'a dyn IdSet>,
    used: Option<&'a dyn IdSet>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("trust", &self.trust)
            .field("now", &self.now)
            .field("revoked", &self.revoked.is_some())
            .field("used", &self.used.is_some())
            .finish()
    }
}

impl<'a> Context<'a> {
    /// A context trusting `trust`, on the system clock, with nothing revoked or used.
    pub fn new(trust: &'a Trust) -> Context<'a> {
        Context { trust: Some(trust), ..Context::default() }
    }

    /// Check at `now` (Unix seconds) instead of the system clock.
    #[must_use]
    pub fn at(mut self, now: u64) -> Context<'a> {
        self.now = Some(now);
        self
    }

    /// Grant and approval ids the host has revoked.
    #[must_use]
    pub fn revoked(mut self, ids: &'a dyn IdSet) -> Context<'a> {
        self.revoked = Some(ids);
        self
    }

    /// Ids of single-use (digest-bound) grants already used.
    #[must_use]
    pub fn used(mut self, ids: &'a dyn IdSet) -> Context<'a> {
        self.used = Some(ids);
        self
    }

    /// The check's time, in Unix seconds.
    pub fn now(&self) -> u64 {
        self.now.unwrap_or_else(super::unix_now)
    }

    /// The host's trust (empty when none was given).
    pub fn trust(&self) -> &'a Trust {
        static EMPTY: OnceLock<Trust> = OnceLock::new();
        self.trust.unwrap_or_else(|| EMPTY.get_or_init(Trust::new))
    }

    pub(crate) fn is_revoked(&self, id: &str) -> bool {
        self.revoked.is_some_and(|set| set.contains_id(id))
    }

    pub(crate) fn is_used(&self, id: &str) -> bool {
        self.used.is_some_and(|set| set.contains_id(id))
    }
}

/// What happened to a request's approval token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalUse {
    /// The request carried none.
    None,
    /// The request carried one, but the decision did not need it (allow or deny).
    Unused,
    /// It turned `approval_required` into `allow`.
    Honoured {
        /// The approval's id.
        id: String,
        /// Who approved.
        approver: String,
    },
    /// It could not be honoured; the decision stays `approval_required`.
    Rejected(ApprovalError),
}

/// The result of [`Engine::check_with`]: the decision and what the host needs beside it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The decision.
    pub decision: Decision,
    /// The principal the policy decided for (the chain's root under a grant); `None` when the
    /// request was refused before one was established.
    pub principal: Option<Principal>,
    /// The verified grant chain, for audit (RFC 8693 `act`-style: root, then each delegate).
    pub grant: Option<VerifiedGrant>,
    /// The effect the policy alone gave that principal, before a grant's scopes narrowed it
    /// and before an approval was honoured: what an audit replay compares. `None` when the
    /// request was refused before the policy was consulted.
    pub policy_effect: Option<Effect>,
    /// Ids of single-use grants this request uses: record them in the host's used set when the
    /// request runs. Empty unless the decision is `allow`.
    pub consume: Vec<String>,
    /// What happened to the approval token.
    pub approval: ApprovalUse,
}

impl Engine {
    /// Decide a request that may carry a token, a grant and an approval. Never fails:
    /// whatever cannot be verified is denied (see the module docs for the order of checks).
    ///
    /// # Example
    /// ```
    /// use writ::{Effect, Engine, Principal, Request};
    /// use writ::identity::{Context, Trust};
    ///
    /// let engine = Engine::from_yaml(
    ///     "version: 1\nresources: [{name: db, kind: postgres}]\nrules:\n  - {id: r, effect: allow, when: {sql: {read_only: true}}}\n",
    /// ).unwrap();
    /// let trust = Trust::new();
    /// let request = Request::sql(Principal::new("agent:a", ["g"]), "db", "SELECT 1");
    /// let checked = engine.check_with(&request, &Context::new(&trust).at(1_700_000_000));
    /// assert_eq!(checked.decision.effect, Effect::Allow);
    /// ```
    pub fn check_with(&self, request: &Request, ctx: &Context<'_>) -> Checked {
        let named = !request.principal.id.is_empty();
        let plain = request.token.is_none() && request.grant.is_none();
        if plain && request.approval.is_none() {
            if !named {
                return self.refused(request, "the request names no principal, token or grant");
            }
            let decision = self.decide(request);
            return Checked {
                policy_effect: Some(decision.effect),
                decision,
                principal: Some(request.principal.clone()),
                grant: None,
                consume: Vec::new(),
                approval: ApprovalUse::None,
            };
        }
        let now = ctx.now();
        let trust = ctx.trust();

        // 1. The presenter.
        let presenter = match (&request.token, named) {
            (Some(_), true) => {
                return self.refused(request, "the request carries both a principal and a token");
            }
            (Some(token), false) => match self.policy.issuers.verify(token, trust, now) {
                Ok(principal) => Some(principal),
                Err(e) => return self.refused(request, &format!("token rejected: {e}")),
            },
            (None, true) => Some(request.principal.clone()),
            (None, false) => None,
        };

        // 2. The authority.
        let (principal, chain) = match &request.grant {
            Some(text) => match grant::verify_chain(text, &trust.grant_keys, now, &|id: &str| {
                ctx.is_revoked(id)
            }) {
                Ok(chain) => {
                    if let Some(p) = &presenter
                        && p.id != chain.leaf().sub
                    {
                        let reason = format!(
                            "grant rejected: it was issued to `{}`, not to `{}`",
                            chain.leaf().sub,
                            p.id
                        );
                        return self.refused(request, &reason);
                    }
                    (chain.root().clone(), Some(chain))
                }
                Err(e) => return self.refused(request, &format!("grant rejected: {e}")),
            },
            None => match &presenter {
                Some(p) => (p.clone(), None),
                None => {
                    return self.refused(request, "the request names no principal, token or grant");
                }
            },
        };

        // 3. The policy, for that principal.
        let resolved = Request {
            principal: principal.clone(),
            resource: request.resource.clone(),
            action: request.action.clone(),
            token: None,
            grant: None,
            approval: None,
        };
        let mut decision = self.decide(&resolved);
        let policy_effect = Some(decision.effect);

        // 4. The grant's scopes.
        let mut consume = Vec::new();
        if let Some(chain) = &chain
            && decision.effect != Effect::Deny
        {
            match grant::admit(
                chain,
                &self.policy,
                &resolved.resource,
                &resolved.action,
                &decision,
                ctx,
            ) {
                Ok(outside) => {
                    apply_part_denials(&mut decision, outside);
                    consume = chain.single_use_ids();
                }
                Err(reason) => deny_all(&mut decision, reason),
            }
        }

        // 5. The approval.
        let mut approval = ApprovalUse::None;
        if let Some(text) = &request.approval {
            approval = ApprovalUse::Unused;
            if decision.effect == Effect::ApprovalRequired {
                let mut requesters: Vec<&str> = vec![principal.id.as_str()];
                if let Some(p) = &presenter {
                    requesters.push(&p.id);
                }
                if let Some(chain) = &chain {
                    requesters.extend(chain.links().iter().map(|l| l.sub.as_str()));
                }
                let result = Approval::verify(text, &trust.approval_keys, now).and_then(|a| {
                    if ctx.is_revoked(&a.id) {
                        return Err(ApprovalError::Revoked(a.id));
                    }
                    approval::honour(&a, &decision, &self.policy, &requesters)?;
                    Ok(a)
                });
                approval = match result {
                    Ok(a) => {
                        approve(&mut decision, &a);
                        ApprovalUse::Honoured { id: a.id, approver: a.approver.id }
                    }
                    Err(e) => {
                        decision.reason =
                            format!("{} (approval not honoured: {e})", decision.reason);
                        ApprovalUse::Rejected(e)
                    }
                };
            }
        }
        if decision.effect != Effect::Allow {
            consume.clear();
        }
        Checked {
            decision,
            principal: Some(principal),
            grant: chain,
            policy_effect,
            consume,
            approval,
        }
    }

    /// Verify a JWT against the policy's issuers at the context's time: what a host calls to
    /// authenticate a principal before minting a root grant for it.
    ///
    /// # Errors
    /// Why the token was rejected, one [`TokenError`](super::TokenError) variant per reason.
    pub fn verify_token(
        &self,
        token: &str,
        ctx: &Context<'_>,
    ) -> Result<Principal, super::TokenError> {
        self.policy.issuers.verify(token, ctx.trust(), ctx.now())
    }

    fn refused(&self, request: &Request, reason: &str) -> Checked {
        Checked {
            decision: Decision {
                effect: Effect::Deny,
                rules: Vec::new(),
                reason: reason.to_owned(),
                digest: request.digest(),
                policy: self.policy_version().to_owned(),
                parts: Vec::new(),
                view: None,
                mask: None,
            },
            principal: None,
            grant: None,
            policy_effect: None,
            consume: Vec::new(),
            approval: if request.approval.is_some() {
                ApprovalUse::Unused
            } else {
                ApprovalUse::None
            },
        }
    }
}

/// Deny the parts a grant does not cover (`(index, reason)`), then recombine the decision as
/// the engine does: the most restrictive part effect, with the rules and first reason of the
/// parts that have it.
fn apply_part_denials(decision: &mut Decision, outside: Vec<(usize, String)>) {
    if outside.is_empty() {
        return;
    }
    for (index, reason) in outside {
        if let Some(part) = decision.parts.get_mut(index) {
            *part = PartDecision { effect: Effect::Deny, rules: Vec::new(), reason };
        }
    }
    let effect = decision.parts.iter().map(|p| p.effect).max().unwrap_or(Effect::Deny);
    let mut rules: Vec<String> = Vec::new();
    let mut reason = None;
    for p in decision.parts.iter().filter(|p| p.effect == effect) {
        reason.get_or_insert_with(|| p.reason.clone());
        for id in &p.rules {
            if !rules.contains(id) {
                rules.push(id.clone());
            }
        }
    }
    decision.effect = effect;
    decision.rules = rules;
    decision.reason = reason.unwrap_or_default();
}

fn deny_all(decision: &mut Decision, reason: String) {
    for part in &mut decision.parts {
        *part = PartDecision { effect: Effect::Deny, rules: Vec::new(), reason: reason.clone() };
    }
    decision.effect = Effect::Deny;
    decision.rules = Vec::new();
    decision.reason = reason;
}

fn approve(decision: &mut Decision, approval: &Approval) {
    let note = format!("approved by `{}` (approval `{}`)", approval.approver.id, approval.id);
    for part in &mut decision.parts {
        if part.effect == Effect::ApprovalRequired {
            part.effect = Effect::Allow;
            part.reason = format!("{note}: {}", part.reason);
        }
    }
    decision.effect = Effect::Allow;
    decision.reason = format!("{note}: {}", decision.reason);
}
