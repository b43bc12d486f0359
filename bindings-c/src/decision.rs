//! `writ_decision` and its accessors; masking the rows of an allowed result.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use serde_json::Value;
use writ_core::identity::Checked;
use writ_core::{Decision, Effect, MaskRowsError, Principal};

use crate::engine::writ_engine;
use crate::error::{Failure, writ_result};
use crate::ffi::{self, Out, boundary, boundary_value, c_string};

/// What the engine decided.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum writ_effect {
    /// The request may proceed.
    Allow = 0,
    /// The request may proceed only with a human approval bound to its digest.
    ApprovalRequired = 1,
    /// The request must not proceed.
    Deny = 2,
}

impl From<Effect> for writ_effect {
    fn from(effect: Effect) -> writ_effect {
        match effect {
            Effect::Allow => writ_effect::Allow,
            Effect::ApprovalRequired => writ_effect::ApprovalRequired,
            Effect::Deny => writ_effect::Deny,
        }
    }
}

/// A decision: effect, deciding rules, reason, request digest, mask plan. Strings its
/// accessors return are NUL-terminated, owned by the decision and valid until
/// `writ_decision_free`. Accessors may be called from several threads at once.
pub struct writ_decision {
    decision: Decision,
    /// Who the policy decided for (a grant chain's root); what masking records.
    principal: Option<Principal>,
    resource: String,
    reason: OnceLock<CString>,
    digest: OnceLock<CString>,
    policy: OnceLock<CString>,
    rules: OnceLock<Vec<CString>>,
    masked: OnceLock<Vec<CString>>,
    json: OnceLock<Result<CString, String>>,
}

impl writ_decision {
    pub(crate) fn new(checked: Checked, resource: &str) -> writ_decision {
        writ_decision {
            decision: checked.decision,
            principal: checked.principal,
            resource: resource.to_owned(),
            reason: OnceLock::new(),
            digest: OnceLock::new(),
            policy: OnceLock::new(),
            rules: OnceLock::new(),
            masked: OnceLock::new(),
            json: OnceLock::new(),
        }
    }
}

/// Run an accessor on a decision, with NULL and panics turned into `fallback`.
fn read<T: Copy>(
    decision: *const writ_decision,
    fallback: T,
    f: impl FnOnce(&writ_decision) -> T,
) -> T {
    boundary_value(fallback, || {
        // SAFETY: the caller of the exported accessor promises NULL or a live decision.
        unsafe { decision.as_ref() }.map_or(fallback, f)
    })
}

/// The effect. A NULL decision reads as `WRIT_EFFECT_DENY` (fail closed).
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_effect(decision: *const writ_decision) -> writ_effect {
    boundary_value(writ_effect::Deny, || {
        // SAFETY: forwarded from the caller.
        unsafe { decision.as_ref() }.map_or(writ_effect::Deny, |d| d.decision.effect.into())
    })
}

/// The JSON word of a `writ_effect` value (`"allow"`, `"approval_required"`, `"deny"`): a
/// static string; NULL for a value that is no effect. (Taken as an integer: a C enum may hold
/// any value, and Rust must never see an invalid enum.)
#[unsafe(no_mangle)]
pub extern "C" fn writ_effect_name(effect: u32) -> *const c_char {
    let name: &'static [u8] = match effect {
        0 => b"allow\0",
        1 => b"approval_required\0",
        2 => b"deny\0",
        _ => return std::ptr::null(),
    };
    name.as_ptr().cast()
}

fn cached(cell: &OnceLock<CString>, make: impl FnOnce() -> CString) -> *const c_char {
    cell.get_or_init(make).as_ptr()
}

/// Why, for the caller: the deciding rule's reason, or the engine's. NULL for a NULL decision.
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_reason(decision: *const writ_decision) -> *const c_char {
    read(decision, std::ptr::null(), |d| cached(&d.reason, || c_string(&d.decision.reason)))
}

/// The digest of the normalized request (`sha256:…`): what an approval binds to.
/// NULL for a NULL decision.
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_digest(decision: *const writ_decision) -> *const c_char {
    read(decision, std::ptr::null(), |d| cached(&d.digest, || c_string(&d.decision.digest)))
}

/// The version of the policy that decided (`sha256:…`). NULL for a NULL decision.
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_policy(decision: *const writ_decision) -> *const c_char {
    read(decision, std::ptr::null(), |d| cached(&d.policy, || c_string(&d.decision.policy)))
}

