//! Policy loading from YAML and JSON: never panics; every error is located.
#![no_main]

use libfuzzer_sys::fuzz_target;
use writ::Engine;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let result = if selector % 2 == 0 { Engine::from_yaml(text) } else { Engine::from_json(text) };
    if let Err(e) = result {
        for d in e.diagnostics() {
            assert!(d.line >= 1 && d.column >= 1, "unlocated diagnostic: {d}");
        }
    }
});
