import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookBodyError } from '../webhook-source.ts';
import { pandadocDocumentData, pandadocEvent, signedPandadocRequest } from './fixtures.ts';
import { parsePandadocDelivery } from './payload.ts';

const parse = (body: unknown, eventId?: string) => parsePandadocDelivery(signedPandadocRequest({ body, ...(eventId ? { eventId } : {}) }));

function bodyError(run: () => unknown): WebhookBodyError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookBodyError) return error;
    throw error;
  }
  throw new Error('expected a WebhookBodyError');
}

describe('parsePandadocDelivery', () => {
  it('reads the event array and the event-id header', () => {
    const delivery = parse([pandadocEvent('document_state_changed'), pandadocEvent('template_created', { id: 'tpl_9', name: 'T' })], 'wh-evt-1');
    expect(delivery.webhookEventId).toBe('wh-evt-1');
    expect(delivery.events[0]?.document).toMatchObject({ id: 'msFYActMfJHqNTKH8YSvF1', status: 'document.viewed', metadata: { hubspot_deal_id: '9876543210' } });
    expect(delivery.events[1]).toEqual({ event: 'template_created', document: undefined, documentId: 'tpl_9' });
  });

  it('calls a non-JSON body malformed', () => {
    expect(bodyError(() => parse('event=document_state_changed'))).toMatchObject({ kind: 'malformed' });
  });

  it('names the first bad field of a schema failure', () => {
    expect(bodyError(() => parse({ event: 'document_state_changed' }))).toMatchObject({ kind: 'schema', path: '(root)' });
    const noStatus = pandadocEvent('document_state_changed', pandadocDocumentData({ status: undefined }));
    expect(bodyError(() => parse([pandadocEvent('document_state_changed'), noStatus]))).toMatchObject({ kind: 'schema', path: '[1].data.status' });
  });

  it('throws nothing but WebhookBodyError, whatever the bytes', () => {
    const onlyBodyErrors = (body: string | Uint8Array) => {
      try {
        parsePandadocDelivery({ ...signedPandadocRequest({ body: '' }), rawBody: Buffer.from(body) });
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookBodyError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), onlyBodyErrors), { numRuns: 2000 });
    fc.assert(fc.property(fc.json({ maxDepth: 5 }), onlyBodyErrors), { numRuns: 2000 });
    const event = fc.record({ event: fc.constantFrom('document_state_changed', 'recipient_completed', 'x'), data: fc.anything() });
    fc.assert(fc.property(fc.array(event, { maxLength: 4 }), (events) => onlyBodyErrors(JSON.stringify(events))), { numRuns: 2000 });
  });
});
