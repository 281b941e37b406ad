import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { pandadocDocumentData, pandadocEvent, pandadocTestDocumentId, pandadocTestKey, signedPandadocRequest } from '../../src/integrations/pandadoc/fixtures.ts';
import { configureSource, createWorkspace, storedRows, webhookUrl } from './ingest-support.ts';

const ws = 'pd-acme';
const url = webhookUrl(ws, 'pandadoc');

let minute = 10;
/** A document state change with its own date_modified, so only deliberate repeats share a dedupe key. */
const stateChange = (status: string, metadata: Record<string, unknown> = { deal_id: 'D-200' }) =>
  pandadocEvent('document_state_changed', pandadocDocumentData({ status, metadata, date_modified: `2026-03-02T10:${String(minute++).padStart(2, '0')}:00.000000Z` }));

describe('PandaDoc ingestion through the real endpoint', async () => {
  const t = await createTestApp();
  const rows = storedRows(t, ws);
  const send = (body: unknown, options: { key?: string; eventId?: string } = {}) =>
    injectWebhook(t.app, signedPandadocRequest({ body, url, ...options }));

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await configureSource(t, ws, 'pandadoc', { sharedKeys: [pandadocTestKey] });
  });

  it('turns a completed document with a metadata deal id into proposal.completed', async () => {
    const res = await send([stateChange('document.completed')]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true });
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'accepted', event_count: 1, signal_count: 1 });
    const [signal] = await rows.signalsOf(delivery.id);
    expect(signal).toMatchObject({ deal_id: 'D-200', type: 'proposal.completed', origin: 'live', source: 'pandadoc' });
    expect(signal!.payload).toEqual({ documentId: pandadocTestDocumentId, name: 'Acme - Proposal 2026', amount: 48000 });
    const [event] = await rows.eventsOf(delivery.id);
    expect(event).toMatchObject({ event_type: 'document_state_changed:document.completed', outcome: 'accepted' });
  });

  it('reads the signature from the signature query parameter only', async () => {
    const signed = signedPandadocRequest({ body: [stateChange('document.sent')], url });
    const signature = signed.query['signature']!;
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    // The same valid signature moved to a header is not looked at.
    const inHeader = await injectWebhook(t.app, { ...signed, publicUrl: url, headers: { ...signed.headers, 'x-pandadoc-signature': signature }, query: {} });
    expect(inHeader.statusCode).toBe(401);
    expect(inHeader.json().error.message).toContain('signature query parameter');
    // An uppercase spelling of the right value is refused too: the comparison is exact.
    const upper = await injectWebhook(t.app, { ...signed, publicUrl: `${url}?signature=${signature.toUpperCase()}` });
    expect(upper.statusCode).toBe(401);
    expect((await injectWebhook(t.app, signed)).statusCode).toBe(200);
  });

  it('refuses a wrong signature with 401 and stores nothing', async () => {
    const before = await rows.deliveryCount();
    const res = await send([stateChange('document.paid')], { key: 'another-shared-key-0000' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_signature');
    expect(res.body).not.toContain(pandadocTestKey);
    expect(await rows.deliveryCount()).toBe(before);
  });

  it('dedupes on X-PandaDoc-Webhook-Event-Id: the same id twice is a duplicate', async () => {
    const first = await send([stateChange('document.viewed', { deal_id: 'D-201' })], { eventId: 'evt-7f1c' });
    expect(first.statusCode).toBe(200);
    expect((await rows.lastDelivery()).status).toBe('accepted');
    const signalsBefore = (await rows.signals()).length;
    // A retry with the same header; the body differs (a later date_modified) but the header is the identity.
    const again = await send([stateChange('document.viewed', { deal_id: 'D-201' })], { eventId: 'evt-7f1c' });
    expect(again.statusCode).toBe(200);
    expect(await rows.lastDelivery()).toMatchObject({ status: 'duplicate', raw_body: null });
    expect((await rows.signals()).length).toBe(signalsBefore);

    // Another event id with the same body is a new event.
    await send([stateChange('document.viewed', { deal_id: 'D-201' })], { eventId: 'evt-8a2d' });
    expect((await rows.lastDelivery()).status).toBe('accepted');
    const stored = await rows.eventsOf((await rows.lastDelivery()).id);
    expect(stored.map((e) => e.vendor_event_id)).toEqual(['evt-8a2d:0']);
  });

  it('records an unknown event as ignored without failing the batch', async () => {
    const res = await send([pandadocEvent('quote_updated', { id: 'q-1', whatever: [1, 2, 3] })]);
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'ignored', signal_count: 0 });
    expect(delivery.reason).toContain('quote_updated');

    const mixed = await send([pandadocEvent('quote_updated', { id: 'q-2' }), stateChange('document.approved', { deal_id: 'D-202' })]);
    expect(mixed.statusCode).toBe(200);
    const last = await rows.lastDelivery();
    expect(last).toMatchObject({ status: 'accepted', event_count: 2, signal_count: 1 });
  });

  it('answers malformed JSON with 400 naming the problem and keeps the delivery as rejected', async () => {
    const body = '[{"event":"document_state_changed","data":{"id":"x"';
    const res = await send(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'malformed_body' });
    expect(res.json().error.message).toContain('not valid JSON');
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'rejected', event_count: 0 });
    expect(delivery.reason).toContain('not valid JSON');
    expect(delivery.raw_body?.toString('utf8')).toBe(body);
  });

  it('answers a schema problem with 400 and the path of the first bad field', async () => {
    const res = await send([pandadocEvent('document_state_changed', pandadocDocumentData({ status: 42 }))]);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_body');
    expect(res.json().error.message).toContain('[0].data.status');
    expect((await rows.lastDelivery()).status).toBe('rejected');
  });
});
