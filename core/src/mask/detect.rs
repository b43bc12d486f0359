//! The scanner: prefilter, multi-pattern regexes, validation, overlap resolution.
//!
//! # How a scan works
//!
//! 1. **Literal anchors** — one multi-literal searcher (Aho-Corasick's
//!    packed Teddy/SIMD searcher when the CPU has it, else an Aho-Corasick
//!    automaton) over the whole text finds `AKIA`-family, `ghp_`…,
//!    `github_pat_`, `xox?-`, `sk_live_`…, `eyJ` and `-----BEGIN `; a second
//!    one, only when `aws_secret_key` is on, finds the AWS secret context words
//!    (`secret`/`Secret`/`SECRET`). The words have a searcher of their own
//!    because Teddy fingerprints a pattern by the nibbles of its first bytes
//!    (three here, as `eyJ` is three bytes long), and `sec`'s nibbles, pooled
//!    with the tokens' in one bucket, fire on English trigrams everywhere in
//!    prose: support tickets ran the one searcher at about 1.7 GiB/s, the
//!    tokens alone at over 13 (and the words alone, six bytes each, get
//!    four-byte fingerprints). A hit runs the
//!    matching pattern of the *literal* `meta::Regex` (built with
//!    `new_many`) **anchored** at the hit with `Anchored::Pattern`, so tokens
//!    of any length (JWTs, PEM blocks) are matched without a window.
//! 2. **Byte gate** — a branch-free pass over 64-byte chunks flags a chunk where a *shape*
//!    of an enabled type starts. Each chunk is classified once into one bit per byte for
//!    each byte class in a `u64` (digit, `.`, `:`, `+`, `@`, separator ` .-`, capital
//!    letter; on x86_64 with SSE2 compares and movemasks, elsewhere a byte-wise pass);
//!    `chunk_shapes` computes the shapes from the chunk's masks and the next chunk's (a
//!    shape reads at most 11 bytes past its start) by shifts and ANDs:
//!    - `@` (e-mail);
//!    - nine digits in a row, or `DD?DDDD` with `?` one of ` .-` (card, SSN, national
//!      phone): a card has 13-19 digits, either unseparated (nine in a row) or in groups
//!      whose first two are `DDDD?DDDD` or `DDDD?DDDDDD` (`?` is ` ` or `-`); an SSN is nine
//!      digits, or `DDD?DD?DDDD` whose end is `DD?DDDD`; a national phone number ends in
//!      `[2-9]DD?DDDD` (`?` one of `-. `);
//!    - `+` then a digit (E.164 phone: the regex starts with `\+[1-9]`);
//!    - `D.D` three times, each 2 to 4 bytes after the one before (a dotted quad: the last
//!      digit of one octet, the dot, the first digit of the next; octets of 1 to 3 digits);
//!    - `::`, or three colons each 2 to 5 bytes after the one before (IPv6: an address
//!      `Ipv6Addr` parses either holds `::` or has 8 groups, or 6 groups and an IPv4, of 1 to
//!      4 hex digits, so at least six colons that close);
//!    - two capital letters then two digits (IBAN: the regex starts `[A-Z]{2}[0-9]{2}`).
//!
//!    Every shape lies inside the value (the validated span, not just the regex match: a card
//!    cut back to its checksum still has 13 digits, so at least its first two groups), and
//!    starts in it. In a flagged chunk, each shape becomes a window: the run of bytes around
//!    it that a value of its types can hold (a card, an SSN or a phone number only digits and
//!    ` -.()+`; a dotted quad digits and `.`; an IPv6 address hex digits, `:` and `.`; an
//!    IBAN, from its shape on, capitals, digits and ` `; an e-mail address the local-part
//!    bytes before its `@` and the domain bytes after it), reaching at most 80 bytes back and
//!    96 ahead (272 after an `@`, so a whole RFC-sized address fits); windows are merged. No
//!    numeric value is longer than 64 bytes (an IBAN with a space between every character is
//!    the longest), so every accepted value lies wholly inside one merged window; and a
//!    numeric candidate that fails validation cannot run past its run either, so the search
//!    inside the windows meets the candidates a search of the whole text would. On text dense
//!    with values the windows are the values and little else: when a flagged chunk's window
//!    was the chunk widened by 64 bytes each way (272 after an `@`), a scan of the generated
//!    PII-dense tickets, logs and rows sent 90%, 99% and 100% of their bytes through the
//!    regex; with runs, 14%, 24% and 61%. Timestamps, dates, versions,
//!    durations, amounts and ids up to eight digits (what clean logs, tickets and rows are
//!    full of) have no shape, so most of such text never reaches the regex. Tests:
//!    `every_floating_type_is_found_at_every_offset_of_the_gate` and
//!    `gated_scan_equals_ungated_scan_on_generated_text` (against
//!    [`Detectors::scan_ungated`], which flags every chunk) in `tests/mask_detectors.rs`.
//! 3. **Floating regex** — one `meta::Regex::new_many` of the unanchored
//!    patterns (email, IBAN, IPv6, card, SSN, phone, IPv4) runs over each
//!    window only (the haystack is still the full text, so `\b` look-around
//!    sees real context). The search skips the window's leading bytes that no
//!    match can start with ([`starts_floating`], checked against a DFA of the
//!    patterns) and is first run anchored where it starts: on dense text a
//!    window most often begins with its value, and an anchored match needs
//!    only the forward DFA (an unanchored one also runs the reverse DFA to
//!    find its start); when nothing matches there, the unanchored search goes
//!    on from the next byte. Each match is validated (Luhn, mod-97, octets,
//!    `Ipv6Addr`…); a rejected match is retried with the other patterns
//!    anchored at the same start (only lower-priority ones: a higher one
//!    would have won leftmost-first), then the search resumes one byte later.
//!    The patterns avoid large counted repetitions (validators enforce the
//!    lengths), which keeps the lazy DFA at a few hundred states.
//! 4. **Custom patterns** run as one more `new_many` regex over the whole
//!    text (the meta engine applies its own literal prefilter when it can),
//!    with their optional `luhn`/`mod97` checksum.
//! 5. Candidates are sorted and made **non-overlapping**: of two overlapping
//!    findings the longer wins; equal lengths go to the more specific type
//!    (custom first, then secrets, then IBAN, card, email, SSN, IPv6, phone, IPv4).
//!
//! Clean text (no anchor, no shape) therefore costs one SIMD literal pass plus one gate
//! pass, allocates nothing, and `mask_text` returns `Cow::Borrowed`. Text dense with values
//! runs the floating regex's lazy DFA over most of it.
//!
//! All built-in patterns are ASCII and use ASCII word boundaries
//! (`(?-u:\b)`), which the lazy DFA supports; Unicode text around a finding
//! is simply a non-word neighbour.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::meta::{Cache, Regex};
use regex_automata::{Anchored, Input, PatternID};

use super::checks;
use super::entity::{EntityType, Finding};
use super::error::MaskError;
use super::method::{HmacKey, Method};

/// ASCII word boundary usable by the lazy DFA.
const B: &str = r"(?-u:\b)";

/// Validation rule attached to a floating pattern.
#[derive(Clone, Copy, Debug)]
enum Check {
    Email,
    Iban,
    Ipv6,
    Card,
    SsnDashed,
    SsnContext,
    PhoneE164,
    PhoneNational,
    Ipv4,
}

impl Check {
    fn entity(self) -> EntityType {
        match self {
            Check::Email => EntityType::Email,
            Check::Iban => EntityType::Iban,
            Check::Ipv6 => EntityType::Ipv6,
            Check::Card => EntityType::CreditCard,
            Check::SsnDashed | Check::SsnContext => EntityType::UsSsn,
            Check::PhoneE164 | Check::PhoneNational => EntityType::Phone,
            Check::Ipv4 => EntityType::Ipv4,
        }
    }
}

