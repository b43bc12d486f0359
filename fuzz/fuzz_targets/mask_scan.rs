//! Content detectors and masking on arbitrary UTF-8.
//!
//! The first byte picks a detector configuration (a masking method for every type) and what is
//! masked: the text itself, the text as rows of tab-separated cells, the text as a JSON document,
//! or rows through the masker a decision's mask plan builds (`policies/customer-masking`).
//! Invariants:
//! - nothing panics;
//! - findings are in bounds, non-empty, on `char` boundaries, sorted and non-overlapping, and a
//!   reused scan cache (shared by every configuration) finds the same as a fresh one, and a scan
//!   with every gate chunk flagged and the plain unanchored search in each window
//!   (`scan_ungated`) finds the same too;
//! - masking replaces exactly the findings and nothing else (checked for `redact`, whose output
//!   is known in advance);
//! - masking twice equals masking once, for every method but `format_preserving`, whose output
//!   still looks like its input by design (a second pass may scramble it again; the module docs
//!   say so). For `null` the check holds too: removing a value must not glue its neighbours into
//!   a new finding;
//! - for `redact`, a detected value is in the masked text only when the same value also occurs
//!   elsewhere in the input (undetected there: some detectors need context, such as a bare SSN
//!   that needs the word `ssn` before it). Not checked for the other methods: `partial`, `email`
//!   and `null` keep or remove parts by design, so what is left may spell a shorter value;
//! - rows and JSON mask cell by cell and leaf by leaf as text does, and are idempotent too.
#![no_main]

use std::cell::RefCell;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use writ::mask::{CustomPattern, Detectors, EntityType, Masker, Method, ScanCache};
use writ::{Engine, Principal, Request};

const KEY: &[u8] = b"the fuzz host's hmac key";

/// (detectors, replacement is `[REDACTED:<type>]`, idempotent)
struct Config {
    detectors: Detectors,
    redact: bool,
    idempotent: bool,
}

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let build = |b: writ::mask::DetectorsBuilder| b.build().expect("a valid configuration");
        let partial = Method::Partial { keep_first: 0, keep_last: 4, mask_char: '*' };
        vec![
            Config { detectors: build(Detectors::builder()), redact: true, idempotent: true },
            Config {
                detectors: build(
                    Detectors::builder()
                        .lenient_card_iin(true)
                        .custom(CustomPattern::new("employee_id", r"EMP-[0-9]{6}")),
                ),
                redact: true,
                idempotent: true,
            },
            Config {
                detectors: build(Detectors::builder().default_method(Method::Null)),
                redact: false,
                idempotent: true,
            },
            Config {
                detectors: build(Detectors::builder().default_method(partial)),
                redact: false,
                idempotent: true,
            },
            Config {
                detectors: build(
                    Detectors::builder().default_method(Method::Hash).hmac_key(KEY.to_vec()),
                ),
                redact: false,
                idempotent: true,
            },
            Config {
                detectors: build(
                    Detectors::builder()
                        .method(EntityType::Email, Method::Email)
                        .method(
                            EntityType::Phone,
                            Method::Partial { keep_first: 2, keep_last: 2, mask_char: '#' },
                        )
                        .default_method(Method::Redact { token: Some("<hidden>".into()) }),
                ),
                redact: false,
                idempotent: true,
            },
            Config {
                detectors: build(
                    Detectors::builder()
                        .default_method(Method::FormatPreserving)
                        .hmac_key(KEY.to_vec()),
                ),
                redact: false,
                idempotent: false,
            },
        ]
    })
}

thread_local! {
    static CACHE: RefCell<ScanCache> = RefCell::new(ScanCache::new());
}

