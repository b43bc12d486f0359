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