fn rules(d: &writ_decision) -> &[CString] {
    d.rules.get_or_init(|| d.decision.rules.iter().map(|r| c_string(r)).collect())
}

fn masked(d: &writ_decision) -> &[CString] {
    d.masked.get_or_init(|| {
        let names = d.decision.mask.as_ref().map(|p| p.masked_names()).unwrap_or_default();
        names.into_iter().map(c_string).collect()
    })
}

/// How many rules decided (0 when a default did). 0 for a NULL decision.
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_rule_count(decision: *const writ_decision) -> usize {
    read(decision, 0, |d| d.decision.rules.len())
}

/// The id of deciding rule `index` (policy order). NULL when out of range or for NULL.
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_rule(
    decision: *const writ_decision,
    index: usize,
) -> *const c_char {
    read(decision, std::ptr::null(), |d| {
        rules(d).get(index).map_or(std::ptr::null(), |r| r.as_ptr())
    })
}

/// How many result columns the decision's mask plan masks (0 without a plan).
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_masked_count(decision: *const writ_decision) -> usize {
    read(decision, 0, |d| masked(d).len())
}

/// The output name of masked column `index`, in result order. NULL when out of range.
///
/// # Safety
/// `decision` must be NULL or a live decision.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_masked_column(
    decision: *const writ_decision,
    index: usize,
) -> *const c_char {
    read(decision, std::ptr::null(), |d| {
        masked(d).get(index).map_or(std::ptr::null(), |c| c.as_ptr())
    })
}

/// The whole decision as JSON (the contract of `writ eval`: effect, rules, reason, digest,
/// policy, parts, view, mask plan), owned by the decision: `*out` stays valid until
/// `writ_decision_free`, and `*out_len` is its length without the NUL.
///
/// # Safety
/// `decision` a live decision; `out` and `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_json(
    decision: *const writ_decision,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> writ_result {
    boundary(|| {
        let (out, out_len) = (Out::new(out, "out")?, Out::new(out_len, "out_len")?);
        // SAFETY: forwarded from the caller.
        let d = unsafe { ffi::handle(decision, "decision") }?;
        let json = d.json.get_or_init(|| {
            serde_json::to_string(&d.decision).map(|s| c_string(&s)).map_err(|e| e.to_string())
        });
        let json = json.as_ref().map_err(|e| Failure::new(writ_result::ErrJson, e.clone()))?;
        // SAFETY: both checked non-NULL; the caller promises they are writable.
        unsafe {
            out_len.write(json.as_bytes().len());
            out.write(json.as_ptr());
        }
        Ok(())
    })
}

/// Free a decision (NULL is accepted); every string borrowed from it dies with it.
///
/// # Safety
/// `decision` must be NULL or a decision from a check, freed once, used by no thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_decision_free(decision: *mut writ_decision) {
    // SAFETY: forwarded from the caller.
    ffi::boundary_void(|| unsafe { ffi::free_handle(decision) });
}

/// Masked rows: values by row and column, owned by the handle until `writ_masked_rows_free`.
pub struct writ_masked_rows {
    columns: usize,
    values: Vec<Option<CString>>,
    masked: usize,
}

fn to_text(value: Value) -> Option<CString> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(c_string(&s)),
        other => Some(c_string(&other.to_string())),
    }
}

