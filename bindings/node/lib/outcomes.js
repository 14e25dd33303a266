'use strict';
// Promises waiting for outcomes, keyed by an id the native hub carries back.
const { apiError, NotDeliveredError, InDoubtError } = require('./errors.js');

const waiting = new Map();
let lastId = 0;

function nextId() {
  lastId = lastId >= 0xfffffffe ? 1 : lastId + 1;
  return lastId;
}

/** The error of an outcome that is not `delivered`. */
function failure(s) {
  if (s.error) {
    const e = apiError(s.error);
    e.attempts = s.attempts;
    e.outcome = s.outcome;
    return e;
  }
  // In doubt, lost or spooled: the core words it and names the key.
  const Class = s.outcome === 'in_doubt' ? InDoubtError : NotDeliveredError;
  return new Class(s.message, {
    outcome: s.outcome,
    attempts: s.attempts,
    idempotencyKey: s.idempotencyKey ?? undefined,
  });
}

/** What `receipt.delivered` resolves with. */
function delivery(s) {
  return { outcome: s.outcome, attempts: s.attempts, status: s.status, requestID: s.requestId ?? '' };
}

/**
 * A promise for id `id`, settled later by `settle`; `full` resolves with the delivery.
 * `chunk` (the event's slots) stays alive until then.
 */
function wait(id, full, chunk) {
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject, full, chunk }));
}

/** A promise already settled with `s`. */
function settled(s, full) {
  if (s.outcome === 'delivered') return Promise.resolve(full ? delivery(s) : undefined);
  return Promise.reject(failure(s));
}

/** Settles the promise waiting for `s.id`, if any. */
function settle(s) {
  const w = waiting.get(s.id);
  if (w === undefined) return;
  waiting.delete(s.id);
  if (s.outcome === 'delivered') w.resolve(w.full ? delivery(s) : undefined);
  else w.reject(failure(s));
}

module.exports = { nextId, wait, settled, settle, failure, delivery };
