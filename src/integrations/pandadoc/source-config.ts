import { z } from 'zod';

export const defaultPandadocDealIdMetadataKeys = ['deal_id', 'hubspot_deal_id', 'salesforce_opportunity_id'];

export const pandadocSourceConfig = z.object({
  /** The subscription's shared key; a second one while switching (PandaDoc itself signs with one). */
  sharedKeys: z.array(z.string().min(1)).min(1).max(5),
  /** Document metadata keys that may hold the CRM deal id, tried in this order. */
  dealIdMetadataKeys: z.array(z.string().min(1)).min(1).default(defaultPandadocDealIdMetadataKeys),
});

export type PandadocSourceConfig = z.output<typeof pandadocSourceConfig>;

export const pandadocSecretFields = ['sharedKeys'] as const;
