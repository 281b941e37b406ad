import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { pumpSignals } from '../../src/signals/pump.ts';

const ws = 'acme';
const appUrl = 'https://momentum.example.com/webhooks/hubspot';

describe('HubSpot ingestion through the real endpoint', async () => {
  const t = await createTestApp();
  const deliveries = () => t.db.selectFrom('deliveries').selectAll().where('workspace_id', '=', ws).orderBy('id').execute();
  const signals = () => t.db.selectFrom('signals').selectAll().where('workspace_id', '=', ws).orderBy('id').execute();
  const send = (body: unknown, options: { secret?: string; timestamp?: number; url?: string } = {}) =>
    injectWebhook(t.app, signedHubspotRequest({ body, timestamp: options.timestamp ?? Date.now(), url: options.url ?? appUrl, ...(options.secret ? { secret: options.secret } : {}) }));

  beforeAll(async () => {
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: 'Acme' } });
    const res = await t.app.inject({
      method: 'PUT',
      url: `/api/workspaces/${ws}/sources/hubspot`,
      headers: t.auth,
      payload: { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 },
    });
    expect(res.statusCode).toBe(200);
  });

  it('never shows a configured secret back', async () => {
    const res = await t.app.inject({ url: `/api/workspaces/${ws}/sources/hubspot`, headers: t.auth });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(hubspotTestSecret);
    expect(res.json()).toMatchObject({
      source: 'hubspot',
      webhookUrl: 'https://momentum.example.com/webhooks/hubspot',
      config: { appId: '54321', portalId: '62515' },
      secrets: { clientSecrets: { set: true, count: 1 } },
    });
    const stored = await t.db.selectFrom('sources').select('secrets').executeTakeFirstOrThrow();
    expect(stored.secrets).not.toContain(hubspotTestSecret);
  });

  it('accepts a signed stage change, stores it with its signal, and a redelivery adds nothing', async () => {
    const body = [hubspotEvent({ eventId: 5001, objectId: 111, propertyValue: 'presentationscheduled' })];
    const first = await send(body);
    expect(first.statusCode).toBe(200);
    const second = await send(body);
    expect(second.statusCode).toBe(200);

    const rows = (await deliveries()).slice(-2);
    expect(rows.map((d) => d.status)).toEqual(['accepted', 'duplicate']);
    expect(rows[1]!.raw_body).toBeNull();
    const stageSignals = (await signals()).filter((s) => s.deal_id === '111');
    expect(stageSignals).toHaveLength(1);
    expect(stageSignals[0]).toMatchObject({ type: 'crm.stage_changed', origin: 'live', source: 'hubspot' });
    expect(stageSignals[0]!.payload).toMatchObject({ stage: 'presentationscheduled' });
  });

  it('routes by portal on the per-workspace URL too', async () => {
    const res = await send([hubspotEvent({ eventId: 5002, objectId: 112 })], { url: `https://momentum.example.com/webhooks/${ws}/hubspot` });
    expect(res.statusCode).toBe(200);
  });

  it('refuses a wrong signature with 401 and stores nothing', async () => {
    const before = (await deliveries()).length;
    const res = await send([hubspotEvent({ eventId: 5003 })], { secret: 'not-the-secret' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_signature');
    expect(res.body).not.toContain(hubspotTestSecret);
    expect((await deliveries()).length).toBe(before);
  });

  it('refuses stale and future timestamps', async () => {
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const res = await send([hubspotEvent({ eventId: 5004 })], { timestamp: Date.now() + offset });
      expect(res.statusCode).toBe(401);
    }
  });

  it('accepts the second secret during a rotation', async () => {
    await t.app.inject({
      method: 'PUT',
      url: `/api/workspaces/${ws}/sources/hubspot`,
      headers: t.auth,
      payload: { clientSecrets: [hubspotTestSecret, 'rotated-secret'], appId: 54321, portalId: 62515 },
    });
    const res = await send([hubspotEvent({ eventId: 5005, objectId: 113 })], { secret: 'rotated-secret' });
    expect(res.statusCode).toBe(200);
  });

  it('answers 415 for the wrong media type', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/webhooks/${ws}/hubspot`, headers: { 'content-type': 'text/plain' }, payload: '[]' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.message).toContain('application/json');
  });

  it('keeps a verified body that fails the schema as rejected and answers 400 with the path', async () => {
    const res = await send([{ ...hubspotEvent({ eventId: 5006 }), occurredAt: 'yesterday' }], { url: `https://momentum.example.com/webhooks/${ws}/hubspot` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('occurredAt');
    const last = (await deliveries()).at(-1)!;
    expect(last.status).toBe('rejected');
    expect(last.raw_body?.toString()).toContain('yesterday');
  });

  it('records unknown event types as ignored and echoes of our own writes as echoes', async () => {
    const res = await send([
      hubspotEvent({ eventId: 5007, subscriptionType: 'ticket.creation', objectId: 7 }),
    ]);
    expect(res.statusCode).toBe(200);
    expect((await deliveries()).at(-1)!.status).toBe('ignored');

    await send([hubspotEvent({ eventId: 5008, objectId: 114, changeSource: 'INTEGRATION', sourceId: '54321' })]);
    const echo = (await signals()).find((s) => s.deal_id === '114');
    expect(echo?.origin).toBe('echo');
  });

  it('answers 404 for a portal no workspace owns, and for an unknown source', async () => {
    const res = await send([hubspotEvent({ eventId: 5009, portalId: 999 })]);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('unknown_portal');
    const unknown = await t.app.inject({ method: 'POST', url: `/webhooks/${ws}/zendesk`, headers: { 'content-type': 'application/json' }, payload: '[]' });
    expect(unknown.statusCode).toBe(404);
  });

  it('lists deliveries with filters and pages, and replays one without duplicating signals', async () => {
    const page = await t.app.inject({ url: `/api/workspaces/${ws}/deliveries?status=accepted&limit=1`, headers: t.auth });
    expect(page.statusCode).toBe(200);
    const listed = page.json();
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0].status).toBe('accepted');
    expect(listed.nextCursor).toEqual(expect.any(String));

    const signalCount = (await signals()).length;
    const id = listed.items[0].id;
    const replay = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/deliveries/${id}/replay`, headers: t.auth });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ newEvents: 0, newSignals: 0 });
    expect((await signals()).length).toBe(signalCount);

    const detail = await t.app.inject({ url: `/api/workspaces/${ws}/deliveries/${id}`, headers: t.auth });
    expect(detail.json().events.length).toBeGreaterThan(0);
    expect(detail.json().headers['x-hubspot-signature-v3']).toBeUndefined();
  });

  it('turns new signals into one evaluation job per deal', async () => {
    await send([
      hubspotEvent({ eventId: 6001, objectId: 200, propertyName: 'amount', propertyValue: '1000' }),
      hubspotEvent({ eventId: 6002, objectId: 200, propertyName: 'dealstage', propertyValue: 'qualifiedtobuy' }),
      hubspotEvent({ eventId: 6003, objectId: 201, propertyName: 'dealstage', propertyValue: 'qualifiedtobuy' }),
    ]);
    // The app pumps on its own right after the commit; wait for it, then pump whatever is left.
    await t.pump.idle();
    await pumpSignals(t.db);
    const jobs = await sql<{ key: string }>`select key from graphile_worker.jobs where key like ${`evaluate:${ws}:20%`} order by key`.execute(t.db);
    expect(jobs.rows.map((j) => j.key)).toEqual([`evaluate:${ws}:200`, `evaluate:${ws}:201`]);
    const unpumped = await t.db.selectFrom('signals').select('id').where('pumped_at', 'is', null).execute();
    expect(unpumped).toHaveLength(0);
  });
});
