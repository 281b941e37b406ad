import { z } from 'zod';
import { parseJsonBody, validateBody } from '../shared/body.ts';

/** DocuSign Connect's JSON SIM message (VENDORS.md §3); only the parts Momentum reads are kept. */

const textOrNumber = z.union([z.string(), z.number().transform((value) => String(value))]);

const customField = z.object({ name: z.string(), value: z.string().optional() });

const signer = z.object({
  recipientId: textOrNumber.optional(),
  email: z.string().optional(),
  name: z.string().optional(),
  status: z.string().optional(),
});

const envelopeSummary = z.object({
  status: z.string().optional(),
  emailSubject: z.string().optional(),
  voidedReason: z.string().optional(),
  recipients: z.object({ signers: z.array(signer).optional() }).optional(),
  customFields: z
    .object({
      textCustomFields: z.array(customField).optional(),
      listCustomFields: z.array(customField).optional(),
    })
    .optional(),
});

export const docusignConnectMessage = z.object({
  event: z.string().min(1),
  apiVersion: z.string().optional(),
  uri: z.string().optional(),
  retryCount: textOrNumber.optional(),
  configurationId: textOrNumber.optional(),
  generatedDateTime: z.iso.datetime({ offset: true }),
  data: z.object({
    accountId: z.string().optional(),
    userId: z.string().optional(),
    envelopeId: z.string().min(1),
    recipientId: textOrNumber.optional(),
    // Present only when the Connect configuration includes it (eventData.includeData).
    envelopeSummary: envelopeSummary.optional(),
  }),
});

export type DocusignConnectMessage = z.output<typeof docusignConnectMessage>;

export function parseDocusignMessage(rawBody: Buffer): DocusignConnectMessage {
  return validateBody(docusignConnectMessage, parseJsonBody(rawBody), 'DocuSign Connect message');
}
