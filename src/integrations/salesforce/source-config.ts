import { z } from 'zod';
import { secretList } from '../shared/secret-list.ts';

/** Salesforce org ids start with 00D; the 18-character form adds a checksum to the 15-character one. */
export const salesforceOrgId = z.string().regex(/^00D[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/, 'expected a Salesforce organization id (00D…, 15 or 18 characters)');
const salesforceUserId = z.string().regex(/^005[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/, 'expected a Salesforce user id (005…)');

export const salesforceSourceConfig = z.object({
  /** Every delivery must come from this org (Salesforce's own advice for outbound messages). */
  organizationId: salesforceOrgId,
  /** Outbound messages carry no signature, so the endpoint URL carries this secret as `?token=`. */
  urlToken: secretList(16),
  /** Changes last made by Momentum's integration user are echoes of our own writes. */
  integrationUserId: salesforceUserId.optional(),
  /** Enables the JSON format for Flow HTTP callouts / Apex, signed with this key. */
  flowCalloutSecret: secretList(16).optional(),
});

export type SalesforceSourceConfig = z.output<typeof salesforceSourceConfig>;

export const salesforceSecretFields = ['urlToken', 'flowCalloutSecret'] as const;

/** Salesforce ids compare equal on their first 15 characters (the rest is a checksum). */
export function sameSalesforceId(a: string, b: string): boolean {
  return a.slice(0, 15) === b.slice(0, 15);
}
