import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignalPayload } from '../../signals/catalogue.ts';
import type { NormalizedEvent } from '../webhook-source.ts';
import { hubspotEvent, hubspotTestConfig } from './fixtures.ts';
import { normalizeHubspotDelivery } from './normalize.ts';
import { parseHubspotDelivery } from './payload.ts';

const config = hubspotTestConfig();

function normalize(...events: Record<string, unknown>[]): NormalizedEvent[] {
  return normalizeHubspotDelivery(parseHubspotDelivery(Buffer.from(JSON.stringify(events))), config).events;
}

function only(...events: Record<string, unknown>[]): NormalizedEvent {
  const [first] = normalize(...events);
  if (!first) throw new Error('no event');
  return first;
}

const propertyChange = (propertyName: string, propertyValue: string | null, more: Record<string, unknown> = {}) =>
  hubspotEvent({ propertyName, propertyValue, ...more });

describe('normalizeHubspotDelivery', () => {
  it('turns a stage change into crm.stage_changed keyed by portal, event, subscription and time', () => {
    const event = only(hubspotEvent({ eventId: 100, subscriptionId: 2001, occurredAt: 1717171717000 }));
    expect(event).toMatchObject({ vendorEventId: '62515:100:2001:1717171717000', eventType: 'deal.propertyChange:dealstage', outcome: 'accepted' });
    expect(event.signals).toEqual([
      {
        dedupeKey: '62515:100:2001:1717171717000#crm.stage_changed',
        dealId: '9876543210',
        type: 'crm.stage_changed',
        occurredAt: new Date(1717171717000),
        origin: 'live',
        payload: { stage: 'contractsent' },
      },
    ]);
  });

  it('names the pipeline when the same batch changed it at the same moment', () => {
    const [stage] = normalize(propertyChange('dealstage', '1234567'), propertyChange('pipeline', '98765'));
    expect(stage?.signals[0]?.payload).toEqual({ stage: '1234567', pipeline: '98765' });
  });

  it.each([
    ['amount', '12500.50', 'crm.amount_changed', { amount: 12500.5 }],
    ['amount', '', 'crm.amount_changed', { amount: null }],
    ['closedate', '1782864000000', 'crm.close_date_changed', { closeDate: '2026-07-01' }],
    ['closedate', '', 'crm.close_date_changed', { closeDate: null }],
    ['hubspot_owner_id', '31337', 'crm.owner_changed', { ownerId: '31337' }],
    ['hubspot_owner_id', '', 'crm.owner_changed', { ownerId: null }],
    ['pipeline', 'default', 'crm.pipeline_changed', { pipeline: 'default' }],
    ['hs_deal_stage_probability', '0.2', 'crm.field_changed', { field: 'hs_deal_stage_probability', value: '0.2' }],
    ['budget_confirmed', 'true', 'crm.field_changed', { field: 'budget_confirmed', value: 'true' }],
    ['amount', 'lots', 'crm.field_changed', { field: 'amount', value: 'lots' }],
  ])('maps %s = %j to %s', (property, value, type, payload) => {
    const [signal] = only(propertyChange(property, value)).signals;
    expect(signal).toMatchObject({ type, payload });
  });

  it('maps creation and deletion', () => {
    expect(only(hubspotEvent({ subscriptionType: 'deal.creation', changeFlag: 'CREATED' })).signals[0]).toMatchObject({ type: 'crm.deal_created', payload: {} });
    expect(only(hubspotEvent({ subscriptionType: 'deal.deletion' })).signals[0]).toMatchObject({ type: 'crm.deal_deleted' });
  });

  it('maps deal-to-contact associations to stakeholders and ignores the reverse direction', () => {
    const association = (more: Record<string, unknown>) =>
      hubspotEvent({ subscriptionType: 'deal.associationChange', objectId: undefined, propertyName: undefined, propertyValue: undefined,
        associationType: 'DEAL_TO_CONTACT', fromObjectId: 555, toObjectId: 777, associationRemoved: false, ...more });
    expect(only(association({})).signals[0]).toMatchObject({ type: 'stakeholder.added', dealId: '555', payload: { contactId: '777' } });
    expect(only(association({ associationRemoved: true })).signals[0]).toMatchObject({ type: 'stakeholder.removed' });
    expect(only(association({ associationType: 'CONTACT_TO_DEAL', fromObjectId: 777, toObjectId: 555 }))).toMatchObject({ outcome: 'ignored', signals: [] });
  });

  it('records a meeting associated with a deal once per meeting (generic subscriptions)', () => {
    const meeting = (eventId: number) => hubspotEvent({ eventId, subscriptionType: 'object.associationChange', objectTypeId: '0-47',
      objectId: undefined, propertyName: undefined, propertyValue: undefined,
      fromObjectTypeId: '0-47', toObjectTypeId: '0-3', fromObjectId: 42, toObjectId: 555, associationRemoved: false });
    const [first, again] = normalize(meeting(1), meeting(2));
    expect(first?.signals[0]).toMatchObject({ type: 'activity.meeting', dealId: '555', payload: { kind: 'other' } });
    expect(first?.signals[0]?.dedupeKey).toBe(again?.signals[0]?.dedupeKey);
  });

  it('ignores email and call associations, saying which fact is missing', () => {
    const email = only(hubspotEvent({ subscriptionType: 'object.associationChange', objectTypeId: '0-49', objectId: undefined,
      propertyName: undefined, fromObjectTypeId: '0-49', toObjectTypeId: '0-3', fromObjectId: 1, toObjectId: 555 }));
    expect(email).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('email direction') });
  });

  it('reads generic deal events like legacy ones', () => {
    const generic = only(hubspotEvent({ subscriptionType: 'object.propertyChange', objectTypeId: '0-3', propertyName: 'amount', propertyValue: '10' }));
    expect(generic.signals[0]).toMatchObject({ type: 'crm.amount_changed', payload: { amount: 10 } });
  });

  it('ignores unknown subscription types and other objects with a reason', () => {
    expect(only(hubspotEvent({ subscriptionType: 'deal.merge' }))).toMatchObject({ outcome: 'ignored', reason: 'deal.merge is not used by Momentum' });
    expect(only(hubspotEvent({ subscriptionType: 'contact.propertyChange' }))).toMatchObject({ outcome: 'ignored', signals: [] });
    expect(only(hubspotEvent({ subscriptionType: 'ticket.creation' }))).toMatchObject({ outcome: 'ignored' });
  });

  it("ignores events for another HubSpot account than the workspace's", () => {
    expect(only(hubspotEvent({ portalId: 999 }))).toMatchObject({ outcome: 'ignored', signals: [] });
  });

  it('marks changes written by this app as echoes and still returns their signals', () => {
    const echo = only(hubspotEvent({ changeSource: 'INTEGRATION', sourceId: '54321' }));
    expect(echo).toMatchObject({ outcome: 'echo' });
    expect(echo.signals[0]).toMatchObject({ type: 'crm.stage_changed', origin: 'echo' });
    const otherApp = only(hubspotEvent({ changeSource: 'INTEGRATION', sourceId: '11111' }));
    expect(otherApp).toMatchObject({ outcome: 'accepted' });
  });

  it('handles a 100-event batch with unique dedupe keys', () => {
    const properties = ['dealstage', 'amount', 'closedate', 'hubspot_owner_id', 'pipeline'];
    const events = Array.from({ length: 100 }, (_, i) =>
      propertyChange(properties[i % 5] ?? 'dealstage', i % 5 === 2 ? '1782864000000' : String(1000 + i), { eventId: i, objectId: 1000 + (i % 7) }));
    const normalized = normalize(...events);
    expect(normalized).toHaveLength(100);
    const keys = normalized.flatMap((event) => event.signals.map((signal) => signal.dedupeKey));
    expect(keys).toHaveLength(100);
    expect(new Set(keys).size).toBe(100);
  });

  it('never throws on schema-valid input and only emits catalogue-valid signals', () => {
    const event = fc.record({
      eventId: fc.nat(), subscriptionId: fc.nat(), portalId: fc.constantFrom(62515, 1), occurredAt: fc.nat({ max: 4_102_444_800_000 }),
      subscriptionType: fc.constantFrom('deal.creation', 'deal.deletion', 'deal.propertyChange', 'deal.associationChange', 'object.associationChange', 'object.propertyChange', 'deal.merge', 'x.y'),
      objectId: fc.nat(), objectTypeId: fc.constantFrom('0-1', '0-3', '0-47', '0-48', '9-9', 'constructor', '__proto__'),
      propertyName: fc.constantFrom('dealstage', 'amount', 'closedate', 'pipeline', 'hubspot_owner_id', 'x'),
      propertyValue: fc.option(fc.oneof(fc.string(), fc.stringMatching(/^\d{1,17}$/), fc.constant('1e400')), { nil: null }),
      changeSource: fc.constantFrom('CRM_UI', 'INTEGRATION'), sourceId: fc.constantFrom('54321', 'userId:1'),
      associationType: fc.constantFrom('DEAL_TO_CONTACT', 'CONTACT_TO_DEAL', 'MEETING_EVENT_TO_DEAL', 'WHATEVER'),
      fromObjectId: fc.nat(), toObjectId: fc.nat(), fromObjectTypeId: fc.constantFrom('0-3', '0-47', '0-1', 'toString'), toObjectTypeId: fc.constantFrom('0-3', '0-1', 'constructor'),
      associationRemoved: fc.boolean(),
    }, { requiredKeys: ['eventId', 'subscriptionId', 'portalId', 'occurredAt', 'subscriptionType', 'objectId', 'propertyName', 'fromObjectId', 'toObjectId'] });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 10 }), (events) => {
        for (const normalized of normalize(...events)) {
          for (const signal of normalized.signals) expect(() => parseSignalPayload(signal.type, signal.payload)).not.toThrow();
        }
      }),
      { numRuns: 2000 },
    );
  });
});