/// The floating patterns, in leftmost-first priority order. They avoid
/// large counted repetitions (lengths are enforced by the validators) so the
/// lazy DFA stays small on digit-dense text.
fn floating_patterns() -> Vec<(Check, String)> {
    let h = "[0-9A-Fa-f]{1,4}";
    let v4 = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
    vec![
        (Check::Email, format!(r"{B}[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{{2,}}{B}")),
        (Check::Iban, format!(r"{B}[A-Z]{{2}}[0-9]{{2}}(?:[ ]?[A-Z0-9])+{B}")),
        (
            Check::Ipv6,
            // IPv4-suffixed forms first (leftmost-first prefers them), then
            // the full 8-group form, then any form with `::`.
            format!(
                r"(?:(?:{h}:){{6}}{v4}|(?:{h}(?::{h}){{0,5}})?::(?:{h}:){{0,5}}{v4}|(?:{h}:){{7}}{h}|(?:{h}(?::{h}){{0,6}})?::(?:{h}(?::{h}){{0,6}})?)"
            ),
        ),
        (
            Check::Card,
            format!(
                r"{B}(?:[0-9]{{13,19}}|[0-9]{{4}}(?:[ -][0-9]{{4}}){{2}}[ -][0-9]{{1,4}}(?:[ -][0-9]{{1,3}})?|[0-9]{{4}}[ -][0-9]{{6}}[ -][0-9]{{4,5}}){B}"
            ),
        ),
        (Check::SsnDashed, format!(r"{B}[0-9]{{3}}-[0-9]{{2}}-[0-9]{{4}}{B}")),
        (Check::SsnContext, format!(r"{B}(?:[0-9]{{9}}|[0-9]{{3}} [0-9]{{2}} [0-9]{{4}}){B}")),
        (
            Check::PhoneE164,
            format!(r"\+[1-9][0-9]{{0,3}}(?:[ .-]?\([0-9]{{1,4}}\))?(?:[ .-]?[0-9]+)+{B}"),
        ),
        (
            Check::PhoneNational,
            format!(
                r"(?:{B}1[ .-]?)?(?:\([2-9][0-9]{{2}}\)[ ]?|{B}[2-9][0-9]{{2}}[-. ])[2-9][0-9]{{2}}[-. ][0-9]{{4}}{B}"
            ),
        ),
        (Check::Ipv4, format!(r"{B}[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}{B}")),
    ]
}

/// Whether a match of some floating pattern can start with byte `b`: an e-mail's local part
/// `[A-Za-z0-9._%+-]`, an IPv6 address's hex digit or `:`, a phone number's `+`, `(` or
/// digit (the rest start with a capital or a digit). The test
/// `no_floating_match_starts_outside_the_start_bytes` checks this against a DFA of the
/// patterns.
fn starts_floating(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b':' | b'(')
}

/// Literal-anchored pattern ids (indices into the literal regex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lit {
    AwsKeyId = 0,
    GithubClassic = 1,
    GithubPat = 2,
    Slack = 3,
    Stripe = 4,
    Jwt = 5,
    PemBegin = 6,
    PemEnd = 7,
}

impl Lit {
    fn pid(self) -> PatternID {
        PatternID::new_unchecked(self as usize)
    }

    fn entity(self) -> EntityType {
        match self {
            Lit::AwsKeyId => EntityType::AwsAccessKeyId,
            Lit::GithubClassic | Lit::GithubPat => EntityType::GithubToken,
            Lit::Slack => EntityType::SlackToken,
            Lit::Stripe => EntityType::StripeKey,
            Lit::Jwt => EntityType::Jwt,
            Lit::PemBegin | Lit::PemEnd => EntityType::PrivateKey,
        }
    }
}

fn literal_patterns() -> Vec<String> {
    vec![
        format!(r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{{16}}{B}"),
        format!(r"gh[pousr]_[A-Za-z0-9]{{36}}{B}"),
        format!(r"github_pat_[A-Za-z0-9_]{{82}}{B}"),
        r"xox[bpars]-[0-9A-Za-z][0-9A-Za-z-]{8,250}".to_owned(),
        format!(r"(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{{10,}}{B}"),
        r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*".to_owned(),
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----".to_owned(),
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----".to_owned(),
    ]
}

const AWS_SECRET_PATTERN: &str = r#"(?i:aws_?secret_?access_?key|secret_?access_?key|secret_?key|aws_?secret)[A-Za-z_]*["']?[ \t]*(?:=>|:=|=|:|,|>)[ \t]*["']?[A-Za-z0-9/+]{40}"#;

/// A literal-anchor searcher: Teddy (SIMD) directly when the CPU and the
/// pattern set allow it, else a general Aho-Corasick automaton. Teddy
/// fingerprints every pattern by as many leading bytes as its shortest
/// pattern has (at most four), so a set of short patterns that look like
/// prose fires often: see the module docs for why there are two.
enum AnchorSearcher {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl AnchorSearcher {
    fn new(patterns: &[&str]) -> Result<AnchorSearcher, MaskError> {
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(patterns)
            .build();
        if let Some(p) = packed {
            return Ok(AnchorSearcher::Packed(p));
        }
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(patterns)
            .map(AnchorSearcher::Automaton)
            .map_err(|e| MaskError::Internal(e.to_string()))
    }

    /// Next anchor in `h[from..end]`: (start, pattern index).
    fn find(&self, h: &[u8], from: usize, end: usize) -> Option<(usize, usize)> {
        match self {
            AnchorSearcher::Packed(p) => p
                .find_in(h, aho_corasick::Span { start: from, end })
                .map(|m| (m.start(), m.pattern().as_usize())),
            AnchorSearcher::Automaton(a) => a
                .find(aho_corasick::Input::new(h).range(from..end))
                .map(|m| (m.start(), m.pattern().as_usize())),
        }
    }
}

/// The next hit of a searcher at or after `pos`: the one in `memo` while it is not behind
/// `pos` (a searcher that found nothing up to the end stays answered), else a new search.
fn next_hit(
    memo: &mut Option<Option<(usize, usize)>>,
    pos: usize,
    find: impl FnOnce() -> Option<(usize, usize)>,
) -> Option<(usize, usize)> {
    if memo.is_some_and(|hit| hit.is_some_and(|(s, _)| s < pos)) {
        *memo = None;
    }
    *memo.get_or_insert_with(find)
}

/// Length of the longest anchor of [`anchors`] (`github_pat_`).
const ANCHOR_MAX: usize = 11;

/// The token anchors and the literal pattern each starts.
fn anchors() -> Vec<(&'static str, Lit)> {
    let mut v = Vec::new();
    for p in ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"] {
        v.push((p, Lit::AwsKeyId));
    }
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        v.push((p, Lit::GithubClassic));
    }
    v.push(("github_pat_", Lit::GithubPat));
    for p in ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"] {
        v.push((p, Lit::Slack));
    }
    for p in ["sk_live_", "rk_live_", "pk_live_", "sk_test_", "rk_test_", "pk_test_"] {
        v.push((p, Lit::Stripe));
    }
    v.push(("eyJ", Lit::Jwt));
    v.push(("-----BEGIN ", Lit::PemBegin));
    v
}

/// The context words of an AWS secret access key (see [`Detectors::aws_secret`]).
const SECRET_WORDS: [&str; 3] = ["secret", "Secret", "SECRET"];

/// Checksum applied to a custom pattern's match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checksum {
    /// Luhn mod 10 over the match's ASCII digits.
    Luhn,
    /// ISO 7064 MOD 97-10 with the IBAN rearrangement (first four characters
    /// moved to the end, letters as 10..=35) over the match's alphanumerics.
    Mod97,
}

/// A host-supplied pattern: a name (snake_case, becomes
/// [`EntityType::Custom`]), a regex (Rust `regex` syntax) and an optional
/// checksum. Custom patterns are scanned over the whole text, so a pattern
/// with no literal in it costs a full regex pass.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// snake_case name, unique, not a built-in name.
    pub name: String,
    /// The regex; it must not be able to match the empty string.
    pub regex: String,
    /// Optional checksum validation of each match.
    #[serde(default)]
    pub checksum: Option<Checksum>,
}

impl CustomPattern {
    /// A custom pattern without checksum.
    pub fn new(name: impl Into<String>, regex: impl Into<String>) -> CustomPattern {
        CustomPattern { name: name.into(), regex: regex.into(), checksum: None }
    }

    /// Set the checksum.
    pub fn with_checksum(mut self, checksum: Checksum) -> CustomPattern {
        self.checksum = Some(checksum);
        self
    }
}

/// Bounds on the custom patterns a [`DetectorsBuilder`] compiles, so a host that takes
/// patterns from its users cannot be made to build an automaton of unbounded size. A pattern
/// over one is refused by [`DetectorsBuilder::build`] with
/// [`MaskError::InvalidCustomPattern`] naming the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternLimits {
    /// Most custom patterns (default 256).
    pub max_patterns: usize,
    /// Longest pattern source, in bytes (default 4,096).
    pub max_pattern_bytes: usize,
    /// Deepest nesting of groups and repetitions in one pattern (default 100).
    pub max_nesting_depth: u32,
    /// Largest compiled automaton (the Thompson NFA of all custom patterns together) in bytes
    /// (default 10 MiB). A counted repetition such as `(a{1000}){1000}` is refused by it.
    pub max_automaton_bytes: usize,
    /// Memory for the lazy DFA's cache per scan, in bytes (default 2 MiB); when it fills, the
    /// search falls back to a slower engine instead of growing.
    pub max_cache_bytes: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        Self {
            max_patterns: 256,
            max_pattern_bytes: 4096,
            max_nesting_depth: 100,
            max_automaton_bytes: 10 * 1024 * 1024,
            max_cache_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Builder for [`Detectors`]; see [`Detectors::builder`].
#[derive(Clone, Default)]
pub struct DetectorsBuilder {
    pattern_limits: PatternLimits,
    disabled: Vec<EntityType>,
    only: Option<Vec<EntityType>>,
    customs: Vec<CustomPattern>,
    methods: Vec<(EntityType, Method)>,
    default_method: Option<Method>,
    key: Option<Vec<u8>>,
    lenient_card_iin: bool,
}

impl std::fmt::Debug for DetectorsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectorsBuilder")
            .field("pattern_limits", &self.pattern_limits)
            .field("disabled", &self.disabled)
            .field("only", &self.only)
            .field("customs", &self.customs)
            .field("methods", &self.methods)
            .field("default_method", &self.default_method)
            .field("hmac_key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("lenient_card_iin", &self.lenient_card_iin)
            .finish()
    }
}

