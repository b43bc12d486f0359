//! Grants: authority handed down to nested agents, only ever narrower.
//!
//! A holder of authority (a verified principal, or a grant) mints a child grant for a
//! delegate: a scope in the rule-condition language ([`Conditions`]), a TTL, a maximum further
//! delegation depth, and optionally the digest of the one request it may be used for. The host
//! signs it (the agents never hold keys) and hands it to the delegate, who sends it with its
//! requests (an HTTP header, an environment variable).
//!
//! # Format
//! `writg2.` followed by the chain's links and then its seal, joined by `~`. Each link is a
//! signed segment `base64url(JSON).base64url(signature)` (see `identity/envelope.rs`), signed
//! over the domain `writ-grant-v1`. Every character is URL- and header-safe. A link ([`Link`])
//! names its id, signing key id, delegate (`sub`), scope, `iat`, `exp`, remaining `depth` and
//! optional `digest`; the first link also names the root principal (`root`), every other link
//! the SHA-256 of its parent's segment (`parent`), in the spirit of RFC 8693's nested `act`
//! claim.
//!
//! The seal ([`Seal`]) is a segment signed over the domain `writ-grant-seal-v1` when the chain
//! is minted. It names the SHA-256 of the chain's link segments, their count and the leaf's id:
//! it says "the chain ends here". Only the delegate of the newest link receives that seal; the
//! seal of its parent's chain is never part of the child's grant. Without it, a child would
//! hold everything its parent's grant is made of (the parent's links verify on their own) and
//! could act under the parent's wider scope by dropping its own link. A three-level chain with
//! short scopes is about 1.5 KB (Ed25519; see the tests).
//!
//! # Invariants checked on every use ([`verify_chain`])
//! - every link's signature verifies with a key of the host's [`KeyRing`], and so does the seal,
//!   which names exactly these links (dropping links from the end, or adding any, is detected);
//! - the first link, and only it, names a root principal and has no parent; every other link's
//!   `parent` is the hash of the segment before it (re-ordering, splicing and dropping links
//!   from the front or middle are detected);
//! - the parent allowed further delegation (`depth` ≥ 1) and depth strictly decreases; at most
//!   [`MAX_LINKS`] links;
//! - no link expires after its parent, none has expired, none is issued in the future (60 s of
//!   skew), none is revoked; ids are unique;
//! - a digest binding, once present, is carried unchanged by every later link.
//!
//! Scopes are **not** trusted to be narrower at check time, even when signed: the request must
//! lie inside every scope of the chain (see [`crate::identity::Context`]), so a correctly signed
//! child that claims more than its parent still gets nothing more.
//!
//! # Single use (decision)
//! A grant bound to a request digest is single use. The engine is stateless, so the host keeps
//! the used set: a check denies a grant whose id is in
//! [`Context::used`](crate::identity::Context::used), and reports in
//! [`Checked::consume`](crate::identity::Checked::consume) the ids to record once an allowed
//! request runs. Revocation works the same way with the host's revoked set.

pub(crate) mod scope;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::decision::{ActionView, Decision};
use crate::identity::envelope::{self, SealError, b64};
use crate::identity::{Context, IdSet, KeyRing, SigningKey};
use crate::policy::{CompiledPolicy, Conditions, Part, compile::compile_scope};
use crate::request::Principal;

/// Prefix of a grant's compact form.
pub const GRANT_PREFIX: &str = "writg2.";
/// Prefix of the first grant format (links without a seal), refused with a clear error.
const UNSEALED_PREFIX: &str = "writg1.";
/// Signature domain of grant links.
const DOMAIN: &str = "writ-grant-v1";
/// Signature domain of a chain's seal.
const SEAL_DOMAIN: &str = "writ-grant-seal-v1";
/// The most links a chain may have (the root grant and seven levels below it).
pub const MAX_LINKS: usize = 8;
/// The longest compact grant accepted, in bytes.
pub const MAX_GRANT_BYTES: usize = 16 * 1024;
/// The longest TTL a grant may be minted with, in seconds (one day).
pub const MAX_TTL: u64 = 86_400;
/// Clock skew tolerated on `iat`, in seconds.
const SKEW: u64 = 60;

