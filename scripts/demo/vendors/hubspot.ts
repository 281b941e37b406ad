import { hubspotEvent, signedHubspotRequest } from '../../../src/integrations/hubspot/fixtures.ts';
import { webhookUrl, type DemoDeal, type Delivery } from '../delivery.ts';
import type { DemoRun } from '../run-context.ts';

/**
 * HubSpot app webhooks: a JSON array of events for one portal, posted to the app-wide URL and
 * routed by portalId. `occurredAt` is when it happened; the v3 request timestamp is the send time.
 */

const subscriptionIds = { creation: 1101, propertyChange: 1102, associationChange: 1103, objectAssociation: 1104 };

/** What one event says; ids, portal and time are added per delivery. */
type EventSpec = Record<string, unknown>;

const noDealProperty = { objectId: undefined, propertyName: undefined, propertyValue: undefined };

export const hubspotEvents = {
  created: (deal: DemoDeal): EventSpec => ({ subscriptionType: 'deal.creation', subscriptionId: subscriptionIds.creation, ...noDealProperty, objectId: Number(deal.id) }),
  property: (deal: DemoDeal, propertyName: string, propertyValue: string): EventSpec => ({
    subscriptionType: 'deal.propertyChange', subscriptionId: subscriptionIds.propertyChange, objectId: Number(deal.id), propertyName, propertyValue,
  }),
  /** HubSpot sends close dates as epoch milliseconds of midnight UTC. */
  closeDate: (deal: DemoDeal, isoDate: string): EventSpec => hubspotEvents.property(deal, 'closedate', String(Date.parse(`${isoDate}T00:00:00Z`))),
  contact: (deal: DemoDeal, contactId: string, removed = false): EventSpec => ({
    subscriptionType: 'deal.associationChange', subscriptionId: subscriptionIds.associationChange, ...noDealProperty,
    associationType: 'DEAL_TO_CONTACT', fromObjectId: Number(deal.id), toObjectId: Number(contactId), associationRemoved: removed, isPrimaryAssociation: false,
  }),
  /** A meeting (object type 0-47) associated with the deal (0-3), from a generic subscription. */
  meeting: (deal: DemoDeal, meetingId: string): EventSpec => ({
    subscriptionType: 'object.associationChange', subscriptionId: subscriptionIds.objectAssociation, ...noDealProperty, objectTypeId: '0-47',
    fromObjectTypeId: '0-47', toObjectTypeId: '0-3', fromObjectId: Number(meetingId), toObjectId: Number(deal.id), associationRemoved: false,
  }),
};

/** The property changes HubSpot reports when a rep creates a deal in the default pipeline. */
export function newHubspotDeal(deal: DemoDeal, fields: { stage: string; amount: number; closeDate: string; ownerId: string }): EventSpec[] {
  return [
    hubspotEvents.created(deal),
    hubspotEvents.property(deal, 'pipeline', 'default'),
    hubspotEvents.property(deal, 'amount', String(fields.amount)),
    hubspotEvents.closeDate(deal, fields.closeDate),
    hubspotEvents.property(deal, 'hubspot_owner_id', fields.ownerId),
    // Last, so the stage's entry workflow already knows the amount.
    hubspotEvents.property(deal, 'dealstage', fields.stage),
  ];
}

export function hubspotDelivery(run: DemoRun, deal: DemoDeal, at: Date, event: string, specs: EventSpec[]): Delivery {
  const events = specs.map((spec) =>
    hubspotEvent({
      eventId: Number(`${run.runTag}${String(run.nextEventNumber()).padStart(3, '0')}`),
      portalId: Number(run.accounts.hubspotPortalId),
      appId: Number(run.accounts.hubspotAppId),
      occurredAt: at.getTime(),
      changeSource: 'CRM_UI',
      sourceId: 'userId:7301455',
      ...spec,
    }),
  );
  return {
    at,
    vendor: 'hubspot',
    event,
    deal,
    build: () => signedHubspotRequest({
      body: events,
      secret: run.secrets.hubspotClientSecret,
      url: webhookUrl(run, '/webhooks/hubspot'),
      timestamp: Date.now(),
    }),
  };
}