impl DetectorsBuilder {
    /// A builder with every built-in type enabled and `redact` for all.
    pub fn new() -> DetectorsBuilder {
        DetectorsBuilder::default()
    }

    /// Enable only these built-in types (custom patterns are always enabled).
    pub fn only(mut self, types: impl IntoIterator<Item = EntityType>) -> DetectorsBuilder {
        self.only = Some(types.into_iter().collect());
        self
    }

    /// Disable one built-in type.
    pub fn disable(mut self, entity: EntityType) -> DetectorsBuilder {
        self.disabled.push(entity);
        self
    }

    /// Bounds on the custom patterns (see [`PatternLimits`]; the defaults apply otherwise).
    pub fn pattern_limits(mut self, limits: PatternLimits) -> DetectorsBuilder {
        self.pattern_limits = limits;
        self
    }

    /// Add a custom pattern.
    pub fn custom(mut self, pattern: CustomPattern) -> DetectorsBuilder {
        self.customs.push(pattern);
        self
    }

    /// Mask findings of `entity` with `method` (the last call for a type wins).
    pub fn method(mut self, entity: EntityType, method: Method) -> DetectorsBuilder {
        self.methods.retain(|(t, _)| *t != entity);
        self.methods.push((entity, method));
        self
    }

    /// Method for types without their own; default `redact`.
    pub fn default_method(mut self, method: Method) -> DetectorsBuilder {
        self.default_method = Some(method);
        self
    }

    /// The HMAC key for `hash` and `format_preserving`, supplied by the host
    /// (never by a policy). At least 16 bytes.
    pub fn hmac_key(mut self, key: impl Into<Vec<u8>>) -> DetectorsBuilder {
        self.key = Some(key.into());
        self
    }

    /// Card numbers: by default a Luhn-valid number must also start with a
    /// known issuer prefix (2221–2720, 30, 34–39, 4, 50–58, 6). `true` accepts
    /// any Luhn-valid 13–19 digit number (more recall, more false positives).
    pub fn lenient_card_iin(mut self, yes: bool) -> DetectorsBuilder {
        self.lenient_card_iin = yes;
        self
    }

    /// Compile everything. Errors name the offending pattern or setting.
    pub fn build(self) -> Result<Detectors, MaskError> {
        let key = self.key.as_deref().map(HmacKey::new).transpose()?;
        let mut enabled = [true; EntityType::BUILTIN.len()];
        if let Some(only) = &self.only {
            for (i, t) in EntityType::BUILTIN.iter().enumerate() {
                if let Some(slot) = enabled.get_mut(i) {
                    *slot = only.contains(t);
                }
            }
        }
        for t in &self.disabled {
            if let Some(slot) = t.builtin_index().and_then(|i| enabled.get_mut(i)) {
                *slot = false;
            }
        }

        let customs = build_customs(&self.customs, &self.pattern_limits)?;

        let default_method = self.default_method.unwrap_or_default();
        default_method.validate("default")?;
        if default_method.needs_key() && key.is_none() {
            return Err(MaskError::MissingHmacKey {
                entity: "default".to_owned(),
                method: default_method.name(),
            });
        }
        for (t, m) in &self.methods {
            m.validate(t.as_str())?;
            if m.needs_key() && key.is_none() {
                return Err(MaskError::MissingHmacKey {
                    entity: t.as_str().to_owned(),
                    method: m.name(),
                });
            }
        }

        let internal = |e: &dyn std::fmt::Display| MaskError::Internal(e.to_string());
        let is_on = |t: &EntityType| {
            t.builtin_index().and_then(|i| enabled.get(i).copied()).unwrap_or(true)
        };
        // Only the enabled types' patterns: a disabled pattern that matches first would send
        // the scan through the same-start retries of the floating pass for nothing (with
        // `only([email])`, PII-dense rows ran at a third of the speed of all types).
        let fl: Vec<(Check, String)> =
            floating_patterns().into_iter().filter(|(c, _)| is_on(&c.entity())).collect();
        let floating = Regex::new_many(&fl.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>())
            .map_err(|e| internal(&e))?;
        let literal = Regex::new_many(&literal_patterns()).map_err(|e| internal(&e))?;
        let secret = Regex::new(AWS_SECRET_PATTERN).map_err(|e| internal(&e))?;
        let anchor_list = anchors();
        let ac = AnchorSearcher::new(&anchor_list.iter().map(|(p, _)| *p).collect::<Vec<_>>())?;
        let secret_words = if is_on(&EntityType::AwsSecretKey) {
            Some(AnchorSearcher::new(&SECRET_WORDS)?)
        } else {
            None
        };

        let mut gate = 0u8;
        for (bit, types) in GATE_SIGNALS {
            if types.iter().any(is_on) {
                gate |= bit;
            }
        }

        let inner = Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ac,
            triggers: anchor_list.iter().map(|(_, t)| *t).collect(),
            secret_words,
            literal,
            floating,
            floating_checks: fl.iter().map(|(c, _)| *c).collect(),
            secret,
            customs,
            enabled,
            gate,
            strict_iin: !self.lenient_card_iin,
            writes_hashes: key.is_some()
                && self
                    .methods
                    .iter()
                    .map(|(_, m)| m)
                    .chain([&default_method])
                    .any(|m| matches!(m, Method::Hash)),
            methods: self.methods,
            default_method,
            key,
        };
        let det = Detectors { inner: Arc::new(inner) };
        det.check_tokens()?;
        Ok(det)
    }
}

