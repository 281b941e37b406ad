import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignalPayload } from '../../signals/catalogue.ts';
import type { NormalizedEvent } from '../webhook-source.ts';
import {
  opportunityNotification,
  outboundMessageXml,
  salesforceOutboundRequest,
  salesforceTestConfig,
  salesforceTestIntegrationUser,
  salesforceTestOrgId,
  signedSalesforceFlowRequest,
} from './fixtures.ts';
import type { NotificationFixture } from './fixtures.ts';
import { normalizeSalesforceDelivery } from './normalize.ts';
import { parseSalesforceDelivery } from './payload.ts';

const receivedAt = new Date('2026-03-02T10:00:00Z');
const ctx = { workspaceId: 'ws_1', receivedAt };

function normalize(...notifications: NotificationFixture[]): NormalizedEvent[] {
  const req = salesforceOutboundRequest({ xml: outboundMessageXml({ notifications }) });
  return normalizeSalesforceDelivery(parseSalesforceDelivery(req), salesforceTestConfig(), ctx).events;
}

function only(notification: NotificationFixture): NormalizedEvent {
  const [event] = normalize(notification);
  if (!event) throw new Error('no event');
  return event;
}

const record = (sObjectType: string, fields: Record<string, string | null>, id = '04l5e0000000009AAA'): NotificationFixture => ({ id, sObjectType, fields });

describe('normalizeSalesforceDelivery: opportunities', () => {
  it('emits a signal for every deal field the message carries, keyed by org and notification', () => {
    const event = only(opportunityNotification({}, '04l5e0000000001AAA'));
    expect(event).toMatchObject({ vendorEventId: '00D5e000000AbCd:04l5e0000000001AAA', eventType: 'Opportunity', outcome: 'accepted' });
    expect(event.signals.map((signal) => [signal.type, signal.payload])).toEqual([
      ['crm.stage_changed', { stage: 'Negotiation/Review' }],
      ['crm.amount_changed', { amount: 48000 }],
      ['crm.close_date_changed', { closeDate: '2026-06-30' }],
      ['crm.probability_changed', { probability: 60 }],
      ['crm.owner_changed', { ownerId: '0055e000000OwnrAAA' }],
    ]);
    expect(event.signals[0]).toMatchObject({
      dedupeKey: '00D5e000000AbCd:04l5e0000000001AAA#crm.stage_changed',
      dealId: '0065e00000OppOneAAA',
      occurredAt: new Date('2026-03-02T09:58:00.000Z'),
      origin: 'live',
    });
  });

  it('reports other fields as crm.field_changed and a nil amount as null', () => {
    const event = only(record('Opportunity', { Id: '0065e00000OppOneAAA', Amount: null, Budget_Confirmed__c: 'true', SystemModstamp: '2026-03-02T09:00:00Z' }));
    expect(event.signals.map((signal) => signal.payload)).toEqual([{ amount: null }, { field: 'Budget_Confirmed__c', value: 'true' }]);
    expect(event.signals[0]?.occurredAt).toEqual(new Date('2026-03-02T09:00:00Z'));
  });

  it('uses the time of receipt when the message carries no timestamp', () => {
    expect(only(record('Opportunity', { Id: '0065e00000OppOneAAA', StageName: 'Prospecting' })).signals[0]?.occurredAt).toEqual(receivedAt);
  });

  it('recognizes a new opportunity', () => {
    const event = only(opportunityNotification({ Name: 'Acme renewal', CreatedDate: '2026-03-02T09:58:00.000Z' }));
    expect(event.signals[0]).toMatchObject({
      type: 'crm.deal_created',
      payload: { name: 'Acme renewal', stage: 'Negotiation/Review', amount: 48000, closeDate: '2026-06-30', ownerId: '0055e000000OwnrAAA' },
    });
  });

  it('marks changes made by the integration user as echoes, comparing 15-character ids', () => {
    const event = only(opportunityNotification({ LastModifiedById: salesforceTestIntegrationUser.slice(0, 15) }));
    expect(event.outcome).toBe('echo');
    expect(event.signals.every((signal) => signal.origin === 'echo')).toBe(true);
  });

  it('handles a 100-notification message with unique dedupe keys', () => {
    const notifications = Array.from({ length: 100 }, (_, i) => opportunityNotification({ Id: `0065e00000Opp${String(i).padStart(3, '0')}AAA` }));
    const events = normalize(...notifications);
    expect(events).toHaveLength(100);
    const keys = events.flatMap((event) => event.signals.map((signal) => signal.dedupeKey));
    expect(keys).toHaveLength(500);
    expect(new Set(keys).size).toBe(500);
  });
});

