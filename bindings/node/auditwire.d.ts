// Public types of `auditwire` (hand-written; native/index.d.ts is napi's generated file).

export type MetadataValue = string | number | boolean | Date;
export type Metadata = Record<string, MetadataValue>;

export interface AuditLogActor {
  id: string;
  type: string;
  name?: string;
  metadata?: Metadata;
}

export interface AuditLogTarget {
  id: string;
  type: string;
  name?: string;
  metadata?: Metadata;
}

/** A current-API event; camelCase (`occurredAt`, `context.userAgent`) or snake_case. */
export interface CreateAuditLogEventOptions {
  action: string;
  occurredAt?: Date | string;
  occurred_at?: Date | string;
  version?: number;
  actor: AuditLogActor;
  targets: AuditLogTarget[];
  context: { location: string; userAgent?: string; user_agent?: string };
  metadata?: Metadata;
}

export interface CreateAuditLogEventRequestOptions {
  idempotencyKey?: string;
}

/** A v1 event of `@workos-inc/js`. */
export interface LegacyEvent {
  group: string;
  action: string;
  action_type: 'C' | 'R' | 'U' | 'D';
  actor_name: string;
  actor_id: string;
  target_name: string;
  target_id: string;
  location: string;
  occurred_at: Date | string;
  metadata?: Metadata;
}

export interface Delivery {
  outcome: 'delivered';
  attempts: number;
  status: number | null;
  requestID: string;
}

/** What `emit` returns. */
export interface Receipt {
  readonly idempotencyKey: string;
  readonly organizationId: string;
  /** Resolves when delivered; rejects with the API's error otherwise. */
  readonly delivered: Promise<Delivery>;
}

/**
 * How an accepted event ended: `in_doubt` (sent, no answer before shutdown: the server may
 * have it; re-send under `idempotencyKey`), `lost` (shutdown, no spool), `spooled` (shutdown,
 * kept on disk for the next client on that spool directory).
 */
export type Outcome = 'delivered' | 'rejected' | 'expired' | 'in_doubt' | 'lost' | 'spooled';

export interface OutcomeReport {
  outcome: Outcome;
  attempts: number;
  organizationId: string;
  idempotencyKey: string;
  status?: number;
  requestID: string;
  error?: Error;
}

export interface AuditWireOptions {
  apiKey?: string;
  baseUrl?: string;
  /** Like `@workos-inc/node`: host, scheme and port of the API. */
  apiHostname?: string;
  https?: boolean;
  port?: number;
  clientId?: string;
  /** Per-request timeout in milliseconds. */
  timeout?: number;
  maxRetries?: number;
  /** Requests in flight at once, each on its own keep-alive connection (default 4). */
  workers?: number;
  queueCapacity?: number;
  overflow?: 'reject' | 'block' | 'spill';
  /** Longest wait under `overflow: 'block'`, in milliseconds. */
  blockTimeout?: number;
  spoolDir?: string;
  /** Trust only the CA certificates in this PEM file (a private or self-signed server). */
  caFile?: string;
  /** Longest delivery wait at close or exit, in milliseconds. */
  shutdownTimeout?: number;
  userAgentSuffix?: string;
  legacyEndpoint?: 'current' | 'v1';
  onOutcome?: (report: OutcomeReport) => void;
}

export interface AuditLogExport {
  object: 'audit_log_export';
  id: string;
  state: 'pending' | 'ready' | 'error' | 'expired';
  url?: string;
  createdAt: string;
  updatedAt: string;
}

export interface AuditLogExportOptions {
  organizationId: string;
  rangeStart: Date | string;
  rangeEnd: Date | string;
  actions?: string[];
  actorNames?: string[];
  actorIds?: string[];
  targets?: string[];
}

export type SchemaMetadata = Record<string, 'string' | 'number' | 'boolean'>;

export interface CreateAuditLogSchemaOptions {
  action: string;
  actor?: { metadata: SchemaMetadata };
  targets: { type: string; metadata?: SchemaMetadata }[];
  metadata?: SchemaMetadata;
}

export interface AuditLogSchema {
  object: 'audit_log_schema';
  version: number;
  targets: { type: string; metadata?: SchemaMetadata }[];
  actor?: { metadata: SchemaMetadata };
  metadata?: SchemaMetadata;
  createdAt: string;
}

export interface AuditLogAction {
  object: 'audit_log_action';
  name: string;
  schema?: AuditLogSchema;
  createdAt: string;
  updatedAt: string;
}

export interface List<T> {
  object: 'list';
  data: T[];
  listMetadata: { before: string | null; after: string | null };
}

