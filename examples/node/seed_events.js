// The seed events from Node: the current-API `user.signed_in` with
// `auditLogs.createEvent` (as with @workos-inc/node), and the legacy `user.login` and
// `tweet.update` of @workos-inc/js through `auditLog.createEvent`.
//
//   WORKOS_API_KEY=... WORKOS_BASE_URL=http://127.0.0.1:8787 node examples/node/seed_events.js
'use strict';
const { WorkOS } = require('auditwire'); // was: require('@workos-inc/node')

const ORG = 'org_01EHWNCE74X7JSDV0X3SZ3KJNY';

async function main() {
  const workos = new WorkOS(process.env.WORKOS_API_KEY, { baseUrl: process.env.WORKOS_BASE_URL });
  const now = new Date();
  await workos.auditLogs.createEvent(ORG, {
    action: 'user.signed_in',
    occurredAt: now,
    version: 1,
    actor: { id: 'user_01GBNJC3MX9ZZJW1FSTF4C5938', type: 'user', name: 'Jon Smith', metadata: { role: 'admin' } },
    targets: [{ id: 'team_01GBNJD4MKHVKJGEWK42JNMBGS', type: 'team', name: 'Team', metadata: {} }],
    context: { location: '123.123.123.123', userAgent: 'Chrome/104.0.0.0' },
    metadata: { owner: 'user_01GBTCQ2', sent_from: 'node' },
  });
  await workos.auditLog.createEvent({
    group: ORG,
    action: 'user.login',
    action_type: 'C',
    actor_name: 'user@email.com',
    actor_id: 'user_1',
    target_name: 'user@email.com',
    target_id: 'user_1',
    location: '1.1.1.1',
    occurred_at: now,
    metadata: { sent_from: 'node' },
  });
  await workos.auditLog.createEvent({
    group: ORG,
    action: 'tweet.update',
    action_type: 'U',
    actor_name: 'Jon Smith',
    actor_id: 'user_01DGZ0FAXN978HCET66Q98QMTQ',
    target_name: 'What I am eating for dinner',
    target_id: 'tweet_5',
    location: '1.1.1.1',
    occurred_at: now,
    metadata: { body_was: 'What I am eating for dinner', body: 'What I am eating for lunch', sent_from: 'node' },
  });
  await workos.close(5000);
  console.log('node: 3 seed events delivered');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
