import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import {
  opportunityNotification,
  outboundMessageXml,
  salesforceOutboundRequest,
  salesforceTestCalloutSecret,
  salesforceTestConfig,
  salesforceTestIntegrationUser,
  salesforceTestOrgId,
  salesforceTestToken,
  signedSalesforceFlowRequest,
} from '../../src/integrations/salesforce/fixtures.ts';
import { outboundMessageAck } from '../../src/integrations/salesforce/soap.ts';
import { configureSource, createWorkspace, storedRows, webhookUrl } from './ingest-support.ts';

const ws = 'sf-acme';
const url = webhookUrl(ws, 'salesforce');

describe('Salesforce ingestion through the real endpoint', async () => {
  const t = await createTestApp();
  const rows = storedRows(t, ws);
  const sendXml = (xml: string, token?: string) =>
    injectWebhook(t.app, salesforceOutboundRequest({ xml, url, ...(token === undefined ? {} : { token }) }));
  const sendFlow = (body: unknown, secret?: string) =>
    injectWebhook(t.app, signedSalesforceFlowRequest({ body, url, ...(secret === undefined ? {} : { secret }) }));

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await configureSource(t, ws, 'salesforce', salesforceTestConfig());
  });

  it('acknowledges an outbound message with the exact Ack envelope and stores its signals', async () => {
    const notification = opportunityNotification({ Id: '0065e00000OppAckAAA' });
    const res = await sendXml(outboundMessageXml({ notifications: [notification] }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toBe(outboundMessageAck);

    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'accepted', source: 'salesforce', event_count: 1 });
    const signals = await rows.signalsOf(delivery.id);
    expect(delivery.signal_count).toBe(signals.length);
    const byType = Object.fromEntries(signals.map((s) => [s.type, s]));
    expect(Object.keys(byType).sort()).toEqual([
      'crm.amount_changed', 'crm.close_date_changed', 'crm.owner_changed', 'crm.probability_changed', 'crm.stage_changed',
    ]);
    expect(byType['crm.stage_changed']).toMatchObject({ deal_id: '0065e00000OppAckAAA', origin: 'live', source: 'salesforce' });
    expect(byType['crm.stage_changed']!.payload).toEqual({ stage: 'Negotiation/Review' });
    expect(byType['crm.amount_changed']!.payload).toEqual({ amount: 48000 });
    expect(byType['crm.close_date_changed']!.payload).toEqual({ closeDate: '2026-06-30' });
    expect(new Date(byType['crm.stage_changed']!.occurred_at).toISOString()).toBe('2026-03-02T09:58:00.000Z');
  });

  it('acknowledges a redelivery but records it as a duplicate with no new signals', async () => {
    const xml = outboundMessageXml({ notifications: [opportunityNotification({ Id: '0065e00000OppDupAAA', StageName: 'Prospecting' })] });
    expect((await sendXml(xml)).statusCode).toBe(200);
    const signalsBefore = (await rows.signals()).length;

    const again = await sendXml(xml);
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(outboundMessageAck);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'duplicate', event_count: 0, signal_count: 0, raw_body: null });
    expect((await rows.signals()).length).toBe(signalsBefore);
  });

  it('refuses a wrong URL token with 401 and stores nothing', async () => {
    const before = await rows.deliveryCount();
    const res = await sendXml(outboundMessageXml({ notifications: [opportunityNotification()] }), 'not-the-token-at-all');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(res.body).not.toContain(salesforceTestToken);
    expect(await rows.deliveryCount()).toBe(before);
  });

  it('refuses a message from another org with a 401 SOAP fault and stores nothing', async () => {
    const before = { deliveries: await rows.deliveryCount(), signals: (await rows.signals()).length };
    const res = await sendXml(outboundMessageXml({ organizationId: '00D5e000000ZzZzEAF', notifications: [opportunityNotification({ Id: '0065e00000OppOrgAAA' })] }));
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toMatch(/<soapenv:Fault><faultcode>soapenv:Client<\/faultcode><faultstring>[^<]*OrganizationId/);
    expect(res.body).not.toContain('<Ack>');
    expect(await rows.deliveryCount()).toBe(before.deliveries);
    expect((await rows.signals()).length).toBe(before.signals);
  });

  it('stores all 100 notifications of a full message as one delivery', async () => {
    const notifications = Array.from({ length: 100 }, (_, i) =>
      opportunityNotification({ Id: `0065e0000Opp${String(i).padStart(3, '0')}AAA`, StageName: 'Closed Won' }),
    );
    const res = await sendXml(outboundMessageXml({ notifications }));
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'accepted', event_count: 100 });
    expect(await rows.eventsOf(delivery.id)).toHaveLength(100);
    const stageSignals = (await rows.signalsOf(delivery.id)).filter((s) => s.type === 'crm.stage_changed');
    expect(new Set(stageSignals.map((s) => s.deal_id)).size).toBe(100);
    expect(delivery.signal_count).toBe((await rows.signalsOf(delivery.id)).length);
  });

  it('marks changes made by the integration user (compared on 15 characters) as echoes', async () => {
    // Same 15-character id, a different 3-character suffix: still the same user.
    const sameUser = `${salesforceTestIntegrationUser.slice(0, 15)}xyz`;
    const res = await sendXml(outboundMessageXml({ notifications: [opportunityNotification({ Id: '0065e00000OppEchAAA', LastModifiedById: sameUser })] }));
    expect(res.statusCode).toBe(200);
    const delivery = await rows.lastDelivery();
    expect(delivery.status).toBe('accepted');
    const signals = await rows.signalsOf(delivery.id);
    expect(signals.length).toBeGreaterThan(0);
    expect(new Set(signals.map((s) => s.origin))).toEqual(new Set(['echo']));
    const [event] = await rows.eventsOf(delivery.id);
    expect(event).toMatchObject({ outcome: 'echo', reason: 'last modified by the integration user' });
  });

  it('answers malformed XML with a 400 fault and keeps the delivery as rejected', async () => {
    const xml = '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications>';
    const res = await sendXml(xml);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(res.body).toContain('well-formed XML');
    const delivery = await rows.lastDelivery();
    expect(delivery).toMatchObject({ status: 'rejected', event_count: 0, signal_count: 0 });
    expect(delivery.reason).toContain('well-formed XML');
    expect(delivery.raw_body?.toString('utf8')).toBe(xml);
  });

  it('refuses a DOCTYPE (entity expansion) as malformed, never expanding it', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>${outboundMessageXml({ notifications: [opportunityNotification()] }).replace(/^<\?xml[^>]*>/, '')}`;
    const res = await sendXml(xml);
    expect(res.statusCode).toBe(400);
    expect((await rows.lastDelivery()).status).toBe('rejected');
  });

  it('accepts a signed Flow JSON callout and answers in JSON', async () => {
    const body = {
      organizationId: salesforceTestOrgId,
      events: [{
        id: 'a0B5e00000XyZ-flow-1',
        object: 'Opportunity',
        fields: { Id: '0065e00000OppFloAAA', StageName: 'Proposal/Price Quote', Amount: 52000, LastModifiedById: '0055e000000OwnrAAA' },
        occurredAt: '2026-03-03T10:00:00Z',
      }],
    };
    const res = await sendFlow(body);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ received: true });
    const delivery = await rows.lastDelivery();
    expect(delivery.status).toBe('accepted');
    const signals = await rows.signalsOf(delivery.id);
    expect(signals.map((s) => [s.type, s.payload])).toEqual(expect.arrayContaining([
      ['crm.stage_changed', { stage: 'Proposal/Price Quote' }],
      ['crm.amount_changed', { amount: 52000 }],
    ]));
    expect(signals.every((s) => s.deal_id === '0065e00000OppFloAAA' && new Date(s.occurred_at).toISOString() === '2026-03-03T10:00:00.000Z')).toBe(true);
  });

  it('refuses a Flow callout with a wrong HMAC with a 401 in JSON and stores nothing', async () => {
    const before = await rows.deliveryCount();
    const body = { organizationId: salesforceTestOrgId, events: [{ id: 'x-2', object: 'Opportunity', fields: { Id: '0065e00000OppFl2AAA' }, occurredAt: '2026-03-03T10:00:00Z' }] };
    const res = await sendFlow(body, 'wrong-flow-secret-0123456789');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_signature');
    expect(res.body).not.toContain(salesforceTestCalloutSecret);
    expect(await rows.deliveryCount()).toBe(before);
  });
});
