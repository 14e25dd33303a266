//! `emitPacked` as a bare Node-API function bound to one client.
//!
//! `emit` is the hot path: a napi-rs class method pays for a type-tag check, an unwrap and
//! process-wide borrow tracking on every call, which together cost more than reading and
//! queueing the event. This function finds its client through the callback's data
//! pointer instead, owned by the function object and dropped by its finalizer.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use auditwire::{Client, EmitOptions};
use napi::bindgen_prelude::{FromNapiValue, ToNapiValue};
use napi::{check_status, sys, Error, JsError, Result, Status};

use crate::convert::emit_error;
use crate::hub::Hub;
use crate::packed;
use crate::text::Text;

/// What the function needs: the client to queue into and the hub of its slots.
pub struct PackedEmitter {
    pub(crate) client: Arc<Client>,
    pub(crate) hub: Arc<Hub>,
}

impl PackedEmitter {
    /// Validates and queues a packed body into slot `slot`, watched by promise `watch`;
    /// `false` (nothing queued) when the JSON path must decide.
    fn emit(
        &self,
        packed: &[u8],
        at: f64,
        key: Option<String>,
        slot: u32,
        watch: u32,
    ) -> Result<bool> {
        let options = EmitOptions {
            idempotency_key: key,
        };
        let Some(emitted) = packed::with_body(packed, at, |org, event| {
            self.client.emit(org, event, options)
        }) else {
            return Ok(false);
        };
        let receipt = emitted.map_err(|e| emit_error(&e))?;
        self.hub.track(slot, receipt, watch)?;
        Ok(true)
    }
}

/// Crosses into JavaScript as the function `(packed, key, slot, watch, at) => boolean`.
impl ToNapiValue for PackedEmitter {
    unsafe fn to_napi_value(env: sys::napi_env, emitter: Self) -> Result<sys::napi_value> {
        unsafe { create(env, emitter) }
    }
}

/// A JavaScript function bound to `emitter`.
unsafe fn create(env: sys::napi_env, emitter: PackedEmitter) -> Result<sys::napi_value> {
    let data = Box::into_raw(Box::new(emitter));
    let mut function = ptr::null_mut();
    let name = c"emitPacked";
    let status = unsafe {
        sys::napi_create_function(
            env,
            name.as_ptr(),
            name.count_bytes() as isize,
            Some(call),
            data.cast(),
            &mut function,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: no function took ownership of `data`.
        drop(unsafe { Box::from_raw(data) });
        return Err(Error::new(
            Status::GenericFailure,
            "could not create emitPacked",
        ));
    }
    // From here the function owns `data`: the finalizer frees it when it is collected.
    check_status!(unsafe {
        sys::napi_add_finalizer(
            env,
            function,
            data.cast(),
            Some(finalize),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    })?;
    Ok(function)
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` came from `Box::into_raw` in `create` and is finalized once.
    drop(unsafe { Box::from_raw(data.cast::<PackedEmitter>()) });
}

unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // No panic may unwind into Node: one becomes a thrown Error.
    let result =
        catch_unwind(AssertUnwindSafe(|| unsafe { run(env, info) })).unwrap_or_else(|_| {
            Err(Error::from_reason(
                "internal error in the auditwire addon (a Rust panic in emit)",
            ))
        });
    match result {
        Ok(value) => value,
        Err(e) => {
            unsafe { JsError::from(e).throw_into(env) };
            ptr::null_mut()
        }
    }
}

unsafe fn run(env: sys::napi_env, info: sys::napi_callback_info) -> Result<sys::napi_value> {
    let mut argc = 5;
    let mut argv = [ptr::null_mut(); 5];
    let mut data = ptr::null_mut();
    check_status!(unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    })?;
    if argc < 5 {
        return Err(Error::new(
            Status::InvalidArg,
            "emitPacked takes (packed, key, slot, watch, at)",
        ));
    }
    // SAFETY: `data` is the live `PackedEmitter` of this function (see `create`); missing
    // arguments read as `undefined`, which the conversions refuse.
    let emitter = unsafe { &*data.cast::<PackedEmitter>() };
    let packed = unsafe { Text::from_napi_value(env, argv[0]) }?;
    let key = unsafe { Option::<String>::from_napi_value(env, argv[1]) }?;
    let slot = unsafe { u32::from_napi_value(env, argv[2]) }?;
    let watch = unsafe { u32::from_napi_value(env, argv[3]) }?;
    let at = unsafe { f64::from_napi_value(env, argv[4]) }?;
    let queued = emitter.emit(packed.bytes(), at, key, slot, watch)?;
    unsafe { bool::to_napi_value(env, queued) }
}
