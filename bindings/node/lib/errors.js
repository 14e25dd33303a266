'use strict';
// Error classes, named as in @workos-inc/node, and the decoding of native errors.

const TAG = 'auditwire:';

/** Base class of every auditwire error. */
class AuditWireError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** The event breaks the API's rules; nothing was queued. */
class ValidationError extends AuditWireError {
  constructor(message, errors) {
    super(message);
    this.status = undefined;
    this.code = 'validation_error';
    this.errors = errors;
    this.requestID = '';
  }
}

/** The memory queue (or the spool) is full. */
class QueueFullError extends AuditWireError {}
/** The client is closed. */
class ClosedError extends AuditWireError {}
/** The disk spool failed. */
class SpoolError extends AuditWireError {}
/** A client option is invalid, or no API key was given. */
class ConfigurationError extends AuditWireError {}
/**
 * The client shut down before the event was delivered: `outcome` is `'lost'` (no spool) or
 * `'spooled'` (on disk; the next client on that spool directory delivers it).
 * `idempotencyKey` is the key it was sent with: re-sending under it is safe.
 */
class NotDeliveredError extends AuditWireError {
  constructor(message, { outcome, attempts, idempotencyKey } = {}) {
    super(message);
    this.outcome = outcome;
    this.attempts = attempts;
    this.idempotencyKey = idempotencyKey;
  }
}
/**
 * Sent, but no answer came before the client shut down: the server may have stored it.
 * Re-send under `idempotencyKey` (the server deduplicates); `outcome` is `'in_doubt'`.
 */
class InDoubtError extends NotDeliveredError {}

/** An answer of the API (or a network failure on the way to it). */
class ApiException extends AuditWireError {
  constructor({ status, code, message, errors, requestID, rawData }) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.requestID = requestID;
    this.rawData = rawData;
  }
}
/** HTTP 400. */
class BadRequestException extends ApiException {}
/** HTTP 401. */
class UnauthorizedException extends ApiException {}
/** HTTP 404. */
class NotFoundException extends ApiException {}
/** HTTP 422. */
class UnprocessableEntityException extends ApiException {}
/** Any other failure: 5xx, 403, network errors and timeouts. */
class GenericServerException extends ApiException {}
/** HTTP 429 until the retry budget ran out; `retryAfter` in seconds. */
class RateLimitExceededException extends GenericServerException {
  constructor(fields) {
    super(fields);
    this.retryAfter = fields.retryAfter;
  }
}

const API_CLASSES = {
  BadRequestError: BadRequestException,
  AuthenticationError: UnauthorizedException,
  NotFoundError: NotFoundException,
  UnprocessableEntityError: UnprocessableEntityException,
  RateLimitExceededError: RateLimitExceededException,
};

/** The exception for a native API failure object. */
function apiError(f) {
  const Class = API_CLASSES[f.errorKind] || GenericServerException;
  return new Class({
    status: f.status ?? undefined,
    code: f.code ?? undefined,
    message: f.message,
    errors: f.errors ?? undefined,
    requestID: f.requestId ?? '',
    retryAfter: f.retryAfter ?? null,
    rawData: { kind: f.errorKind },
  });
}

/** The public error for an error thrown by the native addon (others pass through). */
function fromNative(e) {
  if (!(e instanceof Error) || !e.message.startsWith(TAG)) return e;
  const d = JSON.parse(e.message.slice(TAG.length));
  switch (d.kind) {
    case 'validation':
      return new ValidationError(
        d.message,
        d.problems.map((p) => ({ path: p.path, message: p.message, rule: p.rule })),
      );
    case 'api':
      return apiError(d);
    case 'queue_full':
      return new QueueFullError(d.message);
    case 'closed':
      return new ClosedError(d.message);
    case 'spool':
      return new SpoolError(d.message);
    default:
      return new ConfigurationError(d.message);
  }
}

module.exports = {
  AuditWireError,
  ValidationError,
  QueueFullError,
  ClosedError,
  SpoolError,
  ConfigurationError,
  NotDeliveredError,
  InDoubtError,
  ApiException,
  BadRequestException,
  UnauthorizedException,
  NotFoundException,
  UnprocessableEntityException,
  RateLimitExceededException,
  GenericServerException,
  apiError,
  fromNative,
};
