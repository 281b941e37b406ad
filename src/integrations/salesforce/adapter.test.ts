import { describe, expect, it } from 'vitest';
import { acknowledgeDelivery } from '../webhook-source.ts';
import { salesforceAdapter } from './adapter.ts';
import { opportunityNotification, outboundMessageXml, salesforceOutboundRequest, salesforceTestConfig, signedSalesforceFlowRequest } from './fixtures.ts';
import { outboundMessageAck } from './soap.ts';

const now = new Date('2026-03-02T10:00:00Z');

describe('salesforceAdapter', () => {
  const xmlRequest = salesforceOutboundRequest({ xml: outboundMessageXml({ notifications: [opportunityNotification()] }) });

  it('answers an accepted outbound message with the exact Ack envelope', async () => {
    expect(await salesforceAdapter.verify(xmlRequest, salesforceTestConfig(), now)).toMatchObject({ ok: true });
    const events = salesforceAdapter.normalize(salesforceAdapter.parse(xmlRequest), salesforceTestConfig(), { workspaceId: 'ws_1', receivedAt: now }).events;
    expect(events).toHaveLength(1);
    expect(acknowledgeDelivery(salesforceAdapter, { status: 'accepted' }, xmlRequest)).toEqual({
      statusCode: 200,
      contentType: 'text/xml; charset=utf-8',
      body: outboundMessageAck,
    });
    expect(outboundMessageAck).toContain('<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>');
  });

  it('answers a refused outbound message with a SOAP fault carrying the status', () => {
    const answer = acknowledgeDelivery(salesforceAdapter, { status: 'rejected', statusCode: 401, code: 'invalid_signature', message: "OrganizationId is not this workspace's <org>" }, xmlRequest);
    expect(answer.statusCode).toBe(401);
    expect(answer.contentType).toBe('text/xml; charset=utf-8');
    expect(answer.body).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(answer.body).toContain('<faultstring>OrganizationId is not this workspace&#39;s &#60;org&#62;</faultstring>');
  });

  it('answers JSON callouts in JSON', () => {
    const jsonRequest = signedSalesforceFlowRequest({ body: {} });
    expect(acknowledgeDelivery(salesforceAdapter, { status: 'accepted' }, jsonRequest)).toMatchObject({ statusCode: 200, contentType: 'application/json' });
  });

  it('accepts one token or a rotation list in its config', () => {
    const config = salesforceAdapter.configSchema.parse({ organizationId: '00D5e000000AbCd', urlToken: 'a-long-enough-token-value' });
    expect(config).toEqual({ organizationId: '00D5e000000AbCd', urlToken: ['a-long-enough-token-value'] });
    expect(salesforceAdapter.configSchema.safeParse({ organizationId: '00D5e000000AbCd', urlToken: 'short' }).success).toBe(false);
    expect(salesforceAdapter.secretFields).toEqual(['urlToken', 'flowCalloutSecret']);
  });
});
