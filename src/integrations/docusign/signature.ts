import { constantTimeEqual, hmacSha256 } from '../shared/constant-time.ts';
import type { RawWebhookRequest, VerifyResult } from '../webhook-source.ts';
import type { DocusignSourceConfig } from './source-config.ts';

/** base64 HMAC-SHA256 of the raw body; the key is the secret's UTF-8 text, not base64-decoded. */
export function docusignSignature(key: string, rawBody: Buffer): string {
  return hmacSha256(key, rawBody).toString('base64');
}

const signatureHeader = /^x-docusign-signature-(\d{1,3})$/;

/**
 * DocuSign sends one X-DocuSign-Signature-N header per active Connect key. Accepting any match
 * is how its rotation works: add the new key, deploy, remove the old one.
 */
export function verifyDocusignSignature(req: RawWebhookRequest, config: DocusignSourceConfig): VerifyResult {
  const received = Object.entries(req.headers)
    .filter(([name, value]) => signatureHeader.test(name) && value !== undefined)
    .map(([, value]) => value ?? '');
  if (received.length === 0) return { ok: false, reason: 'missing X-DocuSign-Signature-1 header' };
  const expected = config.hmacKeys.map((key) => docusignSignature(key, req.rawBody));
  const keyIndex = expected.findIndex((signature) => received.some((value) => constantTimeEqual(value, signature)));
  return keyIndex >= 0 ? { ok: true, keyIndex } : { ok: false, reason: 'no X-DocuSign-Signature header matches an active HMAC key' };
}
