import { sql } from 'kysely';
import { makeRealisticDeal } from '../../../src/engine/bench-fixtures.ts';
import type { Database } from '../../../src/platform/db.ts';

/**
 * Inserts `count` realistic deals' signals (≈50 each, from the engine's bench fixtures) in bulk, as
 * if their webhooks had been received: unpumped, live, HubSpot. Times are shifted so each deal's
 * last signal happened an hour ago, as for a deal evaluated right after its latest activity.
 */
export async function insertRealisticDeals(db: Database, workspaceId: string, count: number, options: { firstSeed?: number } = {}): Promise<{ dealIds: string[]; signals: number }> {
  const now = Date.now();
  const dealIds: string[] = [];
  let batch: object[] = [];
  let signals = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await sql`
      insert into signals (workspace_id, deal_id, type, source, origin, occurred_at, payload, dedupe_key)
      select ${workspaceId}, s.deal_id, s.type, 'hubspot', 'live', s.occurred_at, s.payload, s.dedupe_key
      from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb)
        as s(deal_id text, type text, occurred_at timestamptz, payload jsonb, dedupe_key text)
    `.execute(db);
    signals += batch.length;
    batch = [];
  };
  for (let i = 0; i < count; i += 1) {
    const seed = (options.firstSeed ?? 1) + i;
    const fixture = makeRealisticDeal(seed);
    const dealId = String(9_000_000 + seed);
    const shift = now - 3_600_000 - fixture.signals.at(-1)!.occurredAt.getTime();
    fixture.signals.forEach((signal, n) => {
      batch.push({
        deal_id: dealId,
        type: signal.type,
        occurred_at: new Date(signal.occurredAt.getTime() + shift).toISOString(),
        payload: signal.payload,
        dedupe_key: `bench:${dealId}:${n}`,
      });
    });
    dealIds.push(dealId);
    if (batch.length >= 5000) await flush();
  }
  await flush();
  return { dealIds, signals };
}

/** A little fresh activity on each deal: the steady state, where a deal with history gets news. */
export async function insertFollowUpSignals(db: Database, workspaceId: string, dealIds: string[], perDeal: number): Promise<number> {
  const now = Date.now();
  const rows = dealIds.flatMap((dealId) =>
    Array.from({ length: perDeal }, (_, n) => ({
      deal_id: dealId,
      type: n % 2 === 0 ? 'activity.email' : 'activity.call',
      occurred_at: new Date(now - 60_000 + n * 1000).toISOString(),
      payload: n % 2 === 0 ? { direction: 'inbound' } : { durationMinutes: 20, direction: 'outbound' },
      dedupe_key: `bench:${dealId}:follow-up:${now}:${n}`,
    })),
  );
  for (let i = 0; i < rows.length; i += 5000) {
    await sql`
      insert into signals (workspace_id, deal_id, type, source, origin, occurred_at, payload, dedupe_key)
      select ${workspaceId}, s.deal_id, s.type, 'hubspot', 'live', s.occurred_at, s.payload, s.dedupe_key
      from jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + 5000))}::jsonb)
        as s(deal_id text, type text, occurred_at timestamptz, payload jsonb, dedupe_key text)
    `.execute(db);
  }
  return rows.length;
}
