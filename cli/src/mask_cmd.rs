//! `writ mask`: mask result rows (CSV or JSON Lines on stdin) the way a host would after an
//! allowed query.
//!
//! The rows stand for the result of one SQL query on a policy resource: `--sql` gives the
//! query, or `--table T` stands for `SELECT <the input's columns> FROM T`. The query is
//! checked for `--principal` (and `--groups`) like any request; a denied query prints no row
//! (exit 1). An allowed one carries the mask plan, and a [`Masker`] built from it and the
//! input's column names masks every row before it is written.
//!
//! # Fail closed
//! Rows are read, masked and written one at a time. The first malformed row (a CSV record
//! with the wrong number of fields or invalid UTF-8, a line that is not a JSON object, an
//! object whose keys differ from the first one's) stops the run with its line (and column
//! where there is one) and exit 2: nothing after it is printed, and nothing is ever printed
//! unmasked. Rows before it were masked when they were written.
//!
//! The summary on stderr names entity types and counts (`column:email=3, phone=1`), never a
//! value.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use writ::mask::{Detectors, MaskPlan, MaskReport, Masker};
use writ::{Effect, Engine, Request};

use crate::{EXIT_DENIED, EXIT_ERROR, EXIT_OK, indent_error};

/// Input and output row format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum RowFormat {
    /// Comma-separated values; the first record names the columns.
    Csv,
    /// One JSON object per line; its keys name the columns.
    Jsonl,
}

/// `writ mask` arguments.
#[derive(Args)]
pub(crate) struct MaskArgs {
    /// The policy file or directory.
    #[arg(long, short)]
    policy: PathBuf,
    /// The SQL resource the rows come from.
    #[arg(long, short)]
    resource: String,
    /// Who reads the rows.
    #[arg(long)]
    principal: String,
    /// The principal's groups, comma-separated.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// The query that produced the rows; its output columns must line up with the input's.
    #[arg(long, conflicts_with = "table", required_unless_present = "table")]
    sql: Option<String>,
    /// Read the rows as `SELECT <the input's columns> FROM TABLE`.
    #[arg(long)]
    table: Option<String>,
    /// Row format (default: JSON Lines when the input starts with `{`, CSV otherwise).
    #[arg(long, value_enum)]
    format: Option<RowFormat>,
    /// The HMAC key for `hash` and `format_preserving` masks (a file; a trailing newline is
    /// ignored).
    #[arg(long, value_name = "FILE")]
    hmac_key_file: Option<PathBuf>,
}

/// Run `writ mask`.
pub(crate) fn run(args: &MaskArgs) -> u8 {
    match mask(args, &mut io::stdin().lock(), &mut BufWriter::new(io::stdout().lock())) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_ERROR
        }
    }
}

