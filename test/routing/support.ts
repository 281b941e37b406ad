import type { TestApp } from '../support/app.ts';
import type { Database } from '../../src/platform/db.ts';
import { json } from '../../src/platform/db.ts';
import { initialDealState } from '../../src/engine/state.ts';
import { loadRoutingDirectory, routeDeal } from '../../src/routing/routing-store.ts';
import type { RoutingOutcome } from '../../src/engine/types.ts';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export async function createWorkspace(t: TestApp, ws: string, mode: 'shadow' | 'live' = 'live'): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: ws, mode } });
  if (res.statusCode >= 300) throw new Error(`workspace ${ws}: ${res.body}`);
}

export async function putRouting(t: TestApp, ws: string, body: Record<string, unknown>): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/routing`, headers: t.auth, payload: body });
  if (res.statusCode !== 200) throw new Error(`routing: ${res.body}`);
}

export async function putPerson(t: TestApp, ws: string, ownerId: string, body: Record<string, unknown>): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/people/${ownerId}`, headers: t.auth, payload: body });
  if (res.statusCode !== 200) throw new Error(`person ${ownerId}: ${res.body}`);
}

/** An open deal row, as evaluate-deal leaves it, held by `ownerId`. */
export async function openDeal(db: Database, ws: string, dealId: string, ownerId: string | null, closed = false): Promise<void> {
  const state = { ...initialDealState(dealId, 'hubspot'), ownerId };
  await db
    .insertInto('deals')
    .values({ workspace_id: ws, deal_id: dealId, provider: 'hubspot', state: json(state), owner_id: ownerId, is_closed: closed })
    .execute();
}

/** Routes one deal in its own transaction, as the evaluate-deal job would. */
export async function route(
  db: Database,
  ws: string,
  dealId: string,
  opts: { fields?: Record<string, string | null>; currentOwnerId?: string | null; reassign?: boolean; fallback?: 'manager' | 'none'; now?: number } = {},
): Promise<RoutingOutcome> {
  return db.transaction().execute(async (tx) => {
    const dir = await loadRoutingDirectory(tx, ws, undefined, opts.now ?? Date.now());
    if (!dir) throw new Error('no routing directory');
    return routeDeal(tx, ws, dir, {
      dealId,
      decisionKey: `${dealId}/test/assign_owner/${Math.random()}`,
      ruleId: 'test-route',
      fields: opts.fields ?? {},
      currentOwnerId: opts.currentOwnerId ?? null,
      reassign: opts.reassign ?? false,
      fallback: opts.fallback ?? 'manager',
    });
  });
}

export async function insertSignal(db: Database, ws: string, dealId: string, type: string, at: Date, payload: Record<string, unknown>, origin = 'live'): Promise<void> {
  await db
    .insertInto('signals')
    .values({ workspace_id: ws, deal_id: dealId, type, source: 'hubspot', origin, occurred_at: at, payload: json(payload), dedupe_key: `${dealId}:${type}:${at.toISOString()}:${Math.random()}` })
    .execute();
}
