//! Masking methods: how one value is replaced.
//!
//! Decisions (see also the module docs of [`crate::mask`]):
//! - `partial` counts and masks only *maskable* characters (Unicode
//!   alphanumerics and the mask character itself); separators, spaces and
//!   punctuation are kept, so `4242 4242 4242 4242` keeps its shape:
//!   `**** **** **** 4242`. Counting the mask character as maskable makes the
//!   method idempotent. If `keep_first + keep_last` would keep every maskable
//!   character, everything is masked instead: partial never reveals a whole value.
//! - `hash` is HMAC-SHA-256 over the exact input bytes with the host's key,
//!   output `h:` + 24 lower-case hex chars (96 bits). No entity-type domain
//!   separation, so the same e-mail hashes the same in a column and in free
//!   text and joins keep working. An input that already has that exact shape
//!   is returned unchanged (idempotence).
//! - `email` keeps the domain and replaces the local part with `***`
//!   (length hidden). Without an `@` it falls back to the redaction token.
//! - `format_preserving` is a keyed, deterministic *shape-keeping scramble*,
//!   NOT format-preserving encryption: it is not reversible, even with the
//!   key. Digits stay digits, ASCII letters stay letters of the same case,
//!   everything else (separators, `@`, `.`) is kept, the length in chars is
//!   kept; non-ASCII alphanumerics become ASCII letters. Because its output
//!   still looks like the input kind, it is stable but not a fixed point:
//!   masking its output again scrambles again (never revealing anything).
//! - Methods needing the key (`hash`, `format_preserving`) fail closed to the
//!   redaction token when no key is configured; the builder refuses to build
//!   a configuration that relies on a missing key.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::MaskError;

/// Default token for a redacted column value.
pub const COLUMN_REDACTION: &str = "[REDACTED]";

/// Prefix of `hash` outputs.
pub const HASH_PREFIX: &str = "h:";

/// Number of hex characters after [`HASH_PREFIX`].
pub const HASH_HEX_LEN: usize = 24;

fn default_mask_char() -> char {
    '*'
}

/// How a value is masked. Serialized internally tagged by `method`, e.g.
/// `{"method":"partial","keep_last":4}` or `{"method":"hash"}`; unknown
/// fields are rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", try_from = "RawMethod")]
pub enum Method {
    /// Replace with a fixed token: `token` when given, else `[REDACTED:<type>]`
    /// for detected content and `[REDACTED]` for a column value.
    Redact {
        /// Replacement token; `None` uses the defaults above.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Column values become SQL/JSON null; detected content is removed (empty string).
    Null,
    /// Keep the first/last maskable characters, replace the others with `mask_char`.
    Partial {
        /// Maskable characters kept at the start.
        #[serde(default)]
        keep_first: usize,
        /// Maskable characters kept at the end.
        #[serde(default)]
        keep_last: usize,
        /// Replacement character (must not be alphanumeric); default `*`.
        #[serde(default = "default_mask_char")]
        mask_char: char,
    },
    /// Keyed HMAC-SHA-256, `h:` + 24 hex chars; same input and key, same output.
    Hash,
    /// Keep the e-mail domain: `***@example.com`.
    Email,
    /// Keyed, deterministic shape-keeping scramble (not reversible, not real FPE).
    FormatPreserving,
}

/// Flat wire form used to deserialize [`Method`] strictly: serde's
/// `deny_unknown_fields` does not reject extra fields on unit variants of an
/// internally tagged enum, so every field is read here and checked against
/// the method named by `method`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMethod {
    method: MethodKind,
    token: Option<String>,
    keep_first: Option<usize>,
    keep_last: Option<usize>,
    mask_char: Option<char>,
}

#[derive(Deserialize, Clone, Copy, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum MethodKind {
    Redact,
    Null,
    Partial,
    Hash,
    Email,
    FormatPreserving,
}

impl TryFrom<RawMethod> for Method {
    type Error = String;

    fn try_from(r: RawMethod) -> Result<Method, String> {
        let partial_fields =
            r.keep_first.is_some() || r.keep_last.is_some() || r.mask_char.is_some();
        let stray = |name: &str, allowed: &str| format!("method `{name}` takes {allowed}");
        match r.method {
            MethodKind::Redact if partial_fields => Err(stray("redact", "only `token`")),
            MethodKind::Redact => Ok(Method::Redact { token: r.token }),
            MethodKind::Partial if r.token.is_some() => {
                Err(stray("partial", "only `keep_first`, `keep_last` and `mask_char`"))
            }
            MethodKind::Partial => Ok(Method::Partial {
                keep_first: r.keep_first.unwrap_or(0),
                keep_last: r.keep_last.unwrap_or(0),
                mask_char: r.mask_char.unwrap_or_else(default_mask_char),
            }),
            kind if partial_fields || r.token.is_some() => {
                let name = match kind {
                    MethodKind::Null => "null",
                    MethodKind::Hash => "hash",
                    MethodKind::Email => "email",
                    _ => "format_preserving",
                };
                Err(stray(name, "no parameters"))
            }
            MethodKind::Null => Ok(Method::Null),
            MethodKind::Hash => Ok(Method::Hash),
            MethodKind::Email => Ok(Method::Email),
            MethodKind::FormatPreserving => Ok(Method::FormatPreserving),
        }
    }
}

impl Default for Method {
    fn default() -> Self {
        Method::Redact { token: None }
    }
}

