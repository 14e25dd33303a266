'use strict';
// Every call of the client against `auditwire serve`.
const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');
const { AuditWire, WorkOS, ValidationError, validate } = require('auditwire');
const { serve, event } = require('./helpers.js');

let server;
let client;

test.before(async () => {
  server = await serve();
  client = new AuditWire(server.key, { baseUrl: server.base });
});
test.after(async () => {
  await client.close(5000);
  server.stop();
});

test('createEvent resolves once delivered (camelCase, Date)', async () => {
  const before = (await server.stats()).events_accepted;
  assert.equal(await client.auditLogs.createEvent('org_1', event()), undefined);
  assert.equal((await server.stats()).events_accepted, before + 1);
});

test('createEvent accepts snake_case and ISO strings', async () => {
  await client.auditLogs.createEvent('org_1', {
    action: 'user.signed_in',
    occurred_at: '2026-02-02T16:35:39.317Z',
    version: 1,
    actor: { id: 'user_1', type: 'user' },
    targets: [{ id: 't', type: 'team' }],
    context: { location: '1.1.1.1', user_agent: 'ua' },
  });
});

test('camelCase becomes the snake_case wire form', () => {
  const wire = JSON.parse(
    validate({ organization_id: 'org_1', event: { ...event(), occurredAt: new Date(0) } }),
  );
  assert.equal(wire.event.occurred_at, '1970-01-01T00:00:00.000Z');
  assert.equal(wire.event.context.user_agent, 'node-test');
  assert.equal(wire.event.occurredAt, undefined);
});

test('idempotency keys replay instead of duplicating', async () => {
  const before = await server.stats();
  const same = event();
  await client.auditLogs.createEvent('org_1', same, { idempotencyKey: 'node-idem-1' });
  await client.auditLogs.createEvent('org_1', same, { idempotencyKey: 'node-idem-1' });
  const after = await server.stats();
  assert.equal(after.events_accepted, before.events_accepted + 1);
  assert.equal(after.duplicates_replayed, before.duplicates_replayed + 1);
});

test('a key reused for another event is rejected with the server\'s reason, not retried', async () => {
  await client.auditLogs.createEvent('org_1', event(), { idempotencyKey: 'node-idem-2' });
  const other = { ...event(), action: 'user.signed_out' };
  await assert.rejects(
    client.auditLogs.createEvent('org_1', other, { idempotencyKey: 'node-idem-2' }),
    (e) => e.code === 'idempotency_error' && e.status === 409 && /different request body/.test(e.message),
  );
});

test('emit returns at once with a receipt and a delivered promise', async () => {
  const r = client.auditLogs.emit('org_1', event(), { idempotencyKey: 'node-emit-1' });
  assert.equal(r.idempotencyKey, 'node-emit-1');
  assert.equal(r.organizationId, 'org_1');
  const d = await r.delivered;
  assert.equal(d.outcome, 'delivered');
  assert.ok(d.attempts >= 1);
  assert.equal(r.delivered, r.delivered);
});

test('delivered asked for after delivery still resolves', async () => {
  const r = client.auditLogs.emit('org_1', event());
  await client.flush(5000);
  assert.equal((await r.delivered).outcome, 'delivered');
});

test('emit throws ValidationError synchronously', () => {
  assert.throws(
    () => client.auditLogs.emit('org_1', { ...event(), actor: { type: 'user' } }),
    (e) => e instanceof ValidationError && e.errors.some((p) => p.path === 'event.actor.id'),
  );
});

test('many concurrent createEvent calls all resolve', async () => {
  const before = (await server.stats()).events_accepted;
  await Promise.all(Array.from({ length: 500 }, () => client.auditLogs.createEvent('org_1', event())));
  assert.equal((await server.stats()).events_accepted, before + 500);
});

test('legacy auditLog.createEvent with Dates', async () => {
  await client.auditLog.createEvent({
    group: 'organization_1',
    action: 'user.login',
    action_type: 'C',
    actor_name: 'user@email.com',
    actor_id: 'user_1',
    target_name: 'user@email.com',
    target_id: 'user_1',
    location: '1.1.1.1',
    occurred_at: new Date(),
    metadata: { when: new Date(0), n: 1, ok: true },
  });
});

