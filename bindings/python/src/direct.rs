//! Python values straight to the core's typed event: no JSON text in between.
//!
//! Only plain, valid input takes this path: exact dicts, lists, tuples, strs, ints, finite
//! floats, bools, `None` for optional fields, and aware datetimes, with every rule met.
//! Anything else answers `None`, and the caller takes the JSON path, which accepts or
//! reports it exactly as before (same problems, paths and messages).
//!
//! Each thread refills one scratch body in place, so that its strings, vectors and maps
//! keep their allocations from one event to the next.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use auditwire::{
    is_valid_metadata_key, is_valid_metadata_string, Context, Event, Metadata, MetadataValue,
    Target, Timestamp, MAX_METADATA_KEYS,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::encode::datetime_text;

/// Text bytes beyond which the JSON path decides (it enforces the 1 MiB document limit).
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Whether `PyUnicode_AsUTF8AndSize` may be used (stable ABI from Python 3.10).
static BORROW_UTF8: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" {
    // Exported by every CPython 3; part of the stable ABI since 3.10 (only used there).
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// Enables reading str contents in place when the interpreter is 3.10 or newer.
pub(crate) fn init(py: Python<'_>) {
    BORROW_UTF8.store(
        cfg!(unix) && py.version_info() >= (3, 10),
        Ordering::Relaxed,
    );
}

/// Runs `f` on the UTF-8 text of `s`; `None` when it has none (lone surrogates).
pub(crate) fn with_str<R>(s: &Bound<'_, PyString>, f: impl FnOnce(&str) -> R) -> Option<R> {
    #[cfg(unix)]
    if BORROW_UTF8.load(Ordering::Relaxed) {
        let mut size: pyo3::ffi::Py_ssize_t = 0;
        // SAFETY: `s` is a live str and the GIL is held; the buffer lives as long as `s`.
        let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
        if ptr.is_null() {
            // SAFETY: the GIL is held; the error set by the call is not wanted.
            unsafe { pyo3::ffi::PyErr_Clear() };
            return None;
        }
        // SAFETY: CPython returns `size` bytes of valid UTF-8 at `ptr`.
        let text = unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr.cast(), size as usize))
        };
        return Some(f(text));
    }
    s.to_cow().ok().map(|t| f(&t))
}

const EVENT_FIELDS: [&str; 7] = [
    "action",
    "occurred_at",
    "version",
    "actor",
    "targets",
    "context",
    "metadata",
];
const PARTY_FIELDS: [&str; 4] = ["id", "type", "name", "metadata"];
const CONTEXT_FIELDS: [&str; 2] = ["location", "user_agent"];

/// The values of `dict` under `names` (interned) in one pass: `None` when a key is not one
/// of them. A key absent and a key with the value `None` both read as `None`.
fn fields<'py, const N: usize>(
    dict: &Bound<'py, PyDict>,
    names: [&Bound<'py, PyString>; N],
    texts: &[&str; N],
) -> Option<[Option<Bound<'py, PyAny>>; N]> {
    let mut out = std::array::from_fn(|_| None);
    for (k, v) in dict.iter() {
        // Keys written in code are interned: the pointer matches; others compare as text.
        let i = match names.iter().position(|n| n.as_ptr() == k.as_ptr()) {
            Some(i) => i,
            None => with_str(k.downcast_exact::<PyString>().ok()?, |k| {
                texts.iter().position(|t| *t == k)
            })??,
        };
        if !v.is_none() {
            out[i] = Some(v);
        }
    }
    Some(out)
}

/// A scratch body: organization id and event.
type Body = (String, Event);

thread_local! {
    static SCRATCH: Cell<Option<Body>> = const { Cell::new(None) };
}

fn empty_body() -> Body {
    (String::new(), Event::empty())
}

/// Builds the body `(organization_id, event)` from Python values and runs `emit` on it;
/// `None` (without running it) when the JSON path must decide.
pub(crate) fn with_body<R>(
    organization_id: &Bound<'_, PyAny>,
    event: &Bound<'_, PyAny>,
    emit: impl FnOnce(&str, &Event) -> R,
) -> PyResult<Option<R>> {
    // Taken out while in use: a call re-entered from Python code (a datetime's methods)
    // or made while the thread ends starts from an empty body.
    let mut body = SCRATCH
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(empty_body);
    let result = fill(organization_id, event, &mut body, emit);
    let _ = SCRATCH.try_with(|cell| cell.set(Some(body)));
    result
}

