import { hmacSha256, matchAnySecret } from '../shared/constant-time.ts';
import type { RawWebhookRequest, VerifyResult } from '../webhook-source.ts';
import { isFlowCallout } from './payload.ts';
import { parseSoapXml } from './soap.ts';
import { sameSalesforceId } from './source-config.ts';
import type { SalesforceSourceConfig } from './source-config.ts';

/**
 * Outbound messages are not signed (VENDORS.md §2.1): we check the secret token in the URL and the
 * organization id in the message. JSON callouts carry an HMAC of the raw body instead.
 */

export const flowCalloutSignatureHeader = 'x-momentum-signature';

export function flowCalloutSignature(secret: string, rawBody: Buffer): string {
  return hmacSha256(secret, rawBody).toString('hex');
}

function propertyAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The org id a body claims, read only after the sender proved it holds our secret. */
function claimedOrganizationId(req: RawWebhookRequest): string | undefined {
  try {
    const candidate = isFlowCallout(req)
      ? propertyAt(JSON.parse(req.rawBody.toString('utf8')), ['organizationId'])
      : propertyAt(parseSoapXml(req.rawBody), ['Envelope', 'Body', 'notifications', 'OrganizationId']);
    return typeof candidate === 'string' ? candidate : undefined;
  } catch {
    // An unreadable body is parse's to report (400), not a verification failure.
    return undefined;
  }
}

function verifySender(req: RawWebhookRequest, config: SalesforceSourceConfig): VerifyResult {
  if (isFlowCallout(req)) {
    if (config.flowCalloutSecret === undefined) return { ok: false, reason: 'JSON callouts are not enabled for this source (no flowCalloutSecret)' };
    const signature = req.headers[flowCalloutSignatureHeader];
    if (signature === undefined) return { ok: false, reason: 'missing X-Momentum-Signature header' };
    return matchAnySecret(config.flowCalloutSecret, signature, (secret) => flowCalloutSignature(secret, req.rawBody));
  }
  const token = req.query['token'];
  if (token === undefined) return { ok: false, reason: 'missing token query parameter' };
  return matchAnySecret(config.urlToken, token, (secret) => secret, 'token');
}

export function verifySalesforceRequest(req: RawWebhookRequest, config: SalesforceSourceConfig): VerifyResult {
  const sender = verifySender(req, config);
  if (!sender.ok) return sender;
  const organizationId = claimedOrganizationId(req);
  if (organizationId !== undefined && !sameSalesforceId(organizationId, config.organizationId)) {
    return { ok: false, reason: "OrganizationId is not this workspace's Salesforce org" };
  }
  return sender;
}
