'use strict';
// Every error class, each from a real answer of `auditwire serve`.
const test = require('node:test');
const assert = require('node:assert/strict');
const aw = require('auditwire');
const { serve, event } = require('./helpers.js');

const servers = [];
const clients = [];

async function setup(args, options = {}) {
  const s = await serve(args);
  servers.push(s);
  const c = new aw.AuditWire(options.key ?? s.key, { baseUrl: s.base, maxRetries: 0, ...options });
  clients.push(c);
  return { s, c };
}

test.after(async () => {
  await Promise.all(clients.map((c) => c.close(2000)));
  for (const s of servers) s.stop();
});

function fields(e, Class, status) {
  assert.ok(e instanceof Class, `${e.name}: ${e.message}`);
  assert.ok(e instanceof aw.ApiException);
  assert.equal(e.status, status);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.ok('code' in e && 'errors' in e && 'requestID' in e);
  return true;
}

test('ValidationError: createEvent rejects, emit throws, paths in wire names', async () => {
  const { c } = await setup([]);
  const bad = { ...event(), occurredAt: 'yesterday', context: {} };
  await assert.rejects(c.auditLogs.createEvent('org_1', bad), (e) => {
    assert.ok(e instanceof aw.ValidationError);
    const paths = e.errors.map((p) => p.path);
    assert.ok(paths.includes('event.occurred_at'), paths.join());
    assert.ok(paths.includes('event.context.location'), paths.join());
    assert.ok(e.errors.every((p) => typeof p.message === 'string'));
    assert.equal(e.status, undefined);
    assert.equal(e.requestID, '');
    return true;
  });
  assert.throws(() => c.auditLog.emit({ group: 'g' }), aw.ValidationError);
  assert.equal(c.stats().refusedInvalid, 2);
});

test('BadRequestException from a 400', async () => {
  const { c } = await setup(['--fail-rate', '1', '--fail-with', '400']);
  await assert.rejects(c.auditLogs.createEvent('org_1', event()), (e) => fields(e, aw.BadRequestException, 400));
});

test('UnauthorizedException from a wrong key', async () => {
  const { c } = await setup([], { key: 'sk_wrong' });
  await assert.rejects(c.auditLogs.createEvent('org_1', event()), (e) => fields(e, aw.UnauthorizedException, 401));
  await assert.rejects(c.auditLogs.listActions(), (e) => fields(e, aw.UnauthorizedException, 401));
});

test('NotFoundException from an unknown organization and export', async () => {
  const { c } = await setup(['--orgs', 'org_known']);
  await assert.rejects(c.auditLogs.createEvent('org_unknown', event()), (e) => fields(e, aw.NotFoundException, 404));
  await assert.rejects(c.auditLogs.getExport('audit_log_export_nope'), (e) => fields(e, aw.NotFoundException, 404));
});

test('UnprocessableEntityException from a 422', async () => {
  const { c } = await setup(['--fail-rate', '1', '--fail-with', '422']);
  await assert.rejects(c.auditLogs.createEvent('org_1', event()), (e) => fields(e, aw.UnprocessableEntityException, 422));
});

test('RateLimitExceededException from a 429, with retryAfter', async () => {
  const { c } = await setup(['--fail-rate', '1', '--fail-with', '429', '--retry-after', '0']);
  await assert.rejects(c.auditLogs.createEvent('org_1', event()), (e) => {
    fields(e, aw.RateLimitExceededException, 429);
    assert.ok(e instanceof aw.GenericServerException);
    assert.equal(e.retryAfter, 0);
    return true;
  });
});

test('GenericServerException from a 500 after retries', async () => {
  const { s, c } = await setup(['--fail-rate', '1', '--fail-with', '500']);
  await assert.rejects(c.auditLogs.createEvent('org_1', event()), (e) => fields(e, aw.GenericServerException, 500));
  assert.ok((await s.stats()).faults_injected >= 1);
});

test('emit(...).delivered rejects with the same classes', async () => {
  const { c } = await setup(['--fail-rate', '1', '--fail-with', '400']);
  const r = c.auditLogs.emit('org_1', event());
  await assert.rejects(r.delivered, aw.BadRequestException);
});