fn mask(args: &MaskArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<u8, String> {
    let engine = Engine::from_path(&args.policy)
        .map_err(|e| format!("invalid policy: {}", indent_error(&e)))?;
    let key = match &args.hmac_key_file {
        Some(path) => Some(crate::keys::secret_file(path)?),
        None => None,
    };
    let format = match args.format {
        Some(format) => format,
        None => {
            let head = input.fill_buf().map_err(|e| format!("cannot read stdin: {e}"))?;
            match head.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') => RowFormat::Jsonl,
                _ => RowFormat::Csv,
            }
        }
    };
    let mut rows = match format {
        RowFormat::Csv => Rows::csv(input)?,
        RowFormat::Jsonl => Rows::jsonl(input)?,
    };
    let Some(columns) = rows.columns() else {
        // No header and no row: nothing to mask, nothing to print.
        eprintln!("writ mask: no rows");
        return Ok(EXIT_OK);
    };
    let sql = match (&args.sql, &args.table) {
        (Some(sql), _) => sql.clone(),
        (None, Some(table)) => select_from(columns, table),
        (None, None) => return Err("give `--sql` or `--table`".to_owned()),
    };
    let request: Request = serde_json::from_value(serde_json::json!({
        "principal": {"id": args.principal, "groups": args.groups},
        "resource": args.resource,
        "action": {"sql": sql},
    }))
    .map_err(|e| format!("cannot build the request: {e}"))?;
    let decision = engine.check(&request);
    if decision.effect != Effect::Allow {
        let rules = if decision.rules.is_empty() {
            "(default)".to_owned()
        } else {
            decision.rules.join(", ")
        };
        let what = match decision.effect {
            Effect::ApprovalRequired => "needs approval",
            _ => "is denied",
        };
        eprintln!(
            "writ mask: the query {what} (rules: {rules}): {}; no row printed",
            decision.reason
        );
        return Ok(EXIT_DENIED);
    }
    // An allowed query without a plan reads nothing the policy masks for this principal.
    let plan = decision.mask.clone().unwrap_or_else(|| MaskPlan {
        columns: columns
            .iter()
            .enumerate()
            .map(|(position, name)| writ::mask::PlannedColumn {
                position,
                name: name.clone(),
                sources: Vec::new(),
                method: None,
                rules: Vec::new(),
                content: None,
                expands: None,
            })
            .collect(),
        fallback: None,
        content: Vec::new(),
        probes: Vec::new(),
        notes: Vec::new(),
        needs_key: false,
    });
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    let host = Detectors::with_defaults().map_err(|e| e.to_string())?;
    let masker = Masker::new(&plan, columns, &host, key.as_deref()).map_err(|e| e.to_string())?;
    let mut cache = masker.create_cache();
    let mut report = MaskReport::default();
    let mut count = 0usize;
    rows.write_header(out)?;
    while let Some(mut row) = rows.next_row()? {
        report.merge(&masker.mask_row_with(&mut row, &mut cache));
        rows.write_row(out, &row)?;
        count += 1;
    }
    out.flush().map_err(|e| format!("cannot write the rows: {e}"))?;
    let rows = if count == 1 { "1 row".to_owned() } else { format!("{count} rows") };
    if report.total() == 0 {
        eprintln!("writ mask: {rows}, nothing masked");
    } else {
        eprintln!("writ mask: {rows}, masked {report}");
    }
    Ok(EXIT_OK)
}

/// `SELECT <columns> FROM <table>`: lowercase identifiers are quoted (the same name to the
/// database, and safe from keywords), other plain identifiers are left to fold to lowercase as
/// the database would, anything else is quoted as written.
fn select_from(columns: &[String], table: &str) -> String {
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let plain = c.chars().next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            if plain && c.chars().any(|ch| ch.is_ascii_uppercase()) {
                c.clone()
            } else {
                format!("\"{}\"", c.replace('"', "\"\""))
            }
        })
        .collect();
    format!("SELECT {} FROM {table}", list.join(", "))
}

/// A stream of rows in one format.
enum Rows<'a> {
    Csv {
        reader: csv::Reader<&'a mut dyn BufRead>,
        columns: Option<Vec<String>>,
        record: csv::StringRecord,
    },
    Jsonl {
        input: &'a mut dyn BufRead,
        columns: Option<Vec<String>>,
        /// The first row, read to learn the columns.
        first: Option<Vec<Value>>,
        line: String,
        line_no: usize,
    },
}

impl<'a> Rows<'a> {
    fn csv(input: &'a mut dyn BufRead) -> Result<Rows<'a>, String> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
        let header = reader.headers().map_err(|e| csv_error(&e))?;
        let columns = if header.is_empty() {
            None
        } else {
            Some(header.iter().map(str::to_owned).collect::<Vec<_>>())
        };
        Ok(Rows::Csv { reader, columns, record: csv::StringRecord::new() })
    }

