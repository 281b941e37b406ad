import type { Database, Tx } from '../platform/db.ts';
import type { Signal, SignalOrigin, SignalSource, SignalType } from './catalogue.ts';

/** A deal's history is read in full up to this many signals (the newest); the engine's memory covers older ones. */
export const DEAL_SIGNAL_LIMIT = 2000;

type SignalRow = { id: string; deal_id: string; type: string; occurred_at: Date | string; source: string; origin: string; payload: Record<string, unknown> };

export function toSignal(row: SignalRow): Signal {
  return {
    id: String(row.id),
    dealId: row.deal_id,
    type: row.type as SignalType,
    occurredAt: new Date(row.occurred_at),
    source: row.source as SignalSource,
    origin: row.origin as SignalOrigin,
    payload: row.payload as Signal['payload'],
  };
}

/** A deal's signals in the order the engine applies them: by time, then by arrival. */
export async function loadDealSignals(db: Database | Tx, workspaceId: string, dealId: string, options: { until?: Date } = {}): Promise<Signal[]> {
  let query = db
    .selectFrom('signals')
    .select(['id', 'deal_id', 'type', 'occurred_at', 'source', 'origin', 'payload'])
    .where('workspace_id', '=', workspaceId)
    .where('deal_id', '=', dealId)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(DEAL_SIGNAL_LIMIT);
  if (options.until) query = query.where('occurred_at', '<=', options.until);
  const rows = await query.execute();
  return rows.reverse().map(toSignal);
}
