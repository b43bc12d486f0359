//! Masking `DataRow` values with the decision's mask plan, through [`Host::mask_rows`] (which
//! also writes the masking audit event).
//!
//! Text-format values are UTF-8 strings and are masked as such. A binary-format value of a
//! text type (`text`, `varchar`, `bpchar`, `name`, `json`) is the same bytes as its text form,
//! so it is masked the same way. Any other binary-format value cannot be masked here: when the
//! plan might touch its column the whole result is refused (fail closed); otherwise it passes
//! through byte for byte.

use serde_json::Value;
use writ::mask::MaskPlan;
use writ::{Decision, Host, Principal};

use crate::wire::Field;

/// OIDs of the types whose binary form is their text form.
const TEXT_TYPES: [i32; 5] = [
    25,   /* text */
    1043, /* varchar */
    1042, /* bpchar */
    19,   /* name */
    114,  /* json */
];

/// One row as it came from the server: `None` is SQL NULL.
pub type Row = Vec<Option<Vec<u8>>>;

/// How the values of one column are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// UTF-8 text (text format, or binary of a text type).
    Text,
    /// Binary of another type, left as it is.
    Opaque,
}

/// Mask `rows` of a result with `fields` (names, types, formats) as `decision` says, in place.
///
/// # Errors
/// A message for the client when the rows cannot be masked safely: a value that is not UTF-8,
/// a binary value in a column the plan may mask, a row of the wrong width, or whatever
/// [`Host::mask_rows`] refuses (a plan that does not fit, an audit sink that failed).
pub fn mask_rows(
    host: &Host,
    principal: &Principal,
    resource: &str,
    decision: &Decision,
    fields: &[Field],
    rows: &mut [Row],
) -> Result<(), String> {
    let Some(plan) = &decision.mask else { return Ok(()) };
    let mut kinds = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        kinds.push(if f.format == 0 || TEXT_TYPES.contains(&f.type_oid) {
            Cell::Text
        } else if untouched(plan, i) {
            Cell::Opaque
        } else {
            return Err(format!(
                "column `{}` is sent in binary format and the policy may mask it; \
                 writ-pg-proxy masks text values only (ask for text results)",
                f.name
            ));
        });
    }
    let mut values: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        if row.len() != fields.len() {
            return Err(format!("a row has {} values for {} columns", row.len(), fields.len()));
        }
        let mut out = Vec::with_capacity(row.len());
        for ((cell, kind), field) in row.iter().zip(&kinds).zip(fields) {
            out.push(match (cell, kind) {
                (None, _) | (Some(_), Cell::Opaque) => Value::Null,
                (Some(bytes), Cell::Text) => match std::str::from_utf8(bytes) {
                    Ok(s) => Value::String(s.to_owned()),
                    Err(_) => {
                        return Err(format!("column `{}` holds a non-UTF-8 value", field.name));
                    }
                },
            });
        }
        values.push(out);
    }
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    host.mask_rows(principal, resource, decision, &names, &mut values)
        .map_err(|e| format!("the result could not be masked: {e}"))?;
    if values.len() != rows.len() {
        return Err("the masker dropped rows".to_owned());
    }
    for (row, masked) in rows.iter_mut().zip(values) {
        for ((cell, kind), value) in row.iter_mut().zip(&kinds).zip(masked) {
            if *kind == Cell::Opaque {
                continue;
            }
            *cell = match value {
                Value::Null => None,
                Value::String(s) => Some(s.into_bytes()),
                other => Some(other.to_string().into_bytes()),
            };
        }
    }
    Ok(())
}

/// True when the plan certainly leaves result column `i` alone: no `*` of unknown width, no
/// content detection over every column, and nothing planned for the column itself.
fn untouched(plan: &MaskPlan, i: usize) -> bool {
    plan.columns.iter().all(|c| c.expands.is_none())
        && plan.content.is_empty()
        && !plan.fallback.as_ref().is_some_and(|f| f.detectors)
        && plan.columns.get(i).is_some_and(|c| !c.masked())
}

#[cfg(test)]
mod tests {
    use super::*;
    use writ::{Effect, Engine, Request};

    const POLICY: &str = "version: 1
resources:
  - {name: db, kind: postgres, default_schema: public, columns: {public.t: [id, email]}}
rules:
  - {id: r, effect: allow, when: {sql: {read_only: true}}}
masks:
  - {id: m, resources: [db], columns: [public.t.email], method: {method: redact}}
";

    fn setup(sql: &str) -> (Host, Principal, Decision) {
        let host = Host::new(Engine::from_yaml(POLICY).unwrap());
        let p = Principal::new("agent:a", ["g"]);
        let d = host.check(&Request::sql(p.clone(), "db", sql)).decision;
        assert_eq!(d.effect, Effect::Allow);
        (host, p, d)
    }

    fn field(name: &str, type_oid: i32, format: i16) -> Field {
        Field { name: name.to_owned(), type_oid, format }
    }

    #[test]
    fn text_values_are_masked_and_nulls_kept() {
        let (host, p, d) = setup("SELECT id, email FROM t");
        let fields = [field("id", 23, 0), field("email", 25, 0)];
        let mut rows = vec![
            vec![Some(b"1".to_vec()), Some(b"ann@example.com".to_vec())],
            vec![Some(b"2".to_vec()), None],
        ];
        mask_rows(&host, &p, "db", &d, &fields, &mut rows).unwrap();
        assert_eq!(rows[0][0].as_deref(), Some(&b"1"[..]));
        assert_ne!(rows[0][1].as_deref(), Some(&b"ann@example.com"[..]));
        assert!(rows[0][1].is_some());
        assert_eq!(rows[1][1], None);
    }

    #[test]
    fn binary_text_is_masked_binary_int_passes_binary_masked_int_fails() {
        let (host, p, d) = setup("SELECT id, email FROM t");
        let fields = [field("id", 23, 1), field("email", 25, 1)];
        let mut rows = vec![vec![Some(vec![0, 0, 0, 7]), Some(b"ann@example.com".to_vec())]];
        mask_rows(&host, &p, "db", &d, &fields, &mut rows).unwrap();
        assert_eq!(rows[0][0], Some(vec![0, 0, 0, 7]));
        assert_ne!(rows[0][1].as_deref(), Some(&b"ann@example.com"[..]));

        let fields = [field("id", 23, 1), field("email", 17 /* bytea */, 1)];
        let mut rows = vec![vec![Some(vec![0, 0, 0, 7]), Some(b"x".to_vec())]];
        let err = mask_rows(&host, &p, "db", &d, &fields, &mut rows).unwrap_err();
        assert!(err.contains("binary"), "{err}");
    }

    #[test]
    fn rows_of_the_wrong_width_and_bad_utf8_fail() {
        let (host, p, d) = setup("SELECT id, email FROM t");
        let fields = [field("id", 23, 0), field("email", 25, 0)];
        let mut rows = vec![vec![Some(b"1".to_vec())]];
        assert!(mask_rows(&host, &p, "db", &d, &fields, &mut rows).is_err());
        let mut rows = vec![vec![Some(b"1".to_vec()), Some(vec![0xff, 0xfe])]];
        assert!(mask_rows(&host, &p, "db", &d, &fields, &mut rows).is_err());
    }
}
