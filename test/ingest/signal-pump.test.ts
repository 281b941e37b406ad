import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { storeDelivery } from '../../src/ingest/delivery-store.ts';
import { SignalPump } from '../../src/signals/pump.ts';

describe('the web role signal pump under a stream of nudges', async () => {
  const t = await createTestDatabase();
  const ws = 'pumpco';
  const intervalMs = 1000;
  const pump = new SignalPump(t.db, createLogger({ level: 'silent' }), { minIntervalMs: intervalMs });

  /** Stores one delivery with one live stage signal and says when its signal was pumped (null: not yet). */
  const storeSignal = async (id: string) => {
    await storeDelivery(t.db, {
      workspaceId: ws, source: 'hubspot', contentType: 'application/json', headers: {}, rawBody: Buffer.from('[]'),
      events: [{ vendorEventId: id, eventType: 'deal.propertyChange', outcome: 'accepted', signals: [{ dedupeKey: `hubspot:${id}`, dealId: `deal-${id}`, type: 'crm.stage_changed', occurredAt: new Date(), origin: 'live', payload: { stage: 'contractsent' } }] }],
    });
  };
  const pumpedAt = async (id: string) =>
    (await t.db.selectFrom('signals').select('pumped_at').where('workspace_id', '=', ws).where('dedupe_key', '=', `hubspot:${id}`).executeTakeFirstOrThrow()).pumped_at;

  beforeAll(async () => {
    await t.db.insertInto('workspaces').values({ id: ws, name: 'Pump Co', mode: 'live' }).execute();
  });

  it('pumps at once after a quiet spell, then no sooner than the interval, one run for every nudge in between', async () => {
    await storeSignal('a');
    const firstNudge = Date.now();
    pump.nudge();
    await pump.idle();
    const a = (await pumpedAt('a'))!;
    expect(a).not.toBeNull();

    // Right after a run: the next waits out the interval, and nudges meanwhile join it.
    await storeSignal('b');
    pump.nudge();
    await storeSignal('c');
    pump.nudge();
    await storeSignal('d');
    pump.nudge();
    await pump.idle();
    const [b, c, d] = [(await pumpedAt('b'))!, (await pumpedAt('c'))!, (await pumpedAt('d'))!];
    expect(b.getTime() - firstNudge).toBeGreaterThanOrEqual(intervalMs);
    expect([c.getTime(), d.getTime()]).toEqual([b.getTime(), b.getTime()]);

    // After a quiet spell longer than the interval it runs at once again.
    await new Promise((resolve) => setTimeout(resolve, intervalMs + 50));
    await storeSignal('e');
    const lateNudge = Date.now();
    pump.nudge();
    await pump.idle();
    expect((await pumpedAt('e'))!.getTime() - lateNudge).toBeLessThan(intervalMs);
  });
});
