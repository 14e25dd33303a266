'use strict';
// The shared vectors of tests/vectors/: the core's verdict on the JSON text (same wire
// bytes, or ValidationError with the same paths and messages), and the same events sent
// as objects through createEvent against `auditwire serve`.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const aw = require('auditwire');
const { serve } = require('./helpers.js');

const VECTORS = process.env.AUDITWIRE_VECTORS;
const cases = (kind) => JSON.parse(fs.readFileSync(path.join(VECTORS, `${kind}.json`), 'utf8')).cases;

function text(c) {
  if ('input' in c) return JSON.stringify(c.input);
  if ('input_text' in c) return c.input_text;
  return Buffer.from(c.input_base64, 'base64');
}

// Integers beyond 2^53 lose precision in a JS number (as with any JS SDK): compare parsed.
function unsafeInt(v) {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (v && typeof v === 'object') return Object.values(v).some(unsafeInt);
  return false;
}

// Cases an object can carry to createEvent: not top-level unknowns, and not the camelCase
// names (occurredAt, userAgent) that the Node layer translates on purpose.
function sendable(c) {
  if (!('input' in c)) return false;
  if (c.valid) return true;
  return c.problems.every(
    (p) => (p.path === 'organization_id' || p.path.startsWith('event')) && !/occurredAt|userAgent/.test(p.path),
  );
}

for (const kind of ['current', 'legacy']) {
  test(`${kind} vectors`, async () => {
    const legacy = kind === 'legacy';
    const all = cases(kind);
    assert.ok(all.length > 10);
    const server = await serve();
    const client = new aw.AuditWire(server.key, { baseUrl: server.base, maxRetries: 0 });
    const failures = [];
    const sends = [];
    const send = (c) =>
      legacy ? client.auditLog.createEvent(c.input) : client.auditLogs.createEvent(c.input.organization_id, c.input.event);
    try {
      for (const c of all) {
        const want = c.valid ? null : c.problems.map((p) => ({ path: p.path, message: p.message }));
        let got;
        try {
          got = aw.validate(text(c), { legacy });
        } catch (e) {
          got = e instanceof aw.ValidationError ? e.errors.map((p) => ({ path: p.path, message: p.message })) : `${e.name}: ${e.message}`;
        }
        if (c.valid) {
          const same = unsafeInt(c.input) ? typeof got === 'string' && assert.deepEqual(JSON.parse(got), JSON.parse(c.wire)) === undefined : got === c.wire;
          if (!same) failures.push([c.name, got, c.wire]);
        } else if (JSON.stringify(got) !== JSON.stringify(want)) {
          failures.push([c.name, got, want]);
        }
        if (!sendable(c)) continue;
        sends.push(
          send(c).then(
            () => c.valid || failures.push([c.name, 'delivered an invalid event']),
            (e) => {
              if (c.valid) return failures.push([c.name, 'refused', e.name, e.message]);
              const paths = (e.errors || []).map((x) => x.path);
              if (!(e instanceof aw.ValidationError) || JSON.stringify(paths) !== JSON.stringify(want.map((x) => x.path)))
                failures.push([c.name, 'createEvent', e.name, paths]);
            },
          ),
        );
      }
      await Promise.all(sends);
      assert.deepEqual(failures, []);
      assert.equal((await server.stats()).events_accepted, all.filter((c) => c.valid && 'input' in c).length);
    } finally {
      await client.close(5000);
      server.stop();
    }
  });
}