impl Detectors {
    /// Refuse a configuration whose fixed output is itself detected: a configured `redact`
    /// token, the default `[REDACTED:<type>]` of every type that can be found (what `redact`
    /// without a token writes, and what `email` falls back to and a crafted chain fails closed
    /// to), and the column token [`COLUMN_REDACTION`](super::method::COLUMN_REDACTION). A custom
    /// pattern such as `REDACTED` or `[A-Z]{8}` would otherwise mask a token again each time
    /// masked text is masked, and masking would not be idempotent.
    fn check_tokens(&self) -> Result<(), MaskError> {
        let inner = &*self.inner;
        // (whose output, the token, what to change)
        let mut tokens: Vec<(String, String, &str)> = Vec::new();
        let configured = inner.methods.iter().map(|(t, m)| (t.as_str(), m));
        for (t, m) in configured.chain([("default", &inner.default_method)]) {
            if let Method::Redact { token: Some(token) } = m {
                tokens.push((t.to_owned(), token.clone(), "the token or the pattern"));
            }
        }
        let found = EntityType::BUILTIN
            .iter()
            .filter(|t| self.on(t))
            .cloned()
            .chain(inner.customs.iter().flat_map(|c| c.specs.iter().map(|(t, _)| t.clone())));
        for t in found {
            tokens.push((
                t.as_str().to_owned(),
                format!("[REDACTED:{}]", t.as_str()),
                "the pattern",
            ));
        }
        let column = super::method::COLUMN_REDACTION.to_owned();
        tokens.push(("column".to_owned(), column, "the pattern"));
        for (entity, token, change) in tokens {
            if let Some(f) = self.scan(&token).first() {
                return Err(MaskError::InvalidMethod {
                    entity,
                    reason: format!(
                        "the redaction token `{token}` is itself detected as `{}`, so masked \
                         text would be masked again: change {change}",
                        f.entity.as_str()
                    ),
                });
            }
        }
        Ok(())
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct CustomSet {
    regex: Regex,
    specs: Vec<(EntityType, Option<Checksum>)>,
}

/// An error and its causes, `: `-separated (regex-automata's build errors keep the detail,
/// such as an exceeded nesting limit, in their sources).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn build_customs(
    customs: &[CustomPattern],
    limits: &PatternLimits,
) -> Result<Option<CustomSet>, MaskError> {
    if customs.is_empty() {
        return Ok(None);
    }
    if customs.len() > limits.max_patterns {
        return Err(MaskError::InvalidCustomPattern {
            name: customs.get(limits.max_patterns).map_or_else(String::new, |c| c.name.clone()),
            reason: format!(
                "{} custom patterns, over the limit of {} (PatternLimits::max_patterns)",
                customs.len(),
                limits.max_patterns
            ),
        });
    }
    let builder = || {
        let mut b = Regex::builder();
        b.syntax(regex_automata::util::syntax::Config::new().nest_limit(limits.max_nesting_depth))
            .configure(
                Regex::config()
                    .nfa_size_limit(Some(limits.max_automaton_bytes))
                    .onepass_size_limit(Some(limits.max_automaton_bytes))
                    .dfa_size_limit(Some(limits.max_automaton_bytes))
                    .hybrid_cache_capacity(limits.max_cache_bytes),
            );
        b
    };
    let mut seen: Vec<&str> = Vec::new();
    for c in customs {
        let bad_name = |reason: &str| MaskError::InvalidCustomName {
            name: c.name.clone(),
            reason: reason.to_owned(),
        };
        if c.name.is_empty() || c.name.len() > 64 {
            return Err(bad_name("must be 1 to 64 characters"));
        }
        if !c.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || !c.name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        {
            return Err(bad_name("must be snake_case: a lower-case letter, then [a-z0-9_]"));
        }
        if EntityType::BUILTIN.iter().any(|t| t.as_str() == c.name) {
            return Err(bad_name("is a built-in entity type"));
        }
        if seen.contains(&c.name.as_str()) {
            return Err(bad_name("is used twice"));
        }
        seen.push(&c.name);
        if c.regex.len() > limits.max_pattern_bytes {
            return Err(MaskError::InvalidCustomPattern {
                name: c.name.clone(),
                reason: format!(
                    "regex is {} bytes, over the limit of {} (PatternLimits::max_pattern_bytes)",
                    c.regex.len(),
                    limits.max_pattern_bytes
                ),
            });
        }
        let re = builder().build(&c.regex).map_err(|e| MaskError::InvalidCustomPattern {
            name: c.name.clone(),
            reason: format!("regex does not compile within PatternLimits: {}", with_causes(&e)),
        })?;
        if re.is_match("") {
            return Err(MaskError::InvalidCustomPattern {
                name: c.name.clone(),
                reason: "regex can match the empty string".to_owned(),
            });
        }
    }
    let regex = builder()
        .build_many(&customs.iter().map(|c| c.regex.as_str()).collect::<Vec<_>>())
        .map_err(|e| {
            let name = e
                .pattern()
                .and_then(|p| customs.get(p.as_usize()))
                .map_or_else(|| "<custom>".to_owned(), |c| c.name.clone());
            MaskError::InvalidCustomPattern { name, reason: with_causes(&e) }
        })?;
    Ok(Some(CustomSet {
        regex,
        specs: customs.iter().map(|c| (EntityType::custom(&c.name), c.checksum)).collect(),
    }))
}

struct Inner {
    id: u64,
    ac: AnchorSearcher,
    /// The literal pattern of each anchor of `ac`.
    triggers: Vec<Lit>,
    /// The searcher of [`SECRET_WORDS`], when `aws_secret_key` is on.
    secret_words: Option<AnchorSearcher>,
    literal: Regex,
    floating: Regex,
    floating_checks: Vec<Check>,
    secret: Regex,
    customs: Option<CustomSet>,
    enabled: [bool; EntityType::BUILTIN.len()],
    /// The `SIG_*` bits of the enabled types (see [`GATE_SIGNALS`]).
    gate: u8,
    strict_iin: bool,
    /// Some type is masked with `hash`, with a key (see [`Detectors::writes_hashes`]).
    writes_hashes: bool,
    methods: Vec<(EntityType, Method)>,
    default_method: Method,
    key: Option<HmacKey>,
}

/// The compiled detectors plus the per-type masking configuration.
///
/// Built once with [`Detectors::builder`]; cheap to clone (an `Arc`), and
/// `Send + Sync`, so one value serves every thread. Scanning never fails.
#[derive(Clone)]
pub struct Detectors {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Detectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.inner;
        f.debug_struct("Detectors")
            .field("custom_patterns", &i.customs.as_ref().map_or(0, |c| c.specs.len()))
            .field("methods", &i.methods)
            .field("default_method", &i.default_method)
            .field("hmac_key", &i.key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Reusable scratch space for scanning: regex caches and buffers.
///
/// Create one per thread with [`Detectors::create_cache`] (or
/// [`ScanCache::new`]) and pass it to every call; caches are filled lazily,
/// so an unused cache costs nothing. A cache used with a different
/// `Detectors` is reset automatically rather than misused.
#[derive(Debug, Default)]
pub struct ScanCache {
    owner: u64,
    floating: Option<Cache>,
    literal: Option<Cache>,
    secret: Option<Cache>,
    custom: Option<Cache>,
    windows: Vec<(usize, usize)>,
}

impl ScanCache {
    /// An empty cache; allocates nothing until a scan needs it.
    pub fn new() -> ScanCache {
        ScanCache::default()
    }

    fn bind(&mut self, id: u64) {
        if self.owner != id {
            self.floating = None;
            self.literal = None;
            self.secret = None;
            self.custom = None;
            self.owner = id;
        }
    }
}

impl Detectors {
    /// Start configuring detectors.
    pub fn builder() -> DetectorsBuilder {
        DetectorsBuilder::new()
    }

    /// All built-in detectors, `redact` everywhere, no key, no custom patterns.
    pub fn with_defaults() -> Result<Detectors, MaskError> {
        DetectorsBuilder::new().build()
    }

    /// A cache bound to these detectors (see [`ScanCache`]).
    pub fn create_cache(&self) -> ScanCache {
        let mut c = ScanCache::new();
        c.bind(self.inner.id);
        c
    }

    /// The method configured for `entity` (or the default method).
    pub fn method_for(&self, entity: &EntityType) -> &Method {
        self.inner
            .methods
            .iter()
            .find(|(t, _)| t == entity)
            .map_or(&self.inner.default_method, |(_, m)| m)
    }

    pub(crate) fn key(&self) -> Option<&HmacKey> {
        self.inner.key.as_ref()
    }

    /// True when some type is masked with `hash` (and there is a key, without which `hash`
    /// writes the redaction token). Decided once, when the detectors are built.
    pub(crate) fn writes_hashes(&self) -> bool {
        self.inner.writes_hashes
    }

    /// Find every sensitive value in `text`: sorted, non-overlapping findings.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        self.scan_with(text, None)
    }

    /// [`Detectors::scan`] with a caller-provided cache.
    pub fn scan_with(&self, text: &str, cache: Option<&mut ScanCache>) -> Vec<Finding> {
        let mut out = Vec::new();
        self.scan_into(text, cache, &mut out);
        out
    }

    /// Scan into `out` (cleared first), reusing its allocation.
    pub fn scan_into(&self, text: &str, cache: Option<&mut ScanCache>, out: &mut Vec<Finding>) {
        let mut tmp;
        let cache = match cache {
            Some(c) => c,
            None => {
                tmp = ScanCache::new();
                &mut tmp
            }
        };
        self.scan_parts(text, None, cache, out, |_| true);
    }

    /// The scan behind [`Detectors::scan_into`], for the rescans of masked text: with `ranges`
    /// (sorted, disjoint byte ranges), only values found from those ranges are looked for
    /// (literal anchors and gate chunks inside them; a match may run past a range's end), and
    /// custom patterns still run over the whole text. Candidates `keep` refuses are dropped
    /// before overlaps are resolved, so they cannot hide a candidate they overlap.
    pub(crate) fn scan_parts(
        &self,
        text: &str,
        ranges: Option<&[(usize, usize)]>,
        cache: &mut ScanCache,
        out: &mut Vec<Finding>,
        keep: impl Fn(&Finding) -> bool,
    ) {
        self.scan_parts_with(text, ranges, cache, out, keep, false);
    }

    /// [`Detectors::scan_parts`]; `ungated` flags every chunk (see [`Detectors::scan_ungated`]).
    fn scan_parts_with(
        &self,
        text: &str,
        ranges: Option<&[(usize, usize)]>,
        cache: &mut ScanCache,
        out: &mut Vec<Finding>,
        keep: impl Fn(&Finding) -> bool,
        ungated: bool,
    ) {
        out.clear();
        cache.bind(self.inner.id);
        cache.windows.clear();
        let h = text.as_bytes();
        let whole = [(0, h.len())];
        let ranges = ranges.unwrap_or(&whole);
        let mut next = 0usize;
        for &(lo, hi) in ranges {
            let hi = hi.min(h.len());
            let lo = lo.min(hi);
            next = self.literal_pass(text, lo.max(next), hi, cache, out);
            if ungated {
                gate_chunks(h, lo, hi, &mut cache.windows, None);
            } else {
                self.gate(h, lo, hi, &mut cache.windows);
            }
        }
        if !cache.windows.is_empty() {
            merge_windows(&mut cache.windows);
            self.floating_pass(text, cache, out, !ungated);
        }
        self.custom_pass(text, ranges, cache, out);
        out.retain(keep);
        resolve(out);
    }

    fn on(&self, t: &EntityType) -> bool {
        t.builtin_index().and_then(|i| self.inner.enabled.get(i).copied()).unwrap_or(true)
    }

    /// Anchored literals whose anchor starts in `from..to` (a match may end past `to`).
    /// Returns where a following range's search may start (past the last match).
    fn literal_pass(
        &self,
        text: &str,
        from: usize,
        to: usize,
        cache: &mut ScanCache,
        out: &mut Vec<Finding>,
    ) -> usize {
        let inner = &*self.inner;
        let h = text.as_bytes();
        // The longest anchor is 11 bytes: one starting before `to` ends before `to + 11`.
        let end = to.saturating_add(ANCHOR_MAX).min(h.len());
        let mut pos = from;
        // The next hit of each searcher in `pos..end`, kept while `pos` has not passed it: a
        // searcher is asked again only once its hit is behind, so a text full of one kind of
        // anchor does not make the other search the rest of the text again at each hit.
        let mut token = None;
        let mut word = None;
        while pos < to {
            let t = next_hit(&mut token, pos, || inner.ac.find(h, pos, end));
            let w = match &inner.secret_words {
                Some(words) => next_hit(&mut word, pos, || words.find(h, pos, end)),
                None => None,
            };
            // The earlier hit; `None` for a secret word. At most one anchor starts at a given
            // byte: no token anchor starts with `sec`, `Sec` or `SEC`.
            let (start, anchor) = match (t, w) {
                (Some((ts, p)), Some((ws, _))) if ts < ws => (ts, Some(p)),
                (_, Some((ws, _))) => (ws, None),
                (Some((ts, p)), None) => (ts, Some(p)),
                (None, None) => break,
            };
            if start >= to {
                break;
            }
            let mut next = start + 1;
            match anchor.map(|p| inner.triggers.get(p).copied()) {
                Some(Some(lit)) if self.on(&lit.entity()) && checks::free_before(h, start) => {
                    if let Some((s, e)) = self.anchored_literal(text, cache, lit, start) {
                        out.push(Finding { entity: lit.entity(), start: s, end: e });
                        next = e;
                    }
                }
                Some(_) => {}
                None => {
                    if let Some((s, e)) = self.aws_secret(text, cache, start) {
                        out.push(Finding { entity: EntityType::AwsSecretKey, start: s, end: e });
                        next = e;
                    }
                }
            }
            pos = next.max(start + 1);
        }
        pos
    }

    fn anchored_literal(
        &self,
        text: &str,
        cache: &mut ScanCache,
        lit: Lit,
        at: usize,
    ) -> Option<(usize, usize)> {
        let inner = &*self.inner;
        let h = text.as_bytes();
        let c = cache.literal.get_or_insert_with(|| inner.literal.create_cache());
        let input = Input::new(text).range(at..).anchored(Anchored::Pattern(lit.pid()));
        let m = inner.literal.search_with(c, &input)?;
        let (s, e) = (m.start(), m.end());
        match lit {
            Lit::Slack => checks::slack(h, s, e).map(|e| (s, e)),
            Lit::Jwt => checks::jwt(h, s, e).map(|e| (s, e)),
            Lit::PemBegin => Some((s, self.pem_end(text, c, e))),
            _ => Some((s, e)),
        }
    }

    /// End of a PEM private key whose header ends at `header_end`: its END
    /// line when present; otherwise (a truncated key) the end of the
    /// base64-ish body, so a key missing its footer is still masked.
    fn pem_end(&self, text: &str, c: &mut Cache, header_end: usize) -> usize {
        let h = text.as_bytes();
        let tail = h.get(header_end..).unwrap_or_default();
        if let Some(off) = memchr::memmem::find(tail, b"-----END ") {
            let q = header_end + off;
            let input = Input::new(text).range(q..).anchored(Anchored::Pattern(Lit::PemEnd.pid()));
            if let Some(m) = self.inner.literal.search_with(c, &input) {
                return m.end();
            }
        }
        let body = tail
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || b"+/=\\ \t\r\n:,-".contains(b))
            .count();
        header_end + body
    }