    fn jsonl(input: &'a mut dyn BufRead) -> Result<Rows<'a>, String> {
        let mut rows =
            Rows::Jsonl { input, columns: None, first: None, line: String::new(), line_no: 0 };
        if let Some(object) = rows.next_object()?
            && let Rows::Jsonl { columns, first, .. } = &mut rows
        {
            *columns = Some(object.iter().map(|(k, _)| k.clone()).collect());
            *first = Some(object.into_iter().map(|(_, v)| v).collect());
        }
        Ok(rows)
    }

    fn columns(&self) -> Option<&Vec<String>> {
        match self {
            Rows::Csv { columns, .. } | Rows::Jsonl { columns, .. } => columns.as_ref(),
        }
    }

    /// The next JSON object (keys in document order), skipping blank lines.
    fn next_object(&mut self) -> Result<Option<Vec<(String, Value)>>, String> {
        let Rows::Jsonl { input, line, line_no, .. } = self else { return Ok(None) };
        loop {
            line.clear();
            let n = input
                .read_line(line)
                .map_err(|e| format!("line {}: cannot read stdin: {e}", *line_no + 1))?;
            if n == 0 {
                return Ok(None);
            }
            *line_no += 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut de = serde_json::Deserializer::from_str(line);
            let object = de
                .deserialize_map(ObjectVisitor)
                .and_then(|o| de.end().map(|()| o))
                .map_err(|e| {
                    // serde_json's message ends with its own position inside the line.
                    let message = e.to_string();
                    let message =
                        message.rsplit_once(" at line ").map_or(message.as_str(), |m| m.0);
                    format!("line {line_no}, column {}: {message}", e.column().max(1))
                })?;
            return Ok(Some(object));
        }
    }

    /// The next row's values, in column order.
    fn next_row(&mut self) -> Result<Option<Vec<Value>>, String> {
        match self {
            Rows::Csv { reader, record, .. } => match reader.read_record(record) {
                Ok(false) => Ok(None),
                Ok(true) => Ok(Some(record.iter().map(|f| Value::String(f.to_owned())).collect())),
                Err(e) => Err(csv_error(&e)),
            },
            Rows::Jsonl { first, .. } => {
                if let Some(row) = first.take() {
                    return Ok(Some(row));
                }
                let Some(object) = self.next_object()? else { return Ok(None) };
                let Rows::Jsonl { columns, line_no, .. } = self else { return Ok(None) };
                let columns = columns.as_deref().unwrap_or_default();
                let mut row: Vec<Option<Value>> = vec![None; columns.len()];
                for (key, value) in object {
                    let slot = columns
                        .iter()
                        .position(|c| *c == key)
                        .and_then(|i| row.get_mut(i))
                        .ok_or_else(|| {
                            format!("line {line_no}: key `{key}` is not a column of the first row")
                        })?;
                    *slot = Some(value);
                }
                let mut values = Vec::with_capacity(row.len());
                for (value, name) in row.into_iter().zip(columns) {
                    values.push(value.ok_or_else(|| {
                        format!("line {line_no}: column `{name}` of the first row is missing")
                    })?);
                }
                Ok(Some(values))
            }
        }
    }

    fn write_header(&mut self, out: &mut dyn Write) -> Result<(), String> {
        match self {
            Rows::Csv { columns: Some(columns), .. } => write_csv(out, columns.iter()),
            _ => Ok(()),
        }
    }

    fn write_row(&self, out: &mut dyn Write, row: &[Value]) -> Result<(), String> {
        match self {
            Rows::Csv { .. } => write_csv(
                out,
                row.iter().map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                }),
            ),
            Rows::Jsonl { columns, .. } => {
                let columns = columns.as_deref().unwrap_or_default();
                let mut text = String::from("{");
                for (i, (name, value)) in columns.iter().zip(row).enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    let pair = serde_json::to_string(name)
                        .and_then(|k| serde_json::to_string(value).map(|v| format!("{k}:{v}")))
                        .map_err(|e| format!("cannot write a row: {e}"))?;
                    text.push_str(&pair);
                }
                text.push('}');
                writeln!(out, "{text}").map_err(|e| format!("cannot write the rows: {e}"))
            }
        }
    }
}

fn write_csv<S: AsRef<[u8]>>(
    out: &mut dyn Write,
    fields: impl Iterator<Item = S>,
) -> Result<(), String> {
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(fields)
        .and_then(|()| writer.flush().map_err(csv::Error::from))
        .map_err(|e| format!("cannot write the rows: {e}"))
}

/// A CSV error with its line (and column, a 1-based field number, where it applies).
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            format!("line {line}: the record has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            format!("line {line}, column {}: the field is not valid UTF-8", err.field() + 1)
        }
        csv::ErrorKind::Io(io) => format!("cannot read stdin: {io}"),
        _ => format!("invalid CSV: {e}"),
    }
}

/// Reads one JSON object keeping its keys in document order; a repeated key is an error.
struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Vec<(String, Value)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object (one row)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(String, Value)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            if out.iter().any(|(k, _)| *k == key) {
                return Err(serde::de::Error::custom(format!("key `{key}` appears twice")));
            }
            out.push((key, value));
        }
        Ok(out)
    }
}
