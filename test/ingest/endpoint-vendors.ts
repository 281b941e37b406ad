import fc from 'fast-check';
import type { RawWebhookRequest } from '../../src/integrations/webhook-source.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import {
  opportunityNotification,
  outboundMessageXml,
  salesforceOutboundRequest,
  salesforceTestCalloutSecret,
  salesforceTestConfig,
  salesforceTestOrgId,
  salesforceTestToken,
  signedSalesforceFlowRequest,
} from '../../src/integrations/salesforce/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import { pandadocDocumentData, pandadocEvent, pandadocTestKey, signedPandadocRequest } from '../../src/integrations/pandadoc/fixtures.ts';
import { gongCallBody, gongTestToken, gongUrlTokenRequest } from '../../src/integrations/gong/fixtures.ts';
import { webhookUrl } from './ingest-support.ts';

/**
 * One entry per vendor for the endpoint-wide tests: how to configure it, a valid body, how to sign
 * any body with the vendor's real algorithm (the fixtures), and where its credential travels.
 */

export type Credential = { header: string } | { query: string };

export interface VendorCase {
  name: string;
  source: 'hubspot' | 'salesforce' | 'docusign' | 'pandadoc' | 'gong';
  config: Record<string, unknown>;
  /** Secrets that must never appear in an answer. */
  secrets: string[];
  validBody: () => string;
  /** Signs `body` (sent byte for byte) for workspace `ws`. */
  sign: (ws: string, body: string) => RawWebhookRequest | Promise<RawWebhookRequest>;
  credential: Credential;
  /** What the 415 answer must name. */
  expectedType: string;
}

export const allSecrets = [hubspotTestSecret, salesforceTestToken, salesforceTestCalloutSecret, docusignTestKey, pandadocTestKey, gongTestToken];

let counter = 0;
const unique = () => ++counter;

export const vendorCases: VendorCase[] = [
  {
    name: 'hubspot',
    source: 'hubspot',
    config: { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 },
    secrets: [hubspotTestSecret],
    validBody: () => JSON.stringify([hubspotEvent({ eventId: 900_000 + unique(), objectId: 300 + unique() })]),
    // The per-workspace URL: the app-wide one would answer 404 when a mutation changes the portal.
    sign: (ws, body) => signedHubspotRequest({ body, timestamp: Date.now(), url: webhookUrl(ws, 'hubspot') }),
    credential: { header: 'x-hubspot-signature-v3' },
    expectedType: 'application/json',
  },
  {
    name: 'salesforce outbound message',
    source: 'salesforce',
    config: { ...salesforceTestConfig() },
    secrets: [salesforceTestToken, salesforceTestCalloutSecret],
    validBody: () => outboundMessageXml({ notifications: [opportunityNotification({ Id: `0065e0000Fz${String(unique()).padStart(4, '0')}AAA` })] }),
    sign: (ws, body) => salesforceOutboundRequest({ xml: body, url: webhookUrl(ws, 'salesforce') }),
    credential: { query: 'token' },
    expectedType: 'text/xml or application/json',
  },
  {
    name: 'salesforce flow callout',
    source: 'salesforce',
    config: { ...salesforceTestConfig() },
    secrets: [salesforceTestToken, salesforceTestCalloutSecret],
    validBody: () => JSON.stringify({
      organizationId: salesforceTestOrgId,
      events: [{ id: `flow-${unique()}`, object: 'Opportunity', fields: { Id: '0065e00000OppFzzAAA', StageName: 'Closed Won', Amount: 1 }, occurredAt: '2026-03-03T10:00:00Z' }],
    }),
    sign: (ws, body) => signedSalesforceFlowRequest({ body, url: webhookUrl(ws, 'salesforce') }),
    credential: { header: 'x-momentum-signature' },
    expectedType: 'text/xml or application/json',
  },
  {
    name: 'docusign',
    source: 'docusign',
    config: { hmacKeys: [docusignTestKey] },
    secrets: [docusignTestKey],
    validBody: () => JSON.stringify(docusignMessage({ generatedDateTime: new Date(Date.UTC(2026, 2, 2, 0, 0, unique())).toISOString(), customFields: { dealId: 'D-1' } })),
    sign: (ws, body) => signedDocusignRequest({ body, url: webhookUrl(ws, 'docusign') }),
    credential: { header: 'x-docusign-signature-1' },
    expectedType: 'application/json',
  },
  {
    name: 'pandadoc',
    source: 'pandadoc',
    config: { sharedKeys: [pandadocTestKey] },
    secrets: [pandadocTestKey],
    validBody: () => JSON.stringify([
      pandadocEvent('document_state_changed', pandadocDocumentData({ status: 'document.completed', date_modified: new Date(Date.UTC(2026, 2, 2, 0, 0, unique())).toISOString() })),
    ]),
    sign: (ws, body) => signedPandadocRequest({ body, url: webhookUrl(ws, 'pandadoc') }),
    credential: { query: 'signature' },
    expectedType: 'application/json',
  },
  {
    name: 'gong',
    source: 'gong',
    config: { mode: 'url_token', urlToken: gongTestToken },
    secrets: [gongTestToken],
    validBody: () => {
      const body = gongCallBody();
      (body['callData'] as { metaData: Record<string, unknown> }).metaData['id'] = String(5_000_000 + unique());
      return JSON.stringify(body);
    },
    sign: (ws, body) => gongUrlTokenRequest({ body, url: webhookUrl(ws, 'gong') }),
    credential: { query: 'token' },
    expectedType: 'application/json',
  },
];

