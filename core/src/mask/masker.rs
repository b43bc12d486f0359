//! The masker: applies a [`MaskPlan`] to result rows.
//!
//! Built once per result from the decision's plan, the result's column names, the host's
//! [`Detectors`] (for content fallback) and the host's HMAC key, then used on every row
//! ([`Masker::mask_row`], [`Masker::mask_rows`]; a stream keeps a [`MaskerCache`] and calls
//! [`Masker::mask_row_with`]) or on columnar batches ([`Masker::mask_columns`]).
//!
//! # Alignment
//! Plan entries map to result columns by position. An entry that `expands` (a `*` over a table
//! whose columns are not declared) stands for an unknown number of columns: the entries before
//! the first such entry map to the first result columns, those after the last one to the last
//! result columns, and every result column in between is masked by name (`fallback.by_name`,
//! and the output names of masked entries in between) and with content detectors. A result
//! whose width does not fit the plan cannot be aligned: building fails, and the host must not
//! return the result.
//!
//! # Reports
//! Each pass returns a [`MaskReport`]: whole-value masks count under the entity type
//! `column:<name>`, content findings under their detected type. Values never appear in it.

use serde_json::Value;

use super::detect::{Detectors, ScanCache};
use super::entity::{EntityType, MaskReport};
use super::error::MaskError;
use super::method::Method;
use super::plan::{ContentMask, MaskPlan};

/// Why a masker could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MaskerError {
    /// The result's columns cannot be aligned with the plan.
    #[error("the result has {got} columns but the mask plan needs {expected}")]
    Shape {
        /// Columns the plan needs (at least this many when it has `*` entries).
        expected: usize,
        /// Columns the result has.
        got: usize,
    },
    /// A detector configuration of the plan could not be built (a missing or weak key).
    #[error(transparent)]
    Mask(#[from] MaskError),
}

/// What happens to one result column.
#[derive(Debug, Clone, Default)]
struct Action {
    /// Whole-value method.
    method: Option<Method>,
    /// Content detector sets (indexes into `Masker::content`).
    content: Vec<usize>,
    /// Run the host's detectors.
    host: bool,
}

/// Scratch space for one thread masking rows of one [`Masker`]: the scan caches of the host's
/// detectors and of each content rule, reused across rows so masking a row allocates only what
/// it replaces. Made by [`Masker::create_cache`].
#[derive(Debug)]
pub struct MaskerCache {
    host: ScanCache,
    content: Vec<ScanCache>,
}

/// Applies a mask plan to rows of one result.
#[derive(Debug)]
pub struct Masker {
    actions: Vec<Action>,
    labels: Vec<EntityType>,
    /// Keyed detectors used for whole-value methods.
    values: Detectors,
    content: Vec<Detectors>,
    host: Detectors,
}

impl Masker {
    /// Build a masker for a result with `columns` (names, in order).
    ///
    /// # Errors
    /// [`MaskerError::Shape`] when the result does not fit the plan; [`MaskerError::Mask`]
    /// when the plan needs the HMAC key and none (or a weak one) is given.
    pub fn new(
        plan: &MaskPlan,
        columns: &[impl AsRef<str>],
        host: &Detectors,
        hmac_key: Option<&[u8]>,
    ) -> Result<Masker, MaskerError> {
        let keyed = |b: super::detect::DetectorsBuilder| match hmac_key {
            Some(k) => b.hmac_key(k.to_vec()),
            None => b,
        };
        if plan.needs_key && hmac_key.is_none() {
            let method = plan
                .columns
                .iter()
                .filter_map(|c| c.method.as_ref())
                .find(|m| m.needs_key())
                .map_or("hash", Method::name);
            return Err(MaskError::MissingHmacKey { entity: "mask plan".to_owned(), method }.into());
        }
        let values = keyed(Detectors::builder()).build()?;
        let mut content: Vec<Detectors> = Vec::new();
        let mut content_of = |c: &ContentMask| -> Result<usize, MaskError> {
            let mut b = Detectors::builder().default_method(c.method.clone());
            if !c.types.is_empty() {
                b = b.only(c.types.iter().cloned());
            }
            content.push(keyed(b).build()?);
            Ok(content.len() - 1)
        };
        let n = columns.len();
        let mut actions = vec![Action::default(); n];
        let first = plan.columns.iter().position(|c| c.expands.is_some());
        let last = plan.columns.iter().rposition(|c| c.expands.is_some());
        match (first, last) {
            (Some(first), Some(last)) => {
                let before = plan.columns.get(..first).unwrap_or_default();
                let after = plan.columns.get(last + 1..).unwrap_or_default();
                let middle = plan.columns.get(first..=last).unwrap_or_default();
                if before.len() + after.len() > n {
                    return Err(MaskerError::Shape {
                        expected: before.len() + after.len(),
                        got: n,
                    });
                }
                let tail = n - after.len();
                for (a, c) in actions.iter_mut().zip(before) {
                    a.method.clone_from(&c.method);
                    if let Some(m) = &c.content {
                        a.content.push(content_of(m)?);
                    }
                }
                for (a, c) in actions.iter_mut().skip(tail).zip(after) {
                    a.method.clone_from(&c.method);
                    if let Some(m) = &c.content {
                        a.content.push(content_of(m)?);
                    }
                }
                let by_name =
                    plan.fallback.as_ref().map(|f| f.by_name.as_slice()).unwrap_or_default();
                for (i, a) in actions.iter_mut().enumerate().take(tail).skip(before.len()) {
                    let name = columns.get(i).map(AsRef::as_ref).unwrap_or_default();
                    for b in by_name.iter().filter(|b| b.column == "*" || b.column == name) {
                        if a.method.is_none() {
                            a.method.clone_from(&b.method);
                        }
                        if let Some(m) = &b.content {
                            a.content.push(content_of(m)?);
                        }
                    }
                    for c in middle.iter().filter(|c| c.expands.is_none() && c.name == name) {
                        if a.method.is_none() {
                            a.method.clone_from(&c.method);
                        }
                        if let Some(m) = &c.content {
                            a.content.push(content_of(m)?);
                        }
                    }
                    a.host = true;
                }
            }
            _ => {
                if plan.columns.len() != n {
                    return Err(MaskerError::Shape { expected: plan.columns.len(), got: n });
                }
                for (a, c) in actions.iter_mut().zip(&plan.columns) {
                    a.method.clone_from(&c.method);
                    if let Some(m) = &c.content {
                        a.content.push(content_of(m)?);
                    }
                }
            }
        }
        let detect_all = plan.fallback.as_ref().is_some_and(|f| f.detectors);
        let mut everywhere = Vec::new();
        for c in &plan.content {
            everywhere.push(content_of(c)?);
        }
        for a in &mut actions {
            a.host |= detect_all;
            a.content.extend(everywhere.iter().copied());
            if a.method.is_some() {
                a.content.clear();
                a.host = false;
            }
        }
        let labels =
            columns.iter().map(|c| EntityType::custom(&format!("column:{}", c.as_ref()))).collect();
        Ok(Masker { actions, labels, values, content, host: host.clone() })
    }

