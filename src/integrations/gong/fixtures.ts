import { createHash, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RawWebhookRequest } from '../webhook-source.ts';
import type { GongSourceConfig } from './source-config.ts';

/** Builders for tests (unit and integration): Gong rule deliveries, by URL token or signed JWT. */

export const gongTestToken = 'gong-url-token-0123456789';
export const gongTestUrl = 'https://momentum.example.com/webhooks/ws_1/gong';

export interface GongTestKeyPair {
  privateKey: KeyObject;
  /** SPKI PEM, as Gong's "Show public key" shows it (with BEGIN/END lines). */
  publicKeyPem: string;
}

/** A fresh RSA key pair standing in for a Gong rule's signing key. */
export function gongTestKeyPair(): GongTestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function gongUrlTokenConfig(overrides: Partial<Extract<GongSourceConfig, { mode: 'url_token' }>> = {}): GongSourceConfig {
  return { mode: 'url_token', urlToken: [gongTestToken], trackerSignals: {}, ...overrides };
}

export function gongJwtConfig(publicKeyPems: string[]): GongSourceConfig {
  return { mode: 'signed_jwt', publicKey: publicKeyPems, trackerSignals: {} };
}

/** A call as Gong's payload documentation shows it (VENDORS.md §5), linked to one opportunity. */
export function gongCallBody(overrides: { isTest?: boolean; callData?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    isTest: overrides.isTest ?? false,
    callData: {
      metaData: {
        id: '7782342274025937895',
        url: 'https://app.gong.io/call?id=7782342274025937895',
        title: 'Acme | Discovery',
        scheduled: '2026-03-02T09:00:00Z',
        started: '2026-03-02T09:01:12Z',
        duration: 2730,
        primaryUserId: '234599484848423',
        direction: 'Conference',
        system: 'Zoom',
        scope: 'External',
        media: 'Video',
        language: 'eng',
        isPrivate: false,
      },
      context: [
        {
          system: 'Salesforce',
          objects: [
            { objectType: 'Account', objectId: '0015e00000AcctAAA', fields: [] },
            { objectType: 'Opportunity', objectId: '0065e00000OppOneAAA', fields: [{ name: 'StageName', value: 'Discovery' }, { name: 'Probability', value: 15 }] },
          ],
        },
      ],
      parties: [
        { id: '1', emailAddress: 'rita@seller.example', name: 'Rita Rep', title: 'Account Executive', userId: '234599484848423', speakerId: 's1', affiliation: 'Internal' },
        { id: '2', emailAddress: 'casey@acme.example', name: 'Casey', title: 'Chief Financial Officer', speakerId: 's2', affiliation: 'External' },
        { id: '3', emailAddress: 'dana@acme.example', name: 'Dana', title: 'IT Manager', speakerId: 's3', affiliation: 'External' },
        { id: '4', name: 'Dial-in', affiliation: 'Unknown' },
      ],
      content: {
        trackers: [
          { id: 't1', name: 'Competitors', count: 2, type: 'KEYWORD', occurrences: [{ startTime: 120.5, speakerId: 's2' }], phrases: [{ phrase: 'Globex', count: 2 }] },
          { id: 't2', name: 'Pricing', count: 1, type: 'KEYWORD' },
          { id: 't3', name: 'Legal', count: 0, type: 'KEYWORD' },
          { id: 't4', name: 'Small talk', count: 5, type: 'SMART' },
        ],
        topics: [{ name: 'Pricing', duration: 310 }],
      },
      ...overrides.callData,
    },
  };
}

const asRawBody = (body: unknown) => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');

export function gongUrlTokenRequest(options: { body: unknown; token?: string; url?: string }): RawWebhookRequest {
  const url = new URL(options.url ?? gongTestUrl);
  url.searchParams.set('token', options.token ?? gongTestToken);
  return { method: 'POST', publicUrl: url.toString(), headers: { 'content-type': 'application/json' }, query: Object.fromEntries(url.searchParams), rawBody: asRawBody(options.body) };
}

export interface SignedGongJwtOptions {
  body: unknown;
  privateKey: KeyObject;
  /** The time the token is issued; it expires `expiresInSeconds` later. */
  now: Date;
  expiresInSeconds?: number;
  url?: string;
  /** Overrides for tests of bad claims. */
  webhookUrl?: string;
  bodySha256?: string;
  bearer?: boolean;
}

/** A delivery with Gong's "Signed JWT header": an RS256 JWT over the URL and the body's SHA-256. */
export async function signedGongJwtRequest(options: SignedGongJwtOptions): Promise<RawWebhookRequest> {
  const url = options.url ?? gongTestUrl;
  const rawBody = asRawBody(options.body);
  const issuedAt = Math.floor(options.now.getTime() / 1000);
  const jwt = await new SignJWT({
    webhook_url: options.webhookUrl ?? url,
    body_sha256: options.bodySha256 ?? createHash('sha256').update(rawBody).digest('hex'),
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.expiresInSeconds ?? 300))
    .sign(options.privateKey);
  const headers = { 'content-type': 'application/json', authorization: options.bearer ? `Bearer ${jwt}` : jwt };
  return { method: 'POST', publicUrl: url, headers, query: Object.fromEntries(new URL(url).searchParams), rawBody };
}
