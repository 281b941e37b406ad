import type { RawWebhookRequest } from '../../src/integrations/webhook-source.ts';
import type { DemoRun } from './run-context.ts';

export type Vendor = 'hubspot' | 'salesforce' | 'docusign' | 'pandadoc' | 'gong';

export interface DemoDeal {
  id: string;
  name: string;
  crm: 'HubSpot' | 'Salesforce';
  /** One line on what the demo makes happen to this deal. */
  story: string;
}

/** One webhook request a vendor would send, signed when it is sent (HubSpot signs the current time). */
export interface Delivery {
  /** When the vendor says it happened; deliveries are sent in this order. */
  at: Date;
  vendor: Vendor;
  /** Short description of what the vendor reports, for the progress line. */
  event: string;
  deal: DemoDeal;
  build(): RawWebhookRequest | Promise<RawWebhookRequest>;
}

export interface SentDelivery {
  delivery: Delivery;
  status: number;
  body: string;
}

/** The URL a vendor would call: the public base (what signatures cover) plus the route. */
export const webhookUrl = (run: DemoRun, path: string) => `${run.options.publicUrl}${path}`;

/** Sends a signed request to the service exactly as built: same bytes, same headers. */
export async function sendDelivery(run: DemoRun, delivery: Delivery): Promise<SentDelivery> {
  const raw = await delivery.build();
  const route = raw.publicUrl.slice(run.options.publicUrl.length);
  const headers = Object.fromEntries(Object.entries(raw.headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const response = await fetch(`${run.options.url}${route}`, { method: raw.method, headers, body: new Uint8Array(raw.rawBody) });
  return { delivery, status: response.status, body: await response.text() };
}
