'use strict';
// auditwire: WorkOS audit logs for Node.js, backed by a Rust core.
const { AuditWire, WorkOS } = require('./lib/client.js');
const errors = require('./lib/errors.js');
const native = require('./lib/native.js');

/** Validates an event body (or a v1 event with `{legacy: true}`); returns the wire JSON. */
function validate(input, options) {
  const legacy = !!(options && options.legacy);
  let text;
  if (typeof input === 'string' || Buffer.isBuffer(input)) text = input;
  else if (legacy) text = require('./lib/wire.js').legacy(input);
  else if (input !== null && typeof input === 'object' && 'event' in input) {
    text = JSON.stringify({ ...input, event: require('./lib/wire.js').event(input.event) });
  } else text = JSON.stringify(input);
  try {
    return native.validate(Buffer.from(text), legacy);
  } catch (e) {
    throw errors.fromNative(e);
  }
}

module.exports = {
  AuditWire,
  WorkOS,
  default: WorkOS,
  validate,
  version: native.version(),
  AuditWireError: errors.AuditWireError,
  ValidationError: errors.ValidationError,
  QueueFullError: errors.QueueFullError,
  ClosedError: errors.ClosedError,
  SpoolError: errors.SpoolError,
  ConfigurationError: errors.ConfigurationError,
  NotDeliveredError: errors.NotDeliveredError,
  InDoubtError: errors.InDoubtError,
  ApiException: errors.ApiException,
  BadRequestException: errors.BadRequestException,
  UnauthorizedException: errors.UnauthorizedException,
  NotFoundException: errors.NotFoundException,
  UnprocessableEntityException: errors.UnprocessableEntityException,
  RateLimitExceededException: errors.RateLimitExceededException,
  GenericServerException: errors.GenericServerException,
};
