//! The C ABI's JSON entry point, `writ_check_json`, called with arbitrary bytes (the first byte
//! picks one of the policy packs of `policies/`, the rest is the request). It returns only
//! `OK`, `ERR_JSON` or `ERR_UTF8` (never `ERR_PANIC`); on success the decision is read through
//! the ABI (effect, reason, JSON) and freed, and on failure `*out` is left NULL and the last
//! error says why. Leaks are caught by LeakSanitizer (libFuzzer's `-detect_leaks=1` default
//! under AddressSanitizer).
#![no_main]

use std::ffi::{CStr, c_char};
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use writ_c::{
    writ_check_json, writ_decision, writ_decision_effect, writ_decision_free, writ_decision_json,
    writ_decision_reason, writ_engine, writ_engine_new_from_buffer, writ_last_error, writ_result,
};

const POLICIES: [&str; 7] = [
    include_str!("../../policies/aws-cli/policy.yaml"),
    include_str!("../../policies/coding-agent-shell/policy.yaml"),
    include_str!("../../policies/customer-masking/policy.yaml"),
    include_str!("../../policies/data-agents/policy.yaml"),
    include_str!("../../policies/kubernetes-ops/policy.yaml"),
    include_str!("../../policies/mcp-agent/policy.yaml"),
    include_str!("../../policies/orchestrator-grants/policy.yaml"),
];

/// Engine handles, created once and kept for the whole run (never freed: the process owns them).
struct Engines(Vec<usize>);

fn engines() -> &'static Engines {
    static ENGINES: OnceLock<Engines> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let name = "policy.yaml";
        Engines(
            POLICIES
                .iter()
                .map(|p| {
                    let mut engine: *mut writ_engine = ptr::null_mut();
                    // SAFETY: both buffers outlive the call; `engine` is writable.
                    let rc = unsafe {
                        writ_engine_new_from_buffer(
                            name.as_ptr().cast(),
                            name.len(),
                            p.as_ptr().cast(),
                            p.len(),
                            ptr::null(),
                            &mut engine,
                        )
                    };
                    assert_eq!(rc, writ_result::Ok, "a policy pack compiles");
                    engine as usize
                })
                .collect(),
        )
    })
}

fn last_error() -> String {
    let message = writ_last_error();
    assert!(!message.is_null(), "a failed call left no error message");
    // SAFETY: the ABI returns a NUL-terminated string valid until the next call on this thread.
    unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, json)) = data.split_first() else { return };
    let engines = &engines().0;
    let engine = engines[usize::from(selector) % engines.len()] as *const writ_engine;
    let mut out: *mut writ_decision = ptr::null_mut();
    // SAFETY: `engine` is live, `json` points to `json.len()` bytes, `out` is writable.
    let rc =
        unsafe { writ_check_json(engine, json.as_ptr().cast::<c_char>(), json.len(), &mut out) };
    match rc {
        writ_result::Ok => {
            assert!(!out.is_null(), "OK without a decision");
            // SAFETY: `out` is a live decision until it is freed below.
            unsafe {
                let _ = writ_decision_effect(out);
                let reason = writ_decision_reason(out);
                assert!(!reason.is_null(), "a decision without a reason");
                let (mut text, mut len) = (ptr::null::<c_char>(), 0usize);
                let rc = writ_decision_json(out, &mut text, &mut len);
                assert_eq!(rc, writ_result::Ok, "a decision without JSON: {}", last_error());
                let bytes = std::slice::from_raw_parts(text.cast::<u8>(), len);
                let value: serde_json::Value =
                    serde_json::from_slice(bytes).expect("the decision JSON parses");
                assert!(value.get("effect").is_some(), "decision JSON without an effect");
                writ_decision_free(out);
            }
        }
        writ_result::ErrJson | writ_result::ErrUtf8 => {
            assert!(out.is_null(), "a failed check wrote a decision");
            let message = last_error();
            assert!(!message.is_empty(), "a failed check with an empty message");
            if rc == writ_result::ErrUtf8 {
                assert!(std::str::from_utf8(json).is_err(), "valid UTF-8 refused as invalid");
            }
        }
        other => panic!("writ_check_json returned {other:?}: {}", last_error()),
    }
});
