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
    fn mask_core(
        &self,
        text: &str,
        cache: Option<&mut ScanCache>,
        findings: &mut Vec<Finding>,
        report: &mut MaskReport,
    ) -> Option<String> {
        let mut tmp = None;
        let cache = self.cache_or_new(cache, &mut tmp);
        self.scan_into(text, Some(&mut *cache), findings);
        if findings.is_empty() {
            return None;
        }
        let mut out = self.replace(text, findings, cache, report);
        // What was next to a value is judged again once the value is gone: a phone glued to
        // the end of another (`…690400+1 415…`) is free once the first is a token, and the
        // part of an overlapping candidate that lost (`::8:9` in `::8:1:2::8:9`) may be a
        // value of its own. Masking the output
        // again until nothing is found makes masking idempotent. The cost: one more scan of
        // the masked output whenever something was found (text without findings is scanned
        // once, as before). `format_preserving` output still looks like its input by design,
        // so it is not rescanned.
        // A pass can uncover one more value each time (a chain of overlapping IPv6
        // candidates, `52:7::6::7::6:2::7::689`, gives one up per pass), so this runs until a
        // pass finds nothing. Each pass replaces at least one byte of the input's own text,
        // and no method's output is detected again, so it ends within `text.len()` passes.
        if !self.reshapes() {
            for _ in 0..text.len() {
                self.scan_into(&out, Some(&mut *cache), findings);
                if findings.is_empty() {
                    break;
                }
                out = self.replace(&out, findings, cache, report);
            }
        }
        Some(out)
    }

    /// `text` with every finding replaced, counted in `report`.
    fn replace(
        &self,
        text: &str,
        findings: &[Finding],
        cache: &mut ScanCache,
        report: &mut MaskReport,
    ) -> String {
        let mut out = String::with_capacity(text.len() + 16 * findings.len());
        let mut last = 0usize;
        // Counts of built-in types by index, folded into the report once at the end (a report
        // insert per finding costs more than the replacement on PII-dense text).
        let mut builtin = [0usize; EntityType::BUILTIN.len()];
        for f in findings.iter() {
            out.push_str(text.get(last..f.start).unwrap_or_default());
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
            last = f.end;
            match f.entity.builtin_index().and_then(|i| builtin.get_mut(i)) {
                Some(n) => *n += 1,
                None => report.add(&f.entity, 1),
            }
        }
        for (t, n) in EntityType::BUILTIN.iter().zip(builtin) {
            report.add(t, n);
        }
        out.push_str(text.get(last..).unwrap_or_default());
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

impl Detectors {
    /// The caller's cache, or a new one bound to these detectors, kept in `slot` for the
    /// length of the call.
    /// True when `text` holds a finding.
    fn detects(&self, text: &str, cache: &mut ScanCache) -> bool {
        let mut found = Vec::new();
        self.scan_into(text, Some(cache), &mut found);
        !found.is_empty()
    }

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
