//! Result codes and the per-thread message of the last failed call.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

/// What a fallible function did. `WRIT_RESULT_OK` is 0; every other code is a failure whose
/// message [`writ_last_error`] gives. Codes are never reused or renumbered.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum writ_result {
    /// Success: the out-parameters were written.
    Ok = 0,
    /// A required pointer was NULL.
    ErrNull = 1,
    /// A text argument was not valid UTF-8.
    ErrUtf8 = 2,
    /// A policy did not compile: the message lists `file:line:column: message` lines.
    ErrPolicy = 3,
    /// A file or directory could not be read.
    ErrIo = 4,
    /// JSON that did not parse or had the wrong shape (a request, a grant or approval spec).
    ErrJson = 5,
    /// A key (PEM, seed, secret) that is not valid.
    ErrKey = 6,
    /// A grant could not be minted (wider than its parent, too deep, expired) or its parent
    /// did not verify.
    ErrGrant = 7,
    /// An approval could not be signed.
    ErrApproval = 8,
    /// Masking was asked for a decision that is not `allow`: the rows must not be returned.
    ErrNotAllowed = 9,
    /// The rows cannot be masked as the decision's mask plan says (wrong column count, a
    /// keyed method without a mask key).
    ErrMask = 10,
    /// The masking pass could not be audited and the policy fails closed.
    ErrAudit = 11,
    /// An argument out of range (an index, a count whose product overflows, a seed that is not
    /// 32 bytes, a mask key that is too weak).
    ErrArgument = 12,
    /// A caller's buffer was too small; what fits was written, NUL-terminated.
    ErrBufferTooSmall = 13,
    /// writ panicked; the panic was stopped at the boundary. Please report it.
    ErrPanic = 99,
}

/// A failure on its way to C: a code and its message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: writ_result,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: writ_result, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }

    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(writ_result::ErrNull, format!("`{what}` is NULL"))
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Record `message` as this thread's last error (NUL bytes become U+FFFD).
pub(crate) fn set_last_error(message: &str) {
    let c = crate::ffi::c_string(message);
    LAST_ERROR.with(|last| *last.borrow_mut() = c);
}

/// Forget this thread's last error (every fallible function starts with this).
pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        if !last.as_bytes().is_empty() {
            *last = CString::default();
        }
    });
}

/// The message of the last fallible call on this thread that failed, NUL-terminated; `""`
/// when that call succeeded. The pointer stays valid until the next fallible writ call on this
/// thread; copy the text to keep it. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn writ_last_error() -> *const c_char {
    let fallback: &'static [u8] = b"\0";
    std::panic::catch_unwind(|| LAST_ERROR.with(|last| last.borrow().as_ptr()))
        .unwrap_or(fallback.as_ptr().cast())
}

/// The length in bytes (without the NUL) of [`writ_last_error`]'s message.
#[unsafe(no_mangle)]
pub extern "C" fn writ_last_error_length() -> usize {
    std::panic::catch_unwind(|| LAST_ERROR.with(|last| last.borrow().as_bytes().len())).unwrap_or(0)
}

/// Copy the last error's message into `buf` (`len` bytes), NUL-terminated, and its full
/// length (without the NUL) into `*out_needed`. Returns `WRIT_RESULT_ERR_BUFFER_TOO_SMALL`
/// when it had to be cut (what fits is still written); `WRIT_RESULT_ERR_NULL` when `buf` or
/// `out_needed` is NULL or `len` is 0. Unlike other functions, this one leaves the last
/// error as it is.
///
/// # Safety
/// `buf` must be NULL or valid for `len` bytes of writes; `out_needed` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writ_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> writ_result {
    let copy = || {
        if buf.is_null() || out_needed.is_null() || len == 0 {
            return writ_result::ErrNull;
        }
        LAST_ERROR.with(|last| {
            let last = last.borrow();
            let bytes = last.as_bytes();
            let n = bytes.len().min(len - 1);
            // SAFETY: `buf` is non-NULL and the caller promises `len` writable bytes; we write
            // `n + 1 <= len` of them. `bytes` is our own allocation, so they cannot overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
                *buf.add(n) = 0;
                *out_needed = bytes.len();
            }
            if n < bytes.len() { writ_result::ErrBufferTooSmall } else { writ_result::Ok }
        })
    };
    std::panic::catch_unwind(copy).unwrap_or(writ_result::ErrPanic)
}
