'use strict';
// Starts `auditwire serve` for a test file and reads its counters.
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const BIN = process.env.AUDITWIRE_BIN;

/** Starts a server with extra arguments; resolves with {base, key, stats, stop}. */
async function serve(args = [], key = `sk_test_${Math.random().toString(36).slice(2)}`) {
  if (!BIN) throw new Error('AUDITWIRE_BIN is not set');
  const child = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--api-key', key, '--test-endpoints', '--export-delay-ms', '50', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('auditwire serve did not start')), 10000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (\S+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`auditwire serve exited with ${code}`)));
  });
  child.stdout.resume();
  return {
    base,
    key,
    async stats() {
      const r = await fetch(`${base}/__stats`, { headers: { Authorization: `Bearer ${key}` } });
      return r.json();
    },
    stop() {
      child.kill();
    },
  };
}

/** A valid current-API event in camelCase. */
function event(action = 'user.signed_in') {
  return {
    action,
    occurredAt: new Date(),
    actor: { id: 'user_1', type: 'user', name: 'Jon' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '123.123.123.123', userAgent: 'node-test' },
    metadata: { role: 'admin' },
  };
}

module.exports = { serve, event };
