// The ESM entry: named exports and WorkOS as the default export.
import test from 'node:test';
import assert from 'node:assert/strict';
import WorkOS, { AuditWire, WorkOS as Named, ValidationError, RateLimitExceededException } from 'auditwire';

test('ESM import works', () => {
  assert.equal(WorkOS, Named);
  assert.ok(new WorkOS('k', { baseUrl: 'http://127.0.0.1:9' }) instanceof AuditWire);
  assert.equal(typeof ValidationError, 'function');
  assert.equal(typeof RateLimitExceededException, 'function');
});
