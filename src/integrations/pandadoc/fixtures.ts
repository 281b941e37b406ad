import { createHmac } from 'node:crypto';
import type { RawWebhookRequest } from '../webhook-source.ts';
import type { PandadocSourceConfig } from './source-config.ts';

/** Builders for tests (unit and integration): PandaDoc webhook bodies, signed in the query as PandaDoc does. */

export const pandadocTestKey = 'pd-shared-key-0123456789';
export const pandadocTestUrl = 'https://momentum.example.com/webhooks/ws_1/pandadoc';
export const pandadocTestDocumentId = 'msFYActMfJHqNTKH8YSvF1';

export function pandadocTestConfig(overrides: Partial<PandadocSourceConfig> = {}): PandadocSourceConfig {
  return { sharedKeys: [pandadocTestKey], dealIdMetadataKeys: ['deal_id', 'hubspot_deal_id', 'salesforce_opportunity_id'], ...overrides };
}

/** A document as PandaDoc's webhook `data` renders it (a subset of Document Details). */
export function pandadocDocumentData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: pandadocTestDocumentId,
    name: 'Acme - Proposal 2026',
    status: 'document.viewed',
    date_created: '2026-03-01T12:00:00.000000Z',
    date_modified: '2026-03-02T09:59:30.123456Z',
    expiration_date: null,
    version: '2',
    metadata: { hubspot_deal_id: '9876543210' },
    recipients: [
      { email: 'cfo@acme.example', first_name: 'Casey', last_name: 'CFO', role: 'Client', recipient_type: 'signer', has_completed: false, shared_link: '' },
    ],
    sent_by: { email: 'rita@seller.example', first_name: 'Rita', last_name: 'Rep' },
    grand_total: { amount: '48000.00', currency: 'USD' },
    template: { id: 'tpl_1', name: 'Proposal' },
    ...overrides,
  };
}

export function pandadocEvent(event: string, data: Record<string, unknown> = pandadocDocumentData()): Record<string, unknown> {
  return { event, data };
}

/** The signature goes in the query string (`?signature=`); `eventId` sets X-PandaDoc-Webhook-Event-Id. */
export function signedPandadocRequest(options: { body: unknown; key?: string; eventId?: string; url?: string }): RawWebhookRequest {
  const rawBody = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body), 'utf8');
  const signature = createHmac('sha256', options.key ?? pandadocTestKey).update(rawBody).digest('hex');
  const url = new URL(options.url ?? pandadocTestUrl);
  url.searchParams.set('signature', signature);
  const headers: Record<string, string | undefined> = { 'content-type': 'application/json' };
  if (options.eventId !== undefined) headers['x-pandadoc-webhook-event-id'] = options.eventId;
  return { method: 'POST', publicUrl: url.toString(), headers, query: Object.fromEntries(url.searchParams), rawBody };
}
