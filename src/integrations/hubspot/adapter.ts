import type { WebhookSourceAdapter } from '../webhook-source.ts';
import { normalizeHubspotDelivery } from './normalize.ts';
import { parseHubspotDelivery } from './payload.ts';
import type { HubspotDelivery } from './payload.ts';
import { verifyHubspotSignature } from './signature.ts';
import { hubspotSecretFields, hubspotSourceConfig } from './source-config.ts';
import type { HubspotSourceConfig } from './source-config.ts';

export const hubspotAdapter: WebhookSourceAdapter<HubspotSourceConfig, HubspotDelivery> = {
  source: 'hubspot',
  configSchema: hubspotSourceConfig,
  secretFields: hubspotSecretFields,
  acceptedContentTypes: ['application/json'],
  verify: (req, config, now) => Promise.resolve(verifyHubspotSignature(req, config, now)),
  parse: (req) => parseHubspotDelivery(req.rawBody),
  normalize: (parsed, config) => normalizeHubspotDelivery(parsed, config),
};
