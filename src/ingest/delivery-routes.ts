import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { conflict, notFound } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { decodeCursor, pageQuery, paginate } from '../http/pagination.ts';
import { requireWorkspace } from '../workspaces/workspace-access.ts';
import { workspaceId } from '../workspaces/workspace-routes.ts';
import { webhookSourceNames } from '../integrations/webhook-source.ts';
import { replayDelivery } from './replay-delivery.ts';
import { deliveryStatuses as statuses, listDeliveries } from './delivery-queries.ts';

const deliverySummary = z.object({
  id: z.string(),
  source: z.string(),
  status: z.enum(statuses),
  reason: z.string().nullable(),
  receivedAt: z.string(),
  contentType: z.string().nullable(),
  eventCount: z.number(),
  signalCount: z.number(),
  bodyBytes: z.number(),
  bodyTruncated: z.boolean(),
});

const deliveryDetail = deliverySummary.extend({
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable(),
  events: z.array(z.object({ vendorEventId: z.string(), eventType: z.string(), outcome: z.string(), reason: z.string().nullable() })),
});

const deliveryParams = z.object({ workspaceId, deliveryId: z.string().regex(/^\d{1,18}$/, 'delivery ids are numeric strings') });

export const deliveryRoutes: FastifyPluginAsync<{ db: Database; secretBox: SecretBox; onSignalsStored: () => void }> = async (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { db } = deps;

  const summaryColumns = [
    'id', 'source', 'status', 'reason', 'received_at', 'content_type', 'event_count', 'signal_count', 'body_truncated',
  ] as const;
  const toSummary = (row: {
    id: string; source: string; status: (typeof statuses)[number]; reason: string | null; received_at: Date;
    content_type: string | null; event_count: number; signal_count: number; body_truncated: boolean; body_bytes: number | null;
  }) => ({
    id: row.id,
    source: row.source,
    status: row.status,
    reason: row.reason,
    receivedAt: row.received_at.toISOString(),
    contentType: row.content_type,
    eventCount: row.event_count,
    signalCount: row.signal_count,
    bodyBytes: row.body_bytes ?? 0,
    bodyTruncated: row.body_truncated,
  });

  api.get('/workspaces/:workspaceId/deliveries', {
    schema: {
      summary: 'List webhook deliveries, newest first',
      security: [{ adminToken: [] }],
      params: z.object({ workspaceId }),
      querystring: pageQuery.extend({ status: z.enum(statuses).optional(), source: z.enum(webhookSourceNames).optional() }),
      response: { 200: z.object({ items: z.array(deliverySummary), nextCursor: z.string().nullable() }) },
    },
  }, async (request) => {
    const ws = request.params.workspaceId;
    await requireWorkspace(db, request, ws);
    const { limit, cursor, status, source } = request.query;
    const before = decodeCursor(cursor, z.string().regex(/^\d+$/));
    const rows = await listDeliveries(db, ws, { limit: limit + 1, beforeId: before, status, source });
    const page = paginate(rows, limit, (row) => row.id);
    return { items: page.items.map(toSummary), nextCursor: page.nextCursor };
  });

  api.get('/workspaces/:workspaceId/deliveries/:deliveryId', {
    schema: {
      summary: 'Read one delivery with its headers, body and vendor events',
      security: [{ adminToken: [] }],
      params: deliveryParams,
      response: { 200: deliveryDetail },
    },
  }, async (request) => {
    const { workspaceId: ws, deliveryId } = request.params;
    await requireWorkspace(db, request, ws);
    const row = await db
      .selectFrom('deliveries')
      .select([...summaryColumns, 'headers', 'raw_body'])
      .select((eb) => eb.fn<number>('octet_length', ['raw_body']).as('body_bytes'))
      .where('workspace_id', '=', ws)
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    if (!row) throw notFound(`Delivery ${deliveryId}`);
    const events = await db
      .selectFrom('delivery_events')
      .select(['vendor_event_id', 'event_type', 'outcome', 'reason'])
      .where('workspace_id', '=', ws)
      .where('delivery_id', '=', deliveryId)
      .orderBy('vendor_event_id')
      .execute();
    return {
      ...toSummary(row),
      headers: row.headers,
      body: row.raw_body ? row.raw_body.toString('utf8') : null,
      events: events.map((e) => ({ vendorEventId: e.vendor_event_id, eventType: e.event_type, outcome: e.outcome, reason: e.reason })),
    };
  });

  api.post('/workspaces/:workspaceId/deliveries/:deliveryId/replay', {
    schema: {
      summary: 'Process a stored delivery again; signals that already exist are not created twice',
      security: [{ adminToken: [] }],
      params: deliveryParams,
      response: {
        200: z.object({ deliveryId: z.string(), status: z.enum(statuses), events: z.number(), newEvents: z.number(), newSignals: z.number() }),
      },
    },
  }, async (request) => {
    const { workspaceId: ws, deliveryId } = request.params;
    await requireWorkspace(db, request, ws);
    const result = await replayDelivery(db, deps.secretBox, ws, deliveryId);
    if (result.kind === 'not_found') throw notFound(`Delivery ${deliveryId}`);
    if (result.kind === 'no_body') throw conflict('nothing_to_replay', `Delivery ${deliveryId} ${result.reason}`);
    if (result.newSignals > 0) deps.onSignalsStored();
    return { deliveryId, status: result.status, events: result.events, newEvents: result.newEvents, newSignals: result.newSignals };
  });
};
