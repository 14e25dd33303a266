'use strict';
// Process lifecycle: unawaited calls are delivered before exit, a process that never calls
// close() exits within its deadline, and worker threads each use their own client.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { serve } = require('./helpers.js');

const EVENT = `{action:'user.signed_in',occurredAt:new Date(),actor:{id:'u',type:'user'},targets:[{id:'t',type:'team'}],context:{location:'1.1.1.1'}}`;

function run(code, env = {}, flags = []) {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, '-e', code], {
      cwd: __dirname,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

test('unawaited createEvent and emit are delivered before exit', async () => {
  const s = await serve(['--latency-ms', '20']);
  try {
    const r = await run(`
      const { AuditWire } = require('auditwire');
      const c = new AuditWire(process.env.K, { baseUrl: process.env.B });
      c.auditLogs.createEvent('org_1', ${EVENT});
      for (let i = 0; i < 20; i++) c.auditLogs.emit('org_1', ${EVENT});
    `, { K: s.key, B: s.base });
    assert.equal(r.code, 0, r.out);
    assert.equal((await s.stats()).events_accepted, 21);
  } finally {
    s.stop();
  }
});

test('sequential top-level awaits in an ES module, with nothing else keeping it alive', async () => {
  const s = await serve();
  try {
    const r = await run(`
      import { AuditWire } from 'auditwire';
      const c = new AuditWire(process.env.K, { baseUrl: process.env.B });
      for (let i = 0; i < 20; i++) await c.auditLogs.createEvent('org_1', ${EVENT});
      console.log('done');
    `, { K: s.key, B: s.base }, ['--input-type=module']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /done/);
    assert.equal((await s.stats()).events_accepted, 20);
  } finally {
    s.stop();
  }
});

test('a script that never calls close() exits within shutdownTimeout', async () => {
  const s = await serve(['--fail-rate', '1', '--fail-with', 'timeout', '--hold-ms', '60000']);
  try {
    const r = await run(`
      const { AuditWire } = require('auditwire');
      const c = new AuditWire(process.env.K, { baseUrl: process.env.B, shutdownTimeout: 1000 });
      c.auditLogs.emit('org_1', ${EVENT});
      c.auditLogs.createEvent('org_1', ${EVENT}).catch(() => {});
    `, { K: s.key, B: s.base });
    assert.equal(r.code, 0, r.out);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.ok(r.ms >= 900, `took ${r.ms} ms: did it flush?`);
  } finally {
    s.stop();
  }
});

test('worker threads each use their own client', async () => {
  const s = await serve();
  try {
    const r = await run(`
      const { Worker } = require('node:worker_threads');
      const src = \`
        const { AuditWire } = require('auditwire');
        const { parentPort } = require('node:worker_threads');
        const c = new AuditWire(process.env.K, { baseUrl: process.env.B });
        (async () => {
          for (let i = 0; i < 25; i++) c.auditLogs.emit('org_w', ${EVENT.replace(/`/g, '')});
          await c.auditLogs.createEvent('org_w', ${EVENT});
          await c.flush(5000);
          parentPort.postMessage(c.stats().delivered);
        })();
      \`;
      let total = 0, done = 0;
      for (let w = 0; w < 3; w++) {
        const worker = new Worker(src, { eval: true, env: process.env });
        worker.on('message', (n) => (total += n));
        worker.on('error', (e) => { console.error(e); process.exitCode = 1; });
        worker.on('exit', () => { if (++done === 3) console.log('delivered', total); });
      }
    `, { K: s.key, B: s.base });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /delivered 78/);
    assert.equal((await s.stats()).events_accepted, 78);
  } finally {
    s.stop();
  }
});
