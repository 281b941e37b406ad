import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pandadocEvent, pandadocTestConfig, pandadocTestKey, signedPandadocRequest } from './fixtures.ts';
import { verifyPandadocSignature } from './signature.ts';

const body = [pandadocEvent('document_state_changed')];

describe('verifyPandadocSignature', () => {
  it('accepts a body signed with the shared key', () => {
    expect(verifyPandadocSignature(signedPandadocRequest({ body }), pandadocTestConfig())).toEqual({ ok: true, keyIndex: 0 });
  });

  it('rejects another key, a changed body, and a missing signature', () => {
    expect(verifyPandadocSignature(signedPandadocRequest({ body, key: 'other-key' }), pandadocTestConfig()).ok).toBe(false);
    const req = signedPandadocRequest({ body });
    expect(verifyPandadocSignature({ ...req, rawBody: Buffer.from(`${req.rawBody.toString()} `) }, pandadocTestConfig()).ok).toBe(false);
    expect(verifyPandadocSignature({ ...req, query: {} }, pandadocTestConfig())).toEqual({ ok: false, reason: 'missing signature query parameter' });
  });

  it('accepts the second key while switching keys', () => {
    const req = signedPandadocRequest({ body, key: 'next-key' });
    expect(verifyPandadocSignature(req, pandadocTestConfig({ sharedKeys: [pandadocTestKey, 'next-key'] }))).toEqual({ ok: true, keyIndex: 1 });
  });

  it('fails cleanly on a signature of the wrong length', () => {
    const req = signedPandadocRequest({ body });
    for (const signature of ['', 'abc', `${req.query['signature']}0`]) {
      expect(verifyPandadocSignature({ ...req, query: { signature } }, pandadocTestConfig()).ok).toBe(false);
    }
  });

  it('never throws and never accepts a mutated signature, not even in upper case', () => {
    const req = signedPandadocRequest({ body });
    const valid = req.query['signature'] ?? '';
    expect(verifyPandadocSignature({ ...req, query: { signature: valid.toUpperCase() } }, pandadocTestConfig()).ok).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (candidate) => {
        fc.pre(candidate !== valid);
        expect(verifyPandadocSignature({ ...req, query: { signature: candidate } }, pandadocTestConfig()).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.constantFrom(...'0123456789abcdef'), (index, char) => {
        const mutated = valid.slice(0, index) + char + valid.slice(index + 1);
        fc.pre(mutated !== valid);
        expect(verifyPandadocSignature({ ...req, query: { signature: mutated } }, pandadocTestConfig()).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