/// Why a grant was refused, at mint time or at check time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// Not a grant: wrong prefix, bad encoding, bad JSON, too long, too many links.
    #[error("malformed grant: {0}")]
    Malformed(String),
    /// A link is signed with a key the host does not trust.
    #[error("grant link {index} is signed with unknown key `{kid}`")]
    UnknownKey {
        /// Link position, from 1.
        index: usize,
        /// The key id it names.
        kid: String,
    },
    /// A link's signature does not verify (the link was changed).
    #[error("grant link {index} has a bad signature (tampered)")]
    BadSignature {
        /// Link position, from 1.
        index: usize,
    },
    /// The first link is not a root link: links were dropped from the front.
    #[error("grant chain is truncated: its first link `{0}` is not a root grant")]
    Truncated(String),
    /// The seal does not verify, or names other links than the chain carries: links were
    /// dropped from the end (a child presenting its parent's grant) or added.
    #[error("grant chain does not match its seal: {0}")]
    BadSeal(String),
    /// A link's parent hash is not the hash of the link before it.
    #[error(
        "grant chain is broken at link {index} (`{id}`): links were re-ordered, spliced or removed"
    )]
    BrokenLink {
        /// Link position, from 1.
        index: usize,
        /// The link's id.
        id: String,
    },
    /// Delegation beyond the depth a parent allowed.
    #[error("grant `{id}` is too deep: {why}")]
    TooDeep {
        /// The offending link's id.
        id: String,
        /// What was exceeded.
        why: String,
    },
    /// A link has expired.
    #[error("grant `{id}` expired at {exp} (now {now})")]
    Expired {
        /// The link's id.
        id: String,
        /// Its expiry.
        exp: u64,
        /// The check's clock.
        now: u64,
    },
    /// A link is issued in the future.
    #[error("grant `{id}` is issued in the future ({iat}; now {now})")]
    NotYetValid {
        /// The link's id.
        id: String,
        /// Its `iat`.
        iat: u64,
        /// The check's clock.
        now: u64,
    },
    /// The host revoked a link of the chain.
    #[error("grant `{0}` is revoked")]
    Revoked(String),
    /// A single-use grant was used already.
    #[error("single-use grant `{0}` was already used")]
    AlreadyUsed(String),
    /// A digest-bound grant used for another request.
    #[error("grant `{id}` is bound to request {bound}, not to this one ({actual})")]
    WrongRequest {
        /// The link's id.
        id: String,
        /// The digest it is bound to.
        bound: String,
        /// This request's digest.
        actual: String,
    },
    /// A child that would be wider than its parent (at mint time), or whose expiry or digest
    /// binding escapes its parent's (at mint and check time).
    #[error("grant would be wider than its parent: {0}")]
    Wider(String),
    /// A scope that is not well formed, or cannot be used with this policy.
    #[error("invalid grant scope: {0}")]
    InvalidScope(String),
    /// A mint request that makes no sense (empty delegate, zero TTL, ...).
    #[error("cannot mint grant: {0}")]
    Invalid(String),
}

/// One link of a chain: one delegation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Unique id: what revocation and single use name.
    pub id: String,
    /// Id of the key that signed the link.
    pub kid: String,
    /// The root principal (first link only): whose authority the whole chain carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Principal>,
    /// Base64url SHA-256 of the parent link's segment (every link but the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The delegate: who holds this grant (`agent:reporting-helper`).
    pub sub: String,
    /// What the delegate may do, read as an `allow` rule.
    #[serde(default)]
    pub scope: Conditions,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// How many further levels of delegation this link allows (0: none).
    pub depth: u32,
    /// The one request (its digest) this grant may be used for, once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A chain's seal: signed when the chain is minted, it names the exact links the chain ends
/// with, so no holder can present a prefix of its chain (its parent's grant) as its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Id of the key that signed the seal.
    pub kid: String,
    /// Base64url SHA-256 of the link segments joined by `~`.
    pub chain: String,
    /// How many links the chain has.
    pub links: usize,
    /// The id of the last link.
    pub leaf: String,
}

/// A parsed grant chain (signatures not checked: see [`verify_chain`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    links: Vec<Link>,
    segments: Vec<String>,
    /// The seal's segment.
    seal: String,
}

/// A grant whose chain verified: what minting a child and checking a request start from.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedGrant {
    grant: Grant,
    root: Principal,
    leaf: Link,
}

