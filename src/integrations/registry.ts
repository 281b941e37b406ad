import { docusignAdapter } from './docusign/adapter.ts';
import { gongAdapter } from './gong/adapter.ts';
import { hubspotAdapter } from './hubspot/adapter.ts';
import { pandadocAdapter } from './pandadoc/adapter.ts';
import { salesforceAdapter } from './salesforce/adapter.ts';
import type { AnyWebhookSourceAdapter, WebhookSourceName } from './webhook-source.ts';

/** Every webhook source, one line each. Adding a vendor is a folder plus a line here. */
export const webhookAdapters: Record<WebhookSourceName, AnyWebhookSourceAdapter> = {
  hubspot: hubspotAdapter,
  salesforce: salesforceAdapter,
  docusign: docusignAdapter,
  pandadoc: pandadocAdapter,
  gong: gongAdapter,
};

/** The adapter for a `:source` path segment, or undefined for a name we do not know. */
export function webhookAdapter(source: string): AnyWebhookSourceAdapter | undefined {
  return Object.hasOwn(webhookAdapters, source) ? webhookAdapters[source as WebhookSourceName] : undefined;
}
