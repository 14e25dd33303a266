'use strict';
// Plain current-API events as packed text the addon reads without a JSON parser.
//
// Every string is `<UTF-16 length>:<text>`, so nothing is escaped. Only plain input is
// packed: plain objects and arrays, strings, finite numbers, booleans, Dates for
// `occurredAt`, and `undefined` for absent members. Anything else (null, other types,
// unknown members) answers `undefined`: the JSON path decides, with its exact errors.
//
//   body    := str(organization_id) str(action) at (str(version) | '-')
//              party(actor) <count>'[' party* context metadata
//   at      := str(occurred_at) | 'd' (a Date: its Unix milliseconds are in `packed.at`)
//   party   := str(id) str(type) (str(name) | '-') metadata
//   context := str(location) (str(user_agent) | '-')
//   metadata:= '-' | <count>'{' (str(key) ('s' str | 'n' str | 't' | 'f'))*
const proto = Object.prototype;

function isPlain(v) {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === proto;
}

/** The last packed event's Date as Unix milliseconds (NaN when it had none): passed
 * beside the text, as a number costs less than its digits. */
const packed = { at: NaN };

// `<n>:` for the lengths most strings have.
const PREFIX = Array.from({ length: 256 }, (_, n) => `${n}:`);

function str(v) {
  const n = v.length;
  return n < 256 ? PREFIX[n] + v : `${n}:${v}`;
}

/** `metadata` packed, `-` when absent, or undefined. */
function metadata(m) {
  if (m === undefined) return '-';
  if (!isPlain(m)) return undefined;
  const keys = Object.keys(m);
  let out = `${keys.length}{`;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = m[k];
    switch (typeof v) {
      case 'string':
        out += `${str(k)}s${str(v)}`;
        break;
      case 'number':
        if (!Number.isFinite(v)) return undefined;
        out += `${str(k)}n${str(String(v))}`;
        break;
      case 'boolean':
        out += str(k) + (v ? 't' : 'f');
        break;
      default:
        return undefined;
    }
  }
  return out;
}

/** An actor or a target packed, or undefined. */
function party(p) {
  if (!isPlain(p)) return undefined;
  let id;
  let type;
  let name;
  let meta;
  for (const k of Object.keys(p)) {
    switch (k) {
      case 'id':
        id = p.id;
        break;
      case 'type':
        type = p.type;
        break;
      case 'name':
        name = p.name;
        break;
      case 'metadata':
        meta = p.metadata;
        break;
      default:
        return undefined;
    }
  }
  if (typeof id !== 'string' || typeof type !== 'string') return undefined;
  if (name !== undefined && typeof name !== 'string') return undefined;
  const m = metadata(meta);
  if (m === undefined) return undefined;
  return str(id) + str(type) + (name === undefined ? '-' : str(name)) + m;
}

function context(c) {
  if (!isPlain(c)) return undefined;
  let location;
  let agent;
  for (const k of Object.keys(c)) {
    switch (k) {
      case 'location':
        location = c.location;
        break;
      case 'userAgent':
        agent = c.userAgent;
        break;
      case 'user_agent':
        agent = c.user_agent;
        break;
      default:
        return undefined;
    }
  }
  if (typeof location !== 'string') return undefined;
  if (agent === undefined) return `${str(location)}-`;
  return typeof agent === 'string' ? str(location) + str(agent) : undefined;
}

/** `{organization_id, event}` packed, or undefined when the JSON path must decide. */
function body(organizationId, e) {
  if (typeof organizationId !== 'string' || !isPlain(e)) return undefined;
  let action;
  let at;
  let version;
  let actor;
  let targets;
  let ctx;
  let meta;
  for (const k of Object.keys(e)) {
    switch (k) {
      case 'action':
        action = e.action;
        break;
      case 'occurredAt':
        at = e.occurredAt;
        break;
      case 'occurred_at':
        at = e.occurred_at;
        break;
      case 'version':
        version = e.version;
        break;
      case 'actor':
        actor = e.actor;
        break;
      case 'targets':
        targets = e.targets;
        break;
      case 'context':
        ctx = e.context;
        break;
      case 'metadata':
        meta = e.metadata;
        break;
      default:
        return undefined;
    }
  }
  if (typeof action !== 'string' || !Array.isArray(targets)) return undefined;
  let out = str(organizationId) + str(action);
  let ms = NaN;
  if (at instanceof Date) {
    ms = at.getTime();
    if (Number.isNaN(ms)) return undefined;
    out += 'd';
  } else if (typeof at === 'string') {
    out += str(at);
  } else {
    return undefined;
  }
  if (version === undefined) out += '-';
  else if (Number.isSafeInteger(version)) out += str(String(version));
  else return undefined;
  const a = party(actor);
  if (a === undefined) return undefined;
  out += `${a}${targets.length}[`;
  for (let i = 0; i < targets.length; i++) {
    const t = party(targets[i]);
    if (t === undefined) return undefined;
    out += t;
  }
  const c = context(ctx);
  const m = metadata(meta);
  if (c === undefined || m === undefined) return undefined;
  // Set last: a getter run while packing may pack another event.
  packed.at = ms;
  return out + c + m;
}

module.exports = { body, packed };
