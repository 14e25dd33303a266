'use strict';
// Management requests and answers, shaped as @workos-inc/node shapes them.
const { timestamp } = require('./wire.js');

function iso(v) {
  return timestamp(v);
}

/** createExport options to the wire request. */
function exportRequest(o) {
  return {
    organization_id: o.organizationId ?? o.organization_id,
    range_start: iso(o.rangeStart ?? o.range_start),
    range_end: iso(o.rangeEnd ?? o.range_end),
    actions: o.actions,
    actor_names: o.actorNames ?? o.actor_names ?? o.actors,
    actor_ids: o.actorIds ?? o.actor_ids,
    targets: o.targets,
  };
}

function properties(metadata) {
  const out = {};
  for (const k of Object.keys(metadata || {})) out[k] = { type: metadata[k] };
  return out;
}

function jsonSchema(metadata) {
  return { type: 'object', properties: properties(metadata) };
}

/** createSchema options (`{action, actor, targets, metadata}`) to the wire request. */
function schemaRequest(s) {
  return {
    actor: { metadata: jsonSchema(s.actor && s.actor.metadata) },
    targets: (s.targets || []).map((t) => ({
      type: t.type,
      metadata: t.metadata ? jsonSchema(t.metadata) : undefined,
    })),
    metadata: s.metadata ? jsonSchema(s.metadata) : undefined,
  };
}

function fromJsonSchema(m) {
  const out = {};
  if (!m || !m.properties) return out;
  for (const k of Object.keys(m.properties)) out[k] = m.properties[k].type;
  return out;
}

function exportOf(d) {
  return {
    object: d.object,
    id: d.id,
    state: d.state,
    url: d.url ?? undefined,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
  };
}

function schemaOf(d) {
  return {
    object: d.object,
    version: d.version,
    targets: (d.targets || []).map((t) => ({
      type: t.type,
      metadata: t.metadata ? fromJsonSchema(t.metadata) : undefined,
    })),
    actor: d.actor ? { metadata: fromJsonSchema(d.actor.metadata) } : undefined,
    metadata: d.metadata ? fromJsonSchema(d.metadata) : undefined,
    createdAt: d.created_at,
  };
}

function actionOf(d) {
  return {
    object: d.object,
    name: d.name,
    schema: d.schema ? schemaOf(d.schema) : undefined,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
  };
}

function listOf(d, item) {
  const m = d.list_metadata || {};
  return {
    object: d.object,
    data: d.data.map(item),
    listMetadata: { before: m.before ?? null, after: m.after ?? null },
  };
}

function retentionOf(d) {
  return { retentionPeriodInDays: d.retention_period_in_days ?? null };
}

module.exports = {
  exportRequest,
  schemaRequest,
  exportOf,
  schemaOf,
  actionOf,
  listOf,
  retentionOf,
};
