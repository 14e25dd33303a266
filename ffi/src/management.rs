//! The management calls (exports, schemas, retention): JSON in, JSON in the caller's buffer.
//!
//! When the buffer is too small the call returns `BUFFER_TOO_SMALL` with the size needed, and
//! keeps the response on this thread: repeating the same call with the same arguments on the
//! same thread returns it without a second request (so a create is never sent twice).

use std::cell::RefCell;
use std::ffi::c_char;

use auditwire_core::{
    AuditLogExport, CreateExportRequest, CreateSchemaRequest, ListOptions, Order,
};
use serde::Deserialize;

use crate::client::auditwire_client;
use crate::error::{auditwire_result, boundary, Error, Result};
use crate::util::{obj, opt_str_arg, str_arg, write_text};

/// A response kept after `BUFFER_TOO_SMALL`, with the call it answers.
struct Pending {
    call: Vec<u8>,
    response: Vec<u8>,
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Identifies one call: its name and arguments.
pub(crate) fn call_id(name: &str, args: &[&[u8]]) -> Vec<u8> {
    let mut id = name.as_bytes().to_vec();
    for a in args {
        id.extend_from_slice(&(a.len() as u64).to_le_bytes());
        id.extend_from_slice(a);
    }
    id
}

/// Runs a management call (or takes its kept response) and writes the JSON to the buffer.
///
/// # Safety
///
/// `buf`, `len` and `out_len` as in `write_text`.
pub(crate) unsafe fn respond(
    call: Vec<u8>,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    run: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<()> {
    crate::util::check_buf(buf, len, out_len)?;
    let kept = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        match p.take() {
            Some(k) if k.call == call => Some(k.response),
            _ => None,
        }
    });
    let response = match kept {
        Some(r) => r,
        None => run()?,
    };
    // SAFETY: the caller's contract.
    match unsafe { write_text(&response, buf, len, out_len) } {
        Ok(()) => Ok(()),
        Err(e) => {
            if e.code == auditwire_result::BufferTooSmall {
                PENDING.with(|p| *p.borrow_mut() = Some(Pending { call, response }));
            }
            Err(e)
        }
    }
}

/// Serialises a response.
fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::invalid(format!("cannot serialise: {e}")))
}

/// Parses a request document.
fn from_json<'a, T: Deserialize<'a>>(json: &'a str, what: &str) -> Result<T> {
    serde_json::from_str(json)
        .map_err(|e| Error::new(auditwire_result::InvalidJson, format!("{what}: {e}")))
}

/// Paging of list calls, as JSON: `{"limit": 10, "order": "desc", "before": "...", "after": "..."}`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListOptionsJson {
    limit: Option<u32>,
    order: Option<Order>,
    before: Option<String>,
    after: Option<String>,
}

/// Parses optional list options (NULL means the server's defaults).
fn list_options(json: Option<&str>) -> Result<ListOptions> {
    let o: ListOptionsJson = match json {
        Some(j) if !j.trim().is_empty() => from_json(j, "list options")?,
        _ => ListOptionsJson::default(),
    };
    Ok(ListOptions {
        limit: o.limit,
        order: o.order,
        before: o.before,
        after: o.after,
    })
}

/// `POST /audit_logs/exports`: starts an export. `request_json` is
/// `{"organization_id", "range_start", "range_end", "actions"?, "actor_names"?, "actor_ids"?,
/// "targets"?}`; the export object's JSON goes to `buf` (NUL-terminated), `*out_len` gets the
/// size needed. Failures: INVALID_JSON, API_ERROR, CONNECTION_ERROR, BUFFER_TOO_SMALL.
///
/// # Safety
///
/// `client` must be a live client; strings must point to their length in readable bytes;
/// `buf` to `len` writable bytes (or NULL with `len` 0); `out_len` must be writable.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_create_export_json(
    client: *mut auditwire_client,
    request_json: *const c_char,
    request_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, req) = unsafe {
            (
                obj(client, "client")?,
                str_arg(request_json, request_len, "request_json")?,
            )
        };
        let call = call_id("create_export", &[req.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                let request: CreateExportRequest = from_json(req, "export request")?;
                to_json(&c.client.create_export(&request)?)
            })
        }
    })
}

/// `GET /audit_logs/exports/{id}`: an export's state and, when ready, its CSV `url`.
///
/// # Safety
///
/// As `auditwire_client_create_export_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_get_export_json(
    client: *mut auditwire_client,
    export_id: *const c_char,
    id_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, id) = unsafe {
            (
                obj(client, "client")?,
                str_arg(export_id, id_len, "export_id")?,
            )
        };
        let call = call_id("get_export", &[id.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                to_json(&c.client.get_export(id)?)
            })
        }
    })
}

