import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignalPayload } from '../../signals/catalogue.ts';
import type { NormalizedEvent } from '../webhook-source.ts';
import { docusignMessage, docusignTestConfig, docusignTestEnvelopeId } from './fixtures.ts';
import type { DocusignMessageOptions } from './fixtures.ts';
import { normalizeDocusignMessage } from './normalize.ts';
import { parseDocusignMessage } from './payload.ts';

function normalize(options: DocusignMessageOptions = {}, config = docusignTestConfig()): NormalizedEvent {
  const [event] = normalizeDocusignMessage(parseDocusignMessage(Buffer.from(JSON.stringify(docusignMessage(options)))), config).events;
  if (!event) throw new Error('no event');
  return event;
}

describe('normalizeDocusignMessage', () => {
  it('turns a completed envelope into esign.completed for the deal in its custom fields', () => {
    const event = normalize();
    expect(event).toMatchObject({
      vendorEventId: `${docusignTestEnvelopeId}:envelope-completed:2026-03-02T09:59:12.4170000Z`,
      eventType: 'envelope-completed',
      outcome: 'accepted',
    });
    expect(event.signals).toEqual([
      {
        dedupeKey: `${docusignTestEnvelopeId}:envelope-completed:2026-03-02T09:59:12.4170000Z#esign.completed`,
        dealId: '0065e00000OppOneAAA',
        type: 'esign.completed',
        occurredAt: new Date('2026-03-02T09:59:12.417Z'),
        origin: 'live',
        payload: { documentId: docusignTestEnvelopeId, name: 'Please sign: Acme MSA' },
      },
    ]);
  });

  it.each([
    ['envelope-sent', 'esign.sent'],
    ['envelope-delivered', 'esign.delivered'],
    ['envelope-declined', 'esign.declined'],
  ])('maps %s to %s', (eventName, type) => {
    expect(normalize({ event: eventName }).signals[0]?.type).toBe(type);
  });

  it('carries the void reason', () => {
    expect(normalize({ event: 'envelope-voided', voidedReason: 'Wrong pricing' }).signals[0]).toMatchObject({ type: 'esign.voided', payload: { reason: 'Wrong pricing' } });
  });

  it('keys recipient events by recipient and names the recipient', () => {
    const event = normalize({ event: 'recipient-completed', recipientId: '1' });
    expect(event.vendorEventId).toBe(`${docusignTestEnvelopeId}:recipient-completed:2026-03-02T09:59:12.4170000Z:1`);
    expect(event.signals[0]).toMatchObject({ type: 'esign.recipient_completed', payload: { recipientEmail: 'cfo@acme.example' } });
  });

  it('tries the configured custom field names in order', () => {
    const fields = { hubspot_deal_id: '9876543210', dealId: '' };
    expect(normalize({ customFields: fields }).signals[0]?.dealId).toBe('9876543210');
    expect(normalize({ customFields: { CrmDeal: 'D-1' } }, docusignTestConfig({ dealIdFields: ['crmdeal'] })).signals[0]?.dealId).toBe('D-1');
  });

  it('leaves an envelope without a deal id unattributed', () => {
    expect(normalize({ customFields: {} })).toMatchObject({ outcome: 'unattributed', signals: [] });
  });

  it('ignores events Momentum does not use', () => {
    expect(normalize({ event: 'envelope-created' })).toMatchObject({ outcome: 'ignored', reason: 'envelope-created is not used by Momentum', signals: [] });
    expect(normalize({ event: 'constructor' })).toMatchObject({ outcome: 'ignored' });
  });

  it('never throws on schema-valid input', () => {
    const options = fc.record({
      event: fc.oneof(fc.constantFrom('envelope-sent', 'envelope-completed', 'envelope-voided', 'recipient-completed', 'toString'), fc.string({ minLength: 1 })),
      recipientId: fc.option(fc.string(), { nil: undefined }),
      customFields: fc.dictionary(fc.constantFrom('dealId', 'opportunityId', 'x', '__proto__'), fc.string()),
      voidedReason: fc.option(fc.string(), { nil: undefined }),
    });
    fc.assert(
      fc.property(options, (generated) => {
        for (const signal of normalize(generated).signals) expect(() => parseSignalPayload(signal.type, signal.payload)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
