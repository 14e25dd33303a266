'use strict';
// The seed's JavaScript examples, verbatim apart from the import line; the server must
// have stored each event.
const test = require('node:test');
const assert = require('node:assert/strict');
const { serve } = require('./helpers.js');

let server;
test.before(async () => {
  server = await serve();
  process.env.WORKOS_API_KEY = server.key;
  process.env.WORKOS_BASE_URL = server.base;
});
test.after(() => server.stop());

async function stored() {
  return (await server.stats()).events_stored;
}

test('@workos-inc/js: user.login', async () => {
  const before = await stored();
  const WorkOS = require('auditwire').default; // was: import WorkOS from '@workos-inc/js';
  const workos = new WorkOS();
  await workos.auditLog.createEvent({
    group: 'organization_1',
    action: 'user.login',
    action_type: 'C',
    actor_name: 'user@email.com',
    actor_id: 'user_1',
    target_name: 'user@email.com',
    target_id: 'user_1',
    location: '1.1.1.1',
    occurred_at: new Date(0),
    metadata: {},
  });
  assert.equal(await stored(), before + 1);
});

test('@workos-inc/js: tweet.update with body_was/body metadata', async () => {
  const before = await stored();
  const WorkOS = require('auditwire').default; // was: import WorkOS from '@workos-inc/js';
  const workos = new WorkOS();
  await workos.auditLog.createEvent({
    group: 'foo-corp.com',
    action: 'tweet.update',
    action_type: 'U',
    actor_name: 'Jon Smith',
    actor_id: 'user_01DGZ0FAXN978HCET66Q98QMTQ',
    target_name: 'What I am eating for dinner',
    target_id: 'tweet_5',
    location: '1.1.1.1',
    occurred_at: new Date(),
    metadata: {
      body_was: 'What I am eating for dinner',
      body: 'What I am eating for lunch',
    },
  });
  assert.equal(await stored(), before + 1);
});

test('@workos-inc/node: user.signed_in', async () => {
  const before = await stored();
  const { WorkOS } = require('auditwire'); // was: import { WorkOS } from '@workos-inc/node';
  const workos = new WorkOS(process.env.WORKOS_API_KEY);
  await workos.auditLogs.createEvent('org_01EHWNCE74X7JSDV0X3SZ3KJNY', {
    action: 'user.signed_in',
    occurredAt: new Date(),
    version: 1,
    actor: {
      type: 'user',
      id: 'user_01GBNJC3MX9ZZJW1FSTF4C5938',
      name: 'Jon Smith',
      metadata: {
        role: 'admin',
      },
    },
    targets: [
      {
        type: 'team',
        id: 'team_01GBNJD4MKHVKJGEWK42JNMBGS',
        name: 'Team',
        metadata: {},
      },
    ],
    context: {
      location: '123.123.123.123',
      userAgent: 'Chrome/104.0.0.0',
    },
    metadata: {
      owner: 'user_01GBTCQ2',
    },
  });
  assert.equal(await stored(), before + 1);
});
