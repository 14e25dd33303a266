'use strict';
// What `emit` returns: a slot of the native hub. The identity is read and `delivered` is
// made only on first use; the receipt keeps its chunk of slots (a NativeChunk, freed when
// collected) alive.
const outcomes = require('./outcomes.js');

/** The receipt of an accepted event. */
class Receipt {
  #chunk;
  #slot;
  #identity;
  #delivered;

  constructor(chunk, slot) {
    this.#chunk = chunk;
    this.#slot = slot;
    this.#identity = undefined;
    this.#delivered = undefined;
  }

  /** The idempotency key sent with every attempt. */
  get idempotencyKey() {
    return this.#ident()[1];
  }

  /** The organization of the event. */
  get organizationId() {
    return this.#ident()[0];
  }

  /** Resolves when delivered; rejects with the API's error otherwise. */
  get delivered() {
    if (this.#delivered === undefined) {
      const id = outcomes.nextId();
      const now = this.#chunk.watch(this.#slot, id);
      this.#delivered = now ? outcomes.settled(now, true) : outcomes.wait(id, true, this.#chunk);
    }
    return this.#delivered;
  }

  #ident() {
    if (this.#identity === undefined) this.#identity = this.#chunk.identity(this.#slot);
    return this.#identity;
  }

  toJSON() {
    return { idempotencyKey: this.idempotencyKey, organizationId: this.organizationId };
  }
}

module.exports = { Receipt };
