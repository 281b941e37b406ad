import { z } from 'zod';
import { secretList } from '../shared/secret-list.ts';
import { normalizePublicKeyPem, rsaPublicKey } from './public-key.ts';

/** The conversation signals a Gong tracker can raise; `ignore` switches a default mapping off. */
export const trackerSignalTypes = [
  'conversation.competitor_mentioned',
  'conversation.pricing_discussed',
  'conversation.budget_mentioned',
  'conversation.timeline_mentioned',
  'conversation.security_review',
  'conversation.legal_review',
] as const;
export type TrackerSignalType = (typeof trackerSignalTypes)[number];

const trackerSignals = z.record(z.string().min(1), z.enum([...trackerSignalTypes, 'ignore'])).default({});

const publicKeyPem = z
  .string()
  .transform(normalizePublicKeyPem)
  .refine((pem) => rsaPublicKey(pem) !== undefined, 'expected the rule\'s RSA public key (PEM, with or without BEGIN/END lines)');

export const gongSourceConfig = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('url_token'),
    /** "URL includes key": the secret arrives as `?token=`. A list while rotating. */
    urlToken: secretList(16),
    trackerSignals,
  }),
  z.object({
    mode: z.literal('signed_jwt'),
    /** "Signed JWT header": the rule's public key; a list while a rule's key is being replaced. */
    publicKey: z.union([publicKeyPem.transform((pem) => [pem]), z.array(publicKeyPem).min(1).max(5)]),
    trackerSignals,
  }),
]);

export type GongSourceConfig = z.output<typeof gongSourceConfig>;

export const gongSecretFields = ['urlToken'] as const;
