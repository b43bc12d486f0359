//! Approvals: a person's signed yes for one exact request.
//!
//! An `approval_required` decision carries the request's digest
//! ([`Request::digest`](crate::Request::digest): principal id, resource and action; SQL is
//! trimmed of surrounding white space and trailing semicolons and nothing else, so comments,
//! case and inner spacing all count). The host shows the request to an approver, and signs an
//! approval token with its approval key: approver id and groups, the digest, an expiry, and
//! optionally the rule ids approved. Sent back with the same request, the token turns
//! `approval_required` into `allow` when:
//! - it verifies with a key of [`Trust::approval_keys`](crate::identity::Trust) and has not
//!   expired (no leeway: the host's own clock signed it) nor been revoked;
//! - its digest is the request's (change one meaningful byte and it no longer applies);
//! - it names every rule that asked for approval, when it names rules at all;
//! - for **every** rule that asked, the approver is in one of the rule's `approvers` groups;
//! - the approver is not the requester: not the principal the policy decided for, not the
//!   presenter, not any delegate of the grant chain.
//!
//! # Decisions
//! - An approval rule must name `approvers:` for an approval to be honoured; a rule without
//!   them (and an `approval_required` that comes from `defaults`) can only be resolved outside
//!   writ. This keeps "who may approve" in the policy, reviewed with it.
//! - An approval never turns a deny into allow, and an approval for a request that needs none
//!   is simply unused ([`ApprovalUse::Unused`](crate::identity::ApprovalUse)).
//! - An approval may be presented again for the same request until it expires; a host that
//!   wants one-shot approvals records [`Approval::id`] and revokes it after use.
//!
//! Format: `writa1.` followed by one signed segment (see `identity/envelope.rs`), signed over
//! the domain `writ-approval-v1`, so a grant link can never pass as an approval.

use serde::{Deserialize, Serialize};

use crate::decision::{Decision, Effect};
use crate::identity::envelope::{self, SealError};
use crate::identity::{KeyRing, SigningKey};
use crate::policy::source::at_path;
use crate::policy::{Checker, CompiledPolicy, RuleDoc, RuleEffect};
use crate::request::Principal;

/// Prefix of an approval token.
pub const APPROVAL_PREFIX: &str = "writa1.";
/// Signature domain of approvals.
const DOMAIN: &str = "writ-approval-v1";
/// The longest TTL an approval may be signed with, in seconds (one day).
pub const MAX_APPROVAL_TTL: u64 = 86_400;
/// The longest approval token accepted, in bytes.
const MAX_APPROVAL_BYTES: usize = 8 * 1024;

/// Why an approval was not honoured (or could not be signed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// Not an approval token.
    #[error("malformed approval: {0}")]
    Malformed(String),
    /// Signed with a key the host does not trust.
    #[error("approval is signed with unknown key `{0}`")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("approval has a bad signature (tampered)")]
    BadSignature,
    /// Expired.
    #[error("approval `{id}` expired at {exp} (now {now})")]
    Expired {
        /// The approval's id.
        id: String,
        /// Its expiry.
        exp: u64,
        /// The check's clock.
        now: u64,
    },
    /// Issued in the future.
    #[error("approval `{id}` is issued in the future ({iat}; now {now})")]
    NotYetValid {
        /// The approval's id.
        id: String,
        /// Its `iat`.
        iat: u64,
        /// The check's clock.
        now: u64,
    },
    /// Revoked by the host.
    #[error("approval `{0}` is revoked")]
    Revoked(String),
    /// Bound to another request.
    #[error("approval is for request {approved}, not for this one ({actual})")]
    WrongDigest {
        /// The digest approved.
        approved: String,
        /// This request's digest.
        actual: String,
    },
    /// The approval names rules, and not this one.
    #[error("approval does not cover rule `{0}`")]
    RuleNotApproved(String),
    /// The rule that asked for approval names no approver groups (or a default asked).
    #[error("{0} names no approvers, so no approval can satisfy it")]
    NoApprovers(String),
    /// The approver is in none of the rule's approver groups.
    #[error("approver `{approver}` is in none of the approver groups of rule `{rule}` ({groups})")]
    WrongGroup {
        /// The approver.
        approver: String,
        /// The rule.
        rule: String,
        /// Its approver groups.
        groups: String,
    },
    /// The approver is the requester (or a delegate acting for it).
    #[error("`{0}` cannot approve its own request")]
    SelfApproval(String),
    /// A sign request that makes no sense.
    #[error("cannot sign approval: {0}")]
    Invalid(String),
}

/// A signed approval's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Unique id (for audit, and for hosts that revoke approvals after one use).
    pub id: String,
    /// Id of the key that signed it.
    pub kid: String,
    /// Who approved, with the groups the host vouches for.
    pub approver: Principal,
    /// The digest of the approved request.
    pub digest: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// The rule ids approved; `None` approves whichever rules asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<String>>,
}

/// What to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSpec {
    /// The approver (authenticated by the host).
    pub approver: Principal,
    /// The digest from the `approval_required` decision.
    pub digest: String,
    /// Lifetime in seconds (at most [`MAX_APPROVAL_TTL`]).
    pub ttl: u64,
    /// Approve only these rules.
    #[serde(default)]
    pub rules: Option<Vec<String>>,
}