/** The request with its credential replaced by `value` (everything else untouched). */
export function withCredential(req: RawWebhookRequest, credential: Credential, value: string): RawWebhookRequest {
  if ('header' in credential) return { ...req, headers: { ...req.headers, [credential.header]: value } };
  const url = new URL(req.publicUrl);
  url.searchParams.set(credential.query, value);
  return { ...req, publicUrl: url.toString(), query: Object.fromEntries(url.searchParams) };
}

export function credentialOf(req: RawWebhookRequest, credential: Credential): string {
  return ('header' in credential ? req.headers[credential.header] : req.query[credential.query]) ?? '';
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Text that tends to break parsers and databases: NUL, entities, brackets, lone markup. */
const nasty = fc.constantFrom(
  '\u0000', '\\u0000', '&#0;', '&#x0;', '&#1;', '&amp;', '&lt;', '<', '>', '&', '"', "'", '\\', '{', '}', '[', ']', ',', ':',
  ']]>', '<![CDATA[x]]>', '<sf:X>', '</sf:X>', '<!-- c -->', 'xsi:nil="true"', '__proto__', 'constructor', '\uFEFF', '\uD83D\uDE00', '\u2028',
);

const shortText = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), nasty);

/** Raw text edits: delete a span, insert text, at random positions. */
const textEdit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 24 }), insert: fc.oneof(fc.constant(''), shortText) });

function applyEdits(text: string, edits: readonly { at: number; remove: number; insert: string }[]): string {
  let out = text;
  for (const { at, remove, insert } of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    out = out.slice(0, i) + insert + out.slice(i + remove);
  }
  return out;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
  return [];
}

/** A copy of `value` with the node at `path` replaced (or removed when `replacement` is undefined). */
function replaceAt(value: Json, path: readonly (string | number)[], replacement: Json | undefined): Json {
  const [head, ...rest] = path;
  if (head === undefined) return replacement ?? null;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === undefined) copy.splice(Number(head), 1);
    else copy[Number(head)] = replaceAt(copy[Number(head)]!, rest, replacement);
    return copy;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, Json> = { ...value };
    if (rest.length === 0 && replacement === undefined) delete copy[head];
    else copy[head] = replaceAt(copy[head]!, rest, replacement);
    return copy;
  }
  return value;
}

const oddValue: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  shortText,
  fc.constantFrom<Json>('', '0', '-1', '1e999', 'NaN', '2026-02-30', '2026-03-02T25:00:00Z', '9'.repeat(40), 1e308, -1, 0.5, true, null, [], {}),
  fc.integer(),
);

/** A valid body changed at one or more places: values swapped, keys dropped, raw text edited. */
export function mutatedBody(validBody: () => string): fc.Arbitrary<string> {
  const structural = fc.record({ picks: fc.array(fc.record({ at: fc.nat(), to: oddValue }), { minLength: 1, maxLength: 3 }) }).map(({ picks }) => {
    const text = validBody();
    let parsed: Json;
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      // XML bodies: replace an element's text instead.
      const elements = [...text.matchAll(/>([^<>]*)</g)];
      let out = text;
      for (const { at, to } of picks) {
        const match = elements[at % elements.length];
        if (match?.index !== undefined) out = out.replace(match[0], `>${typeof to === 'string' ? to : JSON.stringify(to ?? '')}<`);
      }
      return out;
    }
    for (const { at, to } of picks) {
      const paths = pathsOf(parsed);
      if (paths.length > 0) parsed = replaceAt(parsed, paths[at % paths.length]!, to);
    }
    return JSON.stringify(parsed);
  });
  const textual = fc.array(textEdit, { minLength: 1, maxLength: 4 }).map((edits) => applyEdits(validBody(), edits));
  return fc.oneof(
    { arbitrary: structural, weight: 4 },
    { arbitrary: textual, weight: 3 },
    { arbitrary: fc.json({ maxDepth: 3 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 64 }), weight: 1 },
  );
}

const credentialAlphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.'.split(''));

/** Ways to spoil a credential; the result is always different from the original. */
export const credentialMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: credentialAlphabet }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), text: fc.string({ unit: credentialAlphabet, minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('case' as const) }),
  fc.record({ kind: fc.constant('random' as const), text: fc.string({ unit: credentialAlphabet, maxLength: 90 }) }),
);

export function applyCredentialMutation(value: string, mutation: typeof credentialMutation extends fc.Arbitrary<infer M> ? M : never): string {
  switch (mutation.kind) {
    case 'flip': {
      if (value.length === 0) return mutation.char;
      const i = mutation.at % value.length;
      return value.slice(0, i) + mutation.char + value.slice(i + 1);
    }
    case 'truncate':
      return value.slice(0, value.length === 0 ? 0 : mutation.at % value.length);
    case 'append':
      return value + mutation.text;
    case 'case':
      return value === value.toUpperCase() ? value.toLowerCase() : value.toUpperCase();
    case 'random':
      return mutation.text;
  }
}
