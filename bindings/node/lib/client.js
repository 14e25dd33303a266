'use strict';
// The AuditWire client (and its WorkOS alias): options, the audit log namespaces, flush,
// close and stats over the native client.
const fs = require('node:fs');
const util = require('node:util');
const { NativeClient, CHUNK_SIZE } = require('./native.js');
const { Receipt } = require('./receipt.js');
const errors = require('./errors.js');
const wire = require('./wire.js');
const pack = require('./pack.js');
const results = require('./results.js');
const outcomes = require('./outcomes.js');
const exit = require('./exit.js');

function baseUrl(o) {
  if (o.baseUrl) return o.baseUrl;
  if (o.apiHostname) {
    const scheme = o.https === false ? 'http' : 'https';
    return `${scheme}://${o.apiHostname}${o.port ? `:${o.port}` : ''}`;
  }
  return process.env.WORKOS_BASE_URL || undefined;
}

function nativeOptions(apiKey, o) {
  const key = apiKey ?? o.apiKey ?? process.env.WORKOS_API_KEY;
  return {
    apiKey: key || undefined,
    baseUrl: baseUrl(o),
    timeout: o.timeout,
    maxRetries: o.maxRetries,
    workers: o.workers,
    queueCapacity: o.queueCapacity,
    overflow: o.overflow,
    blockTimeout: o.blockTimeout,
    spoolDir: o.spoolDir,
    caFile: o.caFile,
    shutdownTimeout: o.shutdownTimeout,
    userAgentSuffix: o.userAgentSuffix,
    reportAll: typeof o.onOutcome === 'function',
    legacyV1: o.legacyEndpoint === 'v1',
  };
}

function keyOf(options) {
  return (options && options.idempotencyKey) || null;
}

async function rethrow(run) {
  try {
    return await run();
  } catch (e) {
    throw errors.fromNative(e);
  }
}

/** `client.auditLogs`: the current API, as in @workos-inc/node. */
class AuditLogs {
  #c;
  constructor(client) {
    this.#c = client;
  }

  /** Resolves once the event is delivered; rejects with the API's error otherwise. */
  createEvent(organizationId, event, options) {
    return this.#c._send(false, organizationId, event, keyOf(options));
  }

  /** Validates and queues at once (throws on invalid input); `.delivered` is a promise. */
  emit(organizationId, event, options) {
    return this.#c._emit(false, organizationId, event, keyOf(options));
  }

  createExport(options) {
    const req = JSON.stringify(results.exportRequest(options || {}));
    return this.#c._call((n) => n.createExport(req)).then(results.exportOf);
  }

  getExport(id) {
    return this.#c._call((n) => n.getExport(String(id))).then(results.exportOf);
  }

  createSchema(schema) {
    const req = JSON.stringify(results.schemaRequest(schema || {}));
    return this.#c._call((n) => n.createSchema(String(schema && schema.action), req)).then(results.schemaOf);
  }

  listActions(options = {}) {
    const o = options;
    return this.#c
      ._call((n) => n.listActions(o.limit, o.order, o.before, o.after))
      .then((d) => results.listOf(d, results.actionOf));
  }

  listSchemas(action, options = {}) {
    const o = options;
    return this.#c
      ._call((n) => n.listSchemas(String(action), o.limit, o.order, o.before, o.after))
      .then((d) => results.listOf(d, results.schemaOf));
  }

  getRetention(organizationId) {
    return this.#c._call((n) => n.getRetention(String(organizationId))).then(results.retentionOf);
  }

  setRetention(organizationId, days) {
    return this.#c._call((n) => n.setRetention(String(organizationId), days)).then(results.retentionOf);
  }
}

/** `client.auditLog`: the v1 call of @workos-inc/js. */
class AuditLog {
  #c;
  constructor(client) {
    this.#c = client;
  }

  /** Resolves once the v1 event is delivered. */
  createEvent(event, options) {
    return this.#c._send(true, null, event, keyOf(options));
  }

  /** Validates and queues a v1 event at once; `.delivered` is a promise. */
  emit(event, options) {
    return this.#c._emit(true, null, event, keyOf(options));
  }
}

/** The public view of a native shutdown report. */
function reportOf(r) {
  return {
    remaining: r.remaining,
    spooled: r.spooled,
    lost: r.lost,
    inDoubt: r.inDoubt,
    lastError: r.lastError ?? undefined,
  };
}

/** An audit-log client: validates at once, delivers in the background. */
class AuditWire {
  #n;
  /** The native `emitPacked` of this client (a bare function: the hot path). */
  #emitPacked;
  #onOutcome;
  /** The chunk of native slots in use, its next free slot and its end. */
  #chunk = null;
  #next = 0;
  #end = 0;
  #closing = null;
  #exitAccepted = -1;
  #exiting = false;

  constructor(apiKey, options) {
    if (apiKey !== null && typeof apiKey === 'object') {
      options = apiKey;
      apiKey = undefined;
    }
    const o = options || {};
    this.#onOutcome = typeof o.onOutcome === 'function' ? o.onOutcome : null;
    try {
      this.#n = new NativeClient(nativeOptions(apiKey, o), () => this._drain());
      this.#emitPacked = this.#n.packedEmitter();
    } catch (e) {
      throw errors.fromNative(e);
    }
    this.clientId = o.clientId ?? process.env.WORKOS_CLIENT_ID;
    this.auditLogs = new AuditLogs(this);
    this.auditLog = new AuditLog(this);
    exit.add(this);
  }

  /** The API base URL in use. */
  get baseUrl() {
    return this.#n.baseUrl;
  }

