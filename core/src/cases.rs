//! Policy test files: named requests with the decision they must get.
//!
//! A test file sits beside the policy documents it tests (`*.test.yaml`, `*.test.yml` or
//! `*.test.json`). The same files are run by the Rust tests, the CLI and every binding's test
//! suite, so all of them must agree on every case.
//!
//! ```yaml
//! cases:
//!   - name: analysts may read orders
//!     request:
//!       principal: {id: "agent:analytics", groups: [analysts]}
//!       resource: warehouse
//!       action: {sql: "SELECT * FROM orders"}
//!     expect: allow
//!     rules: [analysts-read]      # optional: these rule ids must be among the deciding ones
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::policy::source::{SourceMap, at_path};
use crate::policy::{PolicyError, Position, Source, is_test_file_name, parse_document};
use crate::{Decision, Effect, Engine, Request};

/// One test file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The cases, run in order.
    pub cases: Vec<TestCase>,
}

/// One named request and what it must get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// Shown in results; unique within a file.
    pub name: String,
    /// The request to check.
    pub request: Request,
    /// The effect the decision must have.
    pub expect: Effect,
    /// Rule ids that must all be among the deciding rules (a subset check).
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    /// Output names of the columns the decision's mask plan masks, in order (exact match;
    /// `[]` means a plan that masks nothing or no plan).
    #[serde(default)]
    pub masked: Option<Vec<String>>,
}

/// What running one case gave.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: String,
    /// The decision the engine made.
    pub decision: Decision,
    /// Why the case failed; empty when it passed.
    pub failures: Vec<String>,
}

impl CaseOutcome {
    /// True when the decision met every expectation.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl TestFile {
    /// Read and parse a test file.
    ///
    /// # Errors
    /// [`PolicyError::Io`] when it cannot be read, [`PolicyError::Invalid`] with a located
    /// diagnostic when it is malformed.
    pub fn read(path: &Path) -> Result<TestFile, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Io { path: path.to_path_buf(), source })?;
        TestFile::parse(&Source::new(path.display().to_string(), text))
    }

    /// Parse a test file held in memory.
    ///
    /// # Errors
    /// [`PolicyError::Invalid`] with a located diagnostic when it is malformed.
    pub fn parse(source: &Source) -> Result<TestFile, PolicyError> {
        parse_document(source).map_err(|d| PolicyError::Invalid(vec![d]))
    }

    /// Read a test file and where each of its cases starts (for annotations and reports).
    ///
    /// # Errors
    /// As [`TestFile::read`].
    pub fn read_located(path: &Path) -> Result<(TestFile, Vec<Position>), PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Io { path: path.to_path_buf(), source })?;
        let source = Source::new(path.display().to_string(), text);
        let file = TestFile::parse(&source)?;
        let map = SourceMap::index(&source.text);
        let positions = (0..file.cases.len()).map(|i| map.locate(&at_path!["cases", i])).collect();
        Ok((file, positions))
    }

    /// Run every case against `engine`.
    pub fn run(&self, engine: &Engine) -> Vec<CaseOutcome> {
        self.cases.iter().map(|case| case.run(engine)).collect()
    }
}

impl TestCase {
    /// Check the request and compare the decision with the expectations.
    pub fn run(&self, engine: &Engine) -> CaseOutcome {
        let decision = engine.check(&self.request);
        let mut failures = Vec::new();
        if decision.effect != self.expect {
            failures.push(format!(
                "expected `{}`, got `{}` ({})",
                self.expect, decision.effect, decision.reason
            ));
        }
        for id in self.rules.iter().flatten() {
            if !decision.rules.contains(id) {
                failures.push(format!(
                    "expected rule `{id}` among the deciding rules, got [{}]",
                    decision.rules.join(", ")
                ));
            }
        }
        if let Some(expected) = &self.masked {
            let got: Vec<&str> =
                decision.mask.as_ref().map(|p| p.masked_names()).unwrap_or_default();
            if got != expected.iter().map(String::as_str).collect::<Vec<_>>() {
                failures.push(format!(
                    "expected masked columns [{}], got [{}]",
                    expected.join(", "),
                    got.join(", ")
                ));
            }
        }
        CaseOutcome { name: self.name.clone(), decision, failures }
    }
}

/// The test files directly in `dir`, in name order.
///
/// # Errors
/// [`PolicyError::Io`] when the directory cannot be read.
pub fn test_files_in(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    let io = |source| PolicyError::Io { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let file = entry.map_err(io)?.path();
        if file.file_name().and_then(|n| n.to_str()).is_some_and(is_test_file_name) {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}
