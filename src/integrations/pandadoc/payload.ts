import { z } from 'zod';
import { parseJsonBody, validateBody } from '../shared/body.ts';
import type { RawWebhookRequest } from '../webhook-source.ts';

/**
 * PandaDoc's webhook body: a JSON array of `{ event, data }` (VENDORS.md §4). Only the events
 * Momentum reads have their `data` checked; others pass through to be recorded as ignored.
 */

export const pandadocHandledEvents = ['document_state_changed', 'recipient_completed'] as const;

const person = z.object({
  email: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
});

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const pandadocDocument = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  status: z.string().min(1),
  date_created: z.string().optional(),
  date_modified: z.string().optional(),
  metadata: z.record(z.string(), metadataValue).optional(),
  recipients: z.array(person.extend({ role: z.string().optional(), has_completed: z.boolean().optional() })).optional(),
  grand_total: z.object({ amount: z.union([z.string(), z.number()]).optional(), currency: z.string().optional() }).nullable().optional(),
  // recipient_completed only: who finished, and when.
  action_by: person.nullable().optional(),
  action_date: z.string().optional(),
});

export type PandadocDocument = z.output<typeof pandadocDocument>;

const isHandled = (event: string) => (pandadocHandledEvents as readonly string[]).includes(event);

/** The id of an event we do not otherwise read, for its dedupe key. */
function idOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || !Object.hasOwn(data, 'id')) return undefined;
  const id: unknown = (data as Record<string, unknown>)['id'];
  return typeof id === 'string' ? id : undefined;
}

const pandadocEvent = z.object({ event: z.string().min(1), data: z.unknown() }).transform((item, ctx) => {
  if (!isHandled(item.event)) return { event: item.event, document: undefined, documentId: idOf(item.data) };
  const result = pandadocDocument.safeParse(item.data);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: ['data', ...issue.path] });
    return z.NEVER;
  }
  return { event: item.event, document: result.data, documentId: result.data.id };
});

export type PandadocEvent = z.output<typeof pandadocEvent>;

export const pandadocWebhookBody = z.array(pandadocEvent).max(1000);

export interface PandadocDelivery {
  /** X-PandaDoc-Webhook-Event-Id: stable across PandaDoc's automatic and manual retries. */
  webhookEventId: string | undefined;
  events: PandadocEvent[];
}

export function parsePandadocDelivery(req: RawWebhookRequest): PandadocDelivery {
  const events = validateBody(pandadocWebhookBody, parseJsonBody(req.rawBody), 'PandaDoc webhook body');
  const webhookEventId = req.headers['x-pandadoc-webhook-event-id']?.trim();
  return { webhookEventId: webhookEventId ? webhookEventId : undefined, events };
}
