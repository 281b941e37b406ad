import { z } from 'zod';
import { parseJsonBody, validateBody } from '../shared/body.ts';

/**
 * HubSpot's webhook body: always a JSON array of events (VENDORS.md §1.3). Ids arrive as JSON
 * numbers; we keep them as strings. Fields we do not use are dropped.
 */

/** HubSpot sends at most 100 events per request; far more means something is wrong. */
export const hubspotMaxEventsPerRequest = 1000;

const hubspotId = z.union([
  z.number().int().nonnegative().transform((id) => String(id)),
  z.string().regex(/^\d+$/, 'expected a numeric id'),
]);

const maxEpochMs = 8_640_000_000_000_000;

const hubspotEventFields = z.object({
  eventId: hubspotId,
  subscriptionId: hubspotId,
  portalId: hubspotId,
  appId: hubspotId.optional(),
  occurredAt: z.number().int().min(0).max(maxEpochMs),
  /** Real payloads say `subscriptionType`; older docs call the same field `eventType`. */
  subscriptionType: z.string().min(1).optional(),
  eventType: z.string().min(1).optional(),
  attemptNumber: z.number().int().min(0).optional(),
  objectId: hubspotId.optional(),
  /** Generic (`object.*`) subscriptions name the object type, e.g. `0-3` for deals. */
  objectTypeId: z.string().optional(),
  propertyName: z.string().min(1).optional(),
  /** Always a string; may be absent or null when a property is cleared. */
  propertyValue: z.string().nullable().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().nullable().optional(),
  changeFlag: z.string().optional(),
  associationType: z.string().optional(),
  fromObjectId: hubspotId.optional(),
  toObjectId: hubspotId.optional(),
  fromObjectTypeId: z.string().optional(),
  toObjectTypeId: z.string().optional(),
  associationRemoved: z.boolean().optional(),
  isPrimaryAssociation: z.boolean().optional(),
});

type EventFields = z.output<typeof hubspotEventFields>;

/** The fields each kind of event must carry to mean anything (named after the subscription suffix). */
function requiredFieldsFor(subscriptionType: string): (keyof EventFields)[] {
  if (subscriptionType.endsWith('.propertyChange')) return ['objectId', 'propertyName'];
  if (subscriptionType.endsWith('.creation') || subscriptionType.endsWith('.deletion')) return ['objectId'];
  if (subscriptionType.endsWith('.associationChange')) return ['fromObjectId', 'toObjectId'];
  return [];
}

const hubspotEvent = hubspotEventFields
  .superRefine((event, ctx) => {
    const subscriptionType = event.subscriptionType ?? event.eventType;
    if (subscriptionType === undefined) {
      ctx.addIssue({ code: 'custom', message: 'missing subscriptionType', path: ['subscriptionType'] });
      return;
    }
    for (const field of requiredFieldsFor(subscriptionType)) {
      if (event[field] === undefined) {
        ctx.addIssue({ code: 'custom', message: `${subscriptionType} requires ${field}`, path: [field] });
      }
    }
  })
  .transform(({ eventType, subscriptionType, ...event }) => ({
    ...event,
    subscriptionType: subscriptionType ?? eventType ?? '',
  }));

export const hubspotWebhookBody = z.array(hubspotEvent).max(hubspotMaxEventsPerRequest);

export type HubspotEvent = z.output<typeof hubspotEvent>;

export interface HubspotDelivery {
  events: HubspotEvent[];
}

export function parseHubspotDelivery(rawBody: Buffer): HubspotDelivery {
  const events = validateBody(hubspotWebhookBody, parseJsonBody(rawBody), 'HubSpot webhook body');
  return { events };
}

/** The HubSpot accounts a parsed batch is about; HubSpot batches per account, so normally one. */
export function hubspotPortalIds(delivery: HubspotDelivery): string[] {
  return [...new Set(delivery.events.map((event) => event.portalId))];
}

const portalIdsOnly = z.array(z.object({ portalId: hubspotId })).max(hubspotMaxEventsPerRequest);

/**
 * Reads only the portal ids of an unverified body, so `POST /webhooks/hubspot` can find the
 * workspace (and thus the secrets) before verifying. Nothing else of the body is trusted yet.
 */
export function peekHubspotPortalIds(rawBody: Buffer): string[] {
  const events = validateBody(portalIdsOnly, parseJsonBody(rawBody), 'HubSpot webhook body');
  return [...new Set(events.map((event) => event.portalId))];
}