    fn aws_secret(&self, text: &str, cache: &mut ScanCache, hit: usize) -> Option<(usize, usize)> {
        let inner = &*self.inner;
        let h = text.as_bytes();
        let c = cache.secret.get_or_insert_with(|| inner.secret.create_cache());
        let lo = hit.saturating_sub(16);
        let hi = (hit + 96).min(h.len());
        let mut at = lo;
        while at < hi {
            let m = inner.secret.search_with(c, &Input::new(text).range(at..hi))?;
            if let Some(span) = checks::aws_secret(h, m.end()) {
                return Some(span);
            }
            at = m.start() + 1;
        }
        None
    }

    /// Flag the 64-byte chunks of `h[lo..hi]` where a shape of one of the enabled types
    /// starts ([`chunk_shapes`]) and push the windows of their shapes (see the module docs,
    /// "Byte gate").
    fn gate(&self, h: &[u8], lo: usize, hi: usize, windows: &mut Vec<(usize, usize)>) {
        let want = self.inner.gate;
        if want == 0 {
            return;
        }
        gate_chunks(h, lo, hi, windows, Some(want));
    }

    /// [`Detectors::scan`] with every chunk flagged (one window over the whole text), and
    /// each window searched with the plain unanchored search from its first byte: the
    /// reference the tests of the byte gate and of the floating search's shortcuts compare
    /// against. Not meant for production use.
    #[doc(hidden)]
    pub fn scan_ungated(&self, text: &str) -> Vec<Finding> {
        let mut cache = self.create_cache();
        let mut out = Vec::new();
        self.scan_parts_with(text, None, &mut cache, &mut out, |_| true, true);
        out
    }

    /// The floating patterns over each window. With `shortcuts` off (the reference of
    /// [`Detectors::scan_ungated`]), each search is the plain unanchored one from where the
    /// last ended, with no skipped bytes and no anchored try.
    fn floating_pass(
        &self,
        text: &str,
        cache: &mut ScanCache,
        out: &mut Vec<Finding>,
        shortcuts: bool,
    ) {
        let inner = &*self.inner;
        let c = cache.floating.get_or_insert_with(|| inner.floating.create_cache());
        let h = text.as_bytes();
        for &(lo, hi) in &cache.windows {
            // A window often begins with bytes no match can start at (the space before a
            // card, after `was`): the search starts past them.
            let skip =
                h.get(lo..hi).unwrap_or_default().iter().take_while(|b| !starts_floating(**b));
            let mut at = if shortcuts { lo + skip.count() } else { lo };
            while at < hi {
                // A window is the run of bytes its values hold, so on text dense with values
                // a match most often starts where the search does. An anchored search there
                // runs the forward DFA only; the unanchored one also runs the reverse DFA to
                // find where its match starts. When the anchored search matches, its match is
                // the leftmost-first match of the range: none can start before `at`, and at
                // `at` both take the same preferred match.
                let here = Input::new(text).range(at..hi).anchored(Anchored::Yes);
                let anchored = if shortcuts { inner.floating.search_with(c, &here) } else { None };
                let from = if shortcuts { at + 1 } else { at };
                let m = anchored
                    .or_else(|| inner.floating.search_with(c, &Input::new(text).range(from..hi)));
                let Some(m) = m else {
                    break;
                };
                let pid = m.pattern().as_usize();
                if let Some((t, e)) = self.validate_floating(text, pid, m.start(), m.end()) {
                    out.push(Finding { entity: t, start: m.start(), end: e });
                    at = e.max(m.start() + 1);
                    continue;
                }
                // A lower-priority pattern may match (and validate) at the
                // same start; higher-priority ones did not match there, or
                // leftmost-first would have reported them.
                let mut found = None;
                for q in pid + 1..inner.floating_checks.len() {
                    let input = Input::new(text)
                        .range(m.start()..hi)
                        .anchored(Anchored::Pattern(PatternID::new_unchecked(q)));
                    if let Some(m2) = inner.floating.search_with(c, &input)
                        && let Some(v) = self.validate_floating(text, q, m2.start(), m2.end())
                    {
                        found = Some(v);
                        break;
                    }
                }
                match found {
                    Some((t, e)) => {
                        out.push(Finding { entity: t, start: m.start(), end: e });
                        at = e.max(m.start() + 1);
                    }
                    None => at = m.start() + 1,
                }
            }
        }
    }

