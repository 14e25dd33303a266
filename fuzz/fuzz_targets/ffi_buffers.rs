//! The C entry points that take caller buffers, called as a C program would.
//!
//! One input drives: `auditwire_validate_json` and `auditwire_validate_legacy_json` on the
//! whole input (answers must agree with the Rust core), `auditwire_last_error_message` with
//! buffers of several sizes (0 with NULL, too small, exact, larger), `auditwire_result_str`
//! on codes taken from the input, and the event builder (`auditwire_event_new`, the setters
//! taking `(ptr, len)` strings, `auditwire_event_to_json` with a sized buffer) on strings cut
//! from the input. No call may report AUDITWIRE_RESULT_PANIC, write outside its buffer
//! (AddressSanitizer checks the bytes: every buffer is allocated at its exact length), write
//! a buffer it refuses, or disagree with the documented `out_len` contract.
#![no_main]

use std::ffi::{c_char, CStr};
use std::ptr;

use auditwire::{CreateEventBody, Event, LegacyEvent};
use auditwire_ffi::*;
use libfuzzer_sys::fuzz_target;

const SENTINEL: u8 = 0xA5;

fn not_panic(what: &str, r: auditwire_result) -> auditwire_result {
    assert_ne!(
        r,
        auditwire_result::Panic,
        "{what} reported a caught panic: {}",
        last_error()
    );
    r
}

/// The last error through the documented two-call protocol, checking it on the way.
fn last_error() -> String {
    let mut needed = usize::MAX;
    // SAFETY: NULL with length 0 asks for the size; `needed` is writable.
    let r = unsafe { auditwire_last_error_message(ptr::null_mut(), 0, &mut needed) };
    assert_eq!(r, auditwire_result::BufferTooSmall, "size query");
    assert!(
        needed >= 1 && needed != usize::MAX,
        "size query gave {needed}"
    );
    let mut buf = vec![SENTINEL; needed];
    let mut got = 0usize;
    // SAFETY: `buf` has `needed` writable bytes.
    let r = unsafe {
        auditwire_last_error_message(buf.as_mut_ptr().cast::<c_char>(), buf.len(), &mut got)
    };
    assert_eq!(r, auditwire_result::Ok, "exact-size buffer refused");
    assert_eq!(
        got, needed,
        "out_len differs between the size query and the copy"
    );
    assert_eq!(buf[needed - 1], 0, "not NUL-terminated");
    let text = &buf[..needed - 1];
    String::from_utf8(text.to_vec()).expect("last error is not UTF-8")
}

/// Reads the last error with a buffer of `len` bytes and checks the contract.
fn last_error_with(len: usize) {
    let expected = last_error();
    let needed = expected.len() + 1;
    let mut buf = vec![SENTINEL; len];
    let mut out_len = usize::MAX;
    let p = if len == 0 {
        ptr::null_mut()
    } else {
        buf.as_mut_ptr().cast::<c_char>()
    };
    // SAFETY: `p` is NULL with 0 or points to `len` writable bytes.
    let r = unsafe { auditwire_last_error_message(p, len, &mut out_len) };
    assert_eq!(out_len, needed, "out_len with a {len}-byte buffer");
    if len < needed {
        assert_eq!(r, auditwire_result::BufferTooSmall);
        assert!(
            buf.iter().all(|b| *b == SENTINEL),
            "a refused buffer was written"
        );
    } else {
        assert_eq!(r, auditwire_result::Ok);
        assert_eq!(&buf[..needed - 1], expected.as_bytes());
        assert_eq!(buf[needed - 1], 0);
        assert!(
            buf[needed..].iter().all(|b| *b == SENTINEL),
            "wrote past the NUL"
        );
    }
    // A NULL out_len is refused without touching anything (and without a panic).
    if len > 0 {
        // SAFETY: `buf` has `len` writable bytes; a NULL out_len must be refused.
        let r = unsafe {
            auditwire_last_error_message(buf.as_mut_ptr().cast::<c_char>(), len, ptr::null_mut())
        };
        not_panic("auditwire_last_error_message(out_len NULL)", r);
        assert_ne!(r, auditwire_result::Ok, "a NULL out_len was accepted");
    }
    // Reading never changes the text.
    assert_eq!(last_error(), expected, "reading the last error changed it");
}

/// Checks `auditwire_result_str` gives a static NUL-terminated UTF-8 text.
fn result_str(code: u32) {
    let p = auditwire_result_str(code);
    assert!(!p.is_null());
    // SAFETY: documented as a static NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    let text = s.to_str().expect("result text is not UTF-8");
    assert!(!text.is_empty());
}