describe('normalizeSalesforceDelivery: activities and contact roles', () => {
  const opp = '0065e00000OppOneAAA';

  it('maps email and call tasks', () => {
    expect(only(record('Task', { WhatId: opp, TaskSubtype: 'Email', Subject: 'Email: Pricing' })).signals[0])
      .toMatchObject({ type: 'activity.email', dealId: opp, payload: { direction: 'outbound' } });
    expect(only(record('Task', { WhatId: opp, TaskSubtype: 'Call', CallDurationInSeconds: '2700', CallType: 'Outbound' })).signals[0])
      .toMatchObject({ type: 'activity.call', payload: { durationMinutes: 45, direction: 'outbound' } });
    expect(only(record('Task', { WhatId: opp, TaskSubtype: 'Call' }))).toMatchObject({ outcome: 'ignored' });
  });

  it('maps completed tasks and ignores open ones', () => {
    expect(only(record('Task', { WhatId: opp, TaskSubtype: 'Task', Status: 'Completed', Subject: 'Send MSA' })).signals[0])
      .toMatchObject({ type: 'activity.task_completed', payload: { subject: 'Send MSA' } });
    expect(only(record('Task', { WhatId: opp, TaskSubtype: 'Task', Status: 'Not Started' }))).toMatchObject({ outcome: 'ignored' });
  });

  it('maps events to meetings, guessing the kind from the subject', () => {
    expect(only(record('Event', { WhatId: opp, Subject: 'Product demo with IT', DurationInMinutes: '60' })).signals[0])
      .toMatchObject({ type: 'activity.meeting', payload: { kind: 'demo', durationMinutes: 60 } });
  });

  it('leaves activities on accounts or contacts unattributed', () => {
    expect(only(record('Task', { WhatId: '0015e00000AcctAAA', TaskSubtype: 'Email' }))).toMatchObject({ outcome: 'unattributed', signals: [] });
    expect(only(record('Event', { Subject: 'Lunch' }))).toMatchObject({ outcome: 'unattributed' });
  });

  it.each([
    ['Champion', 'champion'],
    ['Economic Buyer', 'economic_buyer'],
    ['Decision Maker', 'decision_maker'],
    ['Technical Buyer', 'technical_buyer'],
    ['Influencer', 'influencer'],
    ['Executive Sponsor', 'other'],
  ])('maps the contact role %s to %s', (role, expected) => {
    const event = only(record('OpportunityContactRole', { OpportunityId: opp, ContactId: '0035e00000CntcAAA', Role: role }));
    expect(event.signals[0]).toMatchObject({ type: 'stakeholder.added', dealId: opp, payload: { contactId: '0035e00000CntcAAA', role: expected } });
  });

  it('treats a deleted contact role as a stakeholder removed', () => {
    const event = only(record('OpportunityContactRole', { OpportunityId: opp, ContactId: '0035e00000CntcAAA', IsDeleted: 'true' }));
    expect(event.signals[0]).toMatchObject({ type: 'stakeholder.removed', payload: { contactId: '0035e00000CntcAAA' } });
  });

  it('ignores other objects with a reason', () => {
    expect(only(record('Lead', { Id: '00Q5e00000LeadAAA' }))).toMatchObject({ outcome: 'ignored', reason: 'Lead records are not used by Momentum' });
  });

  it('reads JSON callouts the same way, with their own timestamp', () => {
    const body = {
      organizationId: salesforceTestOrgId,
      events: [{ id: 'flow-1', object: 'Opportunity', fields: { Id: opp, Probability: 75 }, occurredAt: '2026-03-01T08:00:00Z' }],
    };
    const [event] = normalizeSalesforceDelivery(parseSalesforceDelivery(signedSalesforceFlowRequest({ body })), salesforceTestConfig(), ctx).events;
    expect(event).toMatchObject({ vendorEventId: '00D5e000000AbCd:flow-1' });
    expect(event?.signals[0]).toMatchObject({ type: 'crm.probability_changed', payload: { probability: 75 }, occurredAt: new Date('2026-03-01T08:00:00Z') });
  });

  it('never throws on schema-valid input and only emits catalogue-valid signals', () => {
    const value = fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.double().map(String), fc.constant('2026-02-30'), fc.constant('true')), { nil: null });
    const fieldName = fc.constantFrom('Id', 'StageName', 'Amount', 'CloseDate', 'Probability', 'OwnerId', 'WhatId', 'TaskSubtype', 'CallDurationInSeconds',
      'DurationInMinutes', 'OpportunityId', 'ContactId', 'Role', 'IsDeleted', 'LastModifiedById', 'LastModifiedDate', 'CreatedDate', 'Status', 'Custom__c');
    const fields = fc.dictionary(fieldName, fc.oneof(value, fc.constantFrom('0065e00000OppOneAAA', 'Call', 'Email', 'constructor', '__proto__', salesforceTestIntegrationUser)));
    const event = fc.record({ id: fc.stringMatching(/^[a-zA-Z0-9]{1,18}$/), object: fc.constantFrom('Opportunity', 'Task', 'Event', 'OpportunityContactRole'), fields, occurredAt: fc.constant('2026-03-01T08:00:00Z') });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 5 }), (events) => {
        const req = signedSalesforceFlowRequest({ body: { organizationId: salesforceTestOrgId, events } });
        for (const normalized of normalizeSalesforceDelivery(parseSalesforceDelivery(req), salesforceTestConfig(), ctx).events) {
          for (const signal of normalized.signals) expect(() => parseSignalPayload(signal.type, signal.payload)).not.toThrow();
        }
      }),
      { numRuns: 2000 },
    );
  });
});