impl Approval {
    /// Sign an approval at `now`; returns the token (`writa1.…`).
    ///
    /// # Errors
    /// [`ApprovalError::Invalid`] for an approver without id, a malformed digest or a TTL
    /// outside 1..=[`MAX_APPROVAL_TTL`].
    pub fn sign(spec: &ApprovalSpec, key: &SigningKey, now: u64) -> Result<String, ApprovalError> {
        if spec.approver.id.is_empty() {
            return Err(ApprovalError::Invalid("the approver has no id".into()));
        }
        if !crate::grant::is_digest(&spec.digest) {
            return Err(ApprovalError::Invalid(format!(
                "`{}` is not a request digest",
                spec.digest
            )));
        }
        if spec.ttl == 0 || spec.ttl > MAX_APPROVAL_TTL {
            return Err(ApprovalError::Invalid(format!(
                "ttl must be between 1 and {MAX_APPROVAL_TTL} seconds, not {}",
                spec.ttl
            )));
        }
        let approval = Approval {
            id: crate::grant::new_id(),
            kid: key.kid().to_owned(),
            approver: spec.approver.clone(),
            digest: spec.digest.clone(),
            iat: now,
            exp: now.saturating_add(spec.ttl),
            rules: spec.rules.clone(),
        };
        let segment = envelope::seal(DOMAIN, &envelope::compact_json(&approval), key);
        Ok(format!("{APPROVAL_PREFIX}{segment}"))
    }

    /// Read an approval token without checking it: for inspection only.
    ///
    /// # Errors
    /// [`ApprovalError::Malformed`].
    pub fn parse(token: &str) -> Result<Approval, ApprovalError> {
        envelope::peek(segment(token)?).map_err(|e| ApprovalError::Malformed(seal_why(e)))
    }

    /// Check an approval token's signature and times at `now`. Whether it applies to a
    /// request is decided by the engine ([`Engine::check_with`](crate::Engine::check_with)).
    ///
    /// # Errors
    /// [`ApprovalError::Malformed`], [`ApprovalError::UnknownKey`],
    /// [`ApprovalError::BadSignature`], [`ApprovalError::Expired`],
    /// [`ApprovalError::NotYetValid`].
    pub fn verify(token: &str, keys: &KeyRing, now: u64) -> Result<Approval, ApprovalError> {
        let approval: Approval =
            envelope::open(DOMAIN, segment(token)?, keys).map_err(|e| match e {
                SealError::UnknownKey(kid) => ApprovalError::UnknownKey(kid),
                SealError::BadSignature => ApprovalError::BadSignature,
                SealError::Malformed(why) => ApprovalError::Malformed(why),
            })?;
        if approval.exp <= now {
            return Err(ApprovalError::Expired { id: approval.id, exp: approval.exp, now });
        }
        if approval.iat > now.saturating_add(60) {
            return Err(ApprovalError::NotYetValid { id: approval.id, iat: approval.iat, now });
        }
        Ok(approval)
    }
}

fn segment(token: &str) -> Result<&str, ApprovalError> {
    let token = token.trim();
    if token.len() > MAX_APPROVAL_BYTES {
        return Err(ApprovalError::Malformed(format!("longer than {MAX_APPROVAL_BYTES} bytes")));
    }
    token.strip_prefix(APPROVAL_PREFIX).ok_or_else(|| {
        ApprovalError::Malformed(format!("it does not start with `{APPROVAL_PREFIX}`"))
    })
}

fn seal_why(e: SealError) -> String {
    match e {
        SealError::Malformed(why) => why,
        SealError::UnknownKey(kid) => format!("unknown key `{kid}`"),
        SealError::BadSignature => "bad signature".into(),
    }
}

/// Whether a verified approval turns `decision` (which is `approval_required`) into allow.
/// `requesters` are the ids that may not approve: the principal decided for, the presenter,
/// every delegate of the grant chain.
pub(crate) fn honour(
    approval: &Approval,
    decision: &Decision,
    policy: &CompiledPolicy,
    requesters: &[&str],
) -> Result<(), ApprovalError> {
    if decision.effect != Effect::ApprovalRequired {
        return Ok(());
    }
    if approval.digest != decision.digest {
        return Err(ApprovalError::WrongDigest {
            approved: approval.digest.clone(),
            actual: decision.digest.clone(),
        });
    }
    if requesters.contains(&approval.approver.id.as_str()) {
        return Err(ApprovalError::SelfApproval(approval.approver.id.clone()));
    }
    if decision.rules.is_empty() {
        return Err(ApprovalError::NoApprovers("the policy default".into()));
    }
    for id in &decision.rules {
        if let Some(approved) = &approval.rules
            && !approved.contains(id)
        {
            return Err(ApprovalError::RuleNotApproved(id.clone()));
        }
        let rule = policy.rules.iter().find(|r| r.id == *id);
        let Some(groups) = rule.and_then(|r| r.approvers.as_ref()) else {
            return Err(ApprovalError::NoApprovers(format!("rule `{id}`")));
        };
        if !approval.approver.groups.iter().any(|g| groups.contains(g)) {
            return Err(ApprovalError::WrongGroup {
                approver: approval.approver.id.clone(),
                rule: id.clone(),
                groups: groups.join(", "),
            });
        }
    }
    Ok(())
}

/// Validate a rule's `approvers` (compile-time hook): only on `approval` rules, never empty.
pub(crate) fn check_approvers(ck: &mut Checker<'_>, i: usize, rule: &RuleDoc) {
    let Some(approvers) = &rule.approvers else { return };
    let at = at_path!["rules", i, "approvers"];
    if rule.effect != RuleEffect::Approval {
        ck.error(
            &at,
            format!(
                "`approvers` applies to `approval` rules; rule `{}` is `{}`",
                rule.id,
                rule.effect.as_str()
            ),
        );
    } else if approvers.is_empty() || approvers.iter().any(|g| g.trim().is_empty()) {
        ck.error(&at, format!("rule `{}` needs at least one non-empty approver group", rule.id));
    }
}
