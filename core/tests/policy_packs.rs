//! Runs every policy pack in `policies/` against its test files: the shared conformance corpus
//! that the Python, Node and C suites run too.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation must stop the test"
)]

use std::path::PathBuf;

use writ::Engine;
use writ::cases::{TestFile, test_files_in};

fn packs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut packs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    packs.sort();
    assert!(!packs.is_empty(), "no policy packs under {}", root.display());
    packs
}

#[test]
fn every_pack_compiles_and_passes_its_cases() {
    let mut failures = Vec::new();
    let mut total = 0;
    for pack in packs() {
        let engine = Engine::from_path(&pack)
            .unwrap_or_else(|e| panic!("pack {} does not compile:\n{e}", pack.display()));
        let files = test_files_in(&pack).unwrap();
        assert!(!files.is_empty(), "pack {} has no test file", pack.display());
        for file in files {
            let tests = TestFile::read(&file).unwrap_or_else(|e| panic!("{e}"));
            assert!(!tests.cases.is_empty(), "{} has no cases", file.display());
            for outcome in tests.run(&engine) {
                total += 1;
                if !outcome.passed() {
                    failures.push(format!(
                        "{}: {}: {}\n    view: {}",
                        file.display(),
                        outcome.name,
                        outcome.failures.join("; "),
                        serde_json::to_string(&outcome.decision.view).unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} policy cases passed");
}
