import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { gongCallBody, gongTestKeyPair, gongTestToken, gongUrlTokenRequest, signedGongJwtRequest } from '../../src/integrations/gong/fixtures.ts';
import { pumpSignals } from '../../src/signals/pump.ts';
import { configureSource, createWorkspace, evaluationJobsFor, storedRows, webhookUrl } from './ingest-support.ts';

const tokenWs = 'gong-token';
const jwtWs = 'gong-jwt';
const tokenUrl = webhookUrl(tokenWs, 'gong');
const jwtUrl = webhookUrl(jwtWs, 'gong');

/** A call with its own id, linked to one opportunity. */
function call(id: string, dealId: string, isTest = false) {
  const body = gongCallBody({ isTest });
  const callData = body['callData'] as { metaData: Record<string, unknown>; context: { objects: { objectType: string; objectId: string }[] }[] };
  callData.metaData['id'] = id;
  callData.context[0]!.objects[1]!.objectId = dealId;
  return body;
}

describe('Gong ingestion through the real endpoint', async () => {
  const t = await createTestApp();
  const tokenRows = storedRows(t, tokenWs);
  const jwtRows = storedRows(t, jwtWs);
  const keys = gongTestKeyPair();
  const sendWithToken = (body: unknown, options: { token?: string; url?: string } = {}) =>
    injectWebhook(t.app, gongUrlTokenRequest({ body, url: options.url ?? tokenUrl, ...(options.token ? { token: options.token } : {}) }));

  beforeAll(async () => {
    await createWorkspace(t, tokenWs);
    await configureSource(t, tokenWs, 'gong', { mode: 'url_token', urlToken: gongTestToken });
    await createWorkspace(t, jwtWs);
    await configureSource(t, jwtWs, 'gong', { mode: 'signed_jwt', publicKey: keys.publicKeyPem });
  });

  describe('URL token mode', () => {
    it('accepts a call and stores call.completed plus the tracker signals', async () => {
      const res = await sendWithToken(call('1001', '0065e00000GongAAAA'));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true });
      const delivery = await tokenRows.lastDelivery();
      expect(delivery).toMatchObject({ status: 'accepted', event_count: 1, signal_count: 3 });
      const signals = await tokenRows.signalsOf(delivery.id);
      expect(signals.every((s) => s.deal_id === '0065e00000GongAAAA' && s.origin === 'live' && s.source === 'gong')).toBe(true);
      const byType = Object.fromEntries(signals.map((s) => [s.type, s.payload]));
      expect(Object.keys(byType).sort()).toEqual(['call.completed', 'conversation.competitor_mentioned', 'conversation.pricing_discussed']);
      expect(byType['conversation.competitor_mentioned']).toEqual({ competitor: 'Globex' });
      expect(byType['call.completed']).toMatchObject({
        callId: '1001',
        durationMinutes: 45.5,
        externalParticipants: 2,
        internalParticipants: 1,
        topExternalSeniority: 'executive',
      });
      expect(new Date(signals[0]!.occurred_at).toISOString()).toBe('2026-03-02T09:01:12.000Z');
    });

    it('refuses a wrong or missing token with 401 and stores nothing', async () => {
      const before = await tokenRows.deliveryCount();
      const wrong = await sendWithToken(call('1002', '0065e00000GongAAAA'), { token: 'gong-url-token-9999999999' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.body).not.toContain(gongTestToken);
      const missing = await t.app.inject({ method: 'POST', url: `/webhooks/${tokenWs}/gong`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(call('1002', 'x')) });
      expect(missing.statusCode).toBe(401);
      expect(await tokenRows.deliveryCount()).toBe(before);
    });

    it('dedupes a call per rule: the same call twice is a duplicate, another rule is a new event', async () => {
      const body = call('1003', '0065e00000GongBBBB');
      expect((await sendWithToken(body)).statusCode).toBe(200);
      expect((await sendWithToken(body)).statusCode).toBe(200);
      expect((await tokenRows.lastDelivery()).status).toBe('duplicate');
      await sendWithToken(body, { url: `${tokenUrl}?rule=pricing-calls` });
      expect(await tokenRows.lastDelivery()).toMatchObject({ status: 'accepted', signal_count: 3 });
    });

    it('records a test delivery but never turns its signals into an evaluation job', async () => {
      const res = await sendWithToken(call('1004', '0065e00000GongTEST', true));
      expect(res.statusCode).toBe(200);
      const delivery = await tokenRows.lastDelivery();
      expect(delivery).toMatchObject({ status: 'accepted', signal_count: 3 });
      const [event] = await tokenRows.eventsOf(delivery.id);
      expect(event).toMatchObject({ outcome: 'test' });
      const signals = await tokenRows.signalsOf(delivery.id);
      expect(new Set(signals.map((s) => s.origin))).toEqual(new Set(['test']));

      // A live call in the same batch of pending signals is the control: it does get a job.
      await sendWithToken(call('1005', '0065e00000GongLIVE'));
      // The app's own pump may hold these signals (skip locked) right now; let it finish first.
      await t.pump.idle();
      await pumpSignals(t.db);
      expect(await evaluationJobsFor(t, tokenWs, '0065e00000GongLIVE')).toBe(1);
      expect(await evaluationJobsFor(t, tokenWs, '0065e00000GongTEST')).toBe(0);
      const unpumped = (await tokenRows.signalsOf(delivery.id)).filter((s) => s.pumped_at === null);
      expect(unpumped).toHaveLength(0);
    });
  });

  describe('signed JWT mode', () => {
    const signed = (body: unknown, options: Partial<Parameters<typeof signedGongJwtRequest>[0]> = {}) =>
      signedGongJwtRequest({ body, privateKey: keys.privateKey, now: new Date(), url: jwtUrl, ...options });

    it('shows the configured public key back (it is not a secret) and accepts a signed call', async () => {
      const view = await t.app.inject({ url: `/api/workspaces/${jwtWs}/sources/gong`, headers: t.auth });
      expect(view.json().config).toMatchObject({ mode: 'signed_jwt' });

      const res = await injectWebhook(t.app, await signed(call('2001', '0065e00000GongJWTA')));
      expect(res.statusCode).toBe(200);
      const delivery = await jwtRows.lastDelivery();
      expect(delivery).toMatchObject({ status: 'accepted', signal_count: 3 });
      expect(delivery.headers).not.toHaveProperty('authorization');
    });

    it('tolerates a Bearer prefix', async () => {
      const res = await injectWebhook(t.app, await signed(call('2002', '0065e00000GongJWTA'), { bearer: true }));
      expect(res.statusCode).toBe(200);
    });

    it('refuses a JWT issued for another URL', async () => {
      const res = await injectWebhook(t.app, await signed(call('2003', 'x'), { webhookUrl: webhookUrl('someone-else', 'gong') }));
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('webhook_url');
      // The same JWT replayed to our URL for a different rule does not match either.
      const moved = await signed(call('2003', 'x'));
      const replayed = await injectWebhook(t.app, { ...moved, publicUrl: `${jwtUrl}?rule=other` });
      expect(replayed.statusCode).toBe(401);
    });

    it('refuses a JWT whose body hash is not the body', async () => {
      const res = await injectWebhook(t.app, await signed(call('2004', 'x'), { bodySha256: 'a'.repeat(64) }));
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('body_sha256');
      // A valid JWT with a body swapped underneath it.
      const original = await signed(call('2004', 'x'));
      const swapped = await injectWebhook(t.app, { ...original, rawBody: Buffer.from(JSON.stringify(call('2004', 'y'))) });
      expect(swapped.statusCode).toBe(401);
    });

    it('refuses an expired JWT, beyond the 60 s of allowed skew', async () => {
      const res = await injectWebhook(t.app, await signed(call('2005', 'x'), { now: new Date(Date.now() - 10 * 60_000), expiresInSeconds: 300 }));
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('expired');
      const withinSkew = await injectWebhook(t.app, await signed(call('2006', '0065e00000GongJWTA'), { now: new Date(Date.now() - 330_000), expiresInSeconds: 300 }));
      expect(withinSkew.statusCode).toBe(200);
    });

    it('refuses a JWT signed by another key, and a token mode request', async () => {
      const other = gongTestKeyPair();
      const res = await injectWebhook(t.app, await signed(call('2007', 'x'), { privateKey: other.privateKey }));
      expect(res.statusCode).toBe(401);
      const tokenOnly = await sendWithToken(call('2007', 'x'), { url: jwtUrl });
      expect(tokenOnly.statusCode).toBe(401);
      expect((await jwtRows.deliveries()).every((d) => !d.raw_body?.toString().includes('"2007"'))).toBe(true);
    });
  });
});