  /** Waits up to `timeoutMs` for every accepted event; resolves with how many remain. */
  flush(timeoutMs) {
    const ms = timeoutMs ?? this.#n.shutdownTimeout;
    return rethrow(() => this.#n.flush(ms)).then((left) => {
      this._drain();
      return left;
    });
  }

  /** Stops accepting, delivers for up to `timeoutMs`; resolves with how many were not delivered. */
  close(timeoutMs) {
    return this.closeReport(timeoutMs).then((r) => r.remaining);
  }

  /**
   * `close`, resolving with what was not delivered: `{remaining, spooled, lost, inDoubt,
   * lastError}`. Every outcome has reached its promise and `onOutcome` before it resolves.
   */
  closeReport(timeoutMs) {
    if (this.#closing === null) {
      const ms = timeoutMs ?? this.#n.shutdownTimeout;
      this.#closing = rethrow(() => this.#n.close(ms)).then((r) => {
        exit.remove(this);
        this._drain();
        return reportOf(r);
      });
    }
    return this.#closing;
  }

  /** The delivery counters. */
  stats() {
    return this.#n.stats();
  }

  /** The next free slot (a new chunk when the current one is full). */
  #slot() {
    if (this.#next === this.#end) {
      this.#chunk = this.#n.newChunk();
      this.#next = this.#chunk.first;
      this.#end = this.#next + CHUNK_SIZE;
    }
    return this.#next;
  }

  /** Validates and queues an event into `slot`: packed when plain, else as JSON. */
  #queue(legacy, organizationId, event, key, slot, watch) {
    if (legacy) {
      this.#n.emit(wire.legacy(event), true, key, slot, watch);
      return;
    }
    const packed = pack.body(organizationId, event);
    if (packed !== undefined && this.#emitPacked(packed, key, slot, watch, pack.packed.at)) return;
    this.#n.emit(wire.body(organizationId, event), false, key, slot, watch);
  }

  _send(legacy, organizationId, event, key) {
    const slot = this.#slot();
    const id = outcomes.nextId();
    try {
      this.#queue(legacy, organizationId, event, key, slot, id);
    } catch (e) {
      return Promise.reject(errors.fromNative(e));
    }
    this.#next = slot + 1;
    return outcomes.wait(id, false, this.#chunk);
  }

  _emit(legacy, organizationId, event, key) {
    const slot = this.#slot();
    try {
      this.#queue(legacy, organizationId, event, key, slot, 0);
    } catch (e) {
      throw errors.fromNative(e);
    }
    this.#next = slot + 1;
    return new Receipt(this.#chunk, slot);
  }

  _call(run) {
    return rethrow(() => run(this.#n)).then((text) => JSON.parse(text));
  }

  _drain() {
    const list = this.#n.takeOutcomes();
    for (const s of list) {
      if (s.id !== 0) outcomes.settle(s);
      if (this.#onOutcome !== null && s.organizationId != null) this.#report(s);
    }
    return list.length;
  }

  #report(s) {
    const report = {
      outcome: s.outcome,
      attempts: s.attempts,
      organizationId: s.organizationId,
      idempotencyKey: s.idempotencyKey,
      status: s.status ?? undefined,
      requestID: s.requestId ?? '',
      error: s.outcome === 'delivered' ? undefined : outcomes.failure(s),
    };
    try {
      this.#onOutcome(report);
    } catch (e) {
      process.emitWarning(`auditwire: the onOutcome callback threw: ${e}`);
    }
  }

  _beforeExit() {
    if (this.#closing !== null || this.#exiting) return;
    // Stats first: an outcome is queued before its event stops counting as pending.
    const s = this.#n.stats();
    // Code awaiting a settled promise may emit again: one more loop turn lets it run and
    // brings `beforeExit` back.
    if (this._drain() > 0) setImmediate(() => {});
    if (s.pending === 0) return;
    if (s.accepted === this.#exitAccepted) {
      // The bounded flush ran out of time: stop, so that the process can exit.
      this._exit(0);
      return;
    }
    this.#exitAccepted = s.accepted;
    this.#exiting = true;
    this.#n.flush(this.#n.shutdownTimeout).then(
      () => {
        this.#exiting = false;
        this._drain();
      },
      () => {
        this.#exiting = false;
      },
    );
  }

  /**
   * The process is ending: blocks the JavaScript thread while delivering for up to
   * `timeoutMs` (with a spool the rest stays on disk), hands the outcomes to `onOutcome`,
   * and prints the core's one-line summary on stderr if anything was not delivered.
   */
  _exit(timeoutMs) {
    exit.remove(this);
    let r;
    try {
      r = this.#n.closeSync(timeoutMs ?? this.#n.shutdownTimeout);
    } catch (e) {
      r = { exitMessage: `auditwire: ${errors.fromNative(e).message}` };
    }
    if (this.#closing === null) this.#closing = Promise.resolve(reportOf(r));
    this._drain();
    if (r.exitMessage) {
      try {
        fs.writeSync(2, `${r.exitMessage}\n`);
      } catch {
        // stderr is closed: nowhere left to tell.
      }
    }
  }

  toJSON() {
    return { baseUrl: this.baseUrl, closed: this.#closing !== null };
  }

  [util.inspect.custom]() {
    return `${this.constructor.name} { baseUrl: '${this.baseUrl}', closed: ${this.#closing !== null} }`;
  }
}

/** The drop-in name of @workos-inc/node and @workos-inc/js. */
class WorkOS extends AuditWire {}

module.exports = { AuditWire, WorkOS, AuditLogs, AuditLog };
