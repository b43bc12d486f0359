//! SQL classification in every dialect: never panics, and a text that fails to parse is never
//! read-only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use writ::sql::{Dialect, classify};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let dialect = Dialect::ALL[usize::from(selector) % Dialect::ALL.len()];
    let view = classify(text, dialect);
    if view.error.is_some() {
        assert!(!view.read_only, "a text with a parse error was read-only: {text:?}");
    }
    for statement in &view.statements {
        if !statement.understood() {
            assert!(!statement.read_only, "an unparsed statement was read-only: {text:?}");
        }
    }
});
