import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hubspotEvent, hubspotTestConfig, hubspotTestSecret, signedHubspotRequest } from './fixtures.ts';
import { hubspotSignedUri, verifyHubspotSignature } from './signature.ts';
import type { RawWebhookRequest } from '../webhook-source.ts';

const now = new Date('2026-03-02T10:00:00Z');
const body = [hubspotEvent()];

function legacyRequest(method: string, url: string, rawBody: string, signature: string, version: string): RawWebhookRequest {
  return {
    method,
    publicUrl: url,
    headers: { 'x-hubspot-signature': signature, 'x-hubspot-signature-version': version },
    query: {},
    rawBody: Buffer.from(rawBody),
  };
}

describe('HubSpot v3 signatures', () => {
  it('accepts a correctly signed request and names the matching secret', () => {
    const req = signedHubspotRequest({ body, timestamp: now.getTime() - 1000 });
    expect(verifyHubspotSignature(req, hubspotTestConfig(), now)).toEqual({ ok: true, keyIndex: 0 });
  });

  it('matches an independently computed vector, decoding only the listed escapes in the URI', () => {
    const url = 'https://momentum.example.com/webhooks/hubspot?state=a%3Ab%2Fc%20d%2a';
    expect(hubspotSignedUri(url)).toBe('https://momentum.example.com/webhooks/hubspot?state=a:b/c%20d%2a');
    const timestamp = String(now.getTime());
    const rawBody = '[{"eventId":1}]';
    const expected = createHmac('sha256', 'app-secret')
      .update(`POSThttps://momentum.example.com/webhooks/hubspot?state=a:b/c%20d%2a${rawBody}${timestamp}`)
      .digest('base64');
    const req: RawWebhookRequest = {
      method: 'POST',
      publicUrl: url,
      headers: { 'x-hubspot-signature-v3': expected, 'x-hubspot-request-timestamp': timestamp },
      query: {},
      rawBody: Buffer.from(rawBody),
    };
    expect(verifyHubspotSignature(req, hubspotTestConfig({ clientSecrets: ['app-secret'] }), now).ok).toBe(true);
  });

  it('rejects a signature made with another secret', () => {
    const req = signedHubspotRequest({ secret: 'someone-else', body, timestamp: now.getTime() });
    expect(verifyHubspotSignature(req, hubspotTestConfig(), now)).toEqual({
      ok: false,
      reason: 'signature does not match any active secret',
    });
  });

  it('rejects a body changed after signing', () => {
    const req = signedHubspotRequest({ body, timestamp: now.getTime() });
    const tampered = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('contractsent', 'closedwon')) };
    expect(verifyHubspotSignature(tampered, hubspotTestConfig(), now).ok).toBe(false);
  });

  it('accepts a timestamp exactly 5 minutes old but not one a millisecond older', () => {
    const edge = signedHubspotRequest({ body, timestamp: now.getTime() - 300_000 });
    expect(verifyHubspotSignature(edge, hubspotTestConfig(), now).ok).toBe(true);
    const stale = signedHubspotRequest({ body, timestamp: now.getTime() - 300_001 });
    expect(verifyHubspotSignature(stale, hubspotTestConfig(), now)).toEqual({ ok: false, reason: 'request timestamp is older than 5 minutes' });
  });

  it('rejects a timestamp more than 5 minutes in the future', () => {
    const future = signedHubspotRequest({ body, timestamp: now.getTime() + 300_001 });
    expect(verifyHubspotSignature(future, hubspotTestConfig(), now)).toEqual({
      ok: false,
      reason: 'request timestamp is more than 5 minutes in the future',
    });
  });

  it('rejects a missing or non-numeric timestamp', () => {
    const req = signedHubspotRequest({ body, timestamp: now.getTime() });
    const missing = { ...req, headers: { ...req.headers, 'x-hubspot-request-timestamp': undefined } };
    expect(verifyHubspotSignature(missing, hubspotTestConfig(), now).ok).toBe(false);
    const words = { ...req, headers: { ...req.headers, 'x-hubspot-request-timestamp': 'yesterday' } };
    expect(verifyHubspotSignature(words, hubspotTestConfig(), now).ok).toBe(false);
  });

  it('accepts the second secret during a rotation', () => {
    const req = signedHubspotRequest({ secret: 'new-secret', body, timestamp: now.getTime() });
    const config = hubspotTestConfig({ clientSecrets: ['old-secret', 'new-secret'] });
    expect(verifyHubspotSignature(req, config, now)).toEqual({ ok: true, keyIndex: 1 });
  });

  it('fails cleanly on a signature of the wrong length', () => {
    const req = signedHubspotRequest({ body, timestamp: now.getTime() });
    for (const signature of ['', 'abc', `${req.headers['x-hubspot-signature-v3']}=`, 'é'.repeat(44)]) {
      const wrong = { ...req, headers: { ...req.headers, 'x-hubspot-signature-v3': signature } };
      expect(verifyHubspotSignature(wrong, hubspotTestConfig(), now).ok).toBe(false);
    }
  });

  it('does not fall back to a valid legacy signature when the v3 one is wrong', () => {
    const req = signedHubspotRequest({ body, timestamp: now.getTime() - 3_600_000, legacyVersion: 'v1' });
    expect(verifyHubspotSignature(req, hubspotTestConfig({ allowLegacySignatures: true }), now).ok).toBe(false);
  });

  it('never throws and never accepts a mutated signature', () => {
    const req = signedHubspotRequest({ body, timestamp: now.getTime() });
    const valid = req.headers['x-hubspot-signature-v3'] ?? '';
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (candidate) => {
        fc.pre(candidate !== valid);
        const mutated = { ...req, headers: { ...req.headers, 'x-hubspot-signature-v3': candidate } };
        expect(verifyHubspotSignature(mutated, hubspotTestConfig(), now).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 127 }), (index, delta) => {
        const code = (valid.charCodeAt(index) + delta) % 128;
        const mutatedSignature = valid.slice(0, index) + String.fromCharCode(code) + valid.slice(index + 1);
        fc.pre(mutatedSignature !== valid);
        const mutated = { ...req, headers: { ...req.headers, 'x-hubspot-signature-v3': mutatedSignature } };
        expect(verifyHubspotSignature(mutated, hubspotTestConfig(), now).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary headers and bodies', () => {
    const header = fc.option(fc.string({ maxLength: 50 }), { nil: undefined });
    fc.assert(
      fc.property(header, header, header, header, fc.uint8Array({ maxLength: 200 }), (v3, timestamp, legacy, version, bytes) => {
        const req: RawWebhookRequest = {
          method: 'POST',
          publicUrl: 'https://momentum.example.com/webhooks/hubspot',
          headers: {
            'x-hubspot-signature-v3': v3,
            'x-hubspot-request-timestamp': timestamp,
            'x-hubspot-signature': legacy,
            'x-hubspot-signature-version': version,
          },
          query: {},
          rawBody: Buffer.from(bytes),
        };
        const result = verifyHubspotSignature(req, hubspotTestConfig({ allowLegacySignatures: true }), now);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('HubSpot legacy signatures (official examples)', () => {
  const officialV1Body =
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
  const legacy = hubspotTestConfig({ allowLegacySignatures: true });

  it('verifies the documented v1 example', () => {
    const req = legacyRequest('POST', 'https://www.example.com/webhook_uri', officialV1Body,
      '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de', 'v1');
    expect(verifyHubspotSignature(req, legacy, now)).toEqual({ ok: true, keyIndex: 0 });
  });

  it('verifies the documented v2 examples', () => {
    const get = legacyRequest('GET', 'https://www.example.com/webhook_uri', '',
      'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e', 'v2');
    expect(verifyHubspotSignature(get, legacy, now).ok).toBe(true);
    const post = legacyRequest('POST', 'https://www.example.com/webhook_uri', '{"example_field":"example_value"}',
      '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900', 'v2');
    expect(verifyHubspotSignature(post, legacy, now).ok).toBe(true);
  });

  it('refuses legacy signatures unless the source allows them', () => {
    const req = legacyRequest('POST', 'https://www.example.com/webhook_uri', officialV1Body,
      '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de', 'v1');
    expect(verifyHubspotSignature(req, hubspotTestConfig(), now)).toEqual({
      ok: false,
      reason: 'v1/v2 signatures are not enabled for this source; v3 is required',
    });
  });

  it('checks legacy signatures built by the fixture with a rotated secret', () => {
    const req = signedHubspotRequest({ secret: 'new', body, timestamp: 0, legacyVersion: 'v2', withoutV3: true });
    expect(verifyHubspotSignature(req, hubspotTestConfig({ clientSecrets: [hubspotTestSecret, 'new'], allowLegacySignatures: true }), now))
      .toEqual({ ok: true, keyIndex: 1 });
  });
});
