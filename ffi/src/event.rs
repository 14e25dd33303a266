//! `auditwire_event`: an event builder for C programs without a JSON library.

use std::ffi::c_char;

use auditwire_core::{
    Actor, Context, Event, Metadata, MetadataValue, Problem, Rule, Target, Timestamp,
    ValidationError,
};

use crate::client::{auditwire_client, wait_outcome};
use crate::error::{auditwire_result, boundary, boundary_value, Error, Result};
use crate::util::{check_buf, obj, obj_mut, opt_str_arg, str_arg, write_text};

/// A current-API event under construction: `auditwire_event_new`, setters, then
/// `auditwire_client_emit_event` (which consumes it) or `auditwire_event_free`.
pub struct auditwire_event {
    action: String,
    occurred_at: Timestamp,
    version: Option<i64>,
    actor: Option<Actor>,
    targets: Vec<Target>,
    context: Option<Context>,
    metadata: Option<Metadata>,
}

/// Which metadata object a metadata setter writes to.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum auditwire_metadata_scope {
    /// The event's own metadata.
    Event = 0,
    /// The actor's metadata (set the actor first).
    Actor = 1,
    /// The metadata of the target at `target_index` (add the target first).
    Target = 2,
}

impl auditwire_event {
    /// The event, or every missing part and rule broken, with wire paths.
    fn build(&self) -> Result<Event> {
        self.build_checked().map_err(Error::from)
    }

    /// [`Self::build`] keeping the validation error.
    fn build_checked(&self) -> std::result::Result<Event, ValidationError> {
        let mut missing = Vec::new();
        if self.actor.is_none() {
            missing.push(Problem::new("event.actor", Rule::Required, "required"));
        }
        if self.context.is_none() {
            missing.push(Problem::new("event.context", Rule::Required, "required"));
        }
        let event = Event {
            action: self.action.clone(),
            occurred_at: self.occurred_at,
            version: self.version,
            actor: self.actor.clone().unwrap_or_else(|| Actor::new("-", "-")),
            targets: self.targets.clone(),
            context: self.context.clone().unwrap_or_else(|| Context::new("-")),
            metadata: self.metadata.clone(),
        };
        let mut problems = match event.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_problems(),
        };
        problems.extend(missing);
        match ValidationError::from_problems(problems) {
            None => Ok(event),
            Some(e) => Err(e),
        }
    }

    /// The metadata object a setter writes to.
    fn metadata_mut(&mut self, scope: u32, target_index: usize) -> Result<&mut Metadata> {
        let slot = match scope {
            s if s == auditwire_metadata_scope::Event as u32 => &mut self.metadata,
            s if s == auditwire_metadata_scope::Actor as u32 => match &mut self.actor {
                Some(a) => &mut a.metadata,
                None => {
                    return Err(Error::invalid(
                        "actor metadata: set the actor first (auditwire_event_set_actor)",
                    ))
                }
            },
            s if s == auditwire_metadata_scope::Target as u32 => {
                let n = self.targets.len();
                match self.targets.get_mut(target_index) {
                    Some(t) => &mut t.metadata,
                    None => {
                        return Err(Error::invalid(format!(
                            "target metadata: no target at index {target_index} (the event has {n})"
                        )))
                    }
                }
            }
            other => {
                return Err(Error::invalid(format!(
                    "metadata scope {other} is not one of AUDITWIRE_METADATA_SCOPE_EVENT (0), \
                     _ACTOR (1), _TARGET (2)"
                )))
            }
        };
        Ok(slot.get_or_insert_with(Metadata::new))
    }
}

/// Creates an event for `action` (e.g. `"user.signed_in"`) that occurred now; set the actor,
/// at least one target and the context before emitting. NULL on a NULL or non-UTF-8
/// `action` (details in the last error).
///
/// # Safety
///
/// `action` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_new(
    action: *const c_char,
    len: usize,
) -> *mut auditwire_event {
    boundary_value(std::ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        match unsafe { str_arg(action, len, "action") } {
            Ok(action) => Box::into_raw(Box::new(auditwire_event {
                action: action.to_owned(),
                occurred_at: Timestamp::now(),
                version: None,
                actor: None,
                targets: Vec::new(),
                context: None,
                metadata: None,
            })),
            Err(e) => {
                crate::error::set_last_error(&e.message);
                std::ptr::null_mut()
            }
        }
    })
}

/// Frees an event that was not emitted; NULL is a no-op.
///
/// # Safety
///
/// `event` must be NULL or from `auditwire_event_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_free(event: *mut auditwire_event) {
    boundary_value((), || {
        if !event.is_null() {
            // SAFETY: from Box::into_raw in auditwire_event_new, freed once.
            drop(unsafe { Box::from_raw(event) });
        }
    })
}

