import { createHmac } from 'node:crypto';
import type { RawWebhookRequest } from '../webhook-source.ts';
import type { DocusignSourceConfig } from './source-config.ts';

/** Builders for tests (unit and integration): JSON SIM messages signed the way Connect signs them. */

export const docusignTestKey = 'QmFzZTY0TG9va2luZ0Nvbm5lY3RLZXk9PQ==hmac';
export const docusignTestUrl = 'https://momentum.example.com/webhooks/ws_1/docusign';
export const docusignTestEnvelopeId = '93be49ab-xxxx-4d3e-9a5f-1a2b3c4d5e6f';

export function docusignTestConfig(overrides: Partial<DocusignSourceConfig> = {}): DocusignSourceConfig {
  return { hmacKeys: [docusignTestKey], dealIdFields: ['dealId', 'opportunityId', 'hubspot_deal_id'], ...overrides };
}

export interface DocusignMessageOptions {
  event?: string;
  generatedDateTime?: string;
  recipientId?: string;
  /** Envelope custom fields by name; `{}` means the envelope has none. */
  customFields?: Record<string, string>;
  voidedReason?: string;
}

/** A Connect JSON SIM message as DocuSign documents it (VENDORS.md §3). */
export function docusignMessage(options: DocusignMessageOptions = {}): Record<string, unknown> {
  const customFields = options.customFields ?? { opportunityId: '0065e00000OppOneAAA' };
  return {
    event: options.event ?? 'envelope-completed',
    apiVersion: 'v2.1',
    uri: `/restapi/v2.1/accounts/8f1c1234-acct/envelopes/${docusignTestEnvelopeId}`,
    retryCount: 0,
    configurationId: 10000001,
    generatedDateTime: options.generatedDateTime ?? '2026-03-02T09:59:12.4170000Z',
    data: {
      accountId: '8f1c1234-acct',
      userId: '55aa1234-user',
      envelopeId: docusignTestEnvelopeId,
      ...(options.recipientId === undefined ? {} : { recipientId: options.recipientId }),
      envelopeSummary: {
        status: 'completed',
        emailSubject: 'Please sign: Acme MSA',
        ...(options.voidedReason === undefined ? {} : { voidedReason: options.voidedReason }),
        sender: { userName: 'Rita Rep', email: 'rita@seller.example' },
        recipients: {
          signers: [
            { email: 'cfo@acme.example', name: 'Casey CFO', status: 'completed', recipientId: '1', signedDateTime: '2026-03-02T09:59:00Z' },
            { email: 'legal@acme.example', name: 'Lee Legal', status: 'sent', recipientId: '2' },
          ],
        },
        customFields: {
          textCustomFields: Object.entries(customFields).map(([name, value], i) => ({ fieldId: String(10 + i), name, value, show: 'false', required: 'false' })),
          listCustomFields: [],
        },
      },
    },
  };
}

/** Signs with each key, one X-DocuSign-Signature-N header per key, as Connect does. */
export function signedDocusignRequest(options: { body: unknown; keys?: string[]; url?: string }): RawWebhookRequest {
  const rawBody = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body), 'utf8');
  const headers: Record<string, string | undefined> = { 'content-type': 'application/json', 'x-authorization-digest': 'HMACSHA256' };
  (options.keys ?? [docusignTestKey]).forEach((key, i) => {
    headers[`x-docusign-signature-${i + 1}`] = createHmac('sha256', Buffer.from(key, 'utf8')).update(rawBody).digest('base64');
  });
  return { method: 'POST', publicUrl: options.url ?? docusignTestUrl, headers, query: {}, rawBody };
}
