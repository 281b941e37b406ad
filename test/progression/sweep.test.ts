import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';

const DAY = 86_400_000;

describe('time sweeps', async () => {
  const t = await createTestApp();
  const ws = 'sweepy';
  const dealId = '808';
  const sweep = (asOf?: Date) =>
    t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/sweep`, headers: t.auth, payload: asOf ? { asOf: asOf.toISOString() } : {} });
  const decisions = () => t.db.selectFrom('decisions').select(['rule_id', 'type', 'trigger']).where('deal_id', '=', dealId).execute();

  beforeAll(async () => {
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: 'Sweepy' } });
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/sources/hubspot`, headers: t.auth, payload: { clientSecrets: [hubspotTestSecret], appId: 1, portalId: 62515 } });
    const now = Date.now();
    await injectWebhook(t.app, signedHubspotRequest({
      body: [hubspotEvent({ eventId: 1, objectId: Number(dealId), propertyValue: 'qualifiedtobuy', occurredAt: now - DAY })],
      timestamp: now,
    }));
    await drainQueue(t);
  });

  it('does not queue a deal evaluated moments ago', async () => {
    const res = await sweep();
    expect(res.statusCode).toBe(202);
    expect(res.json().enqueued).toBe(0);
  });

  it('queues the deal once a time threshold has passed, and the engine raises the stale alert', async () => {
    expect((await decisions()).some((d) => d.rule_id === 'time-stale')).toBe(false);
    const later = new Date(Date.now() + 35 * DAY);
    const res = await sweep(later);
    expect(res.json()).toMatchObject({ enqueued: 1, asOf: later.toISOString() });
    await drainQueue(t);
    const stale = (await decisions()).find((d) => d.rule_id === 'time-stale');
    expect(stale).toMatchObject({ type: 'raise_alert', trigger: 'time' });
    // Evaluated as of that instant: the same sweep finds nothing more to do.
    expect((await sweep(later)).json().enqueued).toBe(0);
  });

  it('never queues closed deals', async () => {
    await t.db.updateTable('deals').set({ is_closed: true }).where('deal_id', '=', dealId).execute();
    expect((await sweep(new Date(Date.now() + 400 * DAY))).json().enqueued).toBe(0);
  });
});
