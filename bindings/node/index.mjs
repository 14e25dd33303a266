// ESM entry: the CommonJS module's exports, with WorkOS as the default export.
import cjs from './index.js';

export const {
  AuditWire,
  WorkOS,
  validate,
  version,
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
} = cjs;
export default cjs.WorkOS;
