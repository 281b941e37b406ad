import { createHash, createHmac } from 'node:crypto';
import type { RawWebhookRequest } from '../webhook-source.ts';
import type { HubspotSourceConfig } from './source-config.ts';

/**
 * Builders for tests (unit and integration): realistic HubSpot payloads, signed the way HubSpot
 * signs. The signing here is written independently of signature.ts so a bug there cannot hide.
 */

export const hubspotTestSecret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
export const hubspotTestUrl = 'https://momentum.example.com/webhooks/hubspot';

export function hubspotTestConfig(overrides: Partial<HubspotSourceConfig> = {}): HubspotSourceConfig {
  return { clientSecrets: [hubspotTestSecret], appId: '54321', portalId: '62515', allowLegacySignatures: false, ...overrides };
}

let nextEventId = 100;

/** One webhook event as HubSpot documents it (VENDORS.md §1.3); defaults to a stage change. */
export function hubspotEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: nextEventId++,
    subscriptionId: 2001,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1717171717000,
    subscriptionType: 'deal.propertyChange',
    attemptNumber: 0,
    objectId: 9876543210,
    propertyName: 'dealstage',
    propertyValue: 'contractsent',
    changeSource: 'CRM_UI',
    sourceId: 'userId:111',
    ...overrides,
  };
}

export interface SignedHubspotRequestOptions {
  secret?: string;
  url?: string;
  /** A string is sent byte for byte; anything else is JSON-encoded. */
  body: unknown;
  /** Epoch milliseconds, as HubSpot sends in X-HubSpot-Request-Timestamp. */
  timestamp: number;
  method?: string;
  /** Also send the legacy X-HubSpot-Signature of this version. */
  legacyVersion?: 'v1' | 'v2';
  /** Omit the v3 headers (a legacy-only sender such as a workflow webhook). */
  withoutV3?: boolean;
}

const decodedBeforeSigning = [':', '/', '?', '@', '!', '$', "'", '(', ')', '*', ',', ';'];

/** The URI HubSpot signs for v3: the listed percent-escapes decoded, nothing else touched. */
function uriAsHubspotSignsIt(url: string): string {
  let uri = url;
  for (const char of decodedBeforeSigning) {
    const escape = `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
    uri = uri.split(escape).join(char);
  }
  return uri;
}

export function signedHubspotRequest(options: SignedHubspotRequestOptions): RawWebhookRequest {
  const secret = options.secret ?? hubspotTestSecret;
  const url = options.url ?? hubspotTestUrl;
  const method = options.method ?? 'POST';
  const rawBody = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body), 'utf8');
  const timestamp = String(options.timestamp);
  const headers: Record<string, string | undefined> = { 'content-type': 'application/json' };
  if (!options.withoutV3) {
    headers['x-hubspot-signature-v3'] = createHmac('sha256', secret)
      .update(Buffer.concat([Buffer.from(method + uriAsHubspotSignsIt(url)), rawBody, Buffer.from(timestamp)]))
      .digest('base64');
    headers['x-hubspot-request-timestamp'] = timestamp;
  }
  if (options.legacyVersion === 'v1') {
    headers['x-hubspot-signature'] = createHash('sha256').update(Buffer.concat([Buffer.from(secret), rawBody])).digest('hex');
  }
  if (options.legacyVersion === 'v2') {
    const signed = Buffer.concat([Buffer.from(secret + method + url), rawBody]);
    headers['x-hubspot-signature'] = createHash('sha256').update(signed).digest('hex');
  }
  if (options.legacyVersion !== undefined) headers['x-hubspot-signature-version'] = options.legacyVersion;
  return { method, publicUrl: url, headers, query: Object.fromEntries(new URL(url).searchParams), rawBody };
}
