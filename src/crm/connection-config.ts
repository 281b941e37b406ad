import { z } from 'zod';

/**
 * A workspace's CRM connection as Momentum stores it. Secrets are write-only: the API accepts them,
 * storage encrypts the paths in `connectionSecretPaths`, and responses go through
 * `redactConnectionConfig`.
 */

const secret = z.string().min(1, 'must not be empty');
const httpsUrl = z.url({ protocol: /^https$/, error: 'expected an https URL' });
// The HubSpot base URL may point at a local mock server during development, so http is allowed.
const anyUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
/** A Salesforce API field name, e.g. `Momentum_Key__c`; also keeps SOQL built from it safe. */
const salesforceFieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'expected a Salesforce field API name');
const salesforceId = z.string().regex(/^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/, 'expected a 15 or 18 character Salesforce id');

export const hubspotAuthConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('private_app'), accessToken: secret }),
  z.strictObject({ type: z.literal('oauth'), clientId: z.string().min(1), clientSecret: secret, refreshToken: secret }),
]);

export const hubspotConnectionConfig = z.strictObject({
  provider: z.literal('hubspot'),
  auth: hubspotAuthConfig,
  apiBaseUrl: anyUrl.optional(),
  /** The app id HubSpot reports as `sourceId` on our own writes (echo recognition). */
  appId: z.string().regex(/^\d+$/, 'expected a numeric HubSpot app id').optional(),
  /** Deal property that receives the probability; without it probability is not written. */
  probabilityProperty: z.string().min(1).optional(),
  /**
   * Optional custom task property (single-line text) that receives the idempotency key. With it,
   * finding tasks after an uncertain create is an exact match instead of a body search.
   */
  taskKeyProperty: z.string().min(1).optional(),
  tier: z.enum(['starter', 'professional', 'enterprise', 'oauth_app']).optional(),
});

export const salesforceAuthConfig = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('refresh_token'),
    clientId: z.string().min(1),
    clientSecret: secret,
    refreshToken: secret,
    instanceUrl: httpsUrl,
    loginUrl: httpsUrl.optional(),
  }),
  z.strictObject({
    type: z.literal('jwt'),
    consumerKey: z.string().min(1),
    username: z.string().min(1),
    privateKey: secret.refine((pem) => pem.includes('PRIVATE KEY'), 'expected a PEM private key'),
    loginUrl: httpsUrl.optional(),
    instanceUrl: httpsUrl.optional(),
  }),
]);

export const salesforceConnectionConfig = z.strictObject({
  provider: z.literal('salesforce'),
  auth: salesforceAuthConfig,
  apiVersion: z.string().regex(/^\d{2}\.0$/, 'expected an API version such as 62.0').optional(),
  /** The user Momentum writes as; changes by this user are our own echoes. */
  integrationUserId: salesforceId.optional(),
  /** External-id field on Task holding the idempotency key; makes task creation an upsert. */
  taskExternalIdField: salesforceFieldName.optional(),
});

export const crmConnectionConfig = z.discriminatedUnion('provider', [hubspotConnectionConfig, salesforceConnectionConfig]);

export type HubspotConnectionConfig = z.infer<typeof hubspotConnectionConfig>;
export type SalesforceConnectionConfig = z.infer<typeof salesforceConnectionConfig>;
export type CrmConnectionConfig = z.infer<typeof crmConnectionConfig>;

export const defaultSalesforceApiVersion = '62.0';
export const defaultSalesforceLoginUrl = 'https://login.salesforce.com';
export const defaultHubspotApiBaseUrl = 'https://api.hubapi.com';

/** Dotted paths of every secret field, for encryption at rest and redaction. */
export const connectionSecretPaths = ['auth.accessToken', 'auth.clientSecret', 'auth.refreshToken', 'auth.privateKey'] as const;

export type SecretPath = (typeof connectionSecretPaths)[number];

/** What an API response shows in place of a secret. */
export interface RedactedSecret {
  set: true;
}

/**
 * A copy of the config safe to return or log: each secret that is present becomes `{ set: true }`.
 * Works on any object shape so it also redacts partially valid input (e.g. in validation errors).
 */
export function redactConnectionConfig<T extends object>(config: T): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const path of connectionSecretPaths) {
    const [parentKey, leafKey] = path.split('.') as [string, string];
    const parent = copy[parentKey];
    if (parent && typeof parent === 'object' && leafKey in parent) {
      const holder = parent as Record<string, unknown>;
      if (holder[leafKey] !== undefined && holder[leafKey] !== null && holder[leafKey] !== '') {
        holder[leafKey] = { set: true } satisfies RedactedSecret;
      } else {
        delete holder[leafKey];
      }
    }
  }
  return copy;
}
