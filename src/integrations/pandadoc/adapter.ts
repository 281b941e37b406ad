import type { WebhookSourceAdapter } from '../webhook-source.ts';
import { normalizePandadocDelivery } from './normalize.ts';
import { parsePandadocDelivery } from './payload.ts';
import type { PandadocDelivery } from './payload.ts';
import { verifyPandadocSignature } from './signature.ts';
import { pandadocSecretFields, pandadocSourceConfig } from './source-config.ts';
import type { PandadocSourceConfig } from './source-config.ts';

export const pandadocAdapter: WebhookSourceAdapter<PandadocSourceConfig, PandadocDelivery> = {
  source: 'pandadoc',
  configSchema: pandadocSourceConfig,
  secretFields: pandadocSecretFields,
  acceptedContentTypes: ['application/json'],
  verify: (req, config) => Promise.resolve(verifyPandadocSignature(req, config)),
  parse: parsePandadocDelivery,
  normalize: normalizePandadocDelivery,
};