export interface ListOptions {
  limit?: number;
  order?: 'asc' | 'desc' | 'normal';
  before?: string;
  after?: string;
}

export interface AuditLogsRetention {
  retentionPeriodInDays: number | null;
}

/** The delivery counters; `accepted + adopted` = the outcomes + `queued + inFlight`. */
export interface Stats {
  accepted: number;
  queued: number;
  inFlight: number;
  delivered: number;
  retried: number;
  rejected: number;
  expired: number;
  /** Sent without an answer before shutdown: the server may have stored them. */
  inDoubt: number;
  /** Not delivered at shutdown, no spool. */
  lost: number;
  /** Left in the spool at shutdown: the next client on that directory delivers them. */
  spooled: number;
  adopted: number;
  deliveredLate: number;
  refusedInvalid: number;
  refusedQueueFull: number;
  refusedClosed: number;
  pending: number;
}

/** What `closeReport` resolves with. */
export interface ShutdownReport {
  /** `spooled + lost + inDoubt`. */
  remaining: number;
  spooled: number;
  lost: number;
  inDoubt: number;
  /** The failure of the last failed attempt. */
  lastError: string | undefined;
}

export declare class AuditLogs {
  createEvent(
    organizationId: string,
    event: CreateAuditLogEventOptions,
    options?: CreateAuditLogEventRequestOptions,
  ): Promise<void>;
  emit(
    organizationId: string,
    event: CreateAuditLogEventOptions,
    options?: CreateAuditLogEventRequestOptions,
  ): Receipt;
  createExport(options: AuditLogExportOptions): Promise<AuditLogExport>;
  getExport(auditLogExportId: string): Promise<AuditLogExport>;
  createSchema(schema: CreateAuditLogSchemaOptions): Promise<AuditLogSchema>;
  listActions(options?: ListOptions): Promise<List<AuditLogAction>>;
  listSchemas(action: string, options?: ListOptions): Promise<List<AuditLogSchema>>;
  getRetention(organizationId: string): Promise<AuditLogsRetention>;
  setRetention(organizationId: string, days: number): Promise<AuditLogsRetention>;
}

export declare class AuditLog {
  createEvent(event: LegacyEvent, options?: CreateAuditLogEventRequestOptions): Promise<void>;
  emit(event: LegacyEvent, options?: CreateAuditLogEventRequestOptions): Receipt;
}

export declare class AuditWire {
  constructor(apiKey?: string, options?: AuditWireOptions);
  constructor(options?: AuditWireOptions);
  readonly auditLogs: AuditLogs;
  readonly auditLog: AuditLog;
  readonly baseUrl: string;
  readonly clientId: string | undefined;
  flush(timeoutMs?: number): Promise<number>;
  /** Resolves with how many events were not delivered (`closeReport().remaining`). */
  close(timeoutMs?: number): Promise<number>;
  /** Like `close`, resolving with where the undelivered events are. */
  closeReport(timeoutMs?: number): Promise<ShutdownReport>;
  stats(): Stats;
}

export declare class WorkOS extends AuditWire {}
export default WorkOS;

export declare function validate(
  input: string | Buffer | object,
  options?: { legacy?: boolean },
): string;
export declare const version: string;

export interface Problem {
  path: string;
  message: string;
  rule: string;
}

export declare class AuditWireError extends Error {}
export declare class ValidationError extends AuditWireError {
  status: undefined;
  code: 'validation_error';
  errors: Problem[];
  requestID: string;
}
export declare class QueueFullError extends AuditWireError {}
export declare class ClosedError extends AuditWireError {}
export declare class SpoolError extends AuditWireError {}
export declare class ConfigurationError extends AuditWireError {}
/** The client shut down before the event was delivered (`lost` or `spooled`). */
export declare class NotDeliveredError extends AuditWireError {
  outcome: 'in_doubt' | 'lost' | 'spooled';
  attempts: number;
  /** Re-sending under this key is safe: the server deduplicates. */
  idempotencyKey: string;
}
/** Sent, but no answer before shutdown: the server may have stored it. */
export declare class InDoubtError extends NotDeliveredError {
  outcome: 'in_doubt';
}
export declare class ApiException extends AuditWireError {
  status: number | undefined;
  code: string | undefined;
  errors: unknown;
  requestID: string;
  rawData: unknown;
}
export declare class BadRequestException extends ApiException {}
export declare class UnauthorizedException extends ApiException {}
export declare class NotFoundException extends ApiException {}
export declare class UnprocessableEntityException extends ApiException {}
export declare class GenericServerException extends ApiException {}
export declare class RateLimitExceededException extends GenericServerException {
  retryAfter: number | null;
}
