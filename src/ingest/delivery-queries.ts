import type { Database } from '../platform/db.ts';
import type { DeliveryStatus } from '../platform/schema.ts';
import type { WebhookSourceName } from '../integrations/webhook-source.ts';

export const deliveryStatuses = ['accepted', 'duplicate', 'ignored', 'unattributed', 'rejected'] as const satisfies readonly DeliveryStatus[];

export interface DeliverySummaryRow {
  id: string;
  source: string;
  status: DeliveryStatus;
  reason: string | null;
  received_at: Date;
  content_type: string | null;
  event_count: number;
  signal_count: number;
  body_truncated: boolean;
  body_bytes: number | null;
}

/** Deliveries newest first, without their bodies; `limit` rows at most (ask one more to page). */
export async function listDeliveries(
  db: Database,
  workspaceId: string,
  filter: { limit: number; beforeId?: string | undefined; status?: DeliveryStatus | undefined; source?: WebhookSourceName | undefined },
): Promise<DeliverySummaryRow[]> {
  let query = db
    .selectFrom('deliveries')
    .select(['id', 'source', 'status', 'reason', 'received_at', 'content_type', 'event_count', 'signal_count', 'body_truncated'])
    .select((eb) => eb.fn<number>('octet_length', ['raw_body']).as('body_bytes'))
    .where('workspace_id', '=', workspaceId)
    .orderBy('id', 'desc')
    .limit(filter.limit);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.source) query = query.where('source', '=', filter.source);
  if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
  return query.execute();
}

/** How many deliveries each source had since a moment, by status. */
export async function countDeliveries(db: Database, workspaceId: string, since: Date): Promise<Map<string, Record<DeliveryStatus, number>>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['source', 'status'])
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('workspace_id', '=', workspaceId)
    .where('received_at', '>=', since)
    .groupBy(['source', 'status'])
    .execute();
  const counts = new Map<string, Record<DeliveryStatus, number>>();
  for (const row of rows) {
    const bySource = counts.get(row.source) ?? { accepted: 0, duplicate: 0, ignored: 0, unattributed: 0, rejected: 0 };
    bySource[row.status] = Number(row.count);
    counts.set(row.source, bySource);
  }
  return counts;
}
