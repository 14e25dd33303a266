// Type-checked by typing.test.js (tsc --strict); not run.
import WorkOS, {
  AuditWire,
  BadRequestException,
  InDoubtError,
  NotDeliveredError,
  RateLimitExceededException,
  ValidationError,
  type OutcomeReport,
  type Receipt,
  type ShutdownReport,
  type Stats,
} from 'auditwire';

async function main(): Promise<void> {
  const workos = new WorkOS('sk_test', { apiHostname: 'localhost', https: false, port: 8787 });
  await workos.auditLogs.createEvent(
    'org_1',
    {
      action: 'user.signed_in',
      occurredAt: new Date(),
      version: 1,
      actor: { type: 'user', id: 'user_1', name: 'Jon', metadata: { role: 'admin' } },
      targets: [{ type: 'team', id: 'team_1' }],
      context: { location: '1.1.1.1', userAgent: 'Chrome' },
      metadata: { owner: 'user_2', at: new Date(), n: 1, ok: true },
    },
    { idempotencyKey: 'k1' },
  );
  await workos.auditLog.createEvent({
    group: 'organization_1',
    action: 'user.login',
    action_type: 'C',
    actor_name: 'user@email.com',
    actor_id: 'user_1',
    target_name: 'user@email.com',
    target_id: 'user_1',
    location: '1.1.1.1',
    occurred_at: new Date(0),
    metadata: {},
  });
  const client = new AuditWire({ apiKey: 'k', baseUrl: 'http://127.0.0.1:8787', shutdownTimeout: 1000, onOutcome: (o) => void o.outcome });
  const r: Receipt = client.auditLogs.emit('org_1', {
    action: 'a.b',
    occurred_at: '2026-01-01T00:00:00Z',
    actor: { id: 'u', type: 'user' },
    targets: [],
    context: { location: 'x' },
  });
  const d = await r.delivered;
  const attempts: number = d.attempts;
  const ex = await client.auditLogs.createExport({ organizationId: 'org_1', rangeStart: new Date(), rangeEnd: new Date() });
  const state: string = (await client.auditLogs.getExport(ex.id)).state;
  const schema = await client.auditLogs.createSchema({ action: 'a.b', targets: [{ type: 't', metadata: { n: 'number' } }] });
  const version: number = schema.version;
  const actions = await client.auditLogs.listActions({ limit: 5 });
  const names: string[] = actions.data.map((a) => a.name);
  const schemas = await client.auditLogs.listSchemas('a.b');
  const days = (await client.auditLogs.setRetention('org_1', 30)).retentionPeriodInDays;
  const same = await client.auditLogs.getRetention('org_1');
  const left: number = await client.flush(1000);
  const stats: Stats = client.stats();
  const report: ShutdownReport = await client.closeReport(1000);
  const undelivered: number = report.inDoubt + report.lost + report.spooled + stats.inDoubt + stats.lost;
  const onOutcome = (o: OutcomeReport): string | undefined => (o.outcome === 'in_doubt' ? o.idempotencyKey : undefined);
  try {
    await client.close(1000);
  } catch (e) {
    if (e instanceof InDoubtError) console.log(e.idempotencyKey, e.outcome === 'in_doubt');
    if (e instanceof NotDeliveredError) console.log(e.idempotencyKey, e.attempts, e.outcome);
    if (e instanceof ValidationError) console.log(e.errors.map((p) => `${p.path}: ${p.message}`));
    if (e instanceof RateLimitExceededException) console.log(e.retryAfter, e.requestID, e.status);
    if (e instanceof BadRequestException) console.log(e.code, e.errors);
  }
  console.log(undelivered, onOutcome, report.lastError, attempts, state, version, names, schemas.listMetadata.after, days, same, left, stats.delivered);
}

void main;
