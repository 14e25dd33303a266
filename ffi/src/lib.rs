//! The C and C++ API of auditwire: `extern "C"` glue over the Rust core.
//!
//! Every exported function converts its arguments, calls the core and converts the result,
//! inside one panic-catching boundary ([`boundary`] or [`boundary_ptr`]). Pointer arguments
//! are checked for NULL and strings for UTF-8 before anything else happens. The header
//! `include/auditwire.h` is generated from this crate by cbindgen (`ffi/cbindgen.toml`).

#![allow(non_camel_case_types)]
#![warn(missing_docs)]

mod client;
mod error;
mod event;
mod management;
mod options;
mod spool;
mod util;

pub use client::*;
pub use error::*;
pub use event::*;
pub use management::*;
pub use options::*;
pub use spool::*;

use std::ffi::c_char;

/// The major version of this header; compare with `auditwire_version()` at run time.
pub const AUDITWIRE_VERSION_MAJOR: u32 = 0;
/// The minor version of this header.
pub const AUDITWIRE_VERSION_MINOR: u32 = 1;
/// The patch version of this header.
pub const AUDITWIRE_VERSION_PATCH: u32 = 0;

/// The library's version, NUL-terminated ("MAJOR.MINOR.PATCH").
static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version as a static NUL-terminated string, e.g. `"0.1.0"`.
#[no_mangle]
pub extern "C" fn auditwire_version() -> *const c_char {
    error::boundary_value(std::ptr::null(), || VERSION.as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_package() {
        let v = format!(
            "{AUDITWIRE_VERSION_MAJOR}.{AUDITWIRE_VERSION_MINOR}.{AUDITWIRE_VERSION_PATCH}"
        );
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        // SAFETY: auditwire_version returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(auditwire_version()) };
        assert_eq!(s.to_str().unwrap(), v);
    }
}