    /// Positions of the result columns masked as a whole.
    pub fn masked_columns(&self) -> Vec<usize> {
        self.actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.method.is_some())
            .map(|(i, _)| i)
            .collect()
    }

    /// Scratch space for [`Masker::mask_row_with`]; one per thread, reused across rows.
    pub fn create_cache(&self) -> MaskerCache {
        MaskerCache {
            host: self.host.create_cache(),
            content: self.content.iter().map(Detectors::create_cache).collect(),
        }
    }

    /// Mask one row in place (one value per result column; extra values are left alone only
    /// when the row is longer than the result, which the host must not allow).
    ///
    /// # Performance
    /// Builds fresh scan caches on every call; a host masking a stream of rows should keep a
    /// [`MaskerCache`] and call [`Masker::mask_row_with`].
    pub fn mask_row(&self, row: &mut [Value]) -> MaskReport {
        self.mask_row_with(row, &mut self.create_cache())
    }

    /// [`Masker::mask_row`] with caller-owned scratch space.
    pub fn mask_row_with(&self, row: &mut [Value], cache: &mut MaskerCache) -> MaskReport {
        let mut report = MaskReport::default();
        for (i, v) in row.iter_mut().enumerate() {
            self.mask_cell(i, v, cache, &mut report);
        }
        report
    }

    /// Mask a batch of rows in place; the report sums all rows.
    pub fn mask_rows(&self, rows: &mut [Vec<Value>]) -> MaskReport {
        let mut cache = self.create_cache();
        let mut report = MaskReport::default();
        for row in rows {
            for (i, v) in row.iter_mut().enumerate() {
                self.mask_cell(i, v, &mut cache, &mut report);
            }
        }
        report
    }

    /// Mask a columnar batch in place: `columns[i]` holds every value of result column `i`.
    pub fn mask_columns(&self, columns: &mut [Vec<Value>]) -> MaskReport {
        let mut cache = self.create_cache();
        let mut report = MaskReport::default();
        for (i, column) in columns.iter_mut().enumerate() {
            for v in column {
                self.mask_cell(i, v, &mut cache, &mut report);
            }
        }
        report
    }

    fn mask_cell(&self, i: usize, v: &mut Value, cache: &mut MaskerCache, report: &mut MaskReport) {
        let Some(a) = self.actions.get(i) else { return };
        if let Some(m) = &a.method {
            if !v.is_null() {
                *v = self.values.mask_value(v, m);
                if let Some(label) = self.labels.get(i) {
                    report.add(label, 1);
                }
            }
            return;
        }
        for k in &a.content {
            if let Some(d) = self.content.get(*k) {
                let r = d.mask_json(v, cache.content.get_mut(*k));
                report.merge(&r);
            }
        }
        if a.host {
            let r = self.host.mask_json(v, Some(&mut cache.host));
            report.merge(&r);
        }
    }
}
