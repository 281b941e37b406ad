import { sql } from 'kysely';
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

/**
 * The same for several deals in one statement (a batch of evaluations): each deal's latest
 * signals, keyed by `workspaceId:dealId`.
 */
export async function loadSignalsOfDeals(db: Database | Tx, deals: ReadonlyArray<{ workspaceId: string; dealId: string }>): Promise<Map<string, Signal[]>> {
  const byDeal = new Map<string, Signal[]>(deals.map((d) => [`${d.workspaceId}:${d.dealId}`, []]));
  if (deals.length === 0) return byDeal;
  const result = await sql<SignalRow & { workspace_id: string }>`
    select s.workspace_id, s.id, s.deal_id, s.type, s.occurred_at, s.source, s.origin, s.payload
    from unnest(${deals.map((d) => d.workspaceId)}::text[], ${deals.map((d) => d.dealId)}::text[]) as k(workspace_id, deal_id)
    cross join lateral (
      select * from signals
      where workspace_id = k.workspace_id and deal_id = k.deal_id
      order by occurred_at desc, id desc
      limit ${DEAL_SIGNAL_LIMIT}
    ) s
  `.execute(db);
  for (const row of result.rows) byDeal.get(`${row.workspace_id}:${row.deal_id}`)!.push(toSignal(row));
  for (const signals of byDeal.values()) signals.reverse();
  return byDeal;
}
