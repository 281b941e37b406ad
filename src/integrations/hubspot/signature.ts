import { createHash } from 'node:crypto';
import { hmacSha256, matchAnySecret } from '../shared/constant-time.ts';
import type { RawWebhookRequest, VerifyResult } from '../webhook-source.ts';
import type { HubspotSourceConfig } from './source-config.ts';

/** HubSpot asks receivers to refuse v3 timestamps older than 5 minutes; we refuse the future too. */
export const hubspotTimestampToleranceMs = 5 * 60 * 1000;

// HubSpot decodes exactly these sequences in the URI before signing (and no others).
const signedUriDecoding: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$',
  '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export function hubspotSignedUri(publicUrl: string): string {
  return publicUrl.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/g, (sequence) => signedUriDecoding[sequence] ?? sequence);
}

/** v3: base64 HMAC-SHA256 over method + URI + raw body + timestamp, keyed by the client secret. */
export function hubspotV3Signature(secret: string, method: string, publicUrl: string, rawBody: Buffer, timestamp: string): string {
  const head = Buffer.from(`${method}${hubspotSignedUri(publicUrl)}`, 'utf8');
  return hmacSha256(secret, head, rawBody, Buffer.from(timestamp, 'utf8')).toString('base64');
}

/** v2: hex SHA-256 over secret + method + URI (exactly as called) + raw body. */
export function hubspotV2Signature(secret: string, method: string, publicUrl: string, rawBody: Buffer): string {
  return createHash('sha256').update(`${secret}${method}${publicUrl}`, 'utf8').update(rawBody).digest('hex');
}

/** v1: hex SHA-256 over secret + raw body. */
export function hubspotV1Signature(secret: string, rawBody: Buffer): string {
  return createHash('sha256').update(secret, 'utf8').update(rawBody).digest('hex');
}

function verifyV3(req: RawWebhookRequest, config: HubspotSourceConfig, signature: string, now: Date): VerifyResult {
  const timestamp = req.headers['x-hubspot-request-timestamp'];
  if (timestamp === undefined) return { ok: false, reason: 'missing X-HubSpot-Request-Timestamp header' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'X-HubSpot-Request-Timestamp is not epoch milliseconds' };
  const ageMs = now.getTime() - Number(timestamp);
  if (ageMs > hubspotTimestampToleranceMs) return { ok: false, reason: 'request timestamp is older than 5 minutes' };
  if (-ageMs > hubspotTimestampToleranceMs) return { ok: false, reason: 'request timestamp is more than 5 minutes in the future' };
  return matchAnySecret(config.clientSecrets, signature, (secret) =>
    hubspotV3Signature(secret, req.method, req.publicUrl, req.rawBody, timestamp),
  );
}

function verifyLegacy(req: RawWebhookRequest, config: HubspotSourceConfig): VerifyResult {
  const signature = req.headers['x-hubspot-signature'];
  const version = req.headers['x-hubspot-signature-version'];
  if (signature === undefined) return { ok: false, reason: 'missing X-HubSpot-Signature-v3 header' };
  if (!config.allowLegacySignatures) return { ok: false, reason: 'v1/v2 signatures are not enabled for this source; v3 is required' };
  if (version === 'v1') return matchAnySecret(config.clientSecrets, signature, (secret) => hubspotV1Signature(secret, req.rawBody));
  if (version === 'v2') {
    return matchAnySecret(config.clientSecrets, signature, (secret) =>
      hubspotV2Signature(secret, req.method, req.publicUrl, req.rawBody),
    );
  }
  return { ok: false, reason: 'unknown X-HubSpot-Signature-Version' };
}

/**
 * Verifies over the raw bytes. When a v3 signature is present it alone decides: falling back to
 * v1/v2 would let a replayed request past the timestamp check.
 */
export function verifyHubspotSignature(req: RawWebhookRequest, config: HubspotSourceConfig, now: Date): VerifyResult {
  const v3 = req.headers['x-hubspot-signature-v3'];
  return v3 === undefined ? verifyLegacy(req, config) : verifyV3(req, config, v3, now);
}