/// Mask the rows of the result of an allowed request as `decision`'s mask plan says, and
/// write one masking audit event (column names, row count, counts per entity type; never a
/// value).
///
/// The result has `column_count` columns named `columns[i]` (`column_lens[i]` bytes), and
/// `row_count` rows whose values are given row by row: value `c` of row `r` is
/// `values[r * column_count + c]` with `value_lens[...]` bytes; a NULL value is SQL NULL and
/// stays NULL. On success `*out` holds the masked values (read them with
/// `writ_masked_rows_value`, free with `writ_masked_rows_free`); the inputs are not changed.
/// A decision without a mask plan gives the rows back as they are.
///
/// # Errors
/// `WRIT_RESULT_ERR_NOT_ALLOWED` when the decision is not `allow` (return nothing to the
/// client), `WRIT_RESULT_ERR_MASK` when the columns do not fit the plan or a keyed method
/// needs a mask key the engine lacks, `WRIT_RESULT_ERR_AUDIT` when the event could not be
/// recorded and the policy fails closed, `WRIT_RESULT_ERR_ARGUMENT` when the counts overflow,
/// `WRIT_RESULT_ERR_NULL`, `WRIT_RESULT_ERR_UTF8`.
///
/// # Safety
/// `engine` and `decision` live handles; `columns`/`column_lens` hold `column_count` entries
/// and `values`/`value_lens` `row_count * column_count` entries (NULL arrays only when the
/// count is 0), each pointer with its length's bytes; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_engine_mask_rows(
    engine: *const writ_engine,
    decision: *const writ_decision,
    columns: *const *const c_char,
    column_lens: *const usize,
    column_count: usize,
    values: *const *const c_char,
    value_lens: *const usize,
    row_count: usize,
    out: *mut *mut writ_masked_rows,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        let total = row_count.checked_mul(column_count).ok_or_else(|| {
            Failure::new(writ_result::ErrArgument, "row_count * column_count overflows")
        })?;
        // SAFETY: forwarded from the caller.
        let (engine, d, names, values, value_lens) = unsafe {
            (
                ffi::handle(engine, "engine")?,
                ffi::handle(decision, "decision")?,
                ffi::texts(columns, column_lens, column_count, "columns")?,
                ffi::array(values, total, "values")?,
                ffi::array(value_lens, total, "value_lens")?,
            )
        };
        let mut rows: Vec<Vec<Value>> = Vec::with_capacity(row_count);
        let mut cells = values.iter().zip(value_lens);
        for _ in 0..row_count {
            let mut row = Vec::with_capacity(column_count);
            for (&ptr, &len) in cells.by_ref().take(column_count) {
                if ptr.is_null() {
                    row.push(Value::Null);
                } else {
                    // SAFETY: non-NULL, with `len` bytes by the caller's promise.
                    let text = unsafe { ffi::text(ptr, len, "values") }?;
                    row.push(Value::String(text.to_owned()));
                }
            }
            rows.push(row);
        }
        let principal = d.principal.clone().unwrap_or_default();
        let report = engine
            .host()
            .mask_rows(&principal, &d.resource, &d.decision, &names, &mut rows)
            .map_err(|e| {
                let code = match e {
                    MaskRowsError::NotAllowed(_) => writ_result::ErrNotAllowed,
                    MaskRowsError::Audit(_) => writ_result::ErrAudit,
                    _ => writ_result::ErrMask,
                };
                Failure::new(code, e.to_string())
            })?;
        let masked = writ_masked_rows {
            columns: column_count,
            values: rows.into_iter().flatten().map(to_text).collect(),
            masked: report.total(),
        };
        // SAFETY: `out` checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ffi::into_handle(masked)) };
        Ok(())
    })
}

/// Value `column` of row `row` after masking: NULL for SQL NULL, else a NUL-terminated string
/// owned by `rows` (its length in `*out_len` when `out_len` is not NULL).
///
/// # Errors
/// `WRIT_RESULT_ERR_ARGUMENT` for a row or column out of range, `WRIT_RESULT_ERR_NULL`.
///
/// # Safety
/// `rows` a live handle; `out` writable; `out_len` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_masked_rows_value(
    rows: *const writ_masked_rows,
    row: usize,
    column: usize,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> writ_result {
    boundary(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: forwarded from the caller.
        let rows = unsafe { ffi::handle(rows, "rows") }?;
        let index = (column < rows.columns)
            .then(|| row.checked_mul(rows.columns).and_then(|i| i.checked_add(column)))
            .flatten();
        let value = index.and_then(|i| rows.values.get(i)).ok_or_else(|| {
            Failure::new(
                writ_result::ErrArgument,
                format!("no value at row {row}, column {column}"),
            )
        })?;
        let (ptr, len) =
            value.as_ref().map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.as_bytes().len()));
        if let Some(out_len) = std::ptr::NonNull::new(out_len) {
            // SAFETY: non-NULL and writable by the caller's promise.
            unsafe { out_len.write(len) };
        }
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { out.write(ptr) };
        Ok(())
    })
}

/// How many values masking changed (all detectors and methods together).
///
/// # Safety
/// `rows` must be NULL (gives 0) or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_masked_rows_masked_count(rows: *const writ_masked_rows) -> usize {
    // SAFETY: forwarded from the caller.
    boundary_value(0, || unsafe { rows.as_ref() }.map_or(0, |r| r.masked))
}

/// Free masked rows (NULL is accepted).
///
/// # Safety
/// `rows` must be NULL or a handle from `writ_engine_mask_rows`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_masked_rows_free(rows: *mut writ_masked_rows) {
    // SAFETY: forwarded from the caller.
    ffi::boundary_void(|| unsafe { ffi::free_handle(rows) });
}
