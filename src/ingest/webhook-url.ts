import type { Config } from '../config.ts';
import type { AnyWebhookSourceAdapter } from '../integrations/webhook-source.ts';

/** Where vendors reach this service: the configured public URL, else the address it listens on. */
export function publicBaseUrl(config: Pick<Config, 'publicBaseUrl' | 'host' | 'port'>): string {
  return config.publicBaseUrl ?? `http://${config.host}:${config.port}`;
}

/**
 * The exact URL to paste into the vendor's settings. HubSpot app webhooks share one URL (the
 * portal routes them); a secret carried in the URL is shown as a placeholder, never in clear.
 */
export function webhookUrlFor(base: string, workspaceId: string, adapter: AnyWebhookSourceAdapter): string {
  const url = adapter.source === 'hubspot' ? `${base}/webhooks/hubspot` : `${base}/webhooks/${workspaceId}/${adapter.source}`;
  return adapter.secretFields.includes('urlToken') ? `${url}?token=<urlToken>` : url;
}