/// Whose authority a new grant carries.
#[derive(Debug, Clone, Copy)]
pub enum Authority<'a> {
    /// A principal the host authenticated (a verified token, a logged-in user): mints a root
    /// grant.
    Principal(&'a Principal),
    /// A verified grant: mints a child, provably narrower.
    Grant(&'a VerifiedGrant),
}

/// What to mint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// The delegate's id.
    pub to: String,
    /// The scope: an `allow`-rule condition set.
    #[serde(default)]
    pub scope: Conditions,
    /// Lifetime in seconds (at most [`MAX_TTL`], and never beyond the parent's expiry).
    pub ttl: u64,
    /// How many further levels of delegation the delegate may mint (0: none).
    #[serde(default)]
    pub depth: u32,
    /// Bind the grant to the one request with this digest (single use).
    #[serde(default)]
    pub digest: Option<String>,
}

impl GrantSpec {
    /// A spec for `to`, with `scope`, living `ttl` seconds, allowing no further delegation.
    pub fn new(to: impl Into<String>, scope: Conditions, ttl: u64) -> GrantSpec {
        GrantSpec { to: to.into(), scope, ttl, depth: 0, digest: None }
    }

    /// Allow `depth` further levels of delegation.
    #[must_use]
    pub fn depth(mut self, depth: u32) -> GrantSpec {
        self.depth = depth;
        self
    }

    /// Bind to one request digest (single use).
    #[must_use]
    pub fn bound_to(mut self, digest: impl Into<String>) -> GrantSpec {
        self.digest = Some(digest.into());
        self
    }
}

impl Grant {
    /// Mint a grant: a root grant from a principal, or a child of a verified grant that must
    /// be no wider than any link of its chain.
    ///
    /// # Errors
    /// [`GrantError::Invalid`] or [`GrantError::InvalidScope`] for a malformed spec,
    /// [`GrantError::Wider`] when the child's scope, expiry or digest binding would escape its
    /// parent's, [`GrantError::TooDeep`] when the parent allows no further delegation,
    /// [`GrantError::Expired`] when the parent has expired.
    pub fn mint(
        authority: Authority<'_>,
        spec: &GrantSpec,
        key: &SigningKey,
        now: u64,
    ) -> Result<Grant, GrantError> {
        if spec.to.trim().is_empty() {
            return Err(GrantError::Invalid("the delegate (`to`) is empty".into()));
        }
        if spec.ttl == 0 || spec.ttl > MAX_TTL {
            return Err(GrantError::Invalid(format!(
                "ttl must be between 1 and {MAX_TTL} seconds, not {}",
                spec.ttl
            )));
        }
        if let Some(digest) = &spec.digest
            && !is_digest(digest)
        {
            return Err(GrantError::Invalid(format!("`{digest}` is not a request digest")));
        }
        scope::validate(&spec.scope).map_err(GrantError::InvalidScope)?;
        let exp = now.saturating_add(spec.ttl);
        let (root, parent_hash, base) = match authority {
            Authority::Principal(principal) => {
                if principal.id.is_empty() {
                    return Err(GrantError::Invalid("the principal has no id".into()));
                }
                if spec.depth as usize >= MAX_LINKS {
                    return Err(GrantError::TooDeep {
                        id: "(new)".into(),
                        why: format!("a chain has at most {MAX_LINKS} links"),
                    });
                }
                (Some(principal.clone()), None, (Vec::new(), Vec::new()))
            }
            Authority::Grant(parent) => {
                let (leaf, leaf_segment) = (parent.leaf(), parent.leaf_segment());
                if leaf.exp <= now {
                    return Err(GrantError::Expired { id: leaf.id.clone(), exp: leaf.exp, now });
                }
                if leaf.depth == 0 {
                    return Err(GrantError::TooDeep {
                        id: leaf.id.clone(),
                        why: "it allows no further delegation".into(),
                    });
                }
                if spec.depth >= leaf.depth {
                    return Err(GrantError::Wider(format!(
                        "depth {} is not below the parent's {}",
                        spec.depth, leaf.depth
                    )));
                }
                if exp > leaf.exp {
                    return Err(GrantError::Wider(format!(
                        "it would expire at {exp}, after its parent ({})",
                        leaf.exp
                    )));
                }
                if let Some(bound) = &leaf.digest
                    && spec.digest.as_ref() != Some(bound)
                {
                    return Err(GrantError::Wider(format!(
                        "the parent is bound to request {bound}; the child must be too"
                    )));
                }
                for link in parent.links() {
                    scope::narrower(&spec.scope, &link.scope).map_err(|why| {
                        GrantError::Wider(format!("{why} (parent grant `{}`)", link.id))
                    })?;
                }
                let base = (parent.grant.links.clone(), parent.grant.segments.clone());
                (None, Some(link_hash(leaf_segment)), base)
            }
        };
        let link = Link {
            id: new_id(),
            kid: key.kid().to_owned(),
            root,
            parent: parent_hash,
            sub: spec.to.clone(),
            scope: spec.scope.clone(),
            iat: now,
            exp,
            depth: spec.depth,
            digest: spec.digest.clone(),
        };
        let segment = envelope::seal(DOMAIN, &envelope::compact_json(&link), key);
        // The parent's seal is left behind: the child's grant ends with its own.
        let (mut links, mut segments) = base;
        let leaf = link.id.clone();
        links.push(link);
        segments.push(segment);
        let seal = Seal {
            kid: key.kid().to_owned(),
            chain: chain_hash(&segments),
            links: segments.len(),
            leaf,
        };
        let seal = envelope::seal(SEAL_DOMAIN, &envelope::compact_json(&seal), key);
        Ok(Grant { links, segments, seal })
    }