/// Cuts the input into strings at `"` (so JSON seeds give realistic values).
fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = data.split(|b| *b == b'"').collect();
    if v.len() < 8 {
        v.extend(std::iter::repeat(&b"x.y"[..]).take(8 - v.len()));
    }
    v
}

/// A C string argument: a pointer to exactly the piece's bytes (a fresh allocation so
/// AddressSanitizer catches a read past `len`).
struct Arg(Vec<u8>);
impl Arg {
    fn ptr(&self) -> *const c_char {
        if self.0.is_empty() {
            // A non-NULL dangling pointer with length 0, as C callers pass for "".
            ptr::NonNull::<c_char>::dangling().as_ptr()
        } else {
            self.0.as_ptr().cast()
        }
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn builder(data: &[u8], knobs: [u8; 4]) {
    let p = pieces(data);
    let pick = |i: usize| Arg(p[(i * 2 + 1) % p.len()].to_vec());
    let action = pick(0);
    // SAFETY: `action` points to `len` readable bytes.
    let ev = unsafe { auditwire_event_new(action.ptr(), action.len()) };
    if ev.is_null() {
        assert!(
            std::str::from_utf8(&action.0).is_err(),
            "event_new refused a UTF-8 action"
        );
        let _ = last_error();
        return;
    }
    let (id, kind, name) = (pick(1), pick(2), pick(3));
    // SAFETY: live event; every Arg points to its length in readable bytes.
    unsafe {
        not_panic(
            "set_actor",
            auditwire_event_set_actor(
                ev,
                id.ptr(),
                id.len(),
                kind.ptr(),
                kind.len(),
                if knobs[0] & 1 == 0 {
                    ptr::null()
                } else {
                    name.ptr()
                },
                name.len(),
            ),
        );
        let targets = (knobs[0] >> 1) % 3;
        for t in 0..targets as usize {
            let (tid, tkind, tname) = (pick(4 + t), pick(5 + t), pick(6 + t));
            not_panic(
                "add_target",
                auditwire_event_add_target(
                    ev,
                    tid.ptr(),
                    tid.len(),
                    tkind.ptr(),
                    tkind.len(),
                    tname.ptr(),
                    tname.len(),
                ),
            );
        }
        let (loc, ua) = (pick(7), pick(8));
        not_panic(
            "set_context",
            auditwire_event_set_context(
                ev,
                loc.ptr(),
                loc.len(),
                if knobs[0] & 8 == 0 {
                    ptr::null()
                } else {
                    ua.ptr()
                },
                ua.len(),
            ),
        );
        let ts = pick(9);
        not_panic(
            "set_occurred_at",
            auditwire_event_set_occurred_at(ev, ts.ptr(), ts.len()),
        );
        not_panic(
            "set_occurred_at_ms",
            auditwire_event_set_occurred_at_ms(
                ev,
                if knobs[1] & 1 == 0 {
                    0
                } else {
                    i64::from(knobs[2]) << (knobs[3] % 64)
                },
            ),
        );
        if knobs[1] & 2 != 0 {
            not_panic(
                "set_version",
                auditwire_event_set_version(ev, i64::from(knobs[2] as i8)),
            );
        }
        let scope = u32::from(knobs[1] >> 4) % 4;
        let index = usize::from(knobs[3] % 3);
        let (key, val) = (pick(10), pick(11));
        not_panic(
            "set_metadata_string",
            auditwire_event_set_metadata_string(
                ev,
                scope,
                index,
                key.ptr(),
                key.len(),
                val.ptr(),
                val.len(),
            ),
        );
        not_panic(
            "set_metadata_int",
            auditwire_event_set_metadata_int(
                ev,
                scope,
                index,
                val.ptr(),
                val.len(),
                i64::from(knobs[2]) * 1_000_003,
            ),
        );
        let d = f64::from_bits(u64::from_le_bytes([
            knobs[0], knobs[1], knobs[2], knobs[3], 0, 0, 0xF0, 0x7F,
        ]));
        not_panic(
            "set_metadata_double",
            auditwire_event_set_metadata_double(ev, scope, index, key.ptr(), key.len(), d),
        );
        not_panic(
            "set_metadata_bool",
            auditwire_event_set_metadata_bool(
                ev,
                scope,
                index,
                name.ptr(),
                name.len(),
                knobs[2] & 1 == 1,
            ),
        );

        // to_json: size query, a sized buffer from the input, then the exact size.
        let mut needed = 0usize;
        let r = not_panic(
            "event_to_json(NULL, 0)",
            auditwire_event_to_json(ev, ptr::null_mut(), 0, &mut needed),
        );
        if r == auditwire_result::BufferTooSmall {
            assert!(needed >= 1);
            let len = usize::from(knobs[2]) * 4 % (needed + 8);
            let mut buf = vec![SENTINEL; len];
            let mut got = usize::MAX;
            let p = if len == 0 {
                ptr::null_mut()
            } else {
                buf.as_mut_ptr().cast::<c_char>()
            };
            let r = not_panic(
                "event_to_json(sized)",
                auditwire_event_to_json(ev, p, len, &mut got),
            );
            assert_eq!(got, needed, "event_to_json out_len with {len} bytes");
            if len < needed {
                assert_eq!(r, auditwire_result::BufferTooSmall);
                assert!(
                    buf.iter().all(|b| *b == SENTINEL),
                    "a refused buffer was written"
                );
            } else {
                assert_eq!(r, auditwire_result::Ok);
                assert_eq!(buf[needed - 1], 0);
                assert!(
                    buf[needed..].iter().all(|b| *b == SENTINEL),
                    "wrote past the NUL"
                );
            }
            let mut exact = vec![SENTINEL; needed];
            let r = auditwire_event_to_json(ev, exact.as_mut_ptr().cast(), needed, &mut got);
            assert_eq!(r, auditwire_result::Ok);
            let json = &exact[..needed - 1];
            if let Err(e) = Event::from_json(json) {
                panic!(
                    "the builder's validated event does not parse back: {e:?}\njson: {}",
                    String::from_utf8_lossy(json)
                );
            }
        } else {
            assert!(
                matches!(
                    r,
                    auditwire_result::Validation | auditwire_result::InvalidArgument
                ),
                "event_to_json size query: {r:?}"
            );
            last_error_with(usize::from(knobs[3]));
        }
        auditwire_event_free(ev);
    }
}

fuzz_target!(|data: &[u8]| {
    let knobs = match data {
        [.., a, b, c, d] => [*a, *b, *c, *d],
        _ => [0, 0, 0, 0],
    };
    let utf8 = std::str::from_utf8(data).is_ok();
    // An exact-length copy so a read past `len` is caught.
    let input = data.to_vec();
    let p: *const c_char = if input.is_empty() {
        ptr::NonNull::dangling().as_ptr()
    } else {
        input.as_ptr().cast()
    };

    // Current body: the C answer agrees with the core.
    // SAFETY: `p` points to `input.len()` readable bytes.
    let r = not_panic("auditwire_validate_json", unsafe {
        auditwire_validate_json(p, input.len())
    });
    match (utf8, CreateEventBody::from_json(data).is_ok()) {
        (false, _) => assert_eq!(r, auditwire_result::InvalidUtf8),
        (true, true) => assert_eq!(r, auditwire_result::Ok),
        (true, false) => assert!(
            matches!(
                r,
                auditwire_result::InvalidJson | auditwire_result::Validation
            ),
            "validate_json: {r:?}"
        ),
    }
    if r != auditwire_result::Ok {
        last_error_with(usize::from(knobs[0]));
        last_error_with(usize::from(knobs[1]) % 8);
    }

    // Legacy event.
    // SAFETY: as above.
    let r = not_panic("auditwire_validate_legacy_json", unsafe {
        auditwire_validate_legacy_json(p, input.len())
    });
    let core_ok = LegacyEvent::from_json(data)
        .map(|e| e.to_current().is_ok())
        .unwrap_or(false);
    match (utf8, core_ok) {
        (false, _) => assert_eq!(r, auditwire_result::InvalidUtf8),
        (true, true) => assert_eq!(r, auditwire_result::Ok),
        (true, false) => assert!(
            matches!(
                r,
                auditwire_result::InvalidJson | auditwire_result::Validation
            ),
            "validate_legacy_json: {r:?}"
        ),
    }
    if r != auditwire_result::Ok {
        last_error_with(usize::from(knobs[2]));
    }

    // NULL pointers are refused, never dereferenced.
    // SAFETY: NULL is allowed and must be refused.
    let r = not_panic("validate_json(NULL)", unsafe {
        auditwire_validate_json(ptr::null(), knobs[3] as usize)
    });
    assert_ne!(r, auditwire_result::Ok, "NULL body accepted");
    last_error_with(usize::from(knobs[3]) % 4);

    // Static texts for every code, known or not.
    for code in [
        0,
        1000,
        1001,
        1002,
        1003,
        1004,
        1005,
        2000,
        2001,
        3000,
        3001,
        3002,
        3003,
        3004,
        4000,
        4001,
        4002,
        4003,
        4004,
        9000,
        u32::from_le_bytes(knobs),
    ] {
        result_str(code);
    }

    builder(data, knobs);
});
