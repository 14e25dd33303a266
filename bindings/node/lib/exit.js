'use strict';
// A process that never calls close() still delivers, then exits: on `beforeExit`, each
// open client flushes once for at most its shutdownTimeout; a client whose flush ran out of
// time is then stopped so nothing holds the process open. On `exit` (process.exit(), an
// uncaught exception, or the end of the loop) each client still open closes synchronously,
// bounded by its shutdownTimeout, and says on stderr what it could not deliver.
const open = new Set();
let installed = false;

function beforeExit() {
  for (const client of open) client._beforeExit();
}

function onExit() {
  for (const client of [...open]) client._exit();
}

/** Tracks an open client (the hooks are installed on first use). */
function add(client) {
  open.add(client);
  if (!installed) {
    installed = true;
    process.on('beforeExit', beforeExit);
    process.on('exit', onExit);
  }
}

/** Forgets a closed client. */
function remove(client) {
  open.delete(client);
}

module.exports = { add, remove };