    fn validate_floating(
        &self,
        text: &str,
        pid: usize,
        s: usize,
        e: usize,
    ) -> Option<(EntityType, usize)> {
        let check = self.inner.floating_checks.get(pid).copied()?;
        let t = check.entity();
        if !self.on(&t) {
            return None;
        }
        let h = text.as_bytes();
        let end = match check {
            Check::Email => checks::email(h, s, e),
            Check::Iban => checks::iban(h, s, e),
            Check::Ipv6 => checks::ipv6(h, s, e),
            Check::Card => checks::credit_card(h, s, e, self.inner.strict_iin),
            Check::SsnDashed => checks::ssn_dashed(h, s, e),
            Check::SsnContext => checks::ssn_context(h, s, e),
            Check::PhoneE164 => checks::phone(h, s, e, true),
            Check::PhoneNational => checks::phone(h, s, e, false),
            Check::Ipv4 => checks::ipv4(h, s, e),
        }?;
        Some((t, end))
    }

    /// Custom patterns matching from inside `ranges` (a match may run past a range's end; one
    /// that starts in a range but could only end past it is left to a scan of the whole text).
    fn custom_pass(
        &self,
        text: &str,
        ranges: &[(usize, usize)],
        cache: &mut ScanCache,
        out: &mut Vec<Finding>,
    ) {
        let Some(set) = &self.inner.customs else {
            return;
        };
        let c = cache.custom.get_or_insert_with(|| set.regex.create_cache());
        let h = text.as_bytes();
        let mut next = 0usize;
        for &(lo, hi) in ranges {
            let hi = hi.min(h.len());
            let mut at = lo.max(next);
            while at < hi {
                let Some(m) = set.regex.search_with(c, &Input::new(text).range(at..hi)) else {
                    break;
                };
                // The match the whole text has at that start (it may run past `hi`).
                let m = if hi < h.len() {
                    let whole = Input::new(text).range(m.start()..).anchored(Anchored::Yes);
                    set.regex.search_with(c, &whole).unwrap_or(m)
                } else {
                    m
                };
                at = custom_match(text, set, m, out);
            }
            next = at;
        }
    }
}

/// Validate one custom match; where the search goes on.
fn custom_match(
    text: &str,
    set: &CustomSet,
    m: regex_automata::Match,
    out: &mut Vec<Finding>,
) -> usize {
    let h = text.as_bytes();
    if m.is_empty() {
        return next_char_boundary(text, m.end() + 1);
    }
    let Some((t, sum)) = set.specs.get(m.pattern().as_usize()) else {
        return h.len();
    };
    let body = h.get(m.start()..m.end()).unwrap_or_default();
    let ok = match sum {
        None => true,
        Some(Checksum::Luhn) => checks::luhn(body),
        Some(Checksum::Mod97) => checks::mod97(body),
    };
    if ok {
        out.push(Finding { entity: t.clone(), start: m.start(), end: m.end() });
        m.end()
    } else {
        next_char_boundary(text, m.start() + 1)
    }
}

fn next_char_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Push the windows of the shapes of `want` (`SIG_*` bits) that start in `h[lo..hi]`: for
/// each shape, the run of bytes around it that a value of its types can hold ([`shape_run`]).
/// With `want` `None`, every chunk is flagged and its window is the chunk widened as for an
/// e-mail (what [`Detectors::scan_ungated`] compares the gate against).
///
/// A value that overlaps `lo` but whose shape starts before it is not looked for: a rescan's
/// ranges reach 320 bytes around each replacement, further than any value is long, and the
/// rescans end with a scan of the whole text (`mask/apply.rs`).
fn gate_chunks(
    h: &[u8],
    lo: usize,
    hi: usize,
    windows: &mut Vec<(usize, usize)>,
    want: Option<u8>,
) {
    let n = h.len();
    let hi = hi.min(n);
    let mut base = lo.min(hi);
    if base >= hi {
        return;
    }
    // The chunk and what follows it in the text: a shape that starts in the chunk may end
    // after it (and after `hi`). Zeros past the text belong to no class.
    let mut cur = Classes::of(h, base);
    while base < hi {
        let len = (hi - base).min(CHUNK);
        let next = Classes::of(h, base + CHUNK);
        // Shapes starting past `hi` (in a short last chunk) are not reported.
        let live = if len >= CHUNK { u64::MAX } else { (1u64 << len) - 1 };
        match want {
            Some(want) => {
                let shapes = chunk_shapes(&cur, &next, live);
                if shapes.signals() & want != 0 {
                    shapes.windows(h, base, want, windows);
                }
            }
            None => {
                windows.push((base.saturating_sub(80), (base + len + 272).min(n)));
            }
        }
        cur = next;
        base += len;
    }
}

/// Bytes per gate chunk: a chunk whose signals are non-zero becomes a window. The shapes
/// read at most 11 bytes past their start (the dotted-quad and colon chains), so a chunk
/// and the next one hold every shape that starts in the chunk.
const CHUNK: usize = 64;

/// `@`: an e-mail address (its window is wider: a local part of up to 64 bytes before, a
/// domain of up to 253 after).
const SIG_AT: u8 = 1;
/// Nine digits in a row, or `DD?DDDD` with `?` one of ` .-`: a card (13-19 digits, bare or
/// in groups of 4 or 4-6-5 split by ` ` or `-`), an SSN (9 digits, bare or `DDD-DD-DDDD`,
/// `DDD DD DDDD`) or a national phone number (ending in `DDD-DDDD`, `DDD.DDDD`, `DDD DDDD`).
const SIG_DIGITS: u8 = 1 << 1;
/// `+` then a digit: an E.164 phone number.
const SIG_PLUS: u8 = 1 << 2;
/// `D.D` three times, each 2 to 4 bytes after the one before: a dotted quad.
const SIG_DOTTED: u8 = 1 << 3;
/// `::`, or three colons each 2 to 5 bytes after the one before: an IPv6 address.
const SIG_COLONS: u8 = 1 << 4;
/// Two capital letters then two digits: the start of an IBAN.
const SIG_IBAN: u8 = 1 << 5;

/// Which signal each built-in floating type needs; the gate looks only for the signals of
/// the enabled types.
const GATE_SIGNALS: [(u8, &[EntityType]); 6] = [
    (SIG_AT, &[EntityType::Email]),
    (SIG_DIGITS, &[EntityType::CreditCard, EntityType::UsSsn, EntityType::Phone]),
    (SIG_PLUS, &[EntityType::Phone]),
    (SIG_DOTTED, &[EntityType::Ipv4]),
    (SIG_COLONS, &[EntityType::Ipv6]),
    (SIG_IBAN, &[EntityType::Iban]),
];

/// The byte classes of one 64-byte chunk, one bit a byte (bit `i` is byte `i`).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Classes {
    digit: u64,
    dot: u64,
    colon: u64,
    /// A separator of grouped digits: ` `, `-` or `.`.
    sep: u64,
    upper: u64,
    plus: u64,
    at: u64,
}

impl Classes {
    /// The classes of `h[at..at + 64]` (bytes past the end of `h` are zeros: no class).
    #[inline(always)]
    fn of(h: &[u8], at: usize) -> Self {
        let mut buf = [0u8; CHUNK];
        let chunk: &[u8; CHUNK] = match h.get(at..at.saturating_add(CHUNK)) {
            Some(s) => s.try_into().unwrap_or(&buf),
            None => {
                let avail = h.get(at..).unwrap_or_default();
                if avail.is_empty() {
                    return Self::default();
                }
                let (head, _) = buf.split_at_mut(avail.len());
                head.copy_from_slice(avail);
                &buf
            }
        };
        Self::classify(chunk)
    }

