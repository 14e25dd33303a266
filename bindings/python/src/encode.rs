//! Python values to the JSON bytes of a create-event body, without `json.dumps`.
//!
//! Handles what events are made of (dict, list, tuple, str, bool, int, finite float, None,
//! timezone-aware datetime). Anything else (model objects, other mappings, naive
//! datetimes, NaN, huge ints, non-str keys) answers `None`: the caller then takes the
//! Python path, which converts or reports it with the same messages as before.

use crate::direct::with_str;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

/// Deepest nesting followed here; deeper input takes the Python path (and is refused).
const MAX_DEPTH: usize = 40;

static DATETIME: GILOnceCell<Py<PyType>> = GILOnceCell::new();
static FORMAT_DATETIME: GILOnceCell<PyObject> = GILOnceCell::new();

/// `{"organization_id": <org>, "event": <event>}` as JSON bytes, or `None` for the slow path.
pub(crate) fn body(
    organization_id: &Bound<'_, PyAny>,
    event: &Bound<'_, PyAny>,
) -> PyResult<Option<Vec<u8>>> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"organization_id\":");
    if !value(organization_id, &mut out, 0)? {
        return Ok(None);
    }
    out.extend_from_slice(b",\"event\":");
    if !value(event, &mut out, 0)? {
        return Ok(None);
    }
    out.push(b'}');
    Ok(Some(out))
}

/// Writes one value; `false` when it needs the Python path.
fn value(v: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<bool> {
    if depth > MAX_DEPTH {
        return Ok(false);
    }
    if let Ok(s) = v.downcast_exact::<PyString>() {
        // Lone surrogates cannot be UTF-8: the Python path reports them.
        return Ok(with_str(s, |text| string(text, out)).is_some());
    }
    if let Ok(d) = v.downcast_exact::<PyDict>() {
        out.push(b'{');
        for (i, (k, item)) in d.iter().enumerate() {
            let Ok(k) = k.downcast_exact::<PyString>() else {
                return Ok(false);
            };
            if i > 0 {
                out.push(b',');
            }
            if with_str(k, |k| string(k, out)).is_none() {
                return Ok(false);
            }
            out.push(b':');
            if !value(&item, out, depth + 1)? {
                return Ok(false);
            }
        }
        out.push(b'}');
        return Ok(true);
    }
    if v.is_none() {
        out.extend_from_slice(b"null");
        return Ok(true);
    }
    if let Ok(b) = v.downcast_exact::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        return Ok(true);
    }
    if v.is_exact_instance_of::<PyInt>() {
        return Ok(match v.extract::<i64>() {
            Ok(n) => {
                out.extend_from_slice(n.to_string().as_bytes());
                true
            }
            Err(_) => false,
        });
    }
    if let Ok(f) = v.downcast_exact::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Ok(false);
        }
        // serde_json prints finite floats as JSON numbers (`1.0`, `1e16`).
        serde_json::to_writer(&mut *out, &x)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("float {x}: {e}")))?;
        return Ok(true);
    }
    if let Ok(l) = v.downcast_exact::<PyList>() {
        return sequence(l.iter(), out, depth);
    }
    if let Ok(t) = v.downcast_exact::<PyTuple>() {
        return sequence(t.iter(), out, depth);
    }
    if let Some(text) = datetime_text(v)? {
        string(&text, out);
        return Ok(true);
    }
    Ok(false)
}

/// The wire text of an aware datetime; `None` for anything else (naive datetimes included).
pub(crate) fn datetime_text(v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let py = v.py();
    let datetime = DATETIME.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        Ok(py
            .import("datetime")?
            .getattr("datetime")?
            .downcast_into::<PyType>()?
            .unbind())
    })?;
    if !v.is_instance(datetime.bind(py))? || v.call_method0("utcoffset")?.is_none() {
        return Ok(None); // naive: the Python path names the field
    }
    let format = FORMAT_DATETIME.get_or_try_init(py, || -> PyResult<PyObject> {
        Ok(py
            .import("auditwire._client")?
            .getattr("_format_datetime")?
            .unbind())
    })?;
    let text = format.call1(py, (v,))?;
    Ok(Some(
        text.bind(py).downcast::<PyString>()?.to_cow()?.into_owned(),
    ))
}

fn sequence<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    out: &mut Vec<u8>,
    depth: usize,
) -> PyResult<bool> {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if !value(&item, out, depth + 1)? {
            return Ok(false);
        }
    }
    out.push(b']');
    Ok(true)
}

/// A JSON string literal, escaped as serde_json does.
fn string(s: &str, out: &mut Vec<u8>) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}
