import { z } from 'zod';

/** HubSpot ids are numbers in its UI and payloads; Momentum keeps them as strings. */
const numericId = z.union([
  z.string().regex(/^\d+$/, 'expected a numeric id'),
  z.number().int().nonnegative().transform((id) => String(id)),
]);

export const hubspotSourceConfig = z.object({
  /** The app's client secret; two during a rotation (HubSpot documents no overlap, so we allow one). */
  clientSecrets: z.array(z.string().min(1)).min(1).max(5),
  /** Our app's id: an event with `sourceId` equal to it is a change Momentum wrote (an echo). */
  appId: numericId,
  /** The HubSpot account (portal) this workspace is connected to; events for any other are ignored. */
  portalId: numericId,
  /** v1/v2 signatures have no timestamp, so replays cannot be refused; accept them only on request. */
  allowLegacySignatures: z.boolean().default(false),
});

export type HubspotSourceConfig = z.output<typeof hubspotSourceConfig>;

export const hubspotSecretFields = ['clientSecrets'] as const;