fn fill<R>(
    organization_id: &Bound<'_, PyAny>,
    event: &Bound<'_, PyAny>,
    body: &mut Body,
    emit: impl FnOnce(&str, &Event) -> R,
) -> PyResult<Option<R>> {
    let mut b = Builder { text_bytes: 0 };
    if b.required_text(Some(organization_id), &mut body.0)
        .is_none()
        || b.event(event, &mut body.1)?.is_none()
        || b.text_bytes > MAX_TEXT_BYTES
    {
        return Ok(None);
    }
    Ok(Some(emit(&body.0, &body.1)))
}

/// `Some(value)` or return `Ok(None)` (the JSON path decides).
macro_rules! or_json {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

struct Builder {
    text_bytes: usize,
}

impl Builder {
    /// Copies an exact str into `dst`, reusing its allocation.
    fn text(&mut self, v: &Bound<'_, PyAny>, dst: &mut String) -> Option<()> {
        let s = v.downcast_exact::<PyString>().ok()?;
        with_str(s, |t| {
            dst.clear();
            dst.push_str(t);
        })?;
        self.text_bytes += dst.len();
        Some(())
    }

    fn required_text(&mut self, v: Option<&Bound<'_, PyAny>>, dst: &mut String) -> Option<()> {
        self.text(v?, dst)?;
        (!dst.is_empty()).then_some(())
    }

    fn optional_text(
        &mut self,
        v: Option<&Bound<'_, PyAny>>,
        dst: &mut Option<String>,
    ) -> Option<()> {
        match v {
            None => {
                *dst = None;
                Some(())
            }
            Some(v) => self.text(v, dst.get_or_insert_with(String::new)),
        }
    }

    fn event(&mut self, v: &Bound<'_, PyAny>, out: &mut Event) -> PyResult<Option<()>> {
        let py = v.py();
        let Ok(dict) = v.downcast_exact::<PyDict>() else {
            return Ok(None);
        };
        let names = [
            intern!(py, "action"),
            intern!(py, "occurred_at"),
            intern!(py, "version"),
            intern!(py, "actor"),
            intern!(py, "targets"),
            intern!(py, "context"),
            intern!(py, "metadata"),
        ];
        let [action, occurred_at, version, actor, targets, context, metadata] =
            or_json!(fields(dict, names, &EVENT_FIELDS));
        or_json!(self.required_text(action.as_ref(), &mut out.action));
        out.occurred_at = or_json!(timestamp(&or_json!(occurred_at))?);
        out.version = match version {
            None => None,
            Some(v) => Some(or_json!(positive_int(&v))),
        };
        let a = &mut out.actor;
        let party = (&mut a.id, &mut a.kind, &mut a.name, &mut a.metadata);
        or_json!(self.party(&or_json!(actor), party)?);
        or_json!(self.targets(&or_json!(targets), &mut out.targets)?);
        or_json!(self.context(&or_json!(context), &mut out.context)?);
        self.optional_metadata(metadata.as_ref(), &mut out.metadata)
    }

    /// An actor's or a target's fields: id, type, name, metadata.
    #[allow(clippy::type_complexity)]
    fn party(
        &mut self,
        v: &Bound<'_, PyAny>,
        (id, kind, name, metadata): (
            &mut String,
            &mut String,
            &mut Option<String>,
            &mut Option<Metadata>,
        ),
    ) -> PyResult<Option<()>> {
        let py = v.py();
        let Ok(dict) = v.downcast_exact::<PyDict>() else {
            return Ok(None);
        };
        let names = [
            intern!(py, "id"),
            intern!(py, "type"),
            intern!(py, "name"),
            intern!(py, "metadata"),
        ];
        let [id_v, kind_v, name_v, metadata_v] = or_json!(fields(dict, names, &PARTY_FIELDS));
        or_json!(self.required_text(id_v.as_ref(), id));
        or_json!(self.required_text(kind_v.as_ref(), kind));
        or_json!(self.optional_text(name_v.as_ref(), name));
        self.optional_metadata(metadata_v.as_ref(), metadata)
    }

    fn targets(&mut self, v: &Bound<'_, PyAny>, out: &mut Vec<Target>) -> PyResult<Option<()>> {
        if let Ok(list) = v.downcast_exact::<PyList>() {
            return self.target_items(list.len(), list.iter(), out);
        }
        if let Ok(tuple) = v.downcast_exact::<PyTuple>() {
            return self.target_items(tuple.len(), tuple.iter(), out);
        }
        Ok(None)
    }

    fn target_items<'py>(
        &mut self,
        len: usize,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        out: &mut Vec<Target>,
    ) -> PyResult<Option<()>> {
        out.truncate(len);
        for (i, item) in items.enumerate() {
            if i == out.len() {
                out.push(Target::new("", ""));
            }
            let t = &mut out[i];
            let party = (&mut t.id, &mut t.kind, &mut t.name, &mut t.metadata);
            or_json!(self.party(&item, party)?);
        }
        // A list that shrank while read: its items were read all the same.
        Ok((out.len() == len).then_some(()))
    }

    fn context(&mut self, v: &Bound<'_, PyAny>, out: &mut Context) -> PyResult<Option<()>> {
        let py = v.py();
        let Ok(dict) = v.downcast_exact::<PyDict>() else {
            return Ok(None);
        };
        let names = [intern!(py, "location"), intern!(py, "user_agent")];
        let [location, user_agent] = or_json!(fields(dict, names, &CONTEXT_FIELDS));
        or_json!(self.required_text(location.as_ref(), &mut out.location));
        Ok(self.optional_text(user_agent.as_ref(), &mut out.user_agent))
    }

    fn optional_metadata(
        &mut self,
        v: Option<&Bound<'_, PyAny>>,
        out: &mut Option<Metadata>,
    ) -> PyResult<Option<()>> {
        match v {
            None => {
                *out = None;
                Ok(Some(()))
            }
            Some(v) => self.metadata(v, out.get_or_insert_with(Metadata::new)),
        }
    }

    /// A metadata object meeting every limit; entries whose key is unchanged since the
    /// last event keep their allocations.
    fn metadata(&mut self, v: &Bound<'_, PyAny>, out: &mut Metadata) -> PyResult<Option<()>> {
        let Ok(dict) = v.downcast_exact::<PyDict>() else {
            return Ok(None);
        };
        let len = dict.len();
        if len > MAX_METADATA_KEYS {
            return Ok(None);
        }
        for (i, (k, item)) in dict.iter().enumerate() {
            let k = or_json!(k.downcast_exact::<PyString>().ok());
            or_json!(with_str(k, |key| {
                if !is_valid_metadata_key(key) {
                    return None;
                }
                self.text_bytes += key.len();
                let same = out.get_index(i).is_some_and(|(old, _)| old == key);
                if !same {
                    out.truncate(i);
                    let placeholder = MetadataValue::Bool(false);
                    out.insert(key.to_owned(), placeholder);
                }
                Some(())
            })
            .flatten());
            let (_, value) = out.get_index_mut(i).expect("entry i was just checked");
            or_json!(self.metadata_value(&item, value)?);
        }
        out.truncate(len);
        Ok((out.len() == len).then_some(()))
    }

    fn metadata_value(
        &mut self,
        v: &Bound<'_, PyAny>,
        dst: &mut MetadataValue,
    ) -> PyResult<Option<()>> {
        if v.is_exact_instance_of::<PyString>() {
            if !matches!(dst, MetadataValue::String(_)) {
                *dst = MetadataValue::String(String::new());
            }
            let MetadataValue::String(s) = dst else {
                unreachable!("set just above")
            };
            or_json!(self.text(v, s));
            return Ok(is_valid_metadata_string(s).then_some(()));
        }
        let value = if let Ok(b) = v.downcast_exact::<PyBool>() {
            MetadataValue::Bool(b.is_true())
        } else if v.is_exact_instance_of::<PyInt>() {
            or_json!(v.extract::<i64>().ok().map(MetadataValue::from))
        } else if let Ok(f) = v.downcast_exact::<PyFloat>() {
            or_json!(MetadataValue::try_from(f.value()).ok())
        } else {
            // An aware datetime is sent as its RFC 3339 UTC text (24 characters).
            MetadataValue::String(or_json!(datetime_text(v)?))
        };
        *dst = value;
        Ok(Some(()))
    }
}

fn timestamp(v: &Bound<'_, PyAny>) -> PyResult<Option<Timestamp>> {
    if let Ok(s) = v.downcast_exact::<PyString>() {
        return Ok(with_str(s, |t| Timestamp::parse(t).ok()).flatten());
    }
    Ok(datetime_text(v)?.and_then(|t| Timestamp::parse(&t).ok()))
}

/// A schema version: an exact int of at least 1.
fn positive_int(v: &Bound<'_, PyAny>) -> Option<i64> {
    if !v.is_exact_instance_of::<PyInt>() {
        return None;
    }
    v.extract::<i64>().ok().filter(|&n| n >= 1)
}
