import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { storeDeliveries, storeDelivery, type DeliveryToStore } from '../../src/ingest/delivery-store.ts';
import { DeliveryWriter } from '../../src/ingest/delivery-writer.ts';
import type { EventOutcome, NormalizedEvent } from '../../src/integrations/webhook-source.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { expectConsistentLedger } from './ingest-support.ts';

/** A delivery of HubSpot-shaped events, each with one stage signal when accepted. */
function delivery(workspaceId: string, events: { id: string; outcome?: EventOutcome; deal?: string; reason?: string }[], extra: Partial<DeliveryToStore> = {}): DeliveryToStore {
  return {
    workspaceId,
    source: 'hubspot',
    contentType: 'application/json',
    headers: { 'content-type': 'application/json' },
    rawBody: Buffer.from(JSON.stringify(events.map((e) => e.id))),
    events: events.map((e): NormalizedEvent => ({
      vendorEventId: e.id,
      eventType: 'deal.propertyChange',
      outcome: e.outcome ?? 'accepted',
      ...(e.reason ? { reason: e.reason } : {}),
      signals: (e.outcome ?? 'accepted') === 'accepted'
        ? [{ dedupeKey: `hubspot:${e.id}`, dealId: e.deal ?? 'deal-1', type: 'crm.stage_changed', occurredAt: new Date('2026-11-20T10:00:00Z'), origin: 'live', payload: { stage: 'contractsent' } }]
        : [],
    })),
    ...extra,
  };
}