/// Sets when it happened: an ISO 8601 date-time with an offset (sent as UTC with ms and Z).
///
/// # Safety
///
/// `event` must be a live event; `timestamp` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_occurred_at(
    event: *mut auditwire_event,
    timestamp: *const c_char,
    len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let (ev, text) = unsafe {
            (
                obj_mut(event, "event")?,
                str_arg(timestamp, len, "timestamp")?,
            )
        };
        ev.occurred_at = Timestamp::parse(text).map_err(|e| {
            Error::from(ValidationError::single(Problem::new(
                "event.occurred_at",
                Rule::InvalidTimestamp,
                e.to_string(),
            )))
        })?;
        Ok(())
    })
}

/// Sets when it happened, in Unix milliseconds.
///
/// # Safety
///
/// `event` must be a live event.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_occurred_at_ms(
    event: *mut auditwire_event,
    unix_ms: i64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let ev = unsafe { obj_mut(event, "event") }?;
        ev.occurred_at = Timestamp::from_unix_millis(unix_ms)
            .map_err(|e| Error::invalid(format!("occurred_at: {e}")))?;
        Ok(())
    })
}

/// Sets the action's schema version (an integer of at least 1).
///
/// # Safety
///
/// `event` must be a live event.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_version(
    event: *mut auditwire_event,
    version: i64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let ev = unsafe { obj_mut(event, "event") }?;
        ev.version = Some(version);
        Ok(())
    })
}

/// Sets the actor: `id` and `type` required, `name` may be NULL. Replaces an earlier actor.
///
/// # Safety
///
/// `event` must be a live event; each string must point to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_actor(
    event: *mut auditwire_event,
    id: *const c_char,
    id_len: usize,
    actor_type: *const c_char,
    type_len: usize,
    name: *const c_char,
    name_len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (ev, id, kind, name) = unsafe {
            (
                obj_mut(event, "event")?,
                str_arg(id, id_len, "id")?,
                str_arg(actor_type, type_len, "actor_type")?,
                opt_str_arg(name, name_len, "name")?,
            )
        };
        let mut actor = Actor::new(id, kind);
        actor.name = name.map(str::to_owned);
        ev.actor = Some(actor);
        Ok(())
    })
}

/// Adds a target: `id` and `type` required, `name` may be NULL. Targets are numbered from 0
/// in the order added (for `AUDITWIRE_METADATA_SCOPE_TARGET`).
///
/// # Safety
///
/// `event` must be a live event; each string must point to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_add_target(
    event: *mut auditwire_event,
    id: *const c_char,
    id_len: usize,
    target_type: *const c_char,
    type_len: usize,
    name: *const c_char,
    name_len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (ev, id, kind, name) = unsafe {
            (
                obj_mut(event, "event")?,
                str_arg(id, id_len, "id")?,
                str_arg(target_type, type_len, "target_type")?,
                opt_str_arg(name, name_len, "name")?,
            )
        };
        let mut target = Target::new(id, kind);
        target.name = name.map(str::to_owned);
        ev.targets.push(target);
        Ok(())
    })
}

/// Sets the context: `location` required, `user_agent` may be NULL.
///
/// # Safety
///
/// `event` must be a live event; each string must point to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_context(
    event: *mut auditwire_event,
    location: *const c_char,
    location_len: usize,
    user_agent: *const c_char,
    user_agent_len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract for every pointer.
        let (ev, location, ua) = unsafe {
            (
                obj_mut(event, "event")?,
                str_arg(location, location_len, "location")?,
                opt_str_arg(user_agent, user_agent_len, "user_agent")?,
            )
        };
        let mut context = Context::new(location);
        context.user_agent = ua.map(str::to_owned);
        ev.context = Some(context);
        Ok(())
    })
}

/// Inserts one metadata entry (a later value for the same key replaces the earlier one).
///
/// # Safety
///
/// `event` must be a live event; `key` must point to `key_len` readable bytes.
unsafe fn set_metadata(
    event: *mut auditwire_event,
    scope: u32,
    target_index: usize,
    key: *const c_char,
    key_len: usize,
    value: impl FnOnce() -> Result<MetadataValue>,
) -> Result<()> {
    // SAFETY: the caller's contract.
    let (ev, key) = unsafe { (obj_mut(event, "event")?, str_arg(key, key_len, "key")?) };
    let value = value()?;
    ev.metadata_mut(scope, target_index)?
        .insert(key.to_owned(), value);
    Ok(())
}

/// Sets a string metadata entry in `scope` (an `auditwire_metadata_scope`; `target_index`
/// is used only for `AUDITWIRE_METADATA_SCOPE_TARGET`).
///
/// # Safety
///
/// `event` must be a live event; each string must point to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_metadata_string(
    event: *mut auditwire_event,
    scope: u32,
    target_index: usize,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let v = unsafe { str_arg(value, value_len, "value") }?;
        // SAFETY: the caller's contract.
        unsafe { set_metadata(event, scope, target_index, key, key_len, || Ok(v.into())) }
    })
}

/// Sets an integer metadata entry in `scope`.
///
/// # Safety
///
/// `event` must be a live event; `key` must point to `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_metadata_int(
    event: *mut auditwire_event,
    scope: u32,
    target_index: usize,
    key: *const c_char,
    key_len: usize,
    value: i64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe {
            set_metadata(
                event,
                scope,
                target_index,
                key,
                key_len,
                || Ok(value.into()),
            )
        }
    })
}