    /// One SSE2 compare (two for a range) and one movemask a class for each 16 bytes.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn classify(chunk: &[u8; CHUNK]) -> Self {
        use safe_arch::{
            cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, m128i, min_u8_m128i,
            move_mask_i8_m128i, set_splat_i8_m128i as splat, sub_i8_m128i,
        };
        let mut lanes = [m128i::default(); CHUNK / 16];
        for (lane, bytes) in lanes.iter_mut().zip(chunk.chunks_exact(16)) {
            if let Ok(bytes) = <&[u8; 16]>::try_from(bytes) {
                *lane = load_unaligned_m128i(bytes);
            }
        }
        /// The movemask of `f` over each lane, as one bit a byte of the chunk.
        #[inline(always)]
        fn gather(lanes: &[m128i; CHUNK / 16], f: impl Fn(m128i) -> m128i) -> u64 {
            lanes.iter().enumerate().fold(0u64, |m, (k, &x)| {
                m | (u64::from(move_mask_i8_m128i(f(x)).cast_unsigned() & 0xFFFF) << (16 * k))
            })
        }
        // `x - lo` as unsigned is at most `n` exactly where `lo <= x <= lo + n`.
        let range = |x: m128i, lo: u8, n: u8| {
            let d = sub_i8_m128i(x, splat(lo.cast_signed()));
            eq(min_u8_m128i(d, splat(n.cast_signed())), d)
        };
        let byte = |x: m128i, b: u8| eq(x, splat(b.cast_signed()));
        Self {
            digit: gather(&lanes, |x| range(x, b'0', 9)),
            dot: gather(&lanes, |x| byte(x, b'.')),
            colon: gather(&lanes, |x| byte(x, b':')),
            sep: gather(&lanes, |x| byte(x, b' ') | byte(x, b'-') | byte(x, b'.')),
            upper: gather(&lanes, |x| range(x, b'A', 25)),
            plus: gather(&lanes, |x| byte(x, b'+')),
            at: gather(&lanes, |x| byte(x, b'@')),
        }
    }

    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline(always)]
    fn classify(chunk: &[u8; CHUNK]) -> Self {
        Self::classify_portable(chunk)
    }

    /// The portable classification: a byte-wise pass a class, packed by multiplies (the
    /// tests compare the SSE2 one with it).
    #[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2", not(test)), allow(dead_code))]
    #[inline(always)]
    fn classify_portable(chunk: &[u8; CHUNK]) -> Self {
        // `+` and `@` are rare: gather their bits only when the chunk has one.
        let rare = chunk.iter().fold(0u8, |a, &b| a | u8::from(b == b'+' || b == b'@'));
        let (plus, at) = if rare != 0 {
            (bits(chunk, |b| b == b'+'), bits(chunk, |b| b == b'@'))
        } else {
            (0, 0)
        };
        Self {
            digit: bits(chunk, |b| b.wrapping_sub(b'0') < 10),
            dot: bits(chunk, |b| b == b'.'),
            colon: bits(chunk, |b| b == b':'),
            sep: bits(chunk, |b| b == b' ' || b == b'-' || b == b'.'),
            upper: bits(chunk, |b| b.wrapping_sub(b'A') < 26),
            plus,
            at,
        }
    }
}

/// One bit per byte of `chunk` where `f` holds: a byte-wise pass the compiler vectorises,
/// then eight multiplies that gather each 8-byte word's flags into one byte.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2", not(test)), allow(dead_code))]
#[inline(always)]
fn bits(chunk: &[u8; CHUNK], f: impl Fn(u8) -> bool) -> u64 {
    let mut flags = [0u8; CHUNK];
    for (o, &b) in flags.iter_mut().zip(chunk) {
        *o = u8::from(f(b));
    }
    let mut m = 0u64;
    for (k, w) in flags.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        // Byte `j` of `word` is 0 or 1; the product's top byte holds bit `j` of it at `j`.
        let packed = u64::from_le_bytes(word).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        m |= packed << (8 * k);
    }
    m
}

/// Where the shapes of each signal start in one chunk: bit `i` is set where a shape starts
/// at the chunk's byte `i` (a byte of `live`).
#[derive(Clone, Copy)]
struct Shapes {
    at: u64,
    digits: u64,
    plus: u64,
    dotted: u64,
    colons: u64,
    iban: u64,
}

/// The shapes that start in this chunk at a byte of `live`. `cur` holds the chunk's
/// classes, `next` those of the 64 bytes after it. Every value a floating type accepts
/// contains one of its type's shapes (module docs, "Byte gate"), and a value's shape starts
/// inside the value. `x >> k` moves byte `i + k`'s bit to `i`, carrying from the next chunk.
#[inline(always)]
fn chunk_shapes(cur: &Classes, next: &Classes, live: u64) -> Shapes {
    let wide = |c: fn(&Classes) -> u64| u128::from(c(cur)) | (u128::from(c(next)) << CHUNK);
    let d = wide(|c| c.digit);
    let dot = wide(|c| c.dot);
    let colon = wide(|c| c.colon);
    let sep = wide(|c| c.sep);
    let up = wide(|c| c.upper);
    let plus = wide(|c| c.plus);

    // Nine digits in a row, or `DD?DDDD`.
    let d2 = d & (d >> 1);
    let d4 = d2 & (d2 >> 2);
    let run9 = d4 & (d4 >> 4) & (d >> 8);
    let grouped = d2 & (sep >> 2) & (d4 >> 3);
    let digits = run9 | grouped;
    let e164 = plus & (d >> 1);
    let iban = up & (up >> 1) & (d >> 2) & (d >> 3);
    // `D.D` at i, then two more, each 2..=4 bytes after the one before.
    let ddot = d & (dot >> 1) & (d >> 2);
    let within_2_4 = |x: u128| (x >> 2) | (x >> 3) | (x >> 4);
    let ddot2 = ddot & within_2_4(ddot);
    let dotted = ddot & within_2_4(ddot2);
    // `::`, or a colon, then two more, each 2..=5 bytes after the one before.
    let within_2_5 = |x: u128| (x >> 2) | (x >> 3) | (x >> 4) | (x >> 5);
    let cc = colon & (colon >> 1);
    let chain2 = colon & within_2_5(colon);
    let chain = colon & within_2_5(chain2);
    let colons = cc | chain;

    // The chunk's own bytes: the low half.
    let own = |x: u128| (x as u64) & live;
    Shapes {
        at: cur.at & live,
        digits: own(digits),
        plus: own(e164),
        dotted: own(dotted),
        colons: own(colons),
        iban: own(iban),
    }
}

impl Shapes {
    /// The signals (`SIG_*` bits) of the shapes.
    #[inline(always)]
    fn signals(&self) -> u8 {
        let flag = |x: u64, bit: u8| if x != 0 { bit } else { 0 };
        flag(self.at, SIG_AT)
            | flag(self.digits, SIG_DIGITS)
            | flag(self.plus, SIG_PLUS)
            | flag(self.dotted, SIG_DOTTED)
            | flag(self.colons, SIG_COLONS)
            | flag(self.iban, SIG_IBAN)
    }

    /// Push a window for each shape of `want` (the chunk starts at `base`): the run of the
    /// bytes its types' values hold around it ([`shape_run`]). A shape inside the window of
    /// one before it adds nothing when that window ends where its run does (the same run);
    /// after a run cut short by its reach, every shape gets a window of its own.
    #[cold]
    fn windows(&self, h: &[u8], base: usize, want: u8, windows: &mut Vec<(usize, usize)>) {
        let on = |bit: u8, m: u64| if want & bit != 0 { m } else { 0 };
        let first = windows.len();
        for (mut m, run) in [
            (on(SIG_AT, self.at), Run::Email),
            (on(SIG_DIGITS, self.digits) | on(SIG_PLUS, self.plus), Run::Number),
            (on(SIG_DOTTED, self.dotted), Run::Quad),
            (on(SIG_COLONS, self.colons), Run::Ipv6),
            (on(SIG_IBAN, self.iban), Run::Iban),
        ] {
            while m != 0 {
                let p = base + m.trailing_zeros() as usize;
                let (lo, hi, whole) = shape_run(h, p, run);
                match windows.last_mut() {
                    Some(last) if lo >= last.0 && lo <= last.1 => last.1 = last.1.max(hi),
                    _ => windows.push((lo, hi)),
                }
                let past = if whole { hi - base } else { p - base + 1 };
                m = if past >= CHUNK { 0 } else { m & (u64::MAX << past) };
            }
        }
        // The chunk's windows come out sorted by run, then by start: sorted by start here (a
        // few of them), the whole list mostly needs no sort in [`merge_windows`].
        if let Some(chunk) = windows.get_mut(first..) {
            chunk.sort_unstable();
        }
    }
}

/// The bytes a value found from a shape may hold, by signal: bits of [`RUN_BYTES`].
#[derive(Clone, Copy)]
enum Run {
    /// An e-mail address around its `@`: a local part of `[A-Za-z0-9._%+-]` before it
    /// ([`LOCAL`]), a domain of `[A-Za-z0-9.-]` after it ([`DOMAIN`]).
    Email,
    /// A card, an SSN or a phone number: digits, ` `, `-`, `.`, `(`, `)`, `+` ([`NUMBER`]).
    Number,
    /// A dotted quad: digits and `.` ([`QUAD`]).
    Quad,
    /// An IPv6 address: hex digits, `:` and `.` for an IPv4 suffix ([`IPV6`]).
    Ipv6,
    /// An IBAN, which starts at its shape: capital letters, digits and ` ` ([`IBAN`]).
    Iban,
}

