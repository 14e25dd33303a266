// Node benchmark: @workos-inc/node vs auditwire against the same `auditwire serve`.
// Usage: node bench/node_vs_workos.mjs BASE_URL [--idle-url URL] [--seq N] [--batches 1000,10000] [--emits N] [--json]
// --json: one JSON line at the end with the figures bench/run.py reads.
// --idle-url: a server that holds requests, so `emit` is timed with delivery idle (pure
// event-loop cost, no CPU shared with delivery threads on a small machine).
// `emit` is timed in three rounds each way (while delivering, and idle); medians are reported.
// Beside wall time, the event-loop thread's own CPU time per emit is shown (Linux): it does
// not count time the thread waited for a core held by other processes.
// Run from a folder where both packages are installed (bench/node.sh does that).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(`${process.cwd()}/`);
const { WorkOS: Official } = require('@workos-inc/node');
const { AuditWire } = require('auditwire');

const args = process.argv.slice(2);
const base = new URL(args[0]);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const SEQ = Number(opt('--seq', 1000));
const BATCHES = opt('--batches', '1000,10000').split(',').map(Number);
const EMITS = Number(opt('--emits', 100000));
const KEY = 'sk_test_bench';
const IDLE = opt('--idle-url', null);

const event = () => ({
  action: 'user.signed_in',
  occurredAt: new Date(),
  version: 1,
  actor: { type: 'user', id: 'user_01GBNJC3MX9ZZJW1FSTF4C5938', name: 'Jon Smith', metadata: { role: 'admin' } },
  targets: [{ type: 'team', id: 'team_01GBNJD4MKHVKJGEWK42JNMBGS', name: 'Team', metadata: {} }],
  context: { location: '123.123.123.123', userAgent: 'Chrome/104.0.0.0' },
  metadata: { owner: 'user_01GBTCQ2' },
});

/** User + system CPU microseconds of this process so far. */
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU microseconds of the event-loop thread alone so far (Linux), else null. */
const loopCpuUs = () => {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return null;
  }
};
const perEmit = (a, b, n) => (a === null || b === null ? null : (b - a) / n);
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

async function sequential(client, n) {
  const c0 = cpuUs();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.auditLogs.createEvent('org_bench', event());
  const ms = performance.now() - t0;
  return { callUs: (ms * 1000) / n, eps: n / (ms / 1000), cpuUs: (cpuUs() - c0) / n };
}

async function batch(client, n) {
  const t0 = performance.now();
  const all = [];
  for (let i = 0; i < n; i++) all.push(client.auditLogs.createEvent('org_bench', event()));
  const called = performance.now() - t0;
  await Promise.all(all);
  const ms = performance.now() - t0;
  return { callUs: (called * 1000) / n, eps: n / (ms / 1000) };
}

async function emits(client, n) {
  const events = Array.from({ length: 1000 }, event);
  const c0 = cpuUs();
  const l0 = loopCpuUs();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) client.auditLogs.emit('org_bench', events[i % 1000]);
  const loop = performance.now() - t0;
  const loopCpu = perEmit(l0, loopCpuUs(), n);
  const left = await client.flush(120000);
  const ms = performance.now() - t0;
  const cpu = (cpuUs() - c0) / Math.max(1, n - left);
  return { callUs: (loop * 1000) / n, loopCpu, eps: (n - left) / (ms / 1000), left, cpuUs: cpu };
}

const official = new Official(KEY, { apiHostname: base.hostname, https: base.protocol === 'https:', port: Number(base.port) });
// 16 requests in flight, as the Rust and C clients of bench/run.sh use.
const ours = new AuditWire(KEY, { baseUrl: base.origin, workers: 16, queueCapacity: Math.max(EMITS, 100000) });

// Warm up both (connections, JIT).
await sequential(official, 50);
await sequential(ours, 50);

