import { z } from 'zod';

export const defaultDocusignDealIdFields = ['dealId', 'opportunityId', 'hubspot_deal_id'];

export const docusignSourceConfig = z.object({
  /** Connect HMAC keys, used as UTF-8 text; DocuSign signs with every active key (up to 100). */
  hmacKeys: z.array(z.string().min(1)).min(1).max(100),
  /** Envelope custom fields that may hold the CRM deal id, tried in this order. */
  dealIdFields: z.array(z.string().min(1)).min(1).default(defaultDocusignDealIdFields),
});

export type DocusignSourceConfig = z.output<typeof docusignSourceConfig>;

export const docusignSecretFields = ['hmacKeys'] as const;
