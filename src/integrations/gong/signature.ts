import { createHash } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { constantTimeEqual, matchAnySecret } from '../shared/constant-time.ts';
import type { RawWebhookRequest, VerifyResult } from '../webhook-source.ts';
import { rsaPublicKey } from './public-key.ts';
import type { GongSourceConfig } from './source-config.ts';

/** Gong's `exp` may run slightly ahead of our clock; no more than this is forgiven. */
export const gongClockToleranceSeconds = 60;

/**
 * Gong's samples compare `body_sha256` as hex; base64 is accepted too because Gong's own
 * documentation does not say which (VENDORS.md §5). Either way it is a hash inside a signed token.
 */
function bodyHashMatches(claim: string, rawBody: Buffer): boolean {
  const digest = createHash('sha256').update(rawBody).digest();
  const accepted = [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')];
  const normalized = /^[0-9a-fA-F]{64}$/.test(claim) ? claim.toLowerCase() : claim.replace(/=+$/, '');
  return accepted.some((form) => constantTimeEqual(normalized, form.replace(/=+$/, '')));
}

function failureReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'JWT has expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'JWT signature does not match the public key';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'JWT must be signed with RS256';
  if (error instanceof errors.JWTClaimValidationFailed) return `JWT claim ${error.claim} is missing or invalid`;
  return 'Authorization header does not hold a valid JWT';
}

async function verifySignedJwt(req: RawWebhookRequest, publicKeys: readonly string[], now: Date): Promise<VerifyResult> {
  const header = req.headers['authorization'];
  if (!header) return { ok: false, reason: 'missing Authorization header' };
  // Gong sends the bare JWT; a "Bearer " prefix added by a proxy or a test tool is tolerated.
  const token = header.trim().replace(/^Bearer\s+/i, '');
  // Only the canonical spelling of a signature counts, so no altered token is ever accepted.
  const signature = token.split('.')[2] ?? '';
  if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
    return { ok: false, reason: 'Authorization header does not hold a valid JWT' };
  }
  let lastReason = 'no usable public key';
  for (const [keyIndex, pem] of publicKeys.entries()) {
    const key = rsaPublicKey(pem);
    if (!key) continue;
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        currentDate: now,
        clockTolerance: gongClockToleranceSeconds,
        requiredClaims: ['exp', 'webhook_url', 'body_sha256'],
      });
      if (payload['webhook_url'] !== req.publicUrl) return { ok: false, reason: 'JWT webhook_url is not this endpoint' };
      const bodyHash = payload['body_sha256'];
      if (typeof bodyHash !== 'string' || !bodyHashMatches(bodyHash, req.rawBody)) {
        return { ok: false, reason: 'JWT body_sha256 does not match the body' };
      }
      return { ok: true, keyIndex };
    } catch (error) {
      lastReason = failureReason(error);
    }
  }
  return { ok: false, reason: lastReason };
}

export async function verifyGongRequest(req: RawWebhookRequest, config: GongSourceConfig, now: Date): Promise<VerifyResult> {
  if (config.mode === 'signed_jwt') return verifySignedJwt(req, config.publicKey, now);
  const token = req.query['token'];
  if (token === undefined) return { ok: false, reason: 'missing token query parameter' };
  return matchAnySecret(config.urlToken, token, (secret) => secret, 'token');
}