fn check_text(config: &Config, text: &str) {
    let d = &config.detectors;
    let findings = d.scan(text);
    let cached = CACHE.with(|c| d.scan_with(text, Some(&mut c.borrow_mut())));
    assert_eq!(findings, cached, "a reused cache found something else");
    // The byte gate only decides where the regexes look, and the floating search's shortcuts
    // (skipped leading bytes, the anchored try) only how: with every chunk flagged and the
    // plain search they must find exactly the same.
    assert_eq!(findings, d.scan_ungated(text), "the byte gate or a search shortcut hid a value");
    let mut last = 0;
    for f in &findings {
        assert!(f.start < f.end && f.end <= text.len(), "out of bounds: {f:?}");
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end), "{f:?}");
        assert!(f.start >= last, "unordered or overlapping: {findings:?}");
        last = f.end;
    }
    let masked = d.mask_text(text, None);
    assert_eq!(masked.changed(), !findings.is_empty());
    let masked = masked.text;
    if config.redact {
        let mut expected = String::new();
        let mut at = 0;
        for f in &findings {
            expected.push_str(&text[at..f.start]);
            expected.push_str(&format!("[REDACTED:{}]", f.entity.as_str()));
            at = f.end;
        }
        expected.push_str(&text[at..]);
        // A second pass masks what the first left detectable (see `mask_core`).
        let expected = d.mask_text(&expected, None).text.into_owned();
        assert_eq!(masked, expected, "masking changed more than the findings");
        for f in &findings {
            let value = &text[f.start..f.end];
            if masked.contains(value) {
                assert!(
                    text.match_indices(value).any(|(i, _)| i != f.start),
                    "a detected {} is still in the masked text",
                    f.entity.as_str()
                );
            }
        }
    }
    if config.idempotent {
        let again = d.mask_text(&masked, None);
        assert_eq!(again.text, masked, "masking twice differs from masking once");
    }
}

fn check_rows(config: &Config, text: &str) {
    let d = &config.detectors;
    let mut rows: Vec<Vec<String>> =
        text.lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect();
    let original = rows.clone();
    let _report = d.mask_rows(&mut rows, None);
    for (row, before) in rows.iter().zip(&original) {
        for (cell, before) in row.iter().zip(before) {
            assert_eq!(*cell, d.mask_text(before, None).text, "a cell masked unlike text");
        }
    }
    if config.idempotent {
        let once = rows.clone();
        let _ = d.mask_rows(&mut rows, None);
        assert_eq!(rows, once, "masking rows twice differs from once");
    }
}

fn check_json(config: &Config, text: &str) {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else { return };
    let d = &config.detectors;
    if let Value::String(s) = &value {
        let expected = d.mask_text(s, None).text.into_owned();
        let mut leaf = value.clone();
        let _ = d.mask_json(&mut leaf, None);
        match leaf {
            Value::Null => assert!(expected.is_empty(), "a leaf became null but not empty"),
            Value::String(m) => assert_eq!(m, expected, "a leaf masked unlike text"),
            other => panic!("a string leaf became {other}"),
        }
    }
    let _ = d.mask_json(&mut value, None);
    if config.idempotent {
        let once = value.clone();
        let _ = d.mask_json(&mut value, None);
        assert_eq!(value, once, "masking JSON twice differs from once");
    }
}

const COLUMNS: [&str; 6] = ["id", "name", "email", "ssn", "card", "notes"];

fn masker() -> &'static Masker {
    static MASKER: OnceLock<Masker> = OnceLock::new();
    MASKER.get_or_init(|| {
        let engine = Engine::from_yaml(include_str!("../../policies/customer-masking/policy.yaml"))
            .expect("the customer-masking policy compiles");
        let request = Request::sql(
            Principal::new("agent:support-bot", ["support"]),
            "crm",
            "SELECT * FROM customers",
        );
        let decision = engine.check(&request);
        let plan = decision.mask.expect("a mask plan for the customers");
        let host = Detectors::with_defaults().expect("the default detectors");
        Masker::new(&plan, &COLUMNS, &host, None).expect("a masker for the customers")
    })
}

fn check_masker(text: &str) {
    let m = masker();
    let mut rows: Vec<Vec<Value>> = text
        .lines()
        .map(|l| {
            let mut cells: Vec<Value> =
                l.split('\t').map(|c| Value::String(c.to_owned())).collect();
            cells.resize(COLUMNS.len(), Value::Null);
            cells
        })
        .collect();
    let original = rows.clone();
    let _ = m.mask_rows(&mut rows);
    for (row, before) in rows.iter().zip(&original) {
        assert_eq!(row[..2], before[..2], "a column without a mask changed");
    }
    let once = rows.clone();
    let _ = m.mask_rows(&mut rows);
    assert_eq!(rows, once, "masking rows twice differs from once");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let configs = configs();
    let config = &configs[usize::from(selector & 0x0f) % configs.len()];
    match selector >> 4 {
        0..=9 => check_text(config, text),
        10 | 11 => check_rows(config, text),
        12..=14 => check_json(config, text),
        _ => check_masker(text),
    }
});
