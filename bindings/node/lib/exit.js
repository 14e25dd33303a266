'use strict';
// A process that never calls close() still delivers, then exits: on `beforeExit`, each
// open client flushes once for at most its shutdownTimeout; a client whose flush ran out of
// time is then stopped so nothing holds the process open.
const open = new Set();
let installed = false;

function beforeExit() {
  for (const client of open) client._beforeExit();
}

/** Tracks an open client (the hook is installed on first use). */
function add(client) {
  open.add(client);
  if (!installed) {
    installed = true;
    process.on('beforeExit', beforeExit);
  }
}

/** Forgets a closed client. */
function remove(client) {
  open.delete(client);
}

module.exports = { add, remove };
