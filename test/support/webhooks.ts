import type { FastifyInstance } from 'fastify';
import type { RawWebhookRequest } from '../../src/integrations/webhook-source.ts';

/** Sends a signed request (built by a vendor fixture) to the app exactly as the vendor would. */
export function injectWebhook(app: FastifyInstance, raw: RawWebhookRequest) {
  const url = new URL(raw.publicUrl);
  const headers = Object.fromEntries(Object.entries(raw.headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return app.inject({ method: raw.method as 'POST', url: url.pathname + url.search, headers, payload: raw.rawBody });
}
