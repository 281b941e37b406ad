import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignalPayload } from '../../signals/catalogue.ts';
import type { NormalizedEvent } from '../webhook-source.ts';
import { gongCallBody, gongUrlTokenConfig, gongUrlTokenRequest } from './fixtures.ts';
import { normalizeGongDelivery } from './normalize.ts';
import { parseGongDelivery } from './payload.ts';

const receivedAt = new Date('2026-03-02T10:00:00Z');

function normalize(body: unknown, config = gongUrlTokenConfig()): NormalizedEvent {
  const [event] = normalizeGongDelivery(parseGongDelivery(gongUrlTokenRequest({ body })), config, { workspaceId: 'ws_1', receivedAt }).events;
  if (!event) throw new Error('no event');
  return event;
}

describe('normalizeGongDelivery', () => {
  it('turns a call on an opportunity into call.completed plus tracker signals', () => {
    const event = normalize(gongCallBody());
    expect(event).toMatchObject({ vendorEventId: expect.stringMatching(/^7782342274025937895:[0-9a-f]{12}$/), eventType: 'call.matched_rule', outcome: 'accepted' });
    expect(event.signals.map((signal) => [signal.type, signal.payload])).toEqual([
      ['call.completed', { callId: '7782342274025937895', title: 'Acme | Discovery', durationMinutes: 45.5, externalParticipants: 2, internalParticipants: 1, topExternalSeniority: 'executive' }],
      ['conversation.competitor_mentioned', { competitor: 'Globex' }],
      ['conversation.pricing_discussed', {}],
    ]);
    expect(event.signals[0]).toMatchObject({ dealId: '0065e00000OppOneAAA', occurredAt: new Date('2026-03-02T09:01:12Z'), origin: 'live' });
    expect(event.signals[1]?.dedupeKey).toBe(`${event.vendorEventId}@0065e00000OppOneAAA#conversation.competitor_mentioned:competitors`);
  });

  it('maps trackers by the workspace settings, case-insensitively, over the defaults', () => {
    const config = gongUrlTokenConfig({ trackerSignals: { 'SMALL TALK': 'conversation.timeline_mentioned', pricing: 'ignore' } });
    expect(normalize(gongCallBody(), config).signals.map((signal) => signal.type)).toEqual([
      'call.completed',
      'conversation.competitor_mentioned',
      'conversation.timeline_mentioned',
    ]);
  });

  it('reads HubSpot deals from the call context too', () => {
    const context = [{ system: 'HubSpot', objects: [{ objectType: 'Deal', objectId: '9876543210' }] }];
    expect(normalize(gongCallBody({ callData: { context } })).signals[0]?.dealId).toBe('9876543210');
  });

  it('leaves a call with no deal unattributed', () => {
    const context = [{ system: 'Salesforce', objects: [{ objectType: 'Account', objectId: '0015e00000AcctAAA' }] }];
    expect(normalize(gongCallBody({ callData: { context } }))).toMatchObject({ outcome: 'unattributed', signals: [] });
  });

  it('records test deliveries with test-origin signals that are never acted on', () => {
    const event = normalize(gongCallBody({ isTest: true }));
    expect(event.outcome).toBe('test');
    expect(event.signals.length).toBeGreaterThan(0);
    expect(event.signals.every((signal) => signal.origin === 'test')).toBe(true);
  });

  it('never throws on schema-valid input', () => {
    const party = fc.record({ title: fc.option(fc.string(), { nil: null }), affiliation: fc.constantFrom('Internal', 'External', 'Unknown') });
    const tracker = fc.record({ name: fc.oneof(fc.constantFrom('Competitors', 'Pricing', 'constructor', '__proto__'), fc.string({ minLength: 1 })), count: fc.nat(), phrases: fc.array(fc.record({ phrase: fc.string() })) });
    const callData = fc.record({
      metaData: fc.record({ id: fc.string({ minLength: 1 }), duration: fc.double({ min: 0, max: 1e7, noNaN: true }), title: fc.option(fc.string(), { nil: null }) }),
      context: fc.array(fc.record({ objects: fc.array(fc.record({ objectType: fc.constantFrom('Opportunity', 'Deal', 'deal', 'Account'), objectId: fc.string() })) })),
      parties: fc.array(party),
      content: fc.record({ trackers: fc.array(tracker) }),
    });
    fc.assert(
      fc.property(callData, fc.boolean(), (data, isTest) => {
        for (const signal of normalize({ callData: data, isTest }).signals) expect(() => parseSignalPayload(signal.type, signal.payload)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
