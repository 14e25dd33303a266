'use strict';
// `emit`'s receipt is the native object; `delivered` is added here and made on first use.
const { NativeReceipt } = require('./native.js');
const outcomes = require('./outcomes.js');

const DELIVERED = Symbol('delivered');

Object.defineProperty(NativeReceipt.prototype, 'delivered', {
  get() {
    if (this[DELIVERED] === undefined) {
      const id = outcomes.nextId();
      const now = this.watch(id);
      this[DELIVERED] = now ? outcomes.settled(now, true) : outcomes.wait(id, true);
    }
    return this[DELIVERED];
  },
});

Object.defineProperty(NativeReceipt.prototype, 'toJSON', {
  value() {
    return { idempotencyKey: this.idempotencyKey, organizationId: this.organizationId };
  },
});

module.exports = { NativeReceipt };
