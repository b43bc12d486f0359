//! Content masking: find sensitive values in what a database returns and
//! replace them before an agent sees them.
//!
//! # Pieces
//!
//! - [`Detectors`] — compiled once ([`Detectors::builder`] →
//!   [`DetectorsBuilder::build`], the only fallible step), `Clone + Send +
//!   Sync`. [`Detectors::scan`] finds [`Finding`]s; [`Detectors::mask_text`]
//!   replaces them; [`Detectors::mask_json`] does JSON documents field by
//!   field; [`Detectors::mask_column`] / [`Detectors::mask_rows`] do batches;
//!   [`Detectors::mask_value`] / [`Detectors::mask_str`] apply one
//!   [`Method`] to a whole column value (for a `MaskPlan`).
//! - [`EntityType`] — the vocabulary (`credit_card`, `iban`, `us_ssn`,
//!   `email`, `phone`, `ipv4`, `ipv6`, `aws_access_key_id`,
//!   `aws_secret_key`, `github_token`, `slack_token`, `stripe_key`, `jwt`,
//!   `private_key`, plus host-named custom patterns).
//! - [`Method`] — `redact`, `null`, `partial`, `hash`, `email`,
//!   `format_preserving` (serde: `{"method": "partial", "keep_last": 4}`).
//! - [`ScanCache`] — per-thread scratch (regex caches, buffers); optional
//!   everywhere, so the hot path can allocate nothing.
//!
//! # Invariants
//!
//! - **Scanning never fails** and never panics; only building returns
//!   [`MaskError`]. No `unsafe`, no unchecked indexing.
//! - **Findings** are byte ranges on `char` boundaries, sorted, and
//!   non-overlapping; when candidates overlap, the longer wins, ties go to
//!   the more specific type (a card number is never also a phone).
//! - **No leaks**: a detected value never appears in masked output (except
//!   what `partial`/`email` are configured to keep), in a [`MaskReport`],
//!   in an error or in a `Debug` output. [`Finding`] holds offsets only; the
//!   HMAC key's `Debug` is `<redacted>`.
//! - **Clean fast path**: text without any anchor (`@`, a digit, two `:` in
//!   64 bytes, `AKIA`…, `ghp_`…, `xox?-`, `sk_live_`…, `eyJ`,
//!   `-----BEGIN `, `secret`) is scanned by one SIMD multi-literal pass and
//!   one vectorised byte gate, allocates nothing, and
//!   [`Detectors::mask_text`] returns `Cow::Borrowed`. Custom patterns add a
//!   full pass of their own regex (the meta engine prefilters literals).
//! - **Idempotence**: `redact`, `null`, `partial`, `hash` and `email` are
//!   fixed points: masking their output again changes nothing, and their
//!   outputs are never detected again by the scanner. Masking removes a
//!   value's context too (a phone glued to another one is free once the first
//!   is a token; what loses an overlap may be a value of its own), so masked
//!   text is scanned again (around what was replaced, then once whole) and masked again
//!   until nothing is found; what a method wrote is not masked again. When what `partial`
//!   keeps is itself detected (`e80::1` of `fe80::1`), it keeps nothing. Rescans are bounded
//!   (64 passes, 8 times the text's bytes); crafted chains of values that come free one per
//!   pass go past that and are redacted whole (fail closed).
//!   `format_preserving` is stable (same input and key → same output); within one call its
//!   output reads as opaque to the rescans, so what it hid is masked and it is not scrambled
//!   twice, but by design its output still looks like the input kind, so masking the output
//!   in a second call may scramble again — it never reveals anything.
//! - **Keys come from the host**: `hash` and `format_preserving` use the
//!   HMAC key given to [`DetectorsBuilder::hmac_key`]; a [`Method`] (which
//!   may come from a policy) cannot carry a key. Building a configuration
//!   that needs a key without one fails; an ad-hoc key-needing method passed
//!   to [`Detectors::mask_value`] without a key fails closed to redaction.
//!
//! # Detection decisions
//!
//! - `credit_card`: 13–19 digits, plain or grouped 4-4-4-x / 4-6-5 / 4-6-4
//!   with spaces or dashes; Luhn; by default also a known issuer prefix
//!   ([`DetectorsBuilder::lenient_card_iin`] turns that off). 12-digit ids
//!   and Luhn failures are not cards.
//! - `iban`: upper-case only, optional single spaces, a country from the
//!   built-in length table (unknown countries are not reported), exact
//!   length, mod-97 == 1.
//! - `us_ssn`: `AAA-GG-SSSS` always; bare 9 digits or `AAA GG SSSS` only
//!   with `ssn` / `social security` within 48 bytes before. Area 000, 666,
//!   900–999, group 00 and serial 0000 are rejected.
//! - `phone`: `+` international forms (8–15 digits, spaces/dots/dashes,
//!   optional `(0)`-style group) and North American national forms
//!   (`(415) 555-2671`, `415-555-2671`, `415.555.2671`, optional leading
//!   `1-`). Bare digit runs, dates, IPs and card numbers are not phones.
//!   Other national formats without `+` are not detected.
//! - `ipv4`: a valid dotted quad is an IPv4 even when it is a version number
//!   (`1.2.3.4`); a longer dotted chain (`1.2.3.4.5`) is not.
//! - `ipv6`: full, compressed and IPv4-suffixed forms parsed by
//!   `std::net::Ipv6Addr`; digit-free two-group forms (`a::b`, code paths)
//!   are ignored.
//! - `aws_secret_key`: 40 base64 characters only right after a key name
//!   (`aws_secret_access_key`, `secret_key`, `SecretAccessKey`…) and a
//!   separator (`=`, `:`, `=>`, `,`, `>`); the finding is the value only.
//! - `jwt`: three base64url segments whose first decodes to a JSON object
//!   with an `"alg"` key (hand-written decoder).
//! - `private_key`: from `-----BEGIN … PRIVATE KEY-----` through its END
//!   line; a key without END is masked to the end of its body.
//! - Tokens (`AKIA…`, `ghp_…`, `github_pat_…`, `xox?-…`, `sk_live_…`) must
//!   not be glued to a preceding letter or digit.

mod apply;
mod checks;
mod detect;
mod entity;
mod error;
pub mod lineage;
mod masker;
mod method;
mod plan;
mod rules;

pub use apply::Masked;
pub use detect::{Checksum, CustomPattern, Detectors, DetectorsBuilder, PatternLimits, ScanCache};
pub use entity::{EntityType, Finding, MaskReport};
pub use error::MaskError;
pub use masker::{Masker, MaskerCache, MaskerError};
pub use method::{COLUMN_REDACTION, HASH_HEX_LEN, HASH_PREFIX, Method};
pub(crate) use plan::attach as attach_plan;
pub use plan::{ByName, ContentMask, Fallback, MaskPlan, PlannedColumn, Probe};
pub(crate) use rules::MaskSet;
pub use rules::{DetectorsDoc, ExemptDoc, MaskDoc, OnProbe};

/// A small xorshift generator from `state`, for the unit tests' generated inputs: each call
/// gives a number below `n`.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut(usize) -> usize {
    move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    }
}
