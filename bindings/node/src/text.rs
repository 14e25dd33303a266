//! JavaScript strings read as UTF-8 into a per-thread buffer: no allocation and one pass
//! over the string per call (napi-rs's `String` measures it first, then copies it).

use std::cell::Cell;
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, TypeName, ValueType};
use napi::{check_status, sys, Error, Result, Status};

thread_local! {
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Buffers larger than this are not kept for the next call.
const KEEP_MAX: usize = 1 << 20;

/// A string argument as UTF-8 bytes; its buffer goes back to the thread when dropped.
pub struct Text(Vec<u8>);

impl Text {
    /// The UTF-8 bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Text {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if buf.capacity() <= KEEP_MAX {
            SPARE.with(|s| s.set(buf));
        }
    }
}

impl TypeName for Text {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl FromNapiValue for Text {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        // The UTF-16 length is known without a pass; UTF-8 takes at most 3 bytes per unit.
        let mut units = 0;
        let status =
            unsafe { sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut units) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(Status::StringExpected, "expected a string"));
        }
        let mut buf = SPARE.with(Cell::take);
        buf.clear();
        let size = units * 3 + 1;
        buf.reserve(size);
        let mut written = 0;
        check_status!(unsafe {
            sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), size, &mut written)
        })?;
        // SAFETY: napi wrote `written` bytes (of at most `size - 1`) into the buffer.
        unsafe { buf.set_len(written) };
        Ok(Text(buf))
    }
}