test('exports: create, then get until ready', async () => {
  const now = new Date();
  const ex = await client.auditLogs.createExport({
    organizationId: 'org_1',
    rangeStart: new Date(now.getTime() - 3600e3),
    rangeEnd: new Date(now.getTime() + 60e3),
    actions: ['user.signed_in'],
    actorNames: ['Jon'],
    actorIds: ['user_1'],
    targets: ['team'],
  });
  assert.equal(ex.object, 'audit_log_export');
  assert.ok(ex.id);
  assert.ok(ex.createdAt && ex.updatedAt);
  let got = ex;
  for (let i = 0; i < 100 && got.state === 'pending'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    got = await client.auditLogs.getExport(ex.id);
  }
  assert.equal(got.state, 'ready');
  const csv = await (await fetch(got.url)).text();
  assert.match(csv, /user\.signed_in/);
});

test('schemas and actions', async () => {
  const s = await client.auditLogs.createSchema({
    action: 'document.updated',
    actor: { metadata: { role: 'string' } },
    targets: [{ type: 'document', metadata: { size: 'number' } }],
    metadata: { reason: 'string' },
  });
  assert.equal(s.object, 'audit_log_schema');
  assert.equal(s.version, 1);
  assert.deepEqual(s.targets, [{ type: 'document', metadata: { size: 'number' } }]);
  assert.deepEqual(s.actor, { metadata: { role: 'string' } });
  assert.deepEqual(s.metadata, { reason: 'string' });
  assert.ok(s.createdAt);
  const actions = await client.auditLogs.listActions({ limit: 10 });
  assert.equal(actions.object, 'list');
  const a = actions.data.find((x) => x.name === 'document.updated');
  assert.ok(a && a.createdAt && a.updatedAt);
  assert.ok('before' in actions.listMetadata && 'after' in actions.listMetadata);
  const schemas = await client.auditLogs.listSchemas('document.updated');
  assert.equal(schemas.data[0].version, 1);
});

test('retention', async () => {
  assert.deepEqual(await client.auditLogs.setRetention('org_1', 365), { retentionPeriodInDays: 365 });
  assert.deepEqual(await client.auditLogs.getRetention('org_1'), { retentionPeriodInDays: 365 });
});

test('stats and flush', async () => {
  client.auditLogs.emit('org_1', event());
  assert.equal(await client.flush(5000), 0);
  const s = client.stats();
  assert.ok(s.accepted >= 1 && s.delivered >= 1);
  assert.equal(s.pending, 0);
});

test('close resolves with 0, then emits are refused', async () => {
  const c = new AuditWire(server.key, { baseUrl: server.base });
  c.auditLogs.emit('org_1', event());
  assert.equal(await c.close(5000), 0);
  assert.equal(await c.close(), 0);
  assert.deepEqual(await c.closeReport(), { remaining: 0, spooled: 0, lost: 0, inDoubt: 0, lastError: undefined });
  await assert.rejects(c.auditLogs.createEvent('org_1', event()), { name: 'ClosedError' });
});

test('onOutcome hears every outcome', async () => {
  const seen = [];
  const c = new AuditWire(server.key, { baseUrl: server.base, onOutcome: (o) => seen.push(o) });
  c.auditLogs.emit('org_1', event(), { idempotencyKey: 'node-cb-1' });
  await c.auditLogs.createEvent('org_1', event());
  await c.close(5000);
  assert.equal(seen.length, 2);
  assert.ok(seen.every((o) => o.outcome === 'delivered' && o.organizationId === 'org_1'));
  assert.ok(seen.some((o) => o.idempotencyKey === 'node-cb-1'));
});

test('the API key never shows', () => {
  const c = new WorkOS(server.key, { baseUrl: server.base });
  for (const text of [util.inspect(c), JSON.stringify(c), String(c), util.inspect(c, { showHidden: true, depth: 5 })]) {
    assert.ok(!text.includes(server.key), text);
  }
  return c.close(1000);
});

test('WorkOS accepts apiHostname, https, port, clientId and WORKOS_API_KEY', async () => {
  const url = new URL(server.base);
  process.env.WORKOS_API_KEY = server.key;
  try {
    const w = new WorkOS(undefined, { apiHostname: url.hostname, https: false, port: Number(url.port), clientId: 'client_1' });
    assert.equal(w.baseUrl.replace(/\/$/, ''), server.base.replace(/\/$/, ''));
    assert.equal(w.clientId, 'client_1');
    await w.auditLogs.createEvent('org_1', event());
    await w.close(1000);
  } finally {
    delete process.env.WORKOS_API_KEY;
  }
});

test('a missing API key is a ConfigurationError', () => {
  delete process.env.WORKOS_API_KEY;
  assert.throws(() => new AuditWire(undefined, { baseUrl: server.base }), { name: 'ConfigurationError' });
});
