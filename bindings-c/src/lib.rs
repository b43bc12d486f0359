//! The C ABI of writ: `libwrit.so` / `libwrit.a` with the header `include/writ.h`.
//!
//! Proxies and hosts written in C, C++, Go (cgo) or Zig call writ in-process through this
//! library. It is a thin layer: it converts C values into the core's types, calls
//! [`writ_core::Host`], and converts the answers back. No policy logic lives here.
//!
//! # Conventions (rustls-ffi style, see `STYLE.md`)
//! - Every fallible function returns a [`writ_result`]; `WRIT_RESULT_OK` is 0, and codes are
//!   never reused. Outputs go through out-parameters, written only on success.
//! - Objects are opaque handles created by `*_new*` and released by the matching `*_free`
//!   (which accepts NULL). Strings handed out as `char *` are released with
//!   [`writ_string_free`]; strings borrowed from a handle live as long as the handle.
//! - Every buffer is followed by its length; text must be UTF-8 and need not be NUL-terminated.
//!   A NULL pointer is an error (`WRIT_RESULT_ERR_NULL`), except an array whose count is 0.
//! - Every function body runs inside a panic boundary: a panic becomes
//!   `WRIT_RESULT_ERR_PANIC` (or NULL / a deny for functions that return no code), never an
//!   unwind into C.
//! - After a fallible function fails, [`writ_last_error`] / [`writ_last_error_message`] give
//!   its message on the same thread (policy errors list `file:line:column: message` lines).
//! - A `writ_engine` is thread-safe: share one between threads. Other handles may be sent to
//!   another thread but must not be used by two threads at once, except that a
//!   `writ_decision`'s accessors may be called concurrently.
#![allow(
    unsafe_code,
    reason = "a C ABI takes raw pointers from C; each unsafe block states why it is sound"
)]
#![allow(
    non_camel_case_types,
    reason = "C names: opaque types and enums are spelled as in writ.h (writ_engine, writ_result)"
)]
#![deny(missing_docs)]

mod decision;
mod engine;
mod error;
mod ffi;
mod keys;

pub use decision::*;
pub use engine::*;
pub use error::*;
pub use keys::*;

use std::ffi::{CString, c_char};

/// Release a string that writ handed out as `char *` (a grant, an approval token, a policy
/// version). NULL is accepted. Never pass a string from anywhere else, nor `free()` one of these.
///
/// # Safety
/// `string` must be NULL or a string returned by writ as `char *`, released once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_string_free(string: *mut c_char) {
    ffi::boundary_void(|| {
        if !string.is_null() {
            // SAFETY: the caller passes a pointer obtained from `CString::into_raw` in this
            // library (every `char *` writ returns is made by `ffi::owned_string`), once.
            drop(unsafe { CString::from_raw(string) });
        }
    });
}

/// The version of this library, as a NUL-terminated static string (`"0.1.0"`).
#[unsafe(no_mangle)]
pub extern "C" fn writ_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "test code: a failed expectation must stop the test"
    )]

    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: `writ_last_error` never returns NULL and the text is NUL-terminated.
        unsafe { CStr::from_ptr(writ_last_error()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn handles_shared_between_threads_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<writ_engine>();
        assert_send_sync::<writ_decision>();
        assert_send_sync::<writ_masked_rows>();
    }

    #[test]
    fn a_panic_stops_at_the_boundary_with_its_message() {
        let rc = ffi::boundary(|| panic!("boom"));
        assert_eq!(rc, writ_result::ErrPanic);
        assert!(last_error().contains("boom"), "{}", last_error());
        assert_eq!(ffi::boundary(|| Ok(())), writ_result::Ok);
        assert_eq!(last_error(), "", "a success clears the message");
        assert_eq!(ffi::boundary_value(7, || panic!("boom")), 7);
    }

    #[test]
    fn nul_bytes_never_cut_a_string_short() {
        let c = ffi::c_string("a\0b");
        assert_eq!(c.to_str().unwrap(), "a\u{fffd}b");
    }

    #[test]
    fn out_parameters_are_untouched_on_failure() {
        let policy = "version: 1\nresources: [{name: db, kind: postgres}]\nrules: []\n";
        let mut engine: *mut writ_engine = std::ptr::dangling_mut();
        let before = engine;
        // SAFETY: valid pointers and lengths; `engine` is writable.
        let rc = unsafe {
            writ_engine_new_from_buffer(
                c"p.yaml".as_ptr(),
                6,
                "version: 9\n".as_ptr().cast(),
                11,
                std::ptr::null(),
                &mut engine,
            )
        };
        assert_eq!(rc, writ_result::ErrPolicy);
        assert_eq!(engine, before);
        assert!(last_error().starts_with("p.yaml:1:"), "{}", last_error());
        // SAFETY: as above.
        let rc = unsafe {
            writ_engine_new_from_buffer(
                c"p.yaml".as_ptr(),
                6,
                policy.as_ptr().cast(),
                policy.len(),
                std::ptr::null(),
                &mut engine,
            )
        };
        assert_eq!(rc, writ_result::Ok, "{}", last_error());
        assert_ne!(engine, before);
        // SAFETY: a live engine, freed once.
        unsafe { writ_engine_free(engine) };
    }
}
