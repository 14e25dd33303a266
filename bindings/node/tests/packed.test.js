'use strict';
// The packed path (lib/pack.js read by the addon) agrees with the JSON path: the same wire
// bytes for what it takes, and invalid or unusual input left to the JSON path.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const aw = require('auditwire');

// Internal modules of the installed package (not part of its public exports).
const home = path.dirname(require.resolve('auditwire'));
const pack = require(path.join(home, 'lib', 'pack.js'));
const native = require(path.join(home, 'lib', 'native.js'));

const ORG = 'org_01EHZNVPK3SFK441A1RGBFSHRT';

function seed(extra = {}) {
  return {
    action: 'user.signed_in',
    occurredAt: new Date('2026-02-02T16:35:39.317Z'),
    version: 1,
    actor: { type: 'user', id: 'user_01GBNJC3MX9ZZJW1FSTF4C5938', name: 'Jon Smith' },
    targets: [{ type: 'user', id: 'user_98432YHF', name: 'Jon Smith' }],
    context: { location: '1.1.1.1', userAgent: 'Chrome/104.0.0.0' },
    metadata: { owner: 'user_01GBTCQ2' },
    ...extra,
  };
}

const party = { id: 't_1', type: 'team' };

/** Valid and invalid events, ordered so that the reused scratch body shrinks and grows. */
const VARIED = [
  seed(),
  seed({ metadata: { s: 'é \u2028 "q" \\ \n \x00 😀', i: -(2 ** 53), f: 1.5, g: 1e21, h: -0, e: 1e-7, t: true, n: false } }),
  seed({ occurredAt: undefined, occurred_at: '2026-02-02T18:35:39.5123456789+02:00', version: undefined, metadata: undefined }),
  seed({ targets: [party, { ...party, name: 'n', metadata: {} }], context: { location: 'x', user_agent: 'snake' } }),
  seed({ targets: [], actor: { id: 'a\u4e2d', type: 'user' }, context: { location: 'x' } }),
  seed({ metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])) }),
  seed({ metadata: { owner: 'x'.repeat(500), role: 'é'.repeat(500), emoji: '😀'.repeat(250) } }),
  seed({ metadata: { role: 1, owner: 'y' } }),
  seed({ targets: [{ ...party, metadata: { a: 1 } }, party, { ...party, id: 't_3' }] }),
  seed({ context: { userAgent: 'first', location: 'x', user_agent: 'last' } }),
  seed({ version: 0 }),
  seed({ version: 1.5 }),
  seed({ action: '' }),
  seed({ acton: 'x' }),
  seed({ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }),
  seed({ metadata: { 'a b': 1 } }),
  seed({ metadata: { s: 'x'.repeat(501) } }),
  seed({ metadata: { n: null } }),
  seed({ metadata: { n: NaN } }),
  seed({ metadata: { d: new Date(0) } }),
  seed({ targets: [party, null] }),
  seed({ actor: { id: '', type: 'user' } }),
  seed({ actor: { id: 'a', type: 'user', name: null } }),
  seed({ version: true }),
  seed({ occurredAt: 'yesterday' }),
  seed({ occurredAt: new Date(NaN) }),
  seed({ occurredAt: new Date(-1) }),
  seed({ occurredAt: new Date(Date.UTC(10000, 0, 1)) }),
  seed({ occurredAt: new Date('0001-01-01T00:00:00.000Z') }),
  seed({ context: {} }),
  seed({ action: 'lone \ud800 surrogate' }),
  seed({ action: 'a\ufffdb' }),
  Object.assign(Object.create(null), seed()),
  seed(),
];

/** The JSON path's verdict: the wire text, or the problems. */
function viaJson(organizationId, event) {
  try {
    return aw.validate({ organization_id: organizationId, event });
  } catch (e) {
    assert.ok(e instanceof aw.ValidationError, String(e));
    return null;
  }
}

/** The packed path's wire text; null when it leaves the event to the JSON path. */
function viaPacked(organizationId, event) {
  const packed = pack.body(organizationId, event);
  return packed === undefined ? null : native.packedBody(packed, pack.packed.at);
}

test('the packed path gives the JSON path’s bytes, and leaves it every invalid event', () => {
  let taken = 0;
  for (const event of VARIED) {
    const want = viaJson(ORG, event);
    const got = viaPacked(ORG, event);
    if (want === null) assert.equal(got, null, `packed an invalid event: ${JSON.stringify(event)}`);
    else if (got !== null) {
      assert.equal(got, want);
      taken += 1;
    }
  }
  // Every valid plain event above takes the packed path (the lone surrogate does not).
  assert.equal(taken, 13);
  assert.equal(viaPacked('', seed()), null);
  assert.equal(viaPacked(42, seed()), null);
});

test('a getter that packs another event meanwhile does not change the Date sent', () => {
  const other = seed({ occurredAt: new Date('2001-01-01T00:00:00.000Z') });
  const event = seed({
    actor: {
      type: 'user',
      // Read after occurredAt is packed.
      get id() {
        pack.body(ORG, other);
        return 'user_01GBNJC3MX9ZZJW1FSTF4C5938';
      },
    },
  });
  const got = viaPacked(ORG, event);
  assert.notEqual(got, null);
  assert.equal(got, viaJson(ORG, event));
});

test('the shared vectors that are plain objects take the packed path with the same bytes', () => {
  const file = path.join(process.env.AUDITWIRE_VECTORS, 'current.json');
  const cases = JSON.parse(fs.readFileSync(file, 'utf8')).cases.filter((c) => 'input' in c);
  let valid = 0;
  let taken = 0;
  for (const c of cases) {
    const { organization_id: org, event } = c.input;
    // The Node layer's verdict (it reads camelCase names on purpose), then the packed one.
    const want = viaJson(org, event);
    const got = viaPacked(org, event);
    if (want === null) {
      assert.equal(got, null, c.name);
      continue;
    }
    valid += 1;
    if (got !== null) {
      assert.equal(got, want, c.name);
      taken += 1;
    }
  }
  assert.ok(taken >= valid / 2, `only ${taken} of ${valid} valid vectors were packed`);
});

test('emit and createEvent report what validate reports, on either path', async () => {
  const client = new aw.AuditWire('sk_test_packed', { baseUrl: 'http://127.0.0.1:9', maxRetries: 0 });
  try {
    for (const event of VARIED) {
      let want;
      try {
        aw.validate({ organization_id: ORG, event });
      } catch (e) {
        want = e.errors;
      }
      if (want === undefined) continue;
      assert.throws(() => client.auditLogs.emit(ORG, event), (e) => {
        assert.ok(e instanceof aw.ValidationError);
        assert.deepEqual(e.errors, want);
        return true;
      });
      await assert.rejects(client.auditLogs.createEvent(ORG, event), (e) => {
        assert.deepEqual(e.errors, want);
        return true;
      });
    }
    assert.equal(client.stats().accepted, 0);
  } finally {
    await client.close(0);
  }
});
