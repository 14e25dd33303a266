'use strict';
// Shutdown: events in flight at the deadline are in doubt (with their key), nothing changes
// after close() resolves, and a process that ends (process.exit, an uncaught exception)
// delivers what it can and says on stderr what it could not.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { AuditWire, InDoubtError, NotDeliveredError } = require('auditwire');
const { serve, event } = require('./helpers.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('close() at the deadline: in-flight events are in doubt, with their keys, and stay so', async () => {
  const s = await serve(['--latency-ms', '1500']);
  try {
    const seen = [];
    const c = new AuditWire(s.key, { baseUrl: s.base, workers: 4, shutdownTimeout: 200, onOutcome: (o) => seen.push(o) });
    const settled = [];
    const watch = (p, key) => p.then(
      () => settled.push({ key, ok: true }),
      (e) => settled.push({ key, e }),
    );
    const events = [event(), event(), event(), event()];
    const receipts = [c.auditLogs.emit('org_1', events[0]), c.auditLogs.emit('org_1', events[1])];
    receipts.forEach((r) => watch(r.delivered, r.idempotencyKey));
    watch(c.auditLogs.createEvent('org_1', events[2], { idempotencyKey: 'in-doubt-3' }), 'in-doubt-3');
    watch(c.auditLogs.createEvent('org_1', events[3], { idempotencyKey: 'in-doubt-4' }), 'in-doubt-4');
    await sleep(300);
    assert.equal(await c.close(), 4);
    await new Promise(setImmediate);

    assert.equal(settled.length, 4);
    const keys = [...receipts.map((r) => r.idempotencyKey), 'in-doubt-3', 'in-doubt-4'];
    for (const { key, e } of settled) {
      assert.ok(e instanceof InDoubtError && e instanceof NotDeliveredError, String(e));
      assert.equal(e.outcome, 'in_doubt');
      assert.equal(e.idempotencyKey, key);
      assert.match(e.message, /in doubt/);
      assert.ok(e.message.includes(key), e.message);
    }
    assert.deepEqual(settled.map((x) => x.key).sort(), [...keys].sort());
    assert.equal(seen.length, 4);
    assert.ok(seen.every((o) => o.outcome === 'in_doubt' && o.error instanceof InDoubtError), JSON.stringify(seen));
    assert.deepEqual(seen.map((o) => o.idempotencyKey).sort(), [...keys].sort());
    const report = await c.closeReport();
    assert.deepEqual(report, { remaining: 4, spooled: 0, lost: 0, inDoubt: 4, lastError: report.lastError });
    const stats = c.stats();
    assert.equal(stats.inDoubt, 4);
    assert.equal(stats.pending, 0);

    // The late answers change nothing.
    await sleep(1600);
    assert.equal(seen.length, 4);
    assert.equal(settled.length, 4);
    assert.deepEqual(c.stats(), stats);

    // Re-sending the same events under the same keys is safe: the server stores each once.
    const again = new AuditWire(s.key, { baseUrl: s.base, workers: 4 });
    await Promise.all(keys.map((k, i) => again.auditLogs.createEvent('org_1', events[i], { idempotencyKey: k })));
    await again.close(5000);
    assert.equal((await s.stats()).events_stored, 4);
  } finally {
    s.stop();
  }
});

test('stats() has exactly the counters that auditwire.d.ts declares', () => {
  const dts = fs.readFileSync(path.join(path.dirname(require.resolve('auditwire/package.json')), 'auditwire.d.ts'), 'utf8');
  const body = /export interface Stats \{([^}]*)\}/.exec(dts)[1];
  const declared = [...body.matchAll(/^\s*(\w+):/gm)].map((m) => m[1]);
  const c = new AuditWire('sk_test_stats', { baseUrl: 'http://127.0.0.1:9' });
  const stats = c.stats();
  c.close(0);
  assert.deepEqual(Object.keys(stats).sort(), [...declared].sort());
  assert.ok(Object.values(stats).every((v) => v === 0));
});

const EVENT = `{action:'user.signed_in',occurredAt:new Date(),actor:{id:'u',type:'user'},targets:[{id:'t',type:'team'}],context:{location:'1.1.1.1'}}`;

function run(code, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], {
      cwd: __dirname,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** A script that emits `n` events, then ends with `end`. */
function script(n, end, options = '', shutdownTimeout = 60000) {
  return `
    const { AuditWire } = require('auditwire');
    const c = new AuditWire(process.env.K, { baseUrl: process.env.B, shutdownTimeout: ${shutdownTimeout}, ${options} });
    for (let i = 0; i < ${n}; i++) c.auditLogs.emit('org_exit', ${EVENT});
    ${end}
  `;
}

const NOT_DELIVERED = /auditwire: \d+ event\(s\) not delivered at exit/;

test('process.exit(0) right after 5,000 emits: all delivered, each heard by onOutcome, nothing printed', async () => {
  const s = await serve();
  try {
    const end = "process.on('exit', () => console.log('outcomes', n)); process.exit(0);";
    const r = await run(`let n = 0; ${script(5000, end, 'onOutcome: () => n++')}`, { K: s.key, B: s.base });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /outcomes 5000/);
    assert.equal((await s.stats()).events_stored, 5000);
    assert.doesNotMatch(r.err, NOT_DELIVERED);
  } finally {
    s.stop();
  }
});

test('an uncaught exception after 5,000 emits: all delivered', async () => {
  const s = await serve();
  try {
    const r = await run(script(5000, "throw new Error('boom');"), { K: s.key, B: s.base });
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /boom/);
    assert.equal((await s.stats()).events_stored, 5000);
    assert.doesNotMatch(r.err, NOT_DELIVERED);
  } finally {
    s.stop();
  }
});

/** A loopback URL where nothing listens. */
async function deadBase() {
  const s = await serve();
  s.stop();
  await sleep(200);
  return s.base;
}

test('the server is down at exit: one line on stderr says how many were lost', async () => {
  const base = await deadBase();
  const r = await run(script(12, 'process.exit(0);', 'maxRetries: 10', 500), { K: 'sk_test_down', B: base });
  assert.equal(r.code, 0, r.err);
  const lines = r.err.split('\n').filter((l) => NOT_DELIVERED.test(l));
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], /^auditwire: 12 event\(s\) not delivered at exit: \d+ lost, 0 spooled, \d+ in doubt — last error: /);
});

test('the server is down at exit, with a spool: the line says spooled', async () => {
  const base = await deadBase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditwire-exit-'));
  try {
    const r = await run(
      script(7, 'process.exit(0);', `maxRetries: 10, spoolDir: ${JSON.stringify(dir)}`, 300),
      { K: 'sk_test_down', B: base },
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /auditwire: 7 event\(s\) not delivered at exit: 0 lost, \d spooled, \d in doubt/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