/// Sets a floating-point metadata entry in `scope`; NaN and infinities are INVALID_ARGUMENT.
///
/// # Safety
///
/// `event` must be a live event; `key` must point to `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_metadata_double(
    event: *mut auditwire_event,
    scope: u32,
    target_index: usize,
    key: *const c_char,
    key_len: usize,
    value: f64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe {
            set_metadata(event, scope, target_index, key, key_len, || {
                MetadataValue::try_from(value).map_err(|e| Error::invalid(e.to_string()))
            })
        }
    })
}

/// Sets a boolean metadata entry in `scope`.
///
/// # Safety
///
/// `event` must be a live event; `key` must point to `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_set_metadata_bool(
    event: *mut auditwire_event,
    scope: u32,
    target_index: usize,
    key: *const c_char,
    key_len: usize,
    value: bool,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe {
            set_metadata(
                event,
                scope,
                target_index,
                key,
                key_len,
                || Ok(value.into()),
            )
        }
    })
}

/// Validates the event and writes its JSON (the `event` object as it would be sent) to
/// `buf`, NUL-terminated; `*out_len` gets the size needed (see `auditwire_last_error_message`).
///
/// # Safety
///
/// `event` must be a live event; `buf` must point to `len` writable bytes (or be NULL with
/// `len` 0); `out_len` must be writable.
#[no_mangle]
pub unsafe extern "C" fn auditwire_event_to_json(
    event: *const auditwire_event,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract.
        let ev = unsafe { obj(event, "event") }?;
        check_buf(buf, len, out_len)?;
        let json = serde_json::to_vec(&ev.build()?)
            .map_err(|e| Error::invalid(format!("cannot serialise the event: {e}")))?;
        // SAFETY: the caller's contract.
        unsafe { write_text(&json, buf, len, out_len) }
    })
}

/// Takes ownership of an event pointer (always), then checks the client and organization.
///
/// # Safety
///
/// `event` must be NULL or from `auditwire_event_new`, not used afterwards.
unsafe fn take_event(event: *mut auditwire_event) -> Result<Box<auditwire_event>> {
    if event.is_null() {
        return Err(Error::null("event"));
    }
    // SAFETY: from Box::into_raw in auditwire_event_new; consumed here, once.
    Ok(unsafe { Box::from_raw(event) })
}

/// Validates and queues a built event for an organization; `event` is always consumed, even
/// on failure. `idempotency_key` may be NULL. Results as `auditwire_client_emit_json`.
///
/// # Safety
///
/// `client` must be a live client; `event` NULL or from `auditwire_event_new` (not used
/// afterwards); each string must point to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_emit_event(
    client: *mut auditwire_client,
    org_id: *const c_char,
    org_len: usize,
    event: *mut auditwire_event,
    idempotency_key: *const c_char,
    key_len: usize,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract; the event is taken first so it is always consumed.
        let ev = unsafe { take_event(event) }?;
        // SAFETY: the caller's contract for every pointer.
        let (c, org, key) = unsafe {
            (
                obj(client, "client")?,
                str_arg(org_id, org_len, "org_id")?,
                opt_str_arg(idempotency_key, key_len, "idempotency_key")?,
            )
        };
        emit_built(&c.client, org, &ev, key).map(drop)
    })
}

/// Emits a built event like `auditwire_client_emit_event` (consuming it) and waits up to
/// `timeout_ms` for the outcome, with the results of `auditwire_client_create_event_json`.
///
/// # Safety
///
/// As `auditwire_client_emit_event`.
#[no_mangle]
pub unsafe extern "C" fn auditwire_client_create_event(
    client: *mut auditwire_client,
    org_id: *const c_char,
    org_len: usize,
    event: *mut auditwire_event,
    idempotency_key: *const c_char,
    key_len: usize,
    timeout_ms: u64,
) -> auditwire_result {
    boundary(|| {
        // SAFETY: the caller's contract; the event is taken first so it is always consumed.
        let ev = unsafe { take_event(event) }?;
        // SAFETY: the caller's contract for every pointer.
        let (c, org, key) = unsafe {
            (
                obj(client, "client")?,
                str_arg(org_id, org_len, "org_id")?,
                opt_str_arg(idempotency_key, key_len, "idempotency_key")?,
            )
        };
        let receipt = emit_built(&c.client, org, &ev, key)?;
        wait_outcome(&receipt, timeout_ms)
    })
}

/// Builds and emits; missing parts are reported together with the core's problems.
fn emit_built(
    client: &auditwire_core::Client,
    org: &str,
    ev: &auditwire_event,
    key: Option<&str>,
) -> Result<auditwire_core::Receipt> {
    let options = match key {
        Some(k) => auditwire_core::EmitOptions::with_key(k),
        None => auditwire_core::EmitOptions::default(),
    };
    let event = ev
        .build_checked()
        .map_err(|e| client.refuse_invalid(crate::client::with_org_check(org, e)))?;
    Ok(client.emit(org, &event, options)?)
}