    /// Parse a compact grant without checking signatures or times: for inspection. Never trust
    /// what this returns; use [`verify_chain`].
    ///
    /// # Errors
    /// [`GrantError::Malformed`].
    pub fn parse(text: &str) -> Result<Grant, GrantError> {
        let text = text.trim();
        if text.len() > MAX_GRANT_BYTES {
            return Err(GrantError::Malformed(format!("longer than {MAX_GRANT_BYTES} bytes")));
        }
        if text.starts_with(UNSEALED_PREFIX) {
            return Err(GrantError::Malformed(format!(
                "`{UNSEALED_PREFIX}` grants (links without a seal) are no longer accepted: \
                 mint it again (`{GRANT_PREFIX}`)"
            )));
        }
        let body = text.strip_prefix(GRANT_PREFIX).ok_or_else(|| {
            GrantError::Malformed(format!("it does not start with `{GRANT_PREFIX}`"))
        })?;
        let mut segments: Vec<String> = body.split('~').map(str::to_owned).collect();
        let seal = match segments.pop() {
            Some(seal) if !segments.is_empty() => seal,
            _ => {
                return Err(GrantError::Malformed(
                    "it needs at least one link and a seal, joined by `~`".into(),
                ));
            }
        };
        if segments.len() > MAX_LINKS {
            return Err(GrantError::Malformed(format!(
                "{} links; a chain has at most {MAX_LINKS}",
                segments.len()
            )));
        }
        let links = segments
            .iter()
            .enumerate()
            .map(|(i, s)| envelope::peek::<Link>(s).map_err(|e| malformed(i + 1, e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Grant { links, segments, seal })
    }

    /// The links, root first.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The compact form (`writg2.…`).
    pub fn encode(&self) -> String {
        format!("{GRANT_PREFIX}{}~{}", self.segments.join("~"), self.seal)
    }

    /// The compact form's length in bytes.
    pub fn encoded_len(&self) -> usize {
        GRANT_PREFIX.len()
            + self.segments.iter().map(|s| s.len() + 1).sum::<usize>()
            + self.seal.len()
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

impl VerifiedGrant {
    /// The root principal: whose authority the chain carries.
    pub fn root(&self) -> &Principal {
        &self.root
    }

    /// The last link: the delegate that holds the grant.
    pub fn leaf(&self) -> &Link {
        &self.leaf
    }

    fn leaf_segment(&self) -> &str {
        self.grant.segments.last().map_or("", String::as_str)
    }

    /// The links, root first.
    pub fn links(&self) -> &[Link] {
        &self.grant.links
    }

    /// The grant itself.
    pub fn grant(&self) -> &Grant {
        &self.grant
    }

    /// Ids of the digest-bound (single-use) links.
    pub fn single_use_ids(&self) -> Vec<String> {
        self.links().iter().filter(|l| l.digest.is_some()).map(|l| l.id.clone()).collect()
    }
}

/// Verify a compact grant chain at `now` against the host's keys and revoked ids (see the
/// module docs for every invariant).
///
/// # Errors
/// The first violation found, as a [`GrantError`].
pub fn verify_chain(
    text: &str,
    keys: &KeyRing,
    now: u64,
    revoked: &dyn IdSet,
) -> Result<VerifiedGrant, GrantError> {
    let parsed = Grant::parse(text)?;
    let mut links: Vec<Link> = Vec::with_capacity(parsed.segments.len());
    for (i, segment) in parsed.segments.iter().enumerate() {
        let index = i + 1;
        let link: Link = envelope::open(DOMAIN, segment, keys).map_err(|e| match e {
            SealError::UnknownKey(kid) => GrantError::UnknownKey { index, kid },
            SealError::BadSignature => GrantError::BadSignature { index },
            SealError::Malformed(why) => malformed(index, SealError::Malformed(why)),
        })?;
        if links.iter().any(|l| l.id == link.id) {
            return Err(GrantError::BrokenLink { index, id: link.id });
        }
        match (links.last(), i.checked_sub(1).and_then(|p| parsed.segments.get(p))) {
            (None, _) => {
                if link.root.is_none() || link.parent.is_some() {
                    return Err(GrantError::Truncated(link.id));
                }
            }
            (Some(parent), Some(parent_segment)) => {
                if link.root.is_some() || link.parent.as_deref() != Some(&link_hash(parent_segment))
                {
                    return Err(GrantError::BrokenLink { index, id: link.id });
                }
                if parent.depth == 0 || link.depth >= parent.depth {
                    return Err(GrantError::TooDeep {
                        id: link.id.clone(),
                        why: format!(
                            "its parent `{}` allows depth {} below it, and it claims {}",
                            parent.id,
                            parent.depth.saturating_sub(1),
                            link.depth
                        ),
                    });
                }
                if link.exp > parent.exp {
                    return Err(GrantError::Wider(format!(
                        "grant `{}` expires after its parent `{}`",
                        link.id, parent.id
                    )));
                }
                if let Some(bound) = &parent.digest
                    && link.digest.as_ref() != Some(bound)
                {
                    return Err(GrantError::Wider(format!(
                        "grant `{}` drops its parent's binding to request {bound}",
                        link.id
                    )));
                }
            }
            (Some(_), None) => return Err(GrantError::BrokenLink { index, id: link.id }),
        }
        if link.exp <= now {
            return Err(GrantError::Expired { id: link.id, exp: link.exp, now });
        }
        if link.iat > now.saturating_add(SKEW) {
            return Err(GrantError::NotYetValid { id: link.id, iat: link.iat, now });
        }
        if revoked.contains_id(&link.id) {
            return Err(GrantError::Revoked(link.id));
        }
        links.push(link);
    }
    let no_link = || GrantError::Malformed("the chain has no link".into());
    let root = links.first().and_then(|l| l.root.clone()).ok_or_else(no_link)?;
    let leaf = links.last().cloned().ok_or_else(no_link)?;
    verify_seal(&parsed.seal, &parsed.segments, &leaf, keys)?;
    let grant = Grant { links, segments: parsed.segments, seal: parsed.seal };
    Ok(VerifiedGrant { grant, root, leaf })
}

/// Check a request the policy did not deny against the chain: digest bindings, single use,
/// and every scope over every part. `Ok` lists the parts outside some scope (index, reason);
/// `Err` denies the whole request.
pub(crate) fn admit(
    chain: &VerifiedGrant,
    policy: &CompiledPolicy,
    resource_name: &str,
    action: &crate::Action,
    decision: &Decision,
    ctx: &Context<'_>,
) -> Result<Vec<(usize, String)>, String> {
    for link in chain.links() {
        if let Some(bound) = &link.digest {
            if *bound != decision.digest {
                let e = GrantError::WrongRequest {
                    id: link.id.clone(),
                    bound: bound.clone(),
                    actual: decision.digest.clone(),
                };
                return Err(format!("grant rejected: {e}"));
            }
            if ctx.is_used(&link.id) {
                return Err(format!(
                    "grant rejected: {}",
                    GrantError::AlreadyUsed(link.id.clone())
                ));
            }
        }
    }
    let Some(resource) = policy
        .resource_index
        .get(resource_name)
        .and_then(|&i| policy.resources.get(i).map(|r| (i, r)))
    else {
        return Err(format!("resource `{resource_name}` is not declared in the policy"));
    };
    let (resource_index, resource) = resource;
    let schema = resource.default_schema.as_deref();
    let root = chain.root();
    let mut outside: Vec<(usize, String)> = Vec::new();
    for link in chain.links() {
        let (rule, applies) = compile_scope(
            &format!("grant:{}", link.id),
            &link.scope,
            &policy.resources,
        )
        .map_err(|errors| {
            format!(
                "grant rejected: {}",
                GrantError::InvalidScope(format!("grant `{}`: {}", link.id, errors.join("; ")))
            )
        })?;
        if !applies.get(resource_index).copied().unwrap_or(false) {
            return Err(format!(
                "grant `{}` (held by `{}`) does not cover resource `{resource_name}`",
                link.id, link.sub
            ));
        }
        if !rule.matches_principal(&root.id, &root.groups) {
            return Err(format!("grant `{}` does not cover principal `{}`", link.id, root.id));
        }
        let mut check = |index: usize, part: &Part<'_>| {
            if outside.iter().any(|(i, _)| *i == index) {
                return;
            }
            let why = if !part.understood() {
                Some("could not be fully understood, so no grant covers it")
            } else if !rule.matches_part(part, schema) {
                Some("is outside the scope of grant")
            } else {
                None
            };
            if let Some(why) = why {
                let reason = if part.understood() {
                    format!(
                        "{} {} (`{}`) {why} `{}` (held by `{}`)",
                        part.noun(),
                        index + 1,
                        part.label(),
                        link.id,
                        link.sub
                    )
                } else {
                    format!("{} {} (`{}`) {why}", part.noun(), index + 1, part.label())
                };
                outside.push((index, reason));
            }
        };
        // `if let` rather than `match`: an action kind added later falls to the last branch
        // (no grant covers it) until scopes learn it.
        if let Some(ActionView::Sql(view)) = &decision.view {
            for (n, s) in view.statements.iter().enumerate() {
                check(n, &Part::Statement(s));
            }
        } else if let Some(ActionView::Command(view)) = &decision.view {
            let line_understood = !view.dynamic && view.error.is_none();
            for (n, c) in view.commands.iter().enumerate() {
                check(n, &Part::Command { command: c, line_understood });
            }
            if view.commands.is_empty() {
                return Err("the command line could not be resolved, so no grant covers it".into());
            }
        } else if let Some(ActionView::Http(view)) = &decision.view {
            check(0, &Part::Http(view));
        } else if let (Some(ActionView::Tool(_)), crate::Action::Tool(call)) =
            (&decision.view, action)
        {
            // The call itself must be in scope. A routed argument (SQL, a command) is decided
            // by the policy for the root principal; a scope that limits SQL or commands has no
            // `tool` block and so covers no tool call at all.
            check(0, &Part::Tool(call));
        } else {
            return Err("grants do not cover this kind of request".into());
        }
    }
    outside.sort_by_key(|(i, _)| *i);
    Ok(outside)
}

fn malformed(index: usize, e: SealError) -> GrantError {
    let why = match e {
        SealError::Malformed(why) => why,
        SealError::UnknownKey(kid) => format!("unknown key `{kid}`"),
        SealError::BadSignature => "bad signature".into(),
    };
    GrantError::Malformed(format!("link {index}: {why}"))
}

/// Check that `seal` is signed by a trusted key and names exactly `segments`, ending at `leaf`.
fn verify_seal(
    seal: &str,
    segments: &[String],
    leaf: &Link,
    keys: &KeyRing,
) -> Result<(), GrantError> {
    let seal: Seal = envelope::open(SEAL_DOMAIN, seal, keys).map_err(|e| {
        GrantError::BadSeal(match e {
            SealError::UnknownKey(kid) => format!("the seal is signed with unknown key `{kid}`"),
            SealError::BadSignature => {
                "the last segment is not a valid seal (links were dropped from the end, or the \
                 seal was changed)"
                    .into()
            }
            SealError::Malformed(why) => format!("the last segment is not a seal: {why}"),
        })
    })?;
    if seal.links != segments.len() || seal.leaf != leaf.id || seal.chain != chain_hash(segments) {
        return Err(GrantError::BadSeal(format!(
            "it seals {} link(s) ending with `{}`, and the chain has {} ending with `{}` (links \
             were dropped from the end or added)",
            seal.links,
            seal.leaf,
            segments.len(),
            leaf.id
        )));
    }
    Ok(())
}

/// Base64url SHA-256 of the link segments joined by `~`: what a seal names.
fn chain_hash(segments: &[String]) -> String {
    let mut hasher = Sha256::new();
    for (n, segment) in segments.iter().enumerate() {
        if n > 0 {
            hasher.update(b"~");
        }
        hasher.update(segment.as_bytes());
    }
    b64(&hasher.finalize())
}

/// Base64url SHA-256 of a link's segment: what its child's `parent` names.
fn link_hash(segment: &str) -> String {
    b64(&Sha256::digest(segment.as_bytes()))
}

/// A fresh random id: 12 bytes, base64url (16 characters).
pub(crate) fn new_id() -> String {
    let mut bytes = [0u8; 12];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    b64(&bytes)
}

/// `sha256:` and 64 lowercase hex digits, as [`Request::digest`](crate::Request::digest) writes.
pub(crate) fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}