describe('group commit of webhook deliveries', async () => {
  const t = await createTestDatabase();
  const ws = 'batchco';
  const logger = createLogger({ level: 'silent' });
  const rowsOf = (ids: string[]) =>
    t.db.selectFrom('deliveries').select(['id', 'status', 'reason', 'event_count', 'signal_count', 'raw_body']).where('workspace_id', '=', ws).where('id', 'in', ids).orderBy('id').execute();
  /** The transaction that wrote each delivery: rows written by one statement share it. */
  const transactionsOf = async (ids: string[]) => {
    const rows = await sql<{ xmin: string }>`select xmin::text as xmin from deliveries where workspace_id = ${ws} and id = any(${ids}::bigint[])`.execute(t.db);
    return new Set(rows.rows.map((r) => r.xmin));
  };

  beforeAll(async () => {
    await t.db.insertInto('workspaces').values({ id: ws, name: 'Batch Co', mode: 'live' }).execute();
  });

  it('stores a mixed batch in one statement with the same statuses as one by one, in order', async () => {
    await storeDelivery(t.db, delivery(ws, [{ id: 'seen-1' }]));
    const batch = [
      delivery(ws, [{ id: 'm-1', deal: 'deal-a' }, { id: 'm-2', outcome: 'ignored', reason: 'not a tracked property' }]),
      delivery(ws, [{ id: 'seen-1' }]),
      delivery(ws, [{ id: 'm-3', outcome: 'ignored', reason: 'not a tracked property' }]),
      delivery(ws, [{ id: 'm-4', outcome: 'unattributed', reason: 'no deal' }]),
      delivery(ws, [], { rejectedReason: 'body failed the schema', bodyTruncated: true }),
    ];
    const stored = await storeDeliveries(t.db, batch);

    expect(stored.map((s) => [s.status, s.eventCount, s.signalCount])).toEqual([
      ['accepted', 2, 1],
      ['duplicate', 0, 0],
      ['ignored', 1, 0],
      ['unattributed', 1, 0],
      ['rejected', 0, 0],
    ]);
    const ids = stored.map((s) => s.id);
    expect(new Set(ids).size).toBe(5);
    const rows = await rowsOf(ids);
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows.map((r) => r.reason)).toEqual([
      'not a tracked property',
      'every event in this delivery was received before',
      'not a tracked property',
      'no deal',
      'body failed the schema',
    ]);
    // The raw body is kept for everything but the duplicate (the original delivery holds it).
    expect(rows.map((r) => r.raw_body === null)).toEqual([false, true, false, false, false]);
    expect(rows[0]!.raw_body!.toString()).toBe('["m-1","m-2"]');
    expect((await transactionsOf(ids)).size).toBe(1);
    await expectConsistentLedger(t, ws);
  });

  it('gives a vendor event carried by two deliveries of one batch to the first; the second is a duplicate', async () => {
    const stored = await storeDeliveries(t.db, [
      delivery(ws, [{ id: 'twice-1', deal: 'deal-b' }]),
      delivery(ws, [{ id: 'twice-1', deal: 'deal-b' }]),
      delivery(ws, [{ id: 'twice-1', deal: 'deal-b' }, { id: 'twice-2', deal: 'deal-b' }]),
      // The same event listed twice in one delivery is one event.
      delivery(ws, [{ id: 'twice-3', deal: 'deal-c' }, { id: 'twice-3', deal: 'deal-c' }]),
    ]);
    expect(stored.map((s) => [s.status, s.eventCount, s.signalCount])).toEqual([
      ['accepted', 1, 1],
      ['duplicate', 0, 0],
      // Partly new: only its new event counts and only that event's signal is stored.
      ['accepted', 1, 1],
      ['accepted', 1, 1],
    ]);
    const events = await t.db.selectFrom('delivery_events').select(['vendor_event_id', 'delivery_id']).where('workspace_id', '=', ws).where('vendor_event_id', 'in', ['twice-1', 'twice-2']).orderBy('vendor_event_id').execute();
    expect(events).toEqual([
      { vendor_event_id: 'twice-1', delivery_id: stored[0]!.id },
      { vendor_event_id: 'twice-2', delivery_id: stored[2]!.id },
    ]);
    const signals = await t.db.selectFrom('signals').select(['dedupe_key', 'delivery_id']).where('workspace_id', '=', ws).where('deal_id', '=', 'deal-b').orderBy('dedupe_key').execute();
    expect(signals).toEqual([
      { dedupe_key: 'hubspot:twice-1', delivery_id: stored[0]!.id },
      { dedupe_key: 'hubspot:twice-2', delivery_id: stored[2]!.id },
    ]);
    await expectConsistentLedger(t, ws);
  });

  it('writes deliveries that arrive while a statement is in flight together, answering each after its commit', async () => {
    const writer = new DeliveryWriter(t.db, logger, { pool: t.pool, maxInFlight: 1 });
    const settled: string[] = [];
    const pending = Array.from({ length: 8 }, (_, i) =>
      writer.store(delivery(ws, [{ id: `group-${i}`, deal: `deal-g${i}` }])).then(async (stored) => {
        // Answered only once committed: another connection already sees the row.
        const row = await t.db.selectFrom('deliveries').select('status').where('workspace_id', '=', ws).where('id', '=', stored.id).executeTakeFirst();
        settled.push(row?.status ?? 'missing');
        return stored;
      }),
    );
    const stored = await Promise.all(pending);
    await writer.idle();

    expect(stored.every((s) => s.status === 'accepted' && s.signalCount === 1)).toBe(true);
    expect(settled).toEqual(Array(8).fill('accepted'));
    // The first went alone; the seven that arrived meanwhile shared one statement.
    const ids = stored.map((s) => s.id);
    expect((await transactionsOf(ids.slice(1))).size).toBe(1);
    expect((await transactionsOf(ids)).size).toBe(2);
  });

  it('stores the others when one delivery of a batch cannot be stored, and fails only that one', async () => {
    const writer = new DeliveryWriter(t.db, logger, { pool: t.pool, maxInFlight: 1 });
    const first = writer.store(delivery(ws, [{ id: 'iso-0' }]));
    // These three wait for the first and form one batch; the middle one's workspace does not exist.
    const good1 = writer.store(delivery(ws, [{ id: 'iso-1', deal: 'deal-i' }]));
    const bad = writer.store(delivery('no-such-workspace', [{ id: 'iso-2' }]));
    const good2 = writer.store(delivery(ws, [{ id: 'iso-3', deal: 'deal-i' }]));

    const [r0, r1, rBad, r2] = await Promise.allSettled([first, good1, bad, good2]);
    await writer.idle();
    expect([r0.status, r1.status, rBad.status, r2.status]).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((rBad as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    const ids = [r0, r1, r2].map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id);
    expect((await rowsOf(ids)).map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const events = await t.db.selectFrom('delivery_events').select('vendor_event_id').where('vendor_event_id', 'like', 'iso-%').orderBy('vendor_event_id').execute();
    expect(events.map((e) => e.vendor_event_id)).toEqual(['iso-0', 'iso-1', 'iso-3']);
    await expectConsistentLedger(t, ws);
  });

  it('fails a delivery whose data cannot even be serialized before it joins a batch', async () => {
    const writer = new DeliveryWriter(t.db, logger, { pool: t.pool, maxInFlight: 1 });
    const broken = delivery(ws, [{ id: 'bad-date' }]);
    broken.events[0]!.signals[0]!.occurredAt = new Date(Number.NaN);
    expect(() => writer.store(broken)).toThrow(RangeError);
    const fine = await writer.store(delivery(ws, [{ id: 'after-bad-date' }]));
    expect(fine.status).toBe('accepted');
  });
});

describe('concurrent HubSpot deliveries through the endpoint', async () => {
  const t = await createTestApp();
  const ws = 'concurrent';
  const url = 'https://momentum.example.com/webhooks/hubspot';

  beforeAll(async () => {
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: 'Concurrent' } });
    const res = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/sources/hubspot`, headers: t.auth, payload: { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 } });
    expect(res.statusCode).toBe(200);
  });

  it('stores each of many simultaneous deliveries once and a redelivery racing its original as a duplicate', async () => {
    const send = (eventId: number) => injectWebhook(t.app, signedHubspotRequest({ body: [hubspotEvent({ eventId, objectId: 900 + (eventId % 5), propertyValue: 'contractsent' })], timestamp: Date.now(), url }));
    const eventIds = [...Array.from({ length: 30 }, (_, i) => 7000 + i), 7000, 7001, 7002];
    const answers = await Promise.all(eventIds.map(send));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(eventIds.length).fill(200));

    const byStatus = await sql<{ status: string; n: number }>`select status, count(*)::int as n from deliveries where workspace_id = ${ws} group by status order by status`.execute(t.db);
    expect(byStatus.rows).toEqual([{ status: 'accepted', n: 30 }, { status: 'duplicate', n: 3 }]);
    const signals = await sql<{ n: number }>`select count(*)::int as n from signals where workspace_id = ${ws}`.execute(t.db);
    expect(signals.rows[0]!.n).toBe(30);
    await t.pump.idle();
    await expectConsistentLedger(t, ws);
  });
});
