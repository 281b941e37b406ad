import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookBodyError } from '../webhook-source.ts';
import { gongCallBody, gongUrlTokenRequest } from './fixtures.ts';
import { parseGongDelivery } from './payload.ts';

function bodyError(run: () => unknown): WebhookBodyError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookBodyError) return error;
    throw error;
  }
  throw new Error('expected a WebhookBodyError');
}

describe('parseGongDelivery', () => {
  it('reads the call and derives a rule key that ignores the secret token', () => {
    const delivery = parseGongDelivery(gongUrlTokenRequest({ body: gongCallBody() }));
    expect(delivery).toMatchObject({ isTest: false, call: { metaData: { id: '7782342274025937895', duration: 2730 } } });
    const sameRule = parseGongDelivery(gongUrlTokenRequest({ body: gongCallBody(), token: 'a-different-token-123' }));
    expect(sameRule.ruleKey).toBe(delivery.ruleKey);
    const otherRule = parseGongDelivery(gongUrlTokenRequest({ body: gongCallBody(), url: 'https://momentum.example.com/webhooks/ws_1/gong?rule=pricing' }));
    expect(otherRule.ruleKey).not.toBe(delivery.ruleKey);
  });

  it('calls a non-JSON body malformed', () => {
    expect(bodyError(() => parseGongDelivery(gongUrlTokenRequest({ body: 'callData=' })))).toMatchObject({ kind: 'malformed' });
  });

  it('names the first bad field of a schema failure', () => {
    const body = gongCallBody({ callData: { metaData: { id: '1', duration: -5 } } });
    expect(bodyError(() => parseGongDelivery(gongUrlTokenRequest({ body })))).toMatchObject({ kind: 'schema', path: 'callData.metaData.duration' });
    expect(bodyError(() => parseGongDelivery(gongUrlTokenRequest({ body: { isTest: true } })))).toMatchObject({ path: 'callData' });
  });

  it('throws nothing but WebhookBodyError, whatever the bytes', () => {
    const onlyBodyErrors = (body: string | Uint8Array) => {
      try {
        parseGongDelivery({ ...gongUrlTokenRequest({ body: '' }), rawBody: Buffer.from(body) });
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookBodyError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), onlyBodyErrors), { numRuns: 2000 });
    fc.assert(fc.property(fc.json({ maxDepth: 5 }), onlyBodyErrors), { numRuns: 2000 });
    const callData = fc.record({ metaData: fc.record({ id: fc.anything(), duration: fc.anything() }), context: fc.anything(), parties: fc.anything() });
    fc.assert(fc.property(callData, (data) => onlyBodyErrors(JSON.stringify({ callData: data }))), { numRuns: 2000 });
  });
});
