'use strict';
// JavaScript values to the JSON the core validates: camelCase or snake_case in,
// snake_case out (members keep their order); Dates become RFC 3339 strings.

const DAY = 86400000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
// The UTC day of the last date formatted: its bounds in ms and its `YYYY-MM-DDT`.
let dayStart = 0;
let dayEnd = 0;
let dayPrefix = '';

/** `date.toISOString()`, without its cost for dates of the same UTC day as the last one. */
function iso(date) {
  const t = date.getTime();
  if (t >= dayStart && t < dayEnd) {
    let ms = t - dayStart;
    const h = Math.floor(ms / 3600000);
    ms -= h * 3600000;
    const m = Math.floor(ms / 60000);
    ms -= m * 60000;
    const s = Math.floor(ms / 1000);
    return `${dayPrefix}${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[ms - s * 1000]}Z`;
  }
  if (Number.isNaN(t)) return 'Invalid Date';
  const text = date.toISOString();
  if (text.length === 24) {
    dayStart = t - (((t % DAY) + DAY) % DAY);
    dayEnd = dayStart + DAY;
    dayPrefix = text.slice(0, 11);
  }
  return text;
}

function timestamp(v) {
  return v instanceof Date ? iso(v) : v;
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
  // Named stores for the usual members keep this monomorphic.
  for (const k of Object.keys(e)) {
    switch (k) {
      case 'action':
        out.action = e.action;
        break;
      case 'occurredAt':
        out.occurred_at = timestamp(e.occurredAt);
        break;
      case 'occurred_at':
        out.occurred_at = timestamp(e.occurred_at);
        break;
      case 'version':
        out.version = e.version;
        break;
      case 'actor':
        out.actor = e.actor;
        break;
      case 'targets':
        out.targets = e.targets;
        break;
      case 'context':
        out.context = context(e.context);
        break;
      case 'metadata':
        out.metadata = e.metadata;
        break;
      default:
        out[k] = e[k];
    }
  }
  return out;
}

/** `{"organization_id", "event"}` as JSON text; absent members are left out. */
function body(organizationId, e) {
  return JSON.stringify({ organization_id: organizationId, event: event(e) });
}

/** A v1 event (`@workos-inc/js`) as JSON text. */
function legacy(e) {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return JSON.stringify(e ?? null);
  if (!(e.occurred_at instanceof Date)) return JSON.stringify(e);
  return JSON.stringify({ ...e, occurred_at: timestamp(e.occurred_at) });
}

module.exports = { timestamp, event, body, legacy };