impl Method {
    /// The method's snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Redact { .. } => "redact",
            Method::Null => "null",
            Method::Partial { .. } => "partial",
            Method::Hash => "hash",
            Method::Email => "email",
            Method::FormatPreserving => "format_preserving",
        }
    }

    /// True when the method needs the host's HMAC key.
    pub fn needs_key(&self) -> bool {
        matches!(self, Method::Hash | Method::FormatPreserving)
    }

    /// Check the method's parameters (`entity` only labels the error).
    pub fn validate(&self, entity: &str) -> Result<(), MaskError> {
        let bad = |reason: &str| MaskError::InvalidMethod {
            entity: entity.to_owned(),
            reason: reason.to_owned(),
        };
        match self {
            Method::Partial { mask_char, .. }
                if mask_char.is_alphanumeric() || mask_char.is_control() =>
            {
                Err(bad("partial mask_char must not be alphanumeric or a control character"))
            }
            Method::Redact { token: Some(t) } if t.is_empty() => {
                Err(bad("redact token must not be empty"))
            }
            _ => Ok(()),
        }
    }
}

/// The host's HMAC key, pre-keyed. Its `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct HmacKey {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(<redacted>)")
    }
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Result<HmacKey, MaskError> {
        if key.len() < 16 {
            return Err(MaskError::WeakHmacKey { len: key.len() });
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
            .map_err(|_| MaskError::WeakHmacKey { len: key.len() })?;
        Ok(HmacKey { mac })
    }

    fn tag(&self, domain: &[u8], counter: u32, value: &[u8]) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(domain);
        m.update(&counter.to_be_bytes());
        m.update(value);
        m.finalize().into_bytes().into()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What a masking call should emit.
pub(crate) enum Out {
    /// Replacement text.
    Text(String),
    /// Null (column) / removal (content).
    Null,
}

/// Context of a masking call: a detected entity (with its type) or a column.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    Content(&'a str),
    Column,
}

fn redaction(token: Option<&String>, target: Target<'_>) -> String {
    match (token, target) {
        (Some(t), _) => t.clone(),
        (None, Target::Content(ty)) => format!("[REDACTED:{ty}]"),
        (None, Target::Column) => COLUMN_REDACTION.to_owned(),
    }
}

/// Apply `method` to `value`. Never fails; key-needing methods without a key
/// fail closed to the redaction token.
pub(crate) fn apply(
    method: &Method,
    value: &str,
    key: Option<&HmacKey>,
    target: Target<'_>,
) -> Out {
    match method {
        Method::Redact { token } => Out::Text(redaction(token.as_ref(), target)),
        Method::Null => Out::Null,
        Method::Partial { keep_first, keep_last, mask_char } => {
            let mc = if mask_char.is_alphanumeric() || mask_char.is_control() {
                '*'
            } else {
                *mask_char
            };
            Out::Text(partial(value, *keep_first, *keep_last, mc))
        }
        Method::Email => Out::Text(email(value).unwrap_or_else(|| redaction(None, target))),
        Method::Hash => match key {
            Some(k) => Out::Text(hash(k, value)),
            None => Out::Text(redaction(None, target)),
        },
        Method::FormatPreserving => match key {
            Some(k) => Out::Text(format_preserving(k, value)),
            None => Out::Text(redaction(None, target)),
        },
    }
}

/// `partial` keeping nothing: every maskable character replaced (a `mask_char` that is not
/// allowed falls back to `*`, as in [`apply`]).
pub(crate) fn partial_all(value: &str, mask_char: char) -> String {
    let mc = if mask_char.is_alphanumeric() || mask_char.is_control() { '*' } else { mask_char };
    partial(value, 0, 0, mc)
}

fn partial(value: &str, keep_first: usize, keep_last: usize, mc: char) -> String {
    let maskable = |c: char| c.is_alphanumeric() || c == mc;
    let n = value.chars().filter(|c| maskable(*c)).count();
    let (kf, kl) =
        if keep_first.saturating_add(keep_last) >= n { (0, 0) } else { (keep_first, keep_last) };
    let mut out = String::with_capacity(value.len());
    let mut i = 0usize;
    for c in value.chars() {
        if maskable(c) {
            if i < kf || i >= n - kl {
                out.push(c);
            } else {
                out.push(mc);
            }
            i += 1;
        } else {
            out.push(c);
        }
    }
    out
}

fn email(value: &str) -> Option<String> {
    let (_, domain) = value.rsplit_once('@')?;
    Some(format!("***@{domain}"))
}

/// True when `value` is exactly a `hash` output.
pub(crate) fn is_hash_token(value: &str) -> bool {
    value.len() == HASH_PREFIX.len() + HASH_HEX_LEN
        && value.starts_with(HASH_PREFIX)
        && value.bytes().skip(HASH_PREFIX.len()).all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hash(key: &HmacKey, value: &str) -> String {
    if is_hash_token(value) {
        return value.to_owned();
    }
    let tag = key.tag(b"writ.mask.hash.v1\0", 0, value.as_bytes());
    let mut out = String::with_capacity(HASH_PREFIX.len() + HASH_HEX_LEN);
    out.push_str(HASH_PREFIX);
    for b in tag.iter().take(HASH_HEX_LEN / 2) {
        out.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
        out.push(char::from(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0')));
    }
    out
}

fn format_preserving(key: &HmacKey, value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut block = [0u8; 32];
    let mut counter = 0u32;
    let mut used = block.len();
    for c in value.chars() {
        if !c.is_alphanumeric() {
            out.push(c);
            continue;
        }
        if used >= block.len() {
            block = key.tag(b"writ.mask.fp.v1\0", counter, value.as_bytes());
            counter = counter.wrapping_add(1);
            used = 0;
        }
        let r = block.get(used).copied().unwrap_or(0);
        used += 1;
        let mapped = if c.is_ascii_digit() {
            b'0' + r % 10
        } else if c.is_uppercase() {
            b'A' + r % 26
        } else {
            b'a' + r % 26
        };
        out.push(char::from(mapped));
    }
    out
}
