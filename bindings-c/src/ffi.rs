//! Helpers every exported function uses: the panic boundary, reading arguments from C, and
//! writing out-parameters. All the pointer reading happens here or in a few documented places.

use std::any::Any;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Failure, clear_last_error, set_last_error, writ_result};

/// Run `body` behind the panic boundary: clear the last error, map a failure to its code and
/// message, and a panic to `WRIT_RESULT_ERR_PANIC`.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), Failure>) -> writ_result {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => writ_result::Ok,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(payload) => {
            set_last_error(&format!("internal error: writ panicked: {}", panic_text(&*payload)));
            writ_result::ErrPanic
        }
    }
}

/// The panic boundary for functions that return a value instead of a code: `fallback` when
/// the body panics.
pub(crate) fn boundary_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The panic boundary for functions that return nothing (the `_free` functions).
pub(crate) fn boundary_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// A C string from Rust text; a NUL byte inside (possible only in policy text) becomes U+FFFD
/// so the C side never sees a string cut short.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text).unwrap_or_else(|_| {
        let cleaned = text.replace('\0', "\u{fffd}");
        CString::new(cleaned).unwrap_or_default()
    })
}

/// Bytes from a pointer and a length.
///
/// # Safety
/// `ptr`, when not NULL, must point to `len` readable bytes that stay valid and unchanged for
/// `'a` (the duration of the call).
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes for `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// UTF-8 text from a pointer and a length (no NUL needed).
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from the caller.
    let raw = unsafe { bytes(ptr.cast(), len, what) }?;
    std::str::from_utf8(raw).map_err(|e| {
        Failure::new(writ_result::ErrUtf8, format!("`{what}` is not valid UTF-8: {e}"))
    })
}

/// An array of `count` elements; NULL is accepted when `count` is 0.
///
/// # Safety
/// `ptr`, when not NULL, must point to `count` readable, initialized `T`s valid for `'a`.
pub(crate) unsafe fn array<'a, T>(
    ptr: *const T,
    count: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and the caller guarantees `count` initialized elements for `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// A list of texts given as parallel arrays of pointers and lengths.
///
/// # Safety
/// `ptrs` and `lens` as [`array`], each string as [`text`].
pub(crate) unsafe fn texts<'a>(
    ptrs: *const *const c_char,
    lens: *const usize,
    count: usize,
    what: &str,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: forwarded from the caller.
    let (ptrs, lens) = unsafe { (array(ptrs, count, what)?, array(lens, count, what)?) };
    ptrs.iter()
        .zip(lens)
        .map(|(&p, &n)| {
            // SAFETY: forwarded from the caller: each pointer has its length's bytes.
            unsafe { text(p, n, what) }
        })
        .collect()
}

/// A shared reference to a handle.
///
/// # Safety
/// `ptr`, when not NULL, must point to a live `T` made by this library and not freed, and no
/// other thread may be mutating it (handles are only mutated through `&` with interior locks).
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// An exclusive reference to a handle.
///
/// # Safety
/// As [`handle`], and no other reference to it may exist during the call.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// An out-parameter, checked for NULL before any work is done.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub(crate) fn new(ptr: *mut T, what: &str) -> Result<Out<T>, Failure> {
        if ptr.is_null() { Err(Failure::null(what)) } else { Ok(Out(ptr)) }
    }

    /// Write the value (only ever on success).
    ///
    /// # Safety
    /// The pointer given to [`Out::new`] must be valid for a write of `T`.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL (checked in `new`), valid for writes by the caller's promise;
        // `ptr::write` does not read or drop whatever garbage was there.
        unsafe { self.0.write(value) }
    }
}

/// Hand out a new box as a raw handle.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Free a handle made by [`into_handle`]; NULL is ignored.
///
/// # Safety
/// `ptr` must be NULL or come from [`into_handle`] for the same `T`, and be freed only once.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by `Box::into_raw` for this `T` and not freed before (caller).
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Hand out an owned string and its length (released with `writ_string_free`).
///
/// # Safety
/// As [`Out::write`] for both out-parameters.
pub(crate) unsafe fn owned_string(value: &str, out: Out<*mut c_char>, out_len: Out<usize>) {
    let c = c_string(value);
    let len = c.as_bytes().len();
    // SAFETY: forwarded from the caller.
    unsafe {
        out_len.write(len);
        out.write(c.into_raw());
    }
}