const LOCAL: u8 = 1;
const DOMAIN: u8 = 1 << 1;
const NUMBER: u8 = 1 << 2;
const QUAD: u8 = 1 << 3;
const IPV6: u8 = 1 << 4;
const IBAN: u8 = 1 << 5;

/// For each byte, the runs ([`Run`]) it may be part of, as bits.
static RUN_BYTES: [u8; 256] = run_bytes();

#[allow(clippy::indexing_slicing, reason = "b < 256 indexes a [u8; 256], in a const fn")]
const fn run_bytes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let digit = c.is_ascii_digit();
        let alnum = c.is_ascii_alphanumeric();
        let mut bits = 0u8;
        if alnum || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') {
            bits |= LOCAL;
        }
        if alnum || matches!(c, b'.' | b'-') {
            bits |= DOMAIN;
        }
        if digit || matches!(c, b' ' | b'-' | b'.' | b'(' | b')' | b'+') {
            bits |= NUMBER;
        }
        if digit || c == b'.' {
            bits |= QUAD;
        }
        if c.is_ascii_hexdigit() || c == b':' || c == b'.' {
            bits |= IPV6;
        }
        if digit || c.is_ascii_uppercase() || c == b' ' {
            bits |= IBAN;
        }
        t[b] = bits;
        b += 1;
    }
    t
}

/// How far a window reaches from its shape, each way: at least as far as the longest value
/// of the shape's types reaches from any shape inside it (an e-mail's local part holds at
/// most 64 bytes, its domain 253; no other value is longer than 64), with room to spare.
const RUN_BACK: usize = 80;
const RUN_AHEAD: usize = 96;
const EMAIL_AHEAD: usize = 272;

/// The window of the shape starting at `p`: the run of bytes around `p` that a value of the
/// shape's types holds (see [`Run`]), at most [`RUN_BACK`] bytes before `p` and
/// [`RUN_AHEAD`] (an e-mail: [`EMAIL_AHEAD`]) after it; and whether the run ends there
/// (rather than going on past that reach). A value holds only such bytes and
/// contains its shape, so it lies wholly inside the window; a match of a numeric pattern that
/// fails validation cannot run past the window's end either (its bytes are of the run), so
/// the search inside the window meets the candidates the whole text would give.
fn shape_run(h: &[u8], p: usize, run: Run) -> (usize, usize, bool) {
    let (back, ahead, reach) = match run {
        Run::Email => (LOCAL, DOMAIN, EMAIL_AHEAD),
        Run::Number => (NUMBER, NUMBER, RUN_AHEAD),
        Run::Quad => (QUAD, QUAD, RUN_AHEAD),
        Run::Ipv6 => (IPV6, IPV6, RUN_AHEAD),
        // An IBAN starts at its shape.
        Run::Iban => (0, IBAN, RUN_AHEAD),
    };
    let holds =
        |bit: u8| move |b: &&u8| RUN_BYTES.get(usize::from(**b)).is_some_and(|r| r & bit != 0);
    let before = h.get(p.saturating_sub(RUN_BACK)..p).unwrap_or_default();
    let lo = p - before.iter().rev().take_while(holds(back)).count();
    // The shape's first byte is in the window (for an e-mail, the `@`); the run goes on
    // after it.
    let after = h.get(p + 1..(p + 1 + reach).min(h.len())).unwrap_or_default();
    let taken = after.iter().take_while(holds(ahead)).count();
    let hi = p + 1 + taken;
    (lo, hi, taken < after.len() || hi >= h.len())
}

fn merge_windows(w: &mut Vec<(usize, usize)>) {
    if !w.is_sorted() {
        w.sort_unstable();
    }
    let mut out: usize = 0;
    for i in 0..w.len() {
        let Some(&cur) = w.get(i) else { break };
        if i > 0 {
            if let Some(last) = w.get_mut(out)
                && cur.0 <= last.1
            {
                last.1 = last.1.max(cur.1);
                continue;
            }
            out += 1;
        }
        if let Some(slot) = w.get_mut(out) {
            *slot = cur;
        }
    }
    w.truncate(out + 1);
}

/// Sort findings and drop overlaps: longer wins, then the lower rank.
fn resolve(out: &mut Vec<Finding>) {
    if out.len() < 2 {
        return;
    }
    out.sort_unstable_by(|a, b| {
        a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(a.entity.rank().cmp(&b.entity.rank()))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(out.len());
    for f in out.drain(..) {
        match kept.last_mut() {
            Some(last) if f.start < last.end => {
                let better = f.len() > last.len()
                    || (f.len() == last.len() && f.entity.rank() < last.entity.rank());
                if better {
                    *last = f;
                }
            }
            _ => kept.push(f),
        }
    }
    *out = kept;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code: a failed expectation must stop the test")]
mod tests {
    use super::*;

    /// No floating pattern can match from a byte [`starts_floating`] rejects, whatever byte
    /// comes before it: in a DFA of all the patterns, anchored, every start state goes dead
    /// on such a byte. (The floating pass skips these bytes at the start of a window.) And
    /// the table is no wider than that: each byte it accepts starts a match after some byte.
    #[test]
    fn no_floating_match_starts_outside_the_start_bytes() {
        use regex_automata::dfa::{Automaton, dense};
        use regex_automata::util::start;
        let patterns: Vec<String> = floating_patterns().into_iter().map(|(_, p)| p).collect();
        let dfa = dense::DFA::new_many(&patterns).unwrap();
        let mut live = [false; 256];
        let behind = std::iter::once(None).chain((0..=255u8).map(Some));
        for before in behind {
            let config = start::Config::new().anchored(Anchored::Yes).look_behind(before);
            let s = dfa.start_state(&config).unwrap();
            for b in 0..=255u8 {
                if !dfa.is_dead_state(dfa.next_state(s, b)) {
                    live[usize::from(b)] = true;
                }
            }
        }
        for b in 0..=255u8 {
            assert_eq!(
                live[usize::from(b)],
                starts_floating(b),
                "byte {b:#04x}: can a floating match start with it?"
            );
        }
    }

    /// The SSE2 classification and the portable one agree on every byte value at every
    /// position of a chunk, and on chunks of the bytes the shapes are made of.
    #[test]
    fn byte_classes_agree_with_the_portable_classification() {
        let mut chunks: Vec<[u8; CHUNK]> = Vec::new();
        for b in 0..=255u8 {
            for at in [0, 15, 16, 31, 32, 47, 48, 63] {
                let mut c = [b'x'; CHUNK];
                c[at] = b;
                chunks.push(c);
            }
            chunks.push([b; CHUNK]);
        }
        let alphabet = b"0123456789 .-:+@AZaz(),/\x00\xff";
        let mut next = crate::mask::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let mut c = [0u8; CHUNK];
            for byte in c.iter_mut() {
                *byte = alphabet[next(alphabet.len())];
            }
            chunks.push(c);
        }
        for c in &chunks {
            assert_eq!(Classes::classify(c), Classes::classify_portable(c), "{c:?}");
        }
    }

    #[test]
    fn no_anchor_is_longer_than_anchor_max() {
        assert!(anchors().iter().all(|(a, _)| a.len() <= ANCHOR_MAX));
        assert!(anchors().iter().any(|(a, _)| a.len() == ANCHOR_MAX));
    }

    #[test]
    fn a_scan_of_ranges_finds_what_starts_in_them() {
        let d = Detectors::with_defaults().unwrap();
        let text = "a 4111 1111 1111 1111 b ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 c \
                    jane@example.com d 10.1.2.3";
        let mut cache = d.create_cache();
        let mut all = Vec::new();
        d.scan_parts(text, None, &mut cache, &mut all, |_| true);
        assert_eq!(all.len(), 4);
        let mut whole = Vec::new();
        d.scan_parts(text, Some(&[(0, text.len())]), &mut cache, &mut whole, |_| true);
        assert_eq!(whole, all);
        for f in &all {
            // The value's own span finds it.
            let mut own = Vec::new();
            d.scan_parts(text, Some(&[(f.start, f.end)]), &mut cache, &mut own, |_| true);
            assert!(own.contains(f), "{f:?} not found from its own span: {own:?}");
        }
        // A literal token runs past the range its anchor starts in.
        let token = all.iter().find(|f| f.entity == EntityType::GithubToken).unwrap();
        let mut one = Vec::new();
        d.scan_parts(text, Some(&[(token.start, token.start + 1)]), &mut cache, &mut one, |_| true);
        assert_eq!(one, vec![token.clone()]);
        // `keep` drops a candidate before overlaps are resolved.
        let mut kept = Vec::new();
        d.scan_parts(text, None, &mut cache, &mut kept, |f| f.entity != EntityType::Email);
        assert_eq!(kept.len(), 3);
    }
}
