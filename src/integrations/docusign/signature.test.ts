import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { docusignMessage, docusignTestConfig, docusignTestKey, signedDocusignRequest } from './fixtures.ts';
import { verifyDocusignSignature } from './signature.ts';

const body = docusignMessage();

describe('verifyDocusignSignature', () => {
  it('accepts a message signed with the configured key', () => {
    expect(verifyDocusignSignature(signedDocusignRequest({ body }), docusignTestConfig())).toEqual({ ok: true, keyIndex: 0 });
  });

  it('rejects a message signed with another key, or with a body changed after signing', () => {
    expect(verifyDocusignSignature(signedDocusignRequest({ body, keys: ['other'] }), docusignTestConfig()).ok).toBe(false);
    const req = signedDocusignRequest({ body });
    const tampered = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('envelope-completed', 'envelope-voided')) };
    expect(verifyDocusignSignature(tampered, docusignTestConfig()).ok).toBe(false);
  });

  it('rejects a message without signature headers', () => {
    const req = signedDocusignRequest({ body, keys: [] });
    expect(verifyDocusignSignature(req, docusignTestConfig())).toEqual({ ok: false, reason: 'missing X-DocuSign-Signature-1 header' });
  });

  it('accepts when any header matches any key (rotation on both sides)', () => {
    const req = signedDocusignRequest({ body, keys: ['retired-key', 'new-key'] });
    expect(verifyDocusignSignature(req, docusignTestConfig({ hmacKeys: [docusignTestKey, 'new-key'] }))).toEqual({ ok: true, keyIndex: 1 });
  });

  it('fails cleanly on a signature of the wrong length', () => {
    const req = signedDocusignRequest({ body });
    for (const value of ['', 'short', `${req.headers['x-docusign-signature-1']}AA`]) {
      expect(verifyDocusignSignature({ ...req, headers: { ...req.headers, 'x-docusign-signature-1': value } }, docusignTestConfig()).ok).toBe(false);
    }
  });

  it('never throws and never accepts a mutated signature', () => {
    const req = signedDocusignRequest({ body });
    const valid = req.headers['x-docusign-signature-1'] ?? '';
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.uint8Array({ maxLength: 100 }), (candidate, bytes) => {
        fc.pre(candidate !== valid);
        const mutated = { ...req, headers: { ...req.headers, 'x-docusign-signature-1': candidate } };
        expect(verifyDocusignSignature(mutated, docusignTestConfig()).ok).toBe(false);
        const noise = { ...req, headers: { 'x-docusign-signature-7': candidate }, rawBody: Buffer.from(bytes) };
        expect(typeof verifyDocusignSignature(noise, docusignTestConfig()).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
