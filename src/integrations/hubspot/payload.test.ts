import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookBodyError } from '../webhook-source.ts';
import { hubspotEvent } from './fixtures.ts';
import { hubspotPortalIds, parseHubspotDelivery, peekHubspotPortalIds } from './payload.ts';

const asBody = (value: unknown) => Buffer.from(JSON.stringify(value));

function bodyError(run: () => unknown): WebhookBodyError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookBodyError) return error;
    throw error;
  }
  throw new Error('expected a WebhookBodyError');
}

describe('parseHubspotDelivery', () => {
  it('keeps ids as strings and reads the documented fields', () => {
    const { events } = parseHubspotDelivery(asBody([hubspotEvent({ eventId: 100 })]));
    expect(events[0]).toMatchObject({
      eventId: '100',
      portalId: '62515',
      objectId: '9876543210',
      subscriptionType: 'deal.propertyChange',
      propertyName: 'dealstage',
      propertyValue: 'contractsent',
    });
  });

  it('accepts the older eventType name for subscriptionType', () => {
    const legacy = hubspotEvent({ subscriptionType: undefined, eventType: 'deal.creation' });
    expect(parseHubspotDelivery(asBody([legacy])).events[0]?.subscriptionType).toBe('deal.creation');
  });

  it('calls a body that is not JSON malformed', () => {
    expect(bodyError(() => parseHubspotDelivery(Buffer.from('[{"eventId":')))).toMatchObject({ kind: 'malformed' });
    expect(bodyError(() => parseHubspotDelivery(Buffer.from([0xff, 0xfe, 0x5b])))).toMatchObject({ kind: 'malformed' });
  });

  it('names the first bad field of a schema failure', () => {
    const error = bodyError(() => parseHubspotDelivery(asBody([hubspotEvent(), hubspotEvent({ propertyName: undefined })])));
    expect(error).toMatchObject({ kind: 'schema', path: '[1].propertyName' });
    expect(bodyError(() => parseHubspotDelivery(asBody({ events: [] })))).toMatchObject({ kind: 'schema', path: '(root)' });
    expect(bodyError(() => parseHubspotDelivery(asBody([hubspotEvent({ portalId: 'acme' })])))).toMatchObject({ path: '[0].portalId' });
  });

  it('rejects a batch of more than 1000 events', () => {
    const events = Array.from({ length: 1001 }, () => hubspotEvent());
    expect(bodyError(() => parseHubspotDelivery(asBody(events)))).toMatchObject({ kind: 'schema' });
  });

  it('reads the portal ids of a batch, parsed or not', () => {
    const raw = asBody([hubspotEvent(), hubspotEvent(), hubspotEvent({ portalId: 7 })]);
    expect(hubspotPortalIds(parseHubspotDelivery(raw))).toEqual(['62515', '7']);
    expect(peekHubspotPortalIds(raw)).toEqual(['62515', '7']);
    expect(bodyError(() => peekHubspotPortalIds(Buffer.from('nope')))).toMatchObject({ kind: 'malformed' });
  });

  it('throws nothing but WebhookBodyError, whatever the bytes', () => {
    const onlyBodyErrors = (raw: Buffer) => {
      try {
        parseHubspotDelivery(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookBodyError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyBodyErrors(Buffer.from(bytes))), { numRuns: 2000 });
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), (json) => onlyBodyErrors(Buffer.from(json))), { numRuns: 2000 });
    const looseEvent = fc.dictionary(
      fc.constantFrom('eventId', 'subscriptionId', 'portalId', 'occurredAt', 'subscriptionType', 'objectId', 'propertyName', 'propertyValue', '__proto__'),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.boolean(), fc.double()),
    );
    fc.assert(fc.property(fc.array(looseEvent, { maxLength: 5 }), (events) => onlyBodyErrors(asBody(events))), { numRuns: 2000 });
  });
});
