import { createHmac } from 'node:crypto';
import type { RawWebhookRequest } from '../webhook-source.ts';
import type { SalesforceSourceConfig } from './source-config.ts';

/** Builders for tests (unit and integration): outbound messages as Salesforce sends them, and signed callouts. */

export const salesforceTestOrgId = '00D5e000000AbCdEAF';
export const salesforceTestToken = 'om-token-0123456789abcdef';
export const salesforceTestCalloutSecret = 'flow-secret-0123456789abcdef';
export const salesforceTestIntegrationUser = '0055e000001IntGRAT';
export const salesforceTestUrl = 'https://momentum.example.com/webhooks/ws_1/salesforce';

export function salesforceTestConfig(overrides: Partial<SalesforceSourceConfig> = {}): SalesforceSourceConfig {
  return {
    organizationId: salesforceTestOrgId,
    urlToken: [salesforceTestToken],
    integrationUserId: salesforceTestIntegrationUser,
    flowCalloutSecret: [salesforceTestCalloutSecret],
    ...overrides,
  };
}

export interface NotificationFixture {
  id: string;
  sObjectType: string;
  /** null renders as xsi:nil="true". */
  fields: Record<string, string | null>;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An outbound message as the per-message WSDL describes it (VENDORS.md §2.1). */
export function outboundMessageXml(options: { organizationId?: string; notifications: NotificationFixture[] }): string {
  const organizationId = options.organizationId ?? salesforceTestOrgId;
  const notifications = options.notifications.map(({ id, sObjectType, fields }) => {
    const rendered = Object.entries(fields)
      .map(([name, value]) => (value === null ? `<sf:${name} xsi:nil="true"/>` : `<sf:${name}>${escapeXml(value)}</sf:${name}>`))
      .join('');
    return `<Notification><Id>${id}</Id><sObject xsi:type="sf:${sObjectType}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">${rendered}</sObject></Notification>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${organizationId}</OrganizationId>
   <ActionId>04k5e000000ActnAAA</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/${organizationId.slice(0, 15)}</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/${organizationId.slice(0, 15)}</PartnerUrl>
   ${notifications.join('\n   ')}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
}

let nextNotification = 1;

/** An Opportunity notification with the fields a stage-tracking outbound message would select. */
export function opportunityNotification(fields: Record<string, string | null> = {}, id?: string): NotificationFixture {
  return {
    id: id ?? `04l5e00000${String(nextNotification++).padStart(5, '0')}AAA`,
    sObjectType: 'Opportunity',
    fields: {
      Id: '0065e00000OppOneAAA',
      StageName: 'Negotiation/Review',
      Amount: '48000.0',
      CloseDate: '2026-06-30',
      Probability: '60.0',
      OwnerId: '0055e000000OwnrAAA',
      LastModifiedById: '0055e000000OwnrAAA',
      LastModifiedDate: '2026-03-02T09:58:00.000Z',
      ...fields,
    },
  };
}

export function salesforceOutboundRequest(options: { xml: string; token?: string; url?: string }): RawWebhookRequest {
  const url = new URL(options.url ?? salesforceTestUrl);
  if (options.token !== undefined) url.searchParams.set('token', options.token);
  else url.searchParams.set('token', salesforceTestToken);
  return {
    method: 'POST',
    publicUrl: url.toString(),
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'user-agent': 'Jakarta Commons-HttpClient/3.1' },
    query: Object.fromEntries(url.searchParams),
    rawBody: Buffer.from(options.xml, 'utf8'),
  };
}

/** A Flow HTTP callout in Momentum's JSON format, signed as docs/webhooks.md describes. */
export function signedSalesforceFlowRequest(options: { body: unknown; secret?: string; url?: string }): RawWebhookRequest {
  const rawBody = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body), 'utf8');
  const signature = createHmac('sha256', options.secret ?? salesforceTestCalloutSecret).update(rawBody).digest('hex');
  return {
    method: 'POST',
    publicUrl: options.url ?? salesforceTestUrl,
    headers: { 'content-type': 'application/json', 'x-momentum-signature': signature },
    query: {},
    rawBody,
  };
}
