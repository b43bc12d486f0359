//! Masking entry points: free text, single column values, JSON documents, batches.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::detect::{Detectors, ScanCache};
use super::entity::{EntityType, Finding, MaskReport};
use super::method::{self, Method, Out, Target};

/// Result of [`Detectors::mask_text`].
///
/// `text` is `Cow::Borrowed` when nothing was found (the clean fast path
/// allocates nothing). `counts` says what was masked, never the values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Masked<'a> {
    /// The masked text.
    pub text: Cow<'a, str>,
    /// `(type, count)` of masked values, in report order.
    pub counts: Vec<(EntityType, usize)>,
}

impl Masked<'_> {
    /// True when something was masked.
    pub fn changed(&self) -> bool {
        matches!(self.text, Cow::Owned(_))
    }
}

impl Detectors {
    /// Replace every finding in `text` using the method configured for its type.
    pub fn mask_text<'a>(&self, text: &'a str, cache: Option<&mut ScanCache>) -> Masked<'a> {
        let mut findings = Vec::new();
        let mut report = MaskReport::default();
        match self.mask_core(text, cache, &mut findings, &mut report) {
            Some(s) => Masked { text: Cow::Owned(s), counts: report.counts },
            None => Masked { text: Cow::Borrowed(text), counts: report.counts },
        }
    }

    /// Scan with `findings` as a reusable buffer; `Some(masked)` only when
    /// something was found.
    ///
    /// What was next to a value is judged again once the value is gone: a phone glued to the
    /// end of another (`…690400+1 415…`) or by `:` to a card number is free once the other is
    /// a token, and the part of an overlapping candidate that lost (`::8:9` in
    /// `::8:1:2::8:9`) may be a value of its own. So the output is scanned again until a scan
    /// finds nothing, which makes masking idempotent:
    /// - a rescan looks only around what the previous pass replaced ([`RESCAN_RADIUS`]
    ///   bytes each side; the whole output when that is most of it), and once that finds
    ///   nothing, one scan of the whole output confirms it (text without findings is scanned
    ///   once; text with findings about twice);
    /// - what a method wrote is not masked again (a finding lying wholly inside it is
    ///   dropped), but a finding that overlaps or abuts it is masked;
    /// - `format_preserving` output still looks like its input, by design: a rescan reads it
    ///   as [`OPAQUE`] bytes, as it would read a redaction token, so what it hid is found and
    ///   the scrambled value is not scrambled again;
    /// - a chain of values that each come free only once the previous one is masked
    ///   (`52:7::6::7::6:2::7::689` gives one up per pass) is bounded: after [`MAX_RESCANS`]
    ///   passes, or once the rescans have read [`RESCAN_BUDGET`] times the text, masking fails
    ///   closed (see [`Detectors::fail_closed`]). So the cost stays linear in the text.
    fn mask_core(
        &self,
        text: &str,
        cache: Option<&mut ScanCache>,
        findings: &mut Vec<Finding>,
        report: &mut MaskReport,
    ) -> Option<String> {
        let mut tmp = None;
        let cache = self.cache_or_new(cache, &mut tmp);
        // What `hash` wrote in an earlier pass (`h:` and 24 hex digits) is taken as written in
        // this one: a pattern that matches inside it (a custom `[0-9a-f]{24}`) would hash the
        // hash again, and masking masked text would change it.
        let mut written = Vec::new();
        if self.writes_hashes() {
            hash_tokens(text, &mut written);
        }
        self.scan_parts(text, None, cache, findings, |f| !inside(&written, f));
        if findings.is_empty() {
            return None;
        }
        let mut fresh = Vec::new();
        let mut out = self.replace(text, findings, &mut written, &mut fresh, cache, report);
        let mut view = String::new();
        let mut ranges = Vec::new();
        // Bytes the rescans may read before masking fails closed: a few times the text.
        let mut budget = text.len().saturating_mul(RESCAN_BUDGET).saturating_add(RESCAN_SLACK);
        let mut verify = false;
        for _ in 0..MAX_RESCANS {
            let seen = opaque_view(&out, &written, &mut view);
            // Around what the last pass replaced, unless that is most of the text anyway, or
            // the last such scan found nothing and the whole text is to confirm it.
            let covered = if verify { seen.len() } else { around(&fresh, seen.len(), &mut ranges) };
            let full = covered.saturating_mul(2) >= seen.len();
            let Some(left) = budget.checked_sub(if full { seen.len() } else { covered }) else {
                break;
            };
            budget = left;
            let scope = if full { None } else { Some(ranges.as_slice()) };
            self.scan_parts(seen, scope, cache, findings, |f| !inside(&written, f));
            if findings.is_empty() {
                if full {
                    return Some(out);
                }
                verify = true;
                continue;
            }
            verify = false;
            out = self.replace(&out, findings, &mut written, &mut fresh, cache, report);
        }
        Some(self.fail_closed(out, &mut written, cache, findings, report, &mut view))
    }

    /// The end of a text whose rescans did not settle within their bounds. Every value a
    /// scan of the whole output still finds is widened to the run of text glued to it (up to
    /// a line break, two spaces, or a byte such as `,` `;` `"` that no value holds, so it
    /// takes the rest of the chain it belongs to), and each run becomes one redaction token
    /// (the first value's: its configured `redact` token, else `[REDACTED:<type>]`). If a
    /// scan of that output still finds anything, the whole text becomes that token. Only
    /// crafted text gets here (dozens of values glued so that each comes free only once its
    /// neighbour is masked); nothing detected stays visible, at the price of what is glued
    /// to it.
    fn fail_closed(
        &self,
        mut out: String,
        written: &mut Vec<Written>,
        cache: &mut ScanCache,
        findings: &mut Vec<Finding>,
        report: &mut MaskReport,
        view: &mut String,
    ) -> String {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for attempt in 0..2 {
            let seen = opaque_view(&out, written, view);
            self.scan_parts(seen, None, cache, findings, |f| !inside(written, f));
            let Some(first) = findings.first() else {
                return out;
            };
            let token = match self.method_for(&first.entity) {
                Method::Redact { token: Some(t) } => t.clone(),
                _ => format!("[REDACTED:{}]", first.entity.as_str()),
            };
            for f in findings.iter() {
                report.add(&f.entity, 1);
            }
            if attempt == 1 {
                written.clear();
                return token;
            }
            let h = seen.as_bytes();
            runs.clear();
            for f in findings.iter() {
                let (lo, hi) = glued_run(h, f.start, f.end);
                match runs.last_mut() {
                    Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                    _ => runs.push((lo, hi)),
                }
            }
            // Whatever a method wrote that a run cuts into goes with it.
            for run in runs.iter_mut() {
                for w in written.iter() {
                    if w.start < run.0 && w.end > run.0 {
                        run.0 = w.start;
                    }
                    if w.start < run.1 && w.end > run.1 {
                        run.1 = w.end;
                    }
                }
            }
            let before = std::mem::take(written);
            let mut next = 0usize;
            let mut text = String::with_capacity(out.len());
            let mut last = 0usize;
            for &(lo, hi) in &runs {
                let lo = lo.max(last);
                carry(&out, last, lo, &before, &mut next, &mut text, written);
                let start = text.len();
                text.push_str(&token);
                written.push(Written { start, end: text.len(), reshaped: false });
                last = hi.max(lo);
            }
            carry(&out, last, out.len(), &before, &mut next, &mut text, written);
            out = text;
        }
        out
    }

    /// `text` with every finding replaced, counted in `report`. `written` (what methods wrote
    /// into `text`, sorted) becomes what they wrote into the result, and `fresh` the spans of
    /// the result this call wrote.
    fn replace(
        &self,
        text: &str,
        findings: &[Finding],
        written: &mut Vec<Written>,
        fresh: &mut Vec<(usize, usize)>,
        cache: &mut ScanCache,
        report: &mut MaskReport,
    ) -> String {
        let before = std::mem::take(written);
        let mut carried = 0usize;
        fresh.clear();
        let mut out = String::with_capacity(text.len() + 16 * findings.len());
        let mut last = 0usize;
        // Counts of built-in types by index, folded into the report once at the end (a report
        // insert per finding costs more than the replacement on PII-dense text).
        let mut builtin = [0usize; EntityType::BUILTIN.len()];
        for f in findings.iter() {
            carry(text, last, f.start, &before, &mut carried, &mut out, written);
            let start = out.len();
            let m = self.method_for(&f.entity);
            match m {
                // The common case, written in place without a temporary string.
                Method::Redact { token: Some(t) } => out.push_str(t),
                Method::Redact { token: None } => {
                    out.push_str("[REDACTED:");
                    out.push_str(f.entity.as_str());
                    out.push(']');
                }
                _ => {
                    let value = text.get(f.start..f.end).unwrap_or_default();
                    let target = Target::Content(f.entity.as_str());
                    if let Out::Text(t) = method::apply(m, value, self.key(), target) {
                        match m {
                            // What `partial` keeps can be a value of its own (`fe80::1` keeping
                            // its last four is `e80::1`): then nothing is kept.
                            Method::Partial { mask_char, .. } if self.detects(&t, cache) => {
                                out.push_str(&method::partial_all(value, *mask_char));
                            }
                            _ => out.push_str(&t),
                        }
                    }
                }
            }
            fresh.push((start, out.len()));
            if out.len() > start {
                let reshaped = matches!(m, Method::FormatPreserving) && self.key().is_some();
                written.push(Written { start, end: out.len(), reshaped });
            }
            last = f.end;
            match f.entity.builtin_index().and_then(|i| builtin.get_mut(i)) {
                Some(n) => *n += 1,
                None => report.add(&f.entity, 1),
            }
        }
        for (t, n) in EntityType::BUILTIN.iter().zip(builtin) {
            report.add(t, n);
        }
        carry(text, last, text.len(), &before, &mut carried, &mut out, written);
        out
    }

    /// Mask a whole column value (a string) with `method`. `None` means SQL
    /// NULL (the `null` method). Column redaction defaults to `[REDACTED]`.
    pub fn mask_str(&self, value: &str, method: &Method) -> Option<String> {
        match method::apply(method, value, self.key(), Target::Column) {
            Out::Text(t) => Some(t),
            Out::Null => None,
        }
    }

    /// Mask a whole column value with `method`.
    ///
    /// - strings are masked as by [`Detectors::mask_str`];
    /// - numbers and booleans are masked through their JSON text and the
    ///   result is always a **string** token (or null): a masked number never
    ///   masquerades as a real number;
    /// - null stays null;
    /// - arrays and objects are masked leaf by leaf (keys and shape kept).
    pub fn mask_value(&self, value: &Value, method: &Method) -> Value {
        match value {
            Value::Null => Value::Null,
            Value::String(s) => self.mask_str(s, method).map_or(Value::Null, Value::String),
            Value::Number(n) => {
                self.mask_str(&n.to_string(), method).map_or(Value::Null, Value::String)
            }
            Value::Bool(b) => self
                .mask_str(if *b { "true" } else { "false" }, method)
                .map_or(Value::Null, Value::String),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.mask_value(v, method)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter().map(|(k, v)| (k.clone(), self.mask_value(v, method))).collect(),
            ),
        }
    }

    /// Content-mask a JSON document in place: every string leaf (and every
    /// object key, and every number, via its text) is scanned and masked with
    /// the per-type methods. A leaf whose masked text becomes empty (the
    /// `null` method on a whole-leaf finding) becomes JSON null; a masked
    /// number becomes a string. Masked keys that collide get a `#2`, `#3`…
    /// suffix so no entry is lost.
    pub fn mask_json(&self, value: &mut Value, cache: Option<&mut ScanCache>) -> MaskReport {
        let mut tmp = None;
        let cache = self.cache_or_new(cache, &mut tmp);
        let mut findings = Vec::new();
        let mut report = MaskReport::default();
        self.json_walk(value, cache, &mut findings, &mut report);
        report
    }

    fn json_walk(
        &self,
        value: &mut Value,
        cache: &mut ScanCache,
        buf: &mut Vec<Finding>,
        report: &mut MaskReport,
    ) {
        match value {
            Value::String(s) => {
                if let Some(m) = self.mask_core(s, Some(cache), buf, report) {
                    *value = if m.is_empty() { Value::Null } else { Value::String(m) };
                }
            }
            Value::Number(n) => {
                let text = n.to_string();
                if let Some(m) = self.mask_core(&text, Some(cache), buf, report) {
                    *value = if m.is_empty() { Value::Null } else { Value::String(m) };
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.json_walk(v, cache, buf, report);
                }
            }
            Value::Object(map) => {
                let mut rekey = false;
                for (k, v) in map.iter_mut() {
                    self.json_walk(v, cache, buf, report);
                    self.scan_into(k, Some(cache), buf);
                    rekey |= !buf.is_empty();
                }
                if rekey {
                    let old = std::mem::take(map);
                    let mut new = Map::with_capacity(old.len());
                    for (k, v) in old {
                        let mut key = self.mask_core(&k, Some(cache), buf, report).unwrap_or(k);
                        if new.contains_key(&key) {
                            let mut n = 2usize;
                            while new.contains_key(&format!("{key}#{n}")) {
                                n += 1;
                            }
                            key = format!("{key}#{n}");
                        }
                        new.insert(key, v);
                    }
                    *map = new;
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Content-mask a column of cells in place, reusing one cache and one
    /// findings buffer. Clean cells are left untouched (no allocation).
    pub fn mask_column(&self, cells: &mut [String], cache: Option<&mut ScanCache>) -> MaskReport {
        let mut tmp = None;
        let cache = self.cache_or_new(cache, &mut tmp);
        let mut buf = Vec::new();
        let mut report = MaskReport::default();
        for cell in cells.iter_mut() {
            if let Some(m) = self.mask_core(cell, Some(cache), &mut buf, &mut report) {
                *cell = m;
            }
        }
        report
    }

    /// Content-mask a batch of rows in place (every cell of every row),
    /// reusing one cache. The report sums all rows.
    pub fn mask_rows(&self, rows: &mut [Vec<String>], cache: Option<&mut ScanCache>) -> MaskReport {
        let mut tmp = None;
        let cache = self.cache_or_new(cache, &mut tmp);
        let mut report = MaskReport::default();
        for row in rows.iter_mut() {
            let r = self.mask_column(row, Some(cache));
            report.merge(&r);
        }
        report
    }
}

/// Passes after the first scan (rescans around replacements and whole-text scans together)
/// before masking fails closed. Each pass also copies the output once.
const MAX_RESCANS: usize = 64;

/// Rescans may read this many times the text's length (plus [`RESCAN_SLACK`]) before masking
/// fails closed.
const RESCAN_BUDGET: usize = 8;

/// Bytes every text may rescan whatever its length, so that short texts are never cut short
/// by [`RESCAN_BUDGET`].
const RESCAN_SLACK: usize = 64 * 1024;

/// Bytes rescanned on either side of a replacement: more than the longest value the floating
/// patterns find (an e-mail: a 64-byte local part and a 253-byte domain) and the few bytes of
/// context their checks read.
const RESCAN_RADIUS: usize = 320;

/// What `format_preserving` output reads as in a rescan: NUL is no word character (so it ends
/// a value as a redaction token's brackets do) and no built-in pattern holds it.
const OPAQUE: u8 = 0;

/// A stretch of masked output that a method wrote.
#[derive(Clone, Copy, Debug)]
struct Written {
    start: usize,
    end: usize,
    /// Written by `format_preserving`: it looks like what it replaced.
    reshaped: bool,
}

/// Push the `hash` outputs of `text` (`h:` and [`HASH_HEX_LEN`](super::method::HASH_HEX_LEN)
/// lower-case hex digits, not glued to a word character on either side) onto `written`, in
/// order.
fn hash_tokens(text: &str, written: &mut Vec<Written>) {
    let h = text.as_bytes();
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let len = super::method::HASH_PREFIX.len() + super::method::HASH_HEX_LEN;
    for (start, _) in text.match_indices(super::method::HASH_PREFIX) {
        let end = start + len;
        let token = text.get(start..end).is_some_and(super::method::is_hash_token);
        let before = start.checked_sub(1).and_then(|i| h.get(i));
        if token && !word(before) && !word(h.get(end)) {
            written.push(Written { start, end, reshaped: false });
        }
    }
}

/// True when `f` lies wholly inside one stretch of `written` (sorted, disjoint).
fn inside(written: &[Written], f: &Finding) -> bool {
    let i = written.partition_point(|w| w.start <= f.start);
    i.checked_sub(1).and_then(|i| written.get(i)).is_some_and(|w| f.end <= w.end)
}

/// Copy `text[from..to]` to `out`, with the stretches of `before` that lie in it (clipped)
/// pushed to `written` at their new offsets; `next` is the first of `before` not yet done.
fn carry(
    text: &str,
    from: usize,
    to: usize,
    before: &[Written],
    next: &mut usize,
    out: &mut String,
    written: &mut Vec<Written>,
) {
    let base = out.len();
    while let Some(w) = before.get(*next) {
        if w.start >= to {
            break;
        }
        let (s, e) = (w.start.max(from), w.end.min(to));
        if s < e {
            written.push(Written { start: base + s - from, end: base + e - from, ..*w });
        }
        if w.end > to {
            break;
        }
        *next += 1;
    }
    out.push_str(text.get(from..to).unwrap_or_default());
}

/// `out` as a rescan reads it: `out` itself, or, when `format_preserving` wrote into it, a
/// copy in `view` with those stretches made [`OPAQUE`] (same length, so offsets agree).
fn opaque_view<'a>(out: &'a str, written: &[Written], view: &'a mut String) -> &'a str {
    if !written.iter().any(|w| w.reshaped) {
        return out;
    }
    let mut bytes = std::mem::take(view).into_bytes();
    bytes.clear();
    bytes.extend_from_slice(out.as_bytes());
    for w in written.iter().filter(|w| w.reshaped) {
        if let Some(s) = bytes.get_mut(w.start..w.end) {
            s.fill(OPAQUE);
        }
    }
    // Stretches start and end on char boundaries and NUL is ASCII, so this is UTF-8; were it
    // not, the real output is scanned (which may scramble a scrambled value again, never
    // reveal one).
    match String::from_utf8(bytes) {
        Ok(s) => {
            *view = s;
            view.as_str()
        }
        Err(_) => out,
    }
}

/// `start..end` widened over the bytes glued to it: ASCII letters and digits, what values
/// and masked output hold (`._%+-:@/()#*[]`, NUL), and single spaces between them.
fn glued_run(h: &[u8], start: usize, end: usize) -> (usize, usize) {
    let glued = |b: u8| b.is_ascii_alphanumeric() || b"._%+-:@/()#*[]\0".contains(&b);
    let at = |i: usize| h.get(i).copied();
    let joins = |i: usize| match at(i) {
        Some(b' ') => {
            i.checked_sub(1).and_then(at).is_some_and(glued) && at(i + 1).is_some_and(glued)
        }
        Some(b) => glued(b),
        None => false,
    };
    let mut lo = start;
    while lo > 0 && joins(lo - 1) {
        lo -= 1;
    }
    let mut hi = end;
    while joins(hi) {
        hi += 1;
    }
    (lo, hi)
}

/// The ranges a rescan looks at: [`RESCAN_RADIUS`] bytes around each of `fresh` (sorted),
/// merged, within `0..len`. Returns how many bytes they cover.
fn around(fresh: &[(usize, usize)], len: usize, ranges: &mut Vec<(usize, usize)>) -> usize {
    ranges.clear();
    for &(s, e) in fresh {
        let lo = s.saturating_sub(RESCAN_RADIUS).min(len);
        let hi = e.saturating_add(RESCAN_RADIUS).min(len);
        match ranges.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => ranges.push((lo, hi)),
        }
    }
    ranges.iter().map(|(lo, hi)| hi - lo).sum()
}

impl Detectors {
    /// True when `text` holds a finding.
    fn detects(&self, text: &str, cache: &mut ScanCache) -> bool {
        let mut found = Vec::new();
        self.scan_into(text, Some(cache), &mut found);
        !found.is_empty()
    }

    /// The caller's cache, or a new one bound to these detectors, kept in `slot` for the
    /// length of the call.
    fn cache_or_new<'a>(
        &self,
        cache: Option<&'a mut ScanCache>,
        slot: &'a mut Option<ScanCache>,
    ) -> &'a mut ScanCache {
        match cache {
            Some(c) => c,
            None => slot.insert(self.create_cache()),
        }
    }
}
