import type { Database } from '../platform/db.ts';
import type { DeliveryStatus } from '../platform/schema.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { webhookAdapter } from '../integrations/registry.ts';
import { WebhookBodyError } from '../integrations/webhook-source.ts';
import { storeReplayedEvents } from './delivery-store.ts';
import { loadSourceConfig } from './source-config-store.ts';

export type ReplayResult =
  | { kind: 'not_found' }
  | { kind: 'no_body'; reason: string }
  | { kind: 'replayed'; status: DeliveryStatus; events: number; newEvents: number; newSignals: number };

/**
 * Processes a stored delivery again with today's parser and source settings. It was verified when
 * it arrived, so it is not verified again (the secret may have rotated since). Dedupe keys make a
 * replay add only what is missing.
 */
export async function replayDelivery(db: Database, box: SecretBox, workspaceId: string, deliveryId: string): Promise<ReplayResult> {
  const row = await db
    .selectFrom('deliveries')
    .select(['source', 'status', 'raw_body', 'body_truncated', 'headers', 'received_at'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', deliveryId)
    .executeTakeFirst();
  if (!row) return { kind: 'not_found' };
  if (!row.raw_body) return { kind: 'no_body', reason: 'has no stored body: it repeated an earlier delivery, which holds it' };
  if (row.body_truncated) return { kind: 'no_body', reason: 'kept only the first part of its body, which cannot be processed' };
  const adapter = webhookAdapter(row.source);
  const source = adapter ? await loadSourceConfig(db, box, adapter, workspaceId) : undefined;
  if (!adapter || !source) return { kind: 'no_body', reason: `cannot be replayed: its ${row.source} source is no longer configured` };

  const request = { method: 'POST', publicUrl: '', headers: row.headers, query: {}, rawBody: row.raw_body };
  let parsed: unknown;
  try {
    parsed = adapter.parse(request);
  } catch (error) {
    if (error instanceof WebhookBodyError) return { kind: 'replayed', status: row.status, events: 0, newEvents: 0, newSignals: 0 };
    throw error;
  }
  const normalized = adapter.normalize(parsed, source.config, { workspaceId, receivedAt: row.received_at });
  const stored = await storeReplayedEvents(db, { workspaceId, source: adapter.source, id: deliveryId }, normalized.events);
  // A delivery rejected by an older parser becomes accepted once its events are in.
  let status = row.status;
  if (row.status === 'rejected' && stored.newEvents > 0) {
    status = 'accepted';
    await db
      .updateTable('deliveries')
      .set({ status, reason: null, event_count: stored.newEvents, signal_count: stored.newSignals })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', deliveryId)
      .execute();
  } else if (stored.newEvents > 0 || stored.newSignals > 0) {
    // Whatever the replay added now points at this delivery; its counters must say so.
    await db
      .updateTable('deliveries')
      .set((eb) => ({ event_count: eb('event_count', '+', stored.newEvents), signal_count: eb('signal_count', '+', stored.newSignals) }))
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', deliveryId)
      .execute();
  }
  return { kind: 'replayed', status, events: normalized.events.length, ...stored };
}
