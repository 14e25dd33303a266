//! Argument conversion: NULL checks, UTF-8 checks, caller buffers, durations.

use std::ffi::c_char;
use std::time::Duration;

use crate::error::{auditwire_result, Error, Result};

/// A required UTF-8 string argument given as pointer and length.
///
/// # Safety
///
/// When non-NULL, `ptr` must point to `len` readable bytes that stay valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> Result<&'a str> {
    let bytes = bytes_arg(ptr, len, name)?;
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            auditwire_result::InvalidUtf8,
            format!(
                "argument `{name}` is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// An optional UTF-8 string argument: NULL means absent (the length is then ignored).
///
/// # Safety
///
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        str_arg(ptr, len, name).map(Some)
    }
}

/// A required byte-string argument.
///
/// # Safety
///
/// As [`str_arg`].
pub(crate) unsafe fn bytes_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(Error::null(name));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "argument `{name}`: length {len} is too large"
        )));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// A shared reference from a required pointer argument.
///
/// # Safety
///
/// When non-NULL, `ptr` must point to a live `T` for `'a`.
pub(crate) unsafe fn obj<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: the caller guarantees a live object when non-NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::null(name))
}

/// A mutable reference from a required pointer argument.
///
/// # Safety
///
/// When non-NULL, `ptr` must point to a live `T` not used elsewhere for `'a`.
pub(crate) unsafe fn obj_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: the caller guarantees a live, unaliased object when non-NULL.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::null(name))
}

/// Checks an output pointer for NULL.
pub(crate) fn out_arg<T>(ptr: *mut T, name: &str) -> Result<()> {
    if ptr.is_null() {
        Err(Error::null(name))
    } else {
        Ok(())
    }
}

/// Checks a caller buffer and its `out_len` (a NULL `buf` is allowed only with `len` 0).
pub(crate) fn check_buf(buf: *mut c_char, len: usize, out_len: *mut usize) -> Result<()> {
    out_arg(out_len, "out_len")?;
    if buf.is_null() && len > 0 {
        return Err(Error::null("buf"));
    }
    Ok(())
}

/// Milliseconds as a duration.
pub(crate) fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Copies `text` and a NUL into the caller's buffer; `*out_len` gets the size needed (NUL
/// included) both on success and on `BUFFER_TOO_SMALL`. `buf` may be NULL when `len` is 0.
///
/// # Safety
///
/// `buf` must point to `len` writable bytes unless NULL; `out_len` must be writable unless
/// NULL.
pub(crate) unsafe fn write_text(
    text: &[u8],
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Result<()> {
    check_buf(buf, len, out_len)?;
    let needed = text.len() + 1;
    if len < needed {
        // SAFETY: checked non-NULL above; the caller guarantees it is writable.
        unsafe { *out_len = needed };
        return Err(Error::new(
            auditwire_result::BufferTooSmall,
            format!("the buffer holds {len} bytes; {needed} are needed"),
        ));
    }
    // SAFETY: `buf` has at least `needed` writable bytes and does not overlap `text`
    // (a Rust-owned string).
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        *buf.add(text.len()) = 0;
        *out_len = needed;
    }
    Ok(())
}