/// Downloads a ready export's CSV; `export_json` is the export object from
/// `auditwire_client_get_export_json`. The CSV goes to `buf`, NUL-terminated.
///
/// # Safety
///
/// As `auditwire_client_create_export_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_download_export_csv(
    client: *mut auditwire_client,
    export_json: *const c_char,
    export_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, json) = unsafe {
            (
                obj(client, "client")?,
                str_arg(export_json, export_len, "export_json")?,
            )
        };
        let call = call_id("download_export", &[json.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                let export: AuditLogExport = from_json(json, "export")?;
                Ok(c.client.download_export(&export)?)
            })
        }
    })
}

/// `POST /audit_logs/actions/{action}/schemas`: a new schema version. `schema_json` is
/// `{"actor"?: {"metadata": ...}, "targets": [{"type", "metadata"?}], "metadata"?: ...}`.
///
/// # Safety
///
/// As `auditwire_client_create_export_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_create_schema_json(
    client: *mut auditwire_client,
    action: *const c_char,
    action_len: usize,
    schema_json: *const c_char,
    schema_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, action, schema) = unsafe {
            (
                obj(client, "client")?,
                str_arg(action, action_len, "action")?,
                str_arg(schema_json, schema_len, "schema_json")?,
            )
        };
        let call = call_id("create_schema", &[action.as_bytes(), schema.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                let request: CreateSchemaRequest = from_json(schema, "schema")?;
                to_json(&c.client.create_schema(action, &request)?)
            })
        }
    })
}

/// `GET /audit_logs/actions`: one page of actions. `options_json` may be NULL, else
/// `{"limit"?, "order"?: "asc"|"desc"|"normal", "before"?, "after"?}`.
///
/// # Safety
///
/// As `auditwire_client_create_export_json`; `options_json` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_list_actions_json(
    client: *mut auditwire_client,
    options_json: *const c_char,
    options_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, opts) = unsafe {
            (
                obj(client, "client")?,
                opt_str_arg(options_json, options_len, "options_json")?,
            )
        };
        let call = call_id("list_actions", &[opts.unwrap_or("").as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                to_json(&c.client.list_actions(&list_options(opts)?)?)
            })
        }
    })
}

/// `GET /audit_logs/actions/{action}/schemas`: one page of an action's schemas;
/// `options_json` as in `auditwire_client_list_actions_json`.
///
/// # Safety
///
/// As `auditwire_client_list_actions_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_list_schemas_json(
    client: *mut auditwire_client,
    action: *const c_char,
    action_len: usize,
    options_json: *const c_char,
    options_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, action, opts) = unsafe {
            (
                obj(client, "client")?,
                str_arg(action, action_len, "action")?,
                opt_str_arg(options_json, options_len, "options_json")?,
            )
        };
        let call = call_id(
            "list_schemas",
            &[action.as_bytes(), opts.unwrap_or("").as_bytes()],
        );
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                to_json(&c.client.list_schemas(action, &list_options(opts)?)?)
            })
        }
    })
}

/// `GET /organizations/{id}/audit_logs_retention`: `{"retention_period_in_days": N}`.
///
/// # Safety
///
/// As `auditwire_client_create_export_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_get_retention_json(
    client: *mut auditwire_client,
    org_id: *const c_char,
    org_len: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, org) = unsafe { (obj(client, "client")?, str_arg(org_id, org_len, "org_id")?) };
        let call = call_id("get_retention", &[org.as_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                to_json(&c.client.get_retention(org)?)
            })
        }
    })
}

/// `PUT /organizations/{id}/audit_logs_retention` with 30 or 365 days; the new retention's
/// JSON goes to `buf`.
///
/// # Safety
///
/// As `auditwire_client_create_export_json`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_set_retention_json(
    client: *mut auditwire_client,
    org_id: *const c_char,
    org_len: usize,
    days: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (c, org) = unsafe { (obj(client, "client")?, str_arg(org_id, org_len, "org_id")?) };
        let call = call_id("set_retention", &[org.as_bytes(), &days.to_le_bytes()]);
        // SAFETY: the caller's contract.
        unsafe {
            respond(call, buf, len, out_len, || {
                to_json(&c.client.set_retention(org, days)?)
            })
        }
    })
}
