//! Result rows in and out of masking: arrays of values in column order, or objects keyed by
//! column name. Objects must hold exactly the columns given: a key the plan does not know of
//! would pass unmasked, so it is refused rather than copied.

use std::collections::HashMap;

use napi_derive::napi;
use serde_json::{Map, Value, json};
use writ::mask::MaskReport;
use writ::{Host, MaskRowsError};

use crate::decision::Decision;
use crate::error::Failure;

/// What `maskRows` returns.
#[napi(object)]
pub struct MaskResult {
    /// The masked rows, in the shape they came in (arrays or objects).
    #[napi(ts_type = "Array<unknown[]> | Array<Record<string, unknown>>")]
    pub rows: Vec<Value>,
    /// How many values of each kind were masked (`{email: 2, column: 3}`).
    pub counts: HashMap<String, u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Shape {
    #[default]
    Arrays,
    Objects,
}

/// One masking pass, converted from JS values and ready to run on any thread.
#[derive(Debug, Default)]
pub struct MaskJob {
    principal: writ::Principal,
    resource: String,
    decision: Option<writ::Decision>,
    columns: Vec<String>,
    shape: Shape,
    rows: Vec<Vec<Value>>,
}

/// A finished masking pass, on its way back to the JS thread.
pub struct MaskDone {
    shape: Shape,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    report: MaskReport,
}

fn shape_failure(message: String) -> Failure {
    Failure::new("WRIT_MASK", message).with(json!({"kind": "shape"}))
}

fn object_row(
    index: usize,
    columns: &[String],
    mut map: Map<String, Value>,
) -> Result<Vec<Value>, Failure> {
    let row = columns
        .iter()
        .map(|c| {
            map.remove(c)
                .ok_or_else(|| shape_failure(format!("row {index} has no value for column `{c}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(extra) = map.keys().next() {
        return Err(shape_failure(format!(
            "row {index} has `{extra}`, which is not among the columns: it would pass unmasked"
        )));
    }
    Ok(row)
}

impl MaskJob {
    pub(crate) fn new(
        decision: &Decision,
        columns: Vec<String>,
        rows: Vec<Value>,
    ) -> Result<MaskJob, Failure> {
        let shape = match rows.first() {
            Some(Value::Object(_)) => Shape::Objects,
            _ => Shape::Arrays,
        };
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| match (shape, row) {
                (Shape::Arrays, Value::Array(values)) => Ok(values),
                (Shape::Objects, Value::Object(map)) => object_row(i, &columns, map),
                (Shape::Arrays, _) => Err(shape_failure(format!(
                    "row {i} is not an array (rows are all arrays or all objects)"
                ))),
                (Shape::Objects, _) => Err(shape_failure(format!(
                    "row {i} is not an object (rows are all arrays or all objects)"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MaskJob {
            principal: decision.core_principal(),
            resource: decision.resource_name().to_owned(),
            decision: Some(decision.core().clone()),
            columns,
            shape,
            rows,
        })
    }

    /// Mask through the host (which records the pass).
    pub(crate) fn run(mut self, host: &Host) -> Result<MaskDone, Failure> {
        let Some(decision) = &self.decision else {
            return Err(Failure::new("WRIT_MASK", "this masking job was already run"));
        };
        let report = host
            .mask_rows(&self.principal, &self.resource, decision, &self.columns, &mut self.rows)
            .map_err(|e| mask_failure(&e))?;
        Ok(MaskDone { shape: self.shape, columns: self.columns, rows: self.rows, report })
    }

    /// The JS result of a finished pass.
    pub(crate) fn finish(done: MaskDone) -> MaskResult {
        let rows = done
            .rows
            .into_iter()
            .map(|row| match done.shape {
                Shape::Arrays => Value::Array(row),
                Shape::Objects => Value::Object(done.columns.iter().cloned().zip(row).collect()),
            })
            .collect();
        let mut counts = HashMap::new();
        for (entity, n) in &done.report.counts {
            let n = u32::try_from(*n).unwrap_or(u32::MAX);
            counts.insert(entity.as_str().to_owned(), n);
        }
        MaskResult { rows, counts }
    }
}

fn mask_failure(e: &MaskRowsError) -> Failure {
    let kind = match e {
        MaskRowsError::NotAllowed(effect) => {
            return Failure::new("WRIT_MASK", e.to_string())
                .with(json!({"kind": "not_allowed", "effect": effect.as_str()}));
        }
        MaskRowsError::Masker(_) => "plan",
        MaskRowsError::Detectors(_) => "detectors",
        MaskRowsError::Audit(_) => "audit",
        _ => "other",
    };
    Failure::new("WRIT_MASK", e.to_string()).with(json!({"kind": kind}))
}
