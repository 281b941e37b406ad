import fc from 'fast-check';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import type { SignalPump } from '../../src/signals/pump.ts';
import { injectWebhook } from '../support/webhooks.ts';
import type { RawWebhookRequest } from '../../src/integrations/webhook-source.ts';
import { hubspotEvent, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { opportunityNotification, outboundMessageXml } from '../../src/integrations/salesforce/fixtures.ts';
import { gongCallBody, gongTestKeyPair, signedGongJwtRequest } from '../../src/integrations/gong/fixtures.ts';
import { configureSource, createWorkspace, expectConsistentLedger, storedRows, webhookUrl } from './ingest-support.ts';
import { allSecrets, applyCredentialMutation, credentialMutation, credentialOf, mutatedBody, vendorCases, withCredential, type VendorCase } from './endpoint-vendors.ts';

const ws = 'robust';
/** Runs per vendor; modest so the file stays quick on a shared machine. FUZZ_RUNS=1000 digs deeper. */
const runs = Number(process.env['FUZZ_RUNS'] ?? 100);
const emptyWs = 'robust-empty';
const jwtWs = 'robust-jwt';

/** Every answer this file receives, checked at the end for leaked secrets. */
const answers: string[] = [];

async function send(t: TestApp, req: RawWebhookRequest) {
  const res = await injectWebhook(t.app, req);
  answers.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
  return res;
}

const idlePump = { nudge: () => undefined, idle: () => Promise.resolve() } as unknown as SignalPump;

async function configureAll(t: TestApp, workspace: string) {
  await createWorkspace(t, workspace);
  // Salesforce appears twice (two formats, one source).
  for (const vendor of vendorCases.filter((v, i, all) => all.findIndex((w) => w.source === v.source) === i)) {
    await configureSource(t, workspace, vendor.source, vendor.config);
  }
}

describe('webhook endpoints under hostile input', async () => {
  // The pump is not under test here (the vendor files cover it); without it each request is cheaper.
  const t = await createTestApp({ deps: { pump: idlePump } });
  const rows = storedRows(t, ws);
  /** How many deliveries the workspace has, and the newest one's status, in one round trip. */
  const ledgerHead = async () => {
    const result = await sql<{ n: number; last: string | null }>`
      select count(*)::int as n, (select status from deliveries where workspace_id = ${ws} order by id desc limit 1) as last
      from deliveries where workspace_id = ${ws}
    `.execute(t.db);
    return result.rows[0]!;
  };
  const keys = gongTestKeyPair();

  beforeAll(async () => {
    await configureAll(t, ws);
    await createWorkspace(t, emptyWs);
    await createWorkspace(t, jwtWs);
    await configureSource(t, jwtWs, 'gong', { mode: 'signed_jwt', publicKey: keys.publicKeyPem });
  });

  describe.each(vendorCases)('$name', (vendor: VendorCase) => {
    it('accepts its valid signed request (the baseline every refusal below differs from)', async () => {
      const res = await send(t, await vendor.sign(ws, vendor.validBody()));
      expect(res.statusCode, res.body).toBe(200);
    });

    it('answers the wrong content type with 415 naming the expected type, storing nothing', async () => {
      const before = await rows.deliveryCount();
      const signed = await vendor.sign(ws, vendor.validBody());
      const res = await send(t, { ...signed, headers: { ...signed.headers, 'content-type': 'text/plain; charset=utf-8' } });
      expect(res.statusCode).toBe(415);
      expect(res.body).toContain(vendor.expectedType);
      expect(res.body).toContain('text/plain');
      expect(await rows.deliveryCount()).toBe(before);
    });

    it('answers 404 when the workspace has no such source configured, and for an unknown workspace', async () => {
      for (const workspace of [emptyWs, 'no-such-workspace']) {
        const res = await send(t, await vendor.sign(workspace, vendor.validBody()));
        expect(res.statusCode).toBe(404);
        expect(res.body).toContain(`No ${vendor.source} source is configured for workspace ${workspace}`);
      }
      const stored = await t.db.selectFrom('deliveries').select('id').where('workspace_id', '=', emptyWs).execute();
      expect(stored).toHaveLength(0);
    });

    it('keeps a body with NUL characters (raw, or escaped inside JSON strings) instead of failing with 500', async () => {
      // Postgres text/jsonb cannot hold U+0000: a raw NUL lands in the rejection reason, an escaped one in event fields.
      const raw = await send(t, await vendor.sign(ws, '\u0000'));
      expect(raw.statusCode, raw.body).toBe(400);
      expect((await rows.lastDelivery()).status).toBe('rejected');
      const valid = vendor.validBody();
      if (valid.startsWith('<')) {
        // XML 1.0 has no NUL, not even as a character reference: refused as a bad body, never a 500.
        const res = await send(t, await vendor.sign(ws, valid.replace('Negotiation', 'Negotiation&#0;')));
        expect([200, 400], res.body).toContain(res.statusCode);
        return;
      }
      const escaped = valid.replace(/(Negotiation|contractsent|Acme|Closed Won)/, '$1\\u0000');
      expect(escaped).toContain('\\u0000');
      const res = await send(t, await vendor.sign(ws, escaped));
      expect(res.statusCode, res.body).toBe(200);
      expect((await rows.lastDelivery()).status).not.toBe('rejected');
    });

    it('never answers 5xx to a validly signed body, whatever it holds, and never half-writes', async () => {
      // One query per run: the count is carried over from the previous run.
      let stored = (await ledgerHead()).n;
      await fc.assert(
        fc.asyncProperty(mutatedBody(vendor.validBody), async (body) => {
          const res = await send(t, await vendor.sign(ws, body));
          const after = await ledgerHead();
          const before = stored;
          stored = after.n;
          // Salesforce checks the org id a verified sender claims: a mutated one is a refusal.
          const orgRefusal = vendor.source === 'salesforce' && res.statusCode === 401 && res.body.includes('OrganizationId');
          if (orgRefusal) {
            expect(after.n).toBe(before);
            return;
          }
          expect([200, 400], `${res.statusCode} ${res.body}`).toContain(res.statusCode);
          expect(after.n).toBe(before + 1);
          expect(after.last === 'rejected').toBe(res.statusCode === 400);
        }),
        { numRuns: runs },
      );
      await expectConsistentLedger(t, ws);
    });

    it('answers 401 to every spoiled credential over a valid body, storing nothing', async () => {
      const before = await rows.deliveryCount();
      await fc.assert(
        fc.asyncProperty(credentialMutation, async (mutation) => {
          const signed = await vendor.sign(ws, vendor.validBody());
          const original = credentialOf(signed, vendor.credential);
          const spoiled = applyCredentialMutation(original, mutation);
          fc.pre(spoiled !== original);
          const res = await send(t, withCredential(signed, vendor.credential, spoiled));
          expect(res.statusCode, res.body).toBe(401);
        }),
        { numRuns: Math.ceil(runs / 2) },
      );
      expect(await rows.deliveryCount()).toBe(before);
    });
  });

  it('answers 401 to every spoiled Gong JWT (signed-JWT mode), storing nothing', async () => {
    const url = webhookUrl(jwtWs, 'gong');
    const body = gongCallBody();
    expect((await send(t, await signedGongJwtRequest({ body, privateKey: keys.privateKey, now: new Date(), url }))).statusCode).toBe(200);
    const before = await storedRows(t, jwtWs).deliveryCount();
    await fc.assert(
      fc.asyncProperty(credentialMutation, fc.boolean(), async (mutation, bearer) => {
        const signed = await signedGongJwtRequest({ body: gongCallBody({ callData: { metaData: { id: '42', duration: 60 } } }), privateKey: keys.privateKey, now: new Date(), url, bearer });
        const jwt = signed.headers['authorization']!.replace(/^Bearer /, '');
        const spoiled = applyCredentialMutation(jwt, mutation);
        fc.pre(spoiled !== jwt);
        const res = await send(t, withCredential(signed, { header: 'authorization' }, bearer ? `Bearer ${spoiled}` : spoiled));
        expect(res.statusCode, res.body).toBe(401);
      }),
      { numRuns: Math.ceil(runs / 2) },
    );
    expect(await storedRows(t, jwtWs).deliveryCount()).toBe(before);
  });

  it('handles a 100-event HubSpot batch with every event and signal stored', { timeout: 10_000 }, async () => {
    const events = Array.from({ length: 100 }, (_, i) => hubspotEvent({ eventId: 800_000 + i, objectId: 70_000 + i, propertyValue: 'closedwon' }));
    const res = await send(t, signedHubspotRequest({ body: events, timestamp: Date.now(), url: 'https://momentum.example.com/webhooks/hubspot' }));
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'accepted', event_count: 100, signal_count: 100 });
    const dealIds = new Set((await rows.signalsOf(delivery.id)).map((s) => s.deal_id));
    expect(dealIds.size).toBe(100);
  });

  it('handles a 100-notification Salesforce message with every notification stored', { timeout: 10_000 }, async () => {
    const notifications = Array.from({ length: 100 }, (_, i) => opportunityNotification({ Id: `0065e0000Big${String(i).padStart(3, '0')}AAA` }));
    const vendor = vendorCases.find((v) => v.name === 'salesforce outbound message')!;
    const res = await send(t, await vendor.sign(ws, outboundMessageXml({ notifications })));
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'accepted', event_count: 100 });
    expect(await rows.eventsOf(delivery.id)).toHaveLength(100);
    // Five deal fields per opportunity, each a signal.
    expect(delivery.signal_count).toBe(500);
    expect((await rows.signalsOf(delivery.id)).length).toBe(500);
  });

  it('refuses bodies over BODY_LIMIT_BYTES with 413 for every vendor, storing nothing', async () => {
    const small = await createTestApp({ env: { BODY_LIMIT_BYTES: '4096' } });
    await configureAll(small, ws);
    const padding = 'x'.repeat(5000);
    for (const vendor of vendorCases) {
      const valid = vendor.validBody();
      const oversized = valid.startsWith('<') ? valid.replace('<soapenv:Body>', `<soapenv:Body><!-- ${padding} -->`) : valid.replace(/^(\[?)\{/, `$1{"pad":"${padding}",`);
      expect(oversized.length).toBeGreaterThan(4096);
      const res = await send(small, await vendor.sign(ws, oversized));
      expect(res.statusCode, vendor.name).toBe(413);
      expect(res.json().error.code).toBe('body_too_large');
      // Just under the limit still goes through.
      expect((await send(small, await vendor.sign(ws, vendor.validBody()))).statusCode, vendor.name).toBe(200);
    }
    const refused = await sql<{ n: number }>`select count(*)::int as n from deliveries where octet_length(raw_body) > 4096`.execute(small.db);
    expect(refused.rows[0]!.n).toBe(0);
  });

  it('never shows a configured secret in any answer, nor in the source API', async () => {
    for (const source of ['hubspot', 'salesforce', 'docusign', 'pandadoc', 'gong']) {
      const res = await t.app.inject({ url: `/api/workspaces/${ws}/sources/${source}`, headers: t.auth });
      expect(res.statusCode).toBe(200);
      answers.push(res.body);
    }
    expect(answers.length).toBeGreaterThan(10 * runs);
    for (const secret of allSecrets) {
      const leaked = answers.find((answer) => answer.includes(secret));
      expect(leaked, `secret ${secret.slice(0, 4)}… leaked`).toBeUndefined();
    }
  });
});