const rows = [];
const add = (mode, n, o, a) => rows.push({ mode, n, o, a });
add('sequential await', SEQ, await sequential(official, SEQ), await sequential(ours, SEQ));
for (const n of BATCHES) add('Promise.all batch', n, await batch(official, n), await batch(ours, n));
// Warmed up, then three rounds, as for the idle figure: the median of each figure is
// reported (the machine is shared, and one round can land on a busy moment).
await emits(ours, 10000);
const emRounds = [];
for (let round = 0; round < 3; round++) emRounds.push(await emits(ours, EMITS));
const pick = (key) => median(emRounds.map((r) => r[key]));
const em = {
  callUs: pick('callUs'),
  loopCpu: emRounds.some((r) => r.loopCpu === null) ? null : pick('loopCpu'),
  eps: pick('eps'),
  cpuUs: pick('cpuUs'),
  left: Math.max(...emRounds.map((r) => r.left)),
};
await ours.close(10000);
let idleUs = null;
let idleCpu = null;
if (IDLE) {
  // Three rounds on fresh clients; the median is reported.
  const events = Array.from({ length: 1000 }, event);
  const wall = [];
  const cpu = [];
  for (let round = 0; round < 3; round++) {
    const idle = new AuditWire(KEY, { baseUrl: IDLE, queueCapacity: 100000, timeout: 120000 });
    for (let i = 0; i < 10000; i++) idle.auditLogs.emit('org_bench', events[i % 1000]);
    const l0 = loopCpuUs();
    const t0 = performance.now();
    for (let i = 0; i < 50000; i++) idle.auditLogs.emit('org_bench', events[i % 1000]);
    wall.push(((performance.now() - t0) * 1000) / 50000);
    cpu.push(perEmit(l0, loopCpuUs(), 50000));
    await idle.close(0);
  }
  idleUs = median(wall);
  idleCpu = cpu.includes(null) ? null : median(cpu);
}

const f = (x, d = 1) => x.toFixed(d).padStart(10);
console.log('');
console.log('mode                    events  official µs/call  official ev/s  auditwire µs/call  auditwire ev/s  e2e speed-up');
for (const r of rows) {
  console.log(
    `${r.mode.padEnd(22)} ${String(r.n).padStart(7)}  ${f(r.o.callUs)}        ${f(r.o.eps, 0)}     ${f(r.a.callUs)}         ${f(r.a.eps, 0)}    ${f(r.a.eps / r.o.eps)}x`,
  );
}
console.log(`${'emit (fire and forget)'.padEnd(22)} ${String(EMITS).padStart(7)}  ${'-'.padStart(10)}        ${'-'.padStart(10)}     ${f(em.callUs, 2)}         ${f(em.eps, 0)}`);
console.log('');
const onCpu = (x) => (x === null ? '' : ` (event-loop thread on CPU: ${x.toFixed(2)} µs)`);
console.log(`event-loop time per emit while delivering: ${em.callUs.toFixed(2)} µs${onCpu(em.loopCpu)}; undelivered after flush: ${em.left}`);
console.log(`  rounds: ${emRounds.map((r) => `${r.callUs.toFixed(2)} µs (on CPU ${r.loopCpu === null ? '-' : r.loopCpu.toFixed(2)}), ${r.eps.toFixed(0)} events/s`).join('; ')}`);
if (idleUs !== null) console.log(`event-loop time per emit, delivery idle: ${idleUs.toFixed(2)} µs${onCpu(idleCpu)} (target <= 5 µs)`);
console.log(`client CPU per delivered event: auditwire (emit then flush) ${em.cpuUs.toFixed(1)} µs, @workos-inc/node (sequential await) ${rows[0].o.cpuUs.toFixed(1)} µs`);
if (args.includes('--json')) {
  const seq = rows[0];
  const batches = rows.slice(1);
  const best = (side) => Math.max(...batches.map((r) => r[side].eps));
  console.log(
    JSON.stringify({
      official_version: require('@workos-inc/node/package.json').version,
      official_call_us: seq.o.callUs,
      official_events_per_sec: seq.o.eps,
      official_cpu_us_per_event: seq.o.cpuUs,
      official_batch_events_per_sec: best('o'),
      auditwire_create_event_us: seq.a.callUs,
      auditwire_sequential_events_per_sec: seq.a.eps,
      auditwire_batch_events_per_sec: best('a'),
      auditwire_emit_us: em.callUs,
      auditwire_emit_idle_us: idleUs,
      auditwire_emit_loop_cpu_us: em.loopCpu,
      auditwire_emit_idle_loop_cpu_us: idleCpu,
      auditwire_events_per_sec: em.eps,
      auditwire_cpu_us_per_event: em.cpuUs,
      undelivered: em.left,
    }),
  );
}
