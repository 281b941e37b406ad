import type { WebhookSourceAdapter } from '../webhook-source.ts';
import { normalizeDocusignMessage } from './normalize.ts';
import { parseDocusignMessage } from './payload.ts';
import type { DocusignConnectMessage } from './payload.ts';
import { verifyDocusignSignature } from './signature.ts';
import { docusignSecretFields, docusignSourceConfig } from './source-config.ts';
import type { DocusignSourceConfig } from './source-config.ts';

export const docusignAdapter: WebhookSourceAdapter<DocusignSourceConfig, DocusignConnectMessage> = {
  source: 'docusign',
  configSchema: docusignSourceConfig,
  secretFields: docusignSecretFields,
  acceptedContentTypes: ['application/json'],
  verify: (req, config) => Promise.resolve(verifyDocusignSignature(req, config)),
  parse: (req) => parseDocusignMessage(req.rawBody),
  normalize: (parsed, config) => normalizeDocusignMessage(parsed, config),
};
