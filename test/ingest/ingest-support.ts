import { sql } from 'kysely';
import { expect } from 'vitest';
import type { TestApp } from '../support/app.ts';
import type { WebhookSourceName } from '../../src/integrations/webhook-source.ts';

/** Shared plumbing for the ingestion tests: set a workspace up through the admin API, then read what was stored. */

export const publicBase = 'https://momentum.example.com';

export const webhookUrl = (ws: string, source: WebhookSourceName, query = '') => `${publicBase}/webhooks/${ws}/${source}${query}`;

export async function createWorkspace(t: TestApp, ws: string): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: ws } });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

export async function configureSource(t: TestApp, ws: string, source: WebhookSourceName, config: unknown): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/sources/${source}`, headers: t.auth, payload: config as object });
  expect(res.statusCode, res.body).toBe(200);
}

export function storedRows(t: TestApp, ws: string) {
  return {
    deliveries: () => t.db.selectFrom('deliveries').selectAll().where('workspace_id', '=', ws).orderBy('id').execute(),
    lastDelivery: () => t.db.selectFrom('deliveries').selectAll().where('workspace_id', '=', ws).orderBy('id', 'desc').executeTakeFirstOrThrow(),
    deliveryCount: async () => (await t.db.selectFrom('deliveries').select('id').where('workspace_id', '=', ws).execute()).length,
    signals: () => t.db.selectFrom('signals').selectAll().where('workspace_id', '=', ws).orderBy('id').execute(),
    signalsOf: (deliveryId: string) =>
      t.db.selectFrom('signals').selectAll().where('workspace_id', '=', ws).where('delivery_id', '=', deliveryId).orderBy('id').execute(),
    eventsOf: (deliveryId: string) =>
      t.db.selectFrom('delivery_events').selectAll().where('workspace_id', '=', ws).where('delivery_id', '=', deliveryId).orderBy('vendor_event_id').execute(),
  };
}

/** Evaluation jobs the pump queued for a deal (at most one: the job key coalesces them). */
export async function evaluationJobsFor(t: TestApp, ws: string, dealId: string): Promise<number> {
  const jobs = await sql<{ key: string }>`select key from graphile_worker.jobs where key = ${`evaluate:${ws}:${dealId}`}`.execute(t.db);
  return jobs.rows.length;
}

/**
 * Nothing half-written: every delivery has an allowed status, and the counts it records are the
 * rows that really point at it (a partial write would leave them disagreeing).
 */
export async function expectConsistentLedger(t: Pick<TestApp, 'db'>, ws: string): Promise<void> {
  const rows = await sql<{ id: string; status: string; event_count: number; signal_count: number; events: number; signals: number; has_body: boolean }>`
    select d.id, d.status, d.event_count, d.signal_count, d.raw_body is not null as has_body,
           (select count(*)::int from delivery_events e where e.workspace_id = d.workspace_id and e.delivery_id = d.id) as events,
           (select count(*)::int from signals s where s.workspace_id = d.workspace_id and s.delivery_id = d.id) as signals
    from deliveries d where d.workspace_id = ${ws}
  `.execute(t.db);
  for (const row of rows.rows) {
    expect(['accepted', 'duplicate', 'ignored', 'unattributed', 'rejected']).toContain(row.status);
    expect({ id: row.id, signals: row.signals, events: row.events }).toEqual({ id: row.id, signals: row.signal_count, events: row.event_count });
    if (row.status === 'rejected') expect({ id: row.id, events: row.events, body: row.has_body }).toEqual({ id: row.id, events: 0, body: true });
    if (row.status === 'duplicate') expect({ id: row.id, events: row.events, body: row.has_body }).toEqual({ id: row.id, events: 0, body: false });
  }
  const orphans = await sql<{ n: number }>`
    select count(*)::int as n from signals s
    where s.workspace_id = ${ws} and not exists (select 1 from deliveries d where d.workspace_id = s.workspace_id and d.id = s.delivery_id)
  `.execute(t.db);
  expect(orphans.rows[0]!.n).toBe(0);
}
