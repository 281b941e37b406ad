import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseJsonBody, validateBody } from '../shared/body.ts';
import type { RawWebhookRequest } from '../webhook-source.ts';

/** Gong's automation-rule webhook: `{ callData, isTest }`, callData shaped like /v2/calls/extensive (VENDORS.md §5). */

const gongId = z.union([z.string().min(1), z.number().int().transform((id) => String(id))]);
/** Ids Momentum does not key on may be empty without failing the delivery. */
const looseId = z.union([z.string(), z.number().int().transform((id) => String(id))]);

const contextObject = z.object({
  objectType: z.string().optional(),
  objectId: looseId.optional(),
});

const party = z.object({
  id: looseId.optional(),
  emailAddress: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  title: z.string().nullable().optional(),
  userId: looseId.nullable().optional(),
  affiliation: z.string().optional(),
});

const tracker = z.object({
  id: looseId.optional(),
  name: z.string().min(1),
  count: z.number().int().min(0).optional(),
  type: z.string().optional(),
  occurrences: z.array(z.unknown()).optional(),
  phrases: z.array(z.object({ phrase: z.string().optional(), count: z.number().optional() })).optional(),
});

export const gongWebhookBody = z.object({
  isTest: z.boolean().optional(),
  callData: z.object({
    metaData: z.object({
      id: gongId,
      url: z.string().optional(),
      title: z.string().nullable().optional(),
      started: z.iso.datetime({ offset: true }).optional(),
      scheduled: z.string().nullable().optional(),
      /** Seconds. */
      duration: z.number().min(0),
      direction: z.string().optional(),
      scope: z.string().optional(),
      system: z.string().optional(),
    }),
    context: z.array(z.object({ system: z.string().optional(), objects: z.array(contextObject).optional() })).optional(),
    parties: z.array(party).optional(),
    content: z.object({ trackers: z.array(tracker).optional() }).nullable().optional(),
  }),
});

export type GongCall = z.output<typeof gongWebhookBody>['callData'];

export interface GongDelivery {
  call: GongCall;
  isTest: boolean;
  /** Which rule fired: a short hash of the URL path plus an optional `rule` query parameter. */
  ruleKey: string;
}

/**
 * Gong sends no rule id, so the URL identifies the rule. The secret `token` is left out, so that
 * rotating it does not change the keys of calls already stored.
 */
export function gongRuleKey(req: RawWebhookRequest): string {
  let path: string;
  try {
    path = new URL(req.publicUrl).pathname;
  } catch {
    path = req.publicUrl.split('?')[0] ?? '';
  }
  const rule = req.query['rule'] ?? '';
  return createHash('sha256').update(`${path}?rule=${rule}`).digest('hex').slice(0, 12);
}

export function parseGongDelivery(req: RawWebhookRequest): GongDelivery {
  const body = validateBody(gongWebhookBody, parseJsonBody(req.rawBody), 'Gong webhook body');
  return { call: body.callData, isTest: body.isTest === true, ruleKey: gongRuleKey(req) };
}
