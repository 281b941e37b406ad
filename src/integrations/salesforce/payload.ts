import { z } from 'zod';
import { mediaTypeOf, parseJsonBody, validateBody } from '../shared/body.ts';
import type { RawWebhookRequest } from '../webhook-source.ts';
import { parseSoapXml } from './soap.ts';
import { salesforceOrgId } from './source-config.ts';

/**
 * Two documented formats, read into one shape:
 * - outbound messages (SOAP 1.1, text/xml), as the per-message WSDL defines them (VENDORS.md §2.1);
 * - Momentum's JSON format for Flow HTTP callouts and Apex (application/json, docs/webhooks.md).
 */

export const salesforceObjectTypes = ['Opportunity', 'Task', 'Event', 'OpportunityContactRole'] as const;

/** One changed record: field values as Salesforce renders them in text (null = nil / empty). */
export interface SalesforceRecord {
  /** The notification id (outbound messages) or the event id the Flow chose. */
  eventId: string;
  objectType: string;
  fields: Record<string, string | null>;
  /** Only the JSON format says when the change happened; outbound messages may carry LastModifiedDate. */
  occurredAt?: Date;
}

export interface SalesforceDelivery {
  format: 'outbound_message' | 'flow_callout';
  organizationId: string;
  records: SalesforceRecord[];
}

/** An element's text, or null for `xsi:nil="true"`; attributes such as xsi:type are dropped. */
const soapFieldValue = z.union([
  z.string(),
  z.object({ '@_nil': z.literal('true') }).transform(() => null),
  z.object({ '#text': z.string() }).transform((element) => element['#text']),
  z.record(z.string().startsWith('@_'), z.string()).transform(() => ''),
]);

const soapSObject = z
  .object({ '@_type': z.string().min(1) })
  .catchall(soapFieldValue)
  .transform((sObject) => {
    const fields: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(sObject)) {
      if (!name.startsWith('@_') && name !== '#text') fields[name] = value;
    }
    // xsi:type="sf:Opportunity": the prefix varies with the sender.
    return { objectType: sObject['@_type'].replace(/^.*:/, ''), fields };
  });

/** The outbound-message WSDL allows at most 100 notifications per message. */
export const outboundMessageMaxNotifications = 100;

const outboundMessage = z.object({
  Envelope: z.object({
    Body: z.object({
      notifications: z.object({
        OrganizationId: salesforceOrgId,
        ActionId: z.string().optional(),
        Notification: z
          .array(z.object({ Id: z.string().min(1), sObject: soapSObject }))
          .min(1)
          .max(outboundMessageMaxNotifications),
      }),
    }),
  }),
});

const flowFieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const flowCalloutBody = z.object({
  organizationId: salesforceOrgId,
  events: z
    .array(
      z.object({
        id: z.string().min(1).max(255),
        object: z.enum(salesforceObjectTypes),
        fields: z.record(z.string(), flowFieldValue),
        occurredAt: z.iso.datetime({ offset: true }),
      }),
    )
    .min(1)
    .max(200),
});

function parseOutboundMessage(rawBody: Buffer): SalesforceDelivery {
  const message = validateBody(outboundMessage, parseSoapXml(rawBody), 'Salesforce outbound message');
  const { OrganizationId, Notification } = message.Envelope.Body.notifications;
  return {
    format: 'outbound_message',
    organizationId: OrganizationId,
    records: Notification.map((notification) => ({ eventId: notification.Id, ...notification.sObject })),
  };
}

function parseFlowCallout(rawBody: Buffer): SalesforceDelivery {
  const body = validateBody(flowCalloutBody, parseJsonBody(rawBody), 'Salesforce callout body');
  return {
    format: 'flow_callout',
    organizationId: body.organizationId,
    records: body.events.map((event) => ({
      eventId: event.id,
      objectType: event.object,
      fields: Object.fromEntries(Object.entries(event.fields).map(([name, value]) => [name, value === null ? null : String(value)])),
      occurredAt: new Date(event.occurredAt),
    })),
  };
}

export function isFlowCallout(req: RawWebhookRequest): boolean {
  return mediaTypeOf(req.headers) === 'application/json';
}

export function parseSalesforceDelivery(req: RawWebhookRequest): SalesforceDelivery {
  return isFlowCallout(req) ? parseFlowCallout(req.rawBody) : parseOutboundMessage(req.rawBody);
}
