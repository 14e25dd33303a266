'use strict';
// JavaScript values to the JSON the core validates: camelCase or snake_case in,
// snake_case out; Dates become RFC 3339 strings (JSON.stringify calls toJSON).

function timestamp(v) {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  return v;
}

function context(c) {
  if (c === null || typeof c !== 'object' || Array.isArray(c) || !('userAgent' in c)) return c;
  const out = {};
  for (const k of Object.keys(c)) {
    if (k === 'userAgent') out.user_agent = c.userAgent;
    else out[k] = c[k];
  }
  return out;
}

/** The wire form of a current-API event. */
function event(e) {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return e;
  const out = {};
  for (const k of Object.keys(e)) {
    const v = e[k];
    if (k === 'occurredAt' || k === 'occurred_at') out.occurred_at = timestamp(v);
    else if (k === 'context') out.context = context(v);
    else out[k] = v;
  }
  return out;
}

/** `{"organization_id", "event"}` as JSON text; absent members are left out. */
function body(organizationId, e) {
  const parts = [];
  if (organizationId !== undefined) parts.push('"organization_id":' + JSON.stringify(organizationId));
  if (e !== undefined) parts.push('"event":' + JSON.stringify(event(e)));
  return '{' + parts.join(',') + '}';
}

/** A v1 event (`@workos-inc/js`) as JSON text. */
function legacy(e) {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return JSON.stringify(e ?? null);
  if (!(e.occurred_at instanceof Date)) return JSON.stringify(e);
  return JSON.stringify({ ...e, occurred_at: timestamp(e.occurred_at) });
}

module.exports = { timestamp, event, body, legacy };
