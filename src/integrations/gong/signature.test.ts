import { createHash, createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { gongCallBody, gongJwtConfig, gongTestKeyPair, gongTestToken, gongUrlTokenConfig, gongUrlTokenRequest, signedGongJwtRequest } from './fixtures.ts';
import { verifyGongRequest } from './signature.ts';
import { gongSourceConfig } from './source-config.ts';

const now = new Date('2026-03-02T10:00:00Z');
const body = gongCallBody();
const rule = gongTestKeyPair();
const otherRule = gongTestKeyPair();

describe('Gong "URL includes key"', () => {
  it('accepts the right token and names which one matched', async () => {
    expect(await verifyGongRequest(gongUrlTokenRequest({ body }), gongUrlTokenConfig(), now)).toEqual({ ok: true, keyIndex: 0 });
    const rotating = gongUrlTokenConfig({ urlToken: ['old-gong-token-0123456', gongTestToken] });
    expect(await verifyGongRequest(gongUrlTokenRequest({ body }), rotating, now)).toEqual({ ok: true, keyIndex: 1 });
  });

  it('rejects a wrong, missing or wrong-length token cleanly', async () => {
    expect((await verifyGongRequest(gongUrlTokenRequest({ body, token: 'gong-url-token-0123456788' }), gongUrlTokenConfig(), now)).ok).toBe(false);
    expect((await verifyGongRequest(gongUrlTokenRequest({ body, token: 'g' }), gongUrlTokenConfig(), now)).ok).toBe(false);
    const req = gongUrlTokenRequest({ body });
    expect(await verifyGongRequest({ ...req, query: {} }, gongUrlTokenConfig(), now)).toEqual({ ok: false, reason: 'missing token query parameter' });
  });
});

describe('Gong "Signed JWT header"', () => {
  const config = gongJwtConfig([rule.publicKeyPem]);

  it('accepts an RS256 JWT over this URL and this body', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now });
    expect(await verifyGongRequest(req, config, now)).toEqual({ ok: true, keyIndex: 0 });
  });

  it('tolerates a Bearer prefix', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now, bearer: true });
    expect((await verifyGongRequest(req, config, now)).ok).toBe(true);
  });

  it('accepts a public key pasted without BEGIN/END lines', async () => {
    const bare = rule.publicKeyPem.replace(/-----[A-Z ]+-----/g, '').replace(/\n/g, ' ');
    const parsed = gongSourceConfig.parse({ mode: 'signed_jwt', publicKey: bare });
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now });
    expect((await verifyGongRequest(req, parsed, now)).ok).toBe(true);
    expect(gongSourceConfig.safeParse({ mode: 'signed_jwt', publicKey: 'not a key' }).success).toBe(false);
  });

  it('accepts the second public key while a rule key is replaced', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now });
    expect(await verifyGongRequest(req, gongJwtConfig([otherRule.publicKeyPem, rule.publicKeyPem]), now)).toEqual({ ok: true, keyIndex: 1 });
  });

  it('rejects a JWT signed by another key', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: otherRule.privateKey, now });
    expect(await verifyGongRequest(req, config, now)).toEqual({ ok: false, reason: 'JWT signature does not match the public key' });
  });

  it('rejects a JWT issued for another URL', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now, webhookUrl: 'https://elsewhere.example/webhooks/gong' });
    expect(await verifyGongRequest(req, config, now)).toEqual({ ok: false, reason: 'JWT webhook_url is not this endpoint' });
  });

  it('rejects a body that does not match body_sha256', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now });
    const tampered = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('2730', '9999')) };
    expect(await verifyGongRequest(tampered, config, now)).toEqual({ ok: false, reason: 'JWT body_sha256 does not match the body' });
    const wrongHash = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now, bodySha256: 'ab'.repeat(32) });
    expect((await verifyGongRequest(wrongHash, config, now)).ok).toBe(false);
  });

  it('accepts body_sha256 in base64 as well as hex', async () => {
    const base64 = createHash('sha256').update(JSON.stringify(body)).digest('base64');
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now, bodySha256: base64 });
    expect((await verifyGongRequest(req, config, now)).ok).toBe(true);
  });

  it('enforces exp with at most 60 seconds of clock skew', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now, expiresInSeconds: 300 });
    expect((await verifyGongRequest(req, config, new Date(now.getTime() + 330_000))).ok).toBe(true);
    expect(await verifyGongRequest(req, config, new Date(now.getTime() + 361_000))).toEqual({ ok: false, reason: 'JWT has expired' });
  });

  it('refuses any algorithm but RS256, and headers that are not JWTs', async () => {
    const hs256 = await new SignJWT({ webhook_url: 'x', body_sha256: 'y' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m')
      .sign(createSecretKey(Buffer.from('0123456789abcdef0123456789abcdef')));
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now });
    expect((await verifyGongRequest({ ...req, headers: { ...req.headers, authorization: hs256 } }, config, now)).ok).toBe(false);
    expect(await verifyGongRequest({ ...req, headers: { authorization: 'garbage' } }, config, now)).toEqual({ ok: false, reason: 'Authorization header does not hold a valid JWT' });
    expect(await verifyGongRequest({ ...req, headers: {} }, config, now)).toEqual({ ok: false, reason: 'missing Authorization header' });
  });

  it('never rejects its promise and never accepts a mutated JWT', async () => {
    const req = await signedGongJwtRequest({ body, privateKey: rule.privateKey, now });
    const jwt = req.headers['authorization'] ?? '';
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: jwt.length - 1 }), fc.constantFrom(...'ABCDEFabcdef0123456789-_.'), async (index, char) => {
        const mutated = jwt.slice(0, index) + char + jwt.slice(index + 1);
        fc.pre(mutated !== jwt);
        expect((await verifyGongRequest({ ...req, headers: { authorization: mutated } }, config, now)).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 400 }), async (header) => {
        expect((await verifyGongRequest({ ...req, headers: { authorization: header } }, config, now)).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
