//! Policy documents: reading YAML and JSON, validating them with located errors, and compiling
//! them into the matchers the [`Engine`](crate::Engine) uses.
//!
//! A policy is one document or a directory of documents (every `*.yaml`, `*.yml` and `*.json`
//! in it, not recursing, skipping test files `*.test.*`), compiled together: rule ids and
//! resource names are unique across the set, and at most one document sets `defaults`.

pub(crate) mod compile;
mod document;
mod document_tools;
mod error;
pub(crate) mod examples;
pub(crate) mod globs;
pub(crate) mod source;
mod tool_match;

pub(crate) use compile::{Checker, CompiledPolicy, CompiledResource, Part, RouteKind};
pub use document::*;
pub use document_tools::*;
pub use error::{Diagnostic, PolicyError};
pub use source::Position;

use std::path::Path;

/// The text format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.1/1.2 (JSON is accepted too, as YAML flow syntax, but gets YAML's messages).
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// The format a file name implies: `.json` is JSON, everything else YAML.
    pub fn from_name(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".json") { Format::Json } else { Format::Yaml }
    }
}

/// One policy document's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file path or a name for an in-memory document; used in error messages.
    pub name: String,
    /// The document text.
    pub text: String,
    /// How to read it.
    pub format: Format,
}

impl Source {
    /// A document whose format follows from its name (`.json` or YAML).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        let name = name.into();
        let format = Format::from_name(&name);
        Source { name, text: text.into(), format }
    }

    /// Read the documents at `path`: one file, or every policy document directly in a
    /// directory, in name order. Test files (`*.test.yaml` and the like) are skipped.
    ///
    /// # Errors
    /// [`PolicyError::Io`] when something cannot be read, [`PolicyError::NoDocuments`] for a
    /// directory without documents.
    pub fn read_path(path: &Path) -> Result<Vec<Source>, PolicyError> {
        let io = |source| PolicyError::Io { path: path.to_path_buf(), source };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_dir() {
            let text = std::fs::read_to_string(path).map_err(io)?;
            return Ok(vec![Source::new(path.display().to_string(), text)]);
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let file = entry.path();
            let Some(name) = file.file_name().and_then(|n| n.to_str()) else { continue };
            if is_policy_file_name(name) && file.is_file() {
                files.push(file);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(PolicyError::NoDocuments(path.to_path_buf()));
        }
        files
            .into_iter()
            .map(|file| {
                let text = std::fs::read_to_string(&file)
                    .map_err(|source| PolicyError::Io { path: file.clone(), source })?;
                Ok(Source::new(file.display().to_string(), text))
            })
            .collect()
    }
}

/// True for `*.yaml`, `*.yml` and `*.json` names that are not test files (`*.test.*`).
pub fn is_policy_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let is_document = [".yaml", ".yml", ".json"].iter().any(|ext| lower.ends_with(ext));
    is_document && !is_test_file_name(&lower)
}

/// True for test files: `*.test.yaml`, `*.test.yml`, `*.test.json`.
pub fn is_test_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".test.yaml", ".test.yml", ".test.json"].iter().any(|ext| lower.ends_with(ext))
}

/// Parse one document's text, reporting a located diagnostic on failure.
pub(crate) fn parse_document<T: serde::de::DeserializeOwned>(
    source: &Source,
) -> Result<T, Diagnostic> {
    match source.format {
        Format::Json => serde_json::from_str(&source.text).map_err(|e| {
            let message = strip_location(&e.to_string());
            let (line, column) = json_location(&source.text, e.line(), e.column());
            Diagnostic { file: source.name.clone(), line, column, message }
        }),
        Format::Yaml => serde_norway::from_str(&source.text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let message = strip_location(&e.to_string());
            Diagnostic { file: source.name.clone(), line, column, message }
        }),
    }
}

/// serde_json's location as a 1-based line and column. serde_json reports column 0 when the
/// error is at a line break (a raw newline inside a string, input ending after one): that is
/// the end of the previous line, one past its last character (found by fuzzing).
fn json_location(text: &str, line: usize, column: usize) -> (usize, usize) {
    if column > 0 {
        return (line.max(1), column);
    }
    if line <= 1 {
        return (1, 1);
    }
    let previous = text.split('\n').nth(line - 2).unwrap_or("");
    (line - 1, previous.chars().count() + 1)
}

/// serde_norway and serde_json append ` at line L column C` to their messages; the diagnostic
/// carries those separately. serde_norway's path prefix (`rules[0]: ...`) is kept, as people
/// read it more easily than a column alone. The result is one line.
fn strip_location(message: &str) -> String {
    let trimmed = match message.rfind(" at line ") {
        Some(at) => message.get(..at).unwrap_or(message),
        None => message,
    };
    trimmed.lines().collect::<Vec<_>>().join(" ")
}
