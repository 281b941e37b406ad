import { hmacSha256, matchAnySecret } from '../shared/constant-time.ts';
import type { RawWebhookRequest, VerifyResult } from '../webhook-source.ts';
import type { PandadocSourceConfig } from './source-config.ts';

/** hex HMAC-SHA256 of the raw body, keyed by the subscription's shared key. */
export function pandadocSignature(sharedKey: string, rawBody: Buffer): string {
  return hmacSha256(sharedKey, rawBody).toString('hex');
}

/** PandaDoc appends `?signature=<hex>` to the configured URL; there is no signature header or timestamp. */
export function verifyPandadocSignature(req: RawWebhookRequest, config: PandadocSourceConfig): VerifyResult {
  const signature = req.query['signature'];
  if (signature === undefined) return { ok: false, reason: 'missing signature query parameter' };
  return matchAnySecret(config.sharedKeys, signature, (key) => pandadocSignature(key, req.rawBody));
}
