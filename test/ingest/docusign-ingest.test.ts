import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { docusignMessage, docusignTestEnvelopeId, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import type { DocusignMessageOptions } from '../../src/integrations/docusign/fixtures.ts';
import { configureSource, createWorkspace, storedRows, webhookUrl } from './ingest-support.ts';

const ws = 'ds-acme';
const url = webhookUrl(ws, 'docusign');
const newKey = 'rotated-connect-key-9876543210';

let second = 10;
/** Every message gets its own generatedDateTime, so only deliberate repeats share a dedupe key. */
const message = (options: DocusignMessageOptions = {}) =>
  docusignMessage({ generatedDateTime: `2026-03-02T10:00:${String(second++).padStart(2, '0')}.0000000Z`, ...options });

describe('DocuSign Connect ingestion through the real endpoint', async () => {
  const t = await createTestApp();
  const rows = storedRows(t, ws);
  const send = (body: unknown, keys?: string[]) => injectWebhook(t.app, signedDocusignRequest({ body, url, ...(keys ? { keys } : {}) }));

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await configureSource(t, ws, 'docusign', { hmacKeys: [docusignTestKey] });
  });

  it('accepts a completed envelope with a deal id custom field as esign.completed', async () => {
    const res = await send(message({ event: 'envelope-completed', customFields: { dealId: 'D-100' } }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true });
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'accepted', event_count: 1, signal_count: 1 });
    const [signal] = await rows.signalsOf(delivery.id);
    expect(signal).toMatchObject({ deal_id: 'D-100', type: 'esign.completed', origin: 'live', source: 'docusign' });
    expect(signal!.payload).toEqual({ documentId: docusignTestEnvelopeId, name: 'Please sign: Acme MSA' });
  });

  it('matches the deal id field name case-insensitively, in the configured order', async () => {
    const res = await send(message({ event: 'envelope-sent', customFields: { HUBSPOT_DEAL_ID: 'H-1', OpportunityId: '0065e00000OppDsgAAA' } }));
    expect(res.statusCode).toBe(200);
    const [signal] = await rows.signalsOf((await rows.lastDelivery()).id);
    // opportunityId comes before hubspot_deal_id in the default dealIdFields.
    expect(signal).toMatchObject({ type: 'esign.sent', deal_id: '0065e00000OppDsgAAA' });
  });

  it('accepts a delivery whose second signature header matches the rotated key', async () => {
    await configureSource(t, ws, 'docusign', { hmacKeys: [newKey] });
    try {
      const body = message({ event: 'envelope-delivered', customFields: { dealId: 'D-101' } });
      const request = signedDocusignRequest({ body, url, keys: [docusignTestKey, newKey] });
      expect(request.headers['x-docusign-signature-2']).toBeDefined();
      const res = await injectWebhook(t.app, request);
      expect(res.statusCode).toBe(200);
      expect((await rows.lastDelivery()).status).toBe('accepted');

      // Signed only with the retired key: refused.
      const old = await send(message({ customFields: { dealId: 'D-101' } }), [docusignTestKey]);
      expect(old.statusCode).toBe(401);
    } finally {
      await configureSource(t, ws, 'docusign', { hmacKeys: [docusignTestKey] });
    }
  });

  it('refuses a wrong signature with 401 and stores nothing', async () => {
    const before = await rows.deliveryCount();
    const res = await send(message({ customFields: { dealId: 'D-102' } }), ['some-other-connect-key']);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_signature');
    expect(res.body).not.toContain(docusignTestKey);

    // A valid signature over different bytes is just as wrong.
    const signed = signedDocusignRequest({ body: message({ customFields: { dealId: 'D-102' } }), url });
    const tampered = await injectWebhook(t.app, { ...signed, rawBody: Buffer.from(signed.rawBody.toString().replace('D-102', 'D-666')) });
    expect(tampered.statusCode).toBe(401);
    expect(await rows.deliveryCount()).toBe(before);
  });

  it('records an event Momentum does not use as ignored, with a reason', async () => {
    const res = await send(message({ event: 'envelope-purge', customFields: { dealId: 'D-103' } }));
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'ignored', signal_count: 0 });
    expect(delivery.reason).toContain('envelope-purge');
    expect(await rows.signalsOf(delivery.id)).toHaveLength(0);
  });

  it('records an envelope without a deal id field as unattributed, with a reason', async () => {
    const res = await send(message({ event: 'envelope-completed', customFields: {} }));
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'unattributed', signal_count: 0 });
    expect(delivery.reason).toMatch(/no envelope custom field named dealId/);
  });

  it('records a redelivery as a duplicate and adds no signal', async () => {
    const body = message({ event: 'envelope-declined', customFields: { dealId: 'D-104' } });
    expect((await send(body)).statusCode).toBe(200);
    const signalsBefore = (await rows.signals()).length;
    // Connect's retries carry the same event identity; a re-serialized body (different bytes) too.
    const res = await send({ ...body, retryCount: 1 });
    expect(res.statusCode).toBe(200);
    expect(await rows.lastDelivery()).toMatchObject({ status: 'duplicate', raw_body: null, signal_count: 0 });
    expect((await rows.signals()).length).toBe(signalsBefore);
  });

  it('keeps recipient-completed events of different recipients apart', async () => {
    const generatedDateTime = '2026-03-02T11:00:00.0000000Z';
    await send(docusignMessage({ event: 'recipient-completed', recipientId: '1', generatedDateTime, customFields: { dealId: 'D-105' } }));
    await send(docusignMessage({ event: 'recipient-completed', recipientId: '2', generatedDateTime, customFields: { dealId: 'D-105' } }));
    const signals = (await rows.signals()).filter((s) => s.deal_id === 'D-105');
    expect(signals.map((s) => s.payload)).toEqual([
      { documentId: docusignTestEnvelopeId, name: 'Please sign: Acme MSA', recipientEmail: 'cfo@acme.example' },
      { documentId: docusignTestEnvelopeId, name: 'Please sign: Acme MSA', recipientEmail: 'legal@acme.example' },
    ]);
  });
});
