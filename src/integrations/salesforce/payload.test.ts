import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookBodyError } from '../webhook-source.ts';
import { opportunityNotification, outboundMessageXml, salesforceOutboundRequest, salesforceTestOrgId, signedSalesforceFlowRequest } from './fixtures.ts';
import { parseSalesforceDelivery } from './payload.ts';

function bodyError(run: () => unknown): WebhookBodyError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookBodyError) return error;
    throw error;
  }
  throw new Error('expected a WebhookBodyError');
}

const parseXml = (xml: string) => parseSalesforceDelivery(salesforceOutboundRequest({ xml }));

describe('parseSalesforceDelivery: outbound messages', () => {
  it('reads notifications whatever the namespace prefixes, with nil fields as null', () => {
    const xml = outboundMessageXml({ notifications: [opportunityNotification({ Amount: null, Name: 'Acme & Co <EU>' }, '04l5e0000000001AAA')] });
    const delivery = parseXml(xml.replaceAll('soapenv:', 'env:').replace('xmlns:soapenv=', 'xmlns:env='));
    expect(delivery).toMatchObject({ format: 'outbound_message', organizationId: salesforceTestOrgId });
    expect(delivery.records[0]).toMatchObject({
      eventId: '04l5e0000000001AAA',
      objectType: 'Opportunity',
      fields: { Id: '0065e00000OppOneAAA', StageName: 'Negotiation/Review', Amount: null, Name: 'Acme & Co <EU>' },
    });
  });

  it('reads a single notification as a list of one', () => {
    expect(parseXml(outboundMessageXml({ notifications: [opportunityNotification()] })).records).toHaveLength(1);
  });

  it('calls broken XML and DTDs malformed', () => {
    expect(bodyError(() => parseXml('<soapenv:Envelope><x></soapenv:Envelope>'))).toMatchObject({ kind: 'malformed' });
    const withEntity = '<!DOCTYPE lol [<!ENTITY a "aaaaaaaa">]><Envelope>&a;</Envelope>';
    expect(bodyError(() => parseXml(withEntity))).toMatchObject({ kind: 'malformed', message: 'XML with a DOCTYPE is not accepted' });
    expect(bodyError(() => parseXml('<Envelope><__proto__>1</__proto__></Envelope>'))).toMatchObject({ kind: 'malformed' });
  });

  it('names the first bad field of a schema failure', () => {
    const noId = outboundMessageXml({ notifications: [opportunityNotification()] }).replace(/<Id>[^<]*<\/Id>/, '');
    expect(bodyError(() => parseXml(noId))).toMatchObject({ kind: 'schema', path: 'Envelope.Body.notifications.Notification[0].Id' });
    const badOrg = outboundMessageXml({ organizationId: 'acme', notifications: [opportunityNotification()] });
    expect(bodyError(() => parseXml(badOrg))).toMatchObject({ kind: 'schema', path: 'Envelope.Body.notifications.OrganizationId' });
  });

  it('refuses more than the 100 notifications the WSDL allows', () => {
    const notifications = Array.from({ length: 101 }, () => opportunityNotification());
    expect(bodyError(() => parseXml(outboundMessageXml({ notifications })))).toMatchObject({ kind: 'schema' });
  });
});

describe('parseSalesforceDelivery: JSON callouts', () => {
  const event = { id: 'evt-1', object: 'Opportunity', fields: { Id: '0065e00000OppOneAAA', Amount: 1200.5, IsWon: false, Description: null }, occurredAt: '2026-03-02T09:58:00.000Z' };

  it('reads events and renders field values as text', () => {
    const delivery = parseSalesforceDelivery(signedSalesforceFlowRequest({ body: { organizationId: salesforceTestOrgId, events: [event] } }));
    expect(delivery.records[0]).toEqual({
      eventId: 'evt-1',
      objectType: 'Opportunity',
      fields: { Id: '0065e00000OppOneAAA', Amount: '1200.5', IsWon: 'false', Description: null },
      occurredAt: new Date('2026-03-02T09:58:00.000Z'),
    });
  });

  it('reports malformed JSON and the path of a schema failure', () => {
    expect(bodyError(() => parseSalesforceDelivery(signedSalesforceFlowRequest({ body: '{"organizationId":' })))).toMatchObject({ kind: 'malformed' });
    const badObject = { organizationId: salesforceTestOrgId, events: [event, { ...event, object: 'Lead' }] };
    expect(bodyError(() => parseSalesforceDelivery(signedSalesforceFlowRequest({ body: badObject })))).toMatchObject({ kind: 'schema', path: 'events[1].object' });
  });
});

describe('parseSalesforceDelivery: fuzz', () => {
  const onlyBodyErrors = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookBodyError);
    }
  };

  it('throws nothing but WebhookBodyError on arbitrary bytes, XML-ish text and JSON', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const req = { ...salesforceOutboundRequest({ xml: '' }), rawBody: Buffer.from(bytes) };
      onlyBodyErrors(() => parseSalesforceDelivery(req));
    }), { numRuns: 2000 });
    const tag = fc.constantFrom('Envelope', 'Body', 'notifications', 'Notification', 'sObject', 'Id', 'OrganizationId', 'constructor', 'x:y');
    const xmlish = fc.array(fc.oneof(tag.map((t) => `<${t}>`), tag.map((t) => `</${t}>`), fc.string({ maxLength: 5 }), fc.constant('<a xsi:nil="true"/>')), { maxLength: 30 });
    fc.assert(fc.property(xmlish, (parts) => onlyBodyErrors(() => parseXml(parts.join('')))), { numRuns: 3000 });
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), (json) => onlyBodyErrors(() => parseSalesforceDelivery(signedSalesforceFlowRequest({ body: json })))), { numRuns: 2000 });
  });
});
