import type { WebhookSourceAdapter } from '../webhook-source.ts';
import { normalizeGongDelivery } from './normalize.ts';
import { parseGongDelivery } from './payload.ts';
import type { GongDelivery } from './payload.ts';
import { verifyGongRequest } from './signature.ts';
import { gongSecretFields, gongSourceConfig } from './source-config.ts';
import type { GongSourceConfig } from './source-config.ts';

export const gongAdapter: WebhookSourceAdapter<GongSourceConfig, GongDelivery> = {
  source: 'gong',
  configSchema: gongSourceConfig,
  secretFields: gongSecretFields,
  acceptedContentTypes: ['application/json'],
  verify: verifyGongRequest,
  parse: parseGongDelivery,
  normalize: normalizeGongDelivery,
};
