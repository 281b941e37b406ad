import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignalPayload } from '../../signals/catalogue.ts';
import type { NormalizedEvent } from '../webhook-source.ts';
import { pandadocDocumentData, pandadocEvent, pandadocTestConfig, pandadocTestDocumentId, signedPandadocRequest } from './fixtures.ts';
import { normalizePandadocDelivery } from './normalize.ts';
import { parsePandadocDelivery } from './payload.ts';

const receivedAt = new Date('2026-03-02T10:00:00Z');

function normalize(events: unknown[], eventId?: string, config = pandadocTestConfig()): NormalizedEvent[] {
  const req = signedPandadocRequest({ body: events, ...(eventId ? { eventId } : {}) });
  return normalizePandadocDelivery(parsePandadocDelivery(req), config, { workspaceId: 'ws_1', receivedAt }).events;
}

const stateChange = (status: string, overrides: Record<string, unknown> = {}) =>
  pandadocEvent('document_state_changed', pandadocDocumentData({ status, ...overrides }));

describe('normalizePandadocDelivery', () => {
  it('turns a viewed document into proposal.viewed for the deal in its metadata', () => {
    const [event] = normalize([stateChange('document.viewed')]);
    expect(event).toMatchObject({
      vendorEventId: `${pandadocTestDocumentId}:document.viewed:2026-03-02T09:59:30.123456Z`,
      eventType: 'document_state_changed:document.viewed',
      outcome: 'accepted',
    });
    expect(event?.signals).toEqual([
      {
        dedupeKey: `${pandadocTestDocumentId}:document.viewed:2026-03-02T09:59:30.123456Z#proposal.viewed`,
        dealId: '9876543210',
        type: 'proposal.viewed',
        occurredAt: new Date('2026-03-02T09:59:30.123Z'),
        origin: 'live',
        payload: { documentId: pandadocTestDocumentId, name: 'Acme - Proposal 2026', amount: 48000 },
      },
    ]);
  });

  it.each([
    ['document.sent', 'proposal.sent'],
    ['document.completed', 'proposal.completed'],
    ['document.declined', 'proposal.declined'],
    ['document.waiting_approval', 'proposal.approval_requested'],
    ['document.approved', 'proposal.approved'],
    ['document.rejected', 'proposal.rejected'],
    ['document.paid', 'proposal.paid'],
  ])('maps %s to %s', (status, type) => {
    expect(normalize([stateChange(status)])[0]?.signals[0]?.type).toBe(type);
  });

  it('keys events by the webhook event id and position when PandaDoc sends one', () => {
    const events = normalize([stateChange('document.sent'), stateChange('document.viewed')], 'wh-evt-7');
    expect(events.map((event) => event.vendorEventId)).toEqual(['wh-evt-7:0', 'wh-evt-7:1']);
  });

  it('maps recipient completion with who finished, keyed per recipient', () => {
    const data = pandadocDocumentData({ status: 'document.sent', action_by: { email: 'cfo@acme.example' }, action_date: '2026-03-02T09:58:00Z' });
    const [event] = normalize([pandadocEvent('recipient_completed', data)]);
    expect(event?.vendorEventId).toBe(`${pandadocTestDocumentId}:recipient_completed:cfo@acme.example:2026-03-02T09:58:00Z`);
    expect(event?.signals[0]).toMatchObject({ type: 'proposal.recipient_completed', payload: { recipientEmail: 'cfo@acme.example' }, occurredAt: new Date('2026-03-02T09:58:00Z') });
  });

  it('tries the configured metadata keys in order', () => {
    const metadata = { deal_id: '', salesforce_opportunity_id: '0065e00000OppOneAAA' };
    expect(normalize([stateChange('document.sent', { metadata })])[0]?.signals[0]?.dealId).toBe('0065e00000OppOneAAA');
  });

  it('leaves a document without a deal id unattributed', () => {
    expect(normalize([stateChange('document.sent', { metadata: {} })])[0]).toMatchObject({ outcome: 'unattributed', signals: [] });
  });

  it('ignores other events and statuses with a reason', () => {
    const [deleted, draft] = normalize([pandadocEvent('document_deleted', { id: 'doc_1' }), stateChange('document.draft')]);
    expect(deleted).toMatchObject({ outcome: 'ignored', reason: 'document_deleted is not used by Momentum', vendorEventId: 'doc_1:document_deleted:#0' });
    expect(draft).toMatchObject({ outcome: 'ignored', reason: 'status document.draft is not used by Momentum' });
  });

  it('never throws on schema-valid input', () => {
    const data = fc.record({
      id: fc.string({ minLength: 1 }),
      status: fc.oneof(fc.constantFrom('document.sent', 'document.paid', 'constructor'), fc.string({ minLength: 1 })),
      date_modified: fc.option(fc.string(), { nil: undefined }),
      metadata: fc.dictionary(fc.constantFrom('deal_id', 'DEAL_ID', 'x', '__proto__'), fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
      grand_total: fc.option(fc.record({ amount: fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true })) }), { nil: null }),
      action_by: fc.option(fc.record({ email: fc.string() }), { nil: null }),
    });
    const event = fc.record({ event: fc.constantFrom('document_state_changed', 'recipient_completed'), data });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 4 }), fc.option(fc.string({ minLength: 1 }), { nil: undefined }), (events, eventId) => {
        const normalized = normalize(events, eventId);
        for (const signal of normalized.flatMap((item) => item.signals)) expect(() => parseSignalPayload(signal.type, signal.payload)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
