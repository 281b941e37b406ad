import { z } from 'zod';

/**
 * The signal catalogue: every normalized fact Momentum knows how to reason about.
 *
 * Vendor adapters turn deliveries into these; the engine reads only these. A signal type is
 * `<family>.<fact>`; its payload schema is the contract between the two sides, so a change
 * here is a change to both.
 */

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

/** Seniority buckets derived from job titles; the engine uses them for "executive engaged". */
export const seniorityLevels = ['executive', 'vp', 'director', 'manager', 'individual', 'unknown'] as const;
export const seniority = z.enum(seniorityLevels);
export type Seniority = z.infer<typeof seniority>;

/** Buying-committee roles Momentum tracks; CRM role names are mapped onto these by the adapters. */
export const stakeholderRole = z.enum([
  'champion',
  'economic_buyer',
  'decision_maker',
  'technical_buyer',
  'influencer',
  'user',
  'other',
]);
export type StakeholderRole = z.infer<typeof stakeholderRole>;

const contact = z.object({
  contactId: z.string(),
  role: stakeholderRole.optional(),
  title: z.string().optional(),
  seniority: seniority.optional(),
});

const document = z.object({
  documentId: z.string(),
  name: z.string().optional(),
  amount: z.number().optional(),
});

const empty = z.object({});

export const signalPayloads = {
  // CRM record changes (HubSpot deal webhooks, Salesforce outbound messages / Flow callouts).
  'crm.deal_created': z.object({
    name: z.string().optional(),
    stage: z.string().optional(),
    pipeline: z.string().optional(),
    amount: z.number().nullable().optional(),
    closeDate: isoDate.nullable().optional(),
    ownerId: z.string().nullable().optional(),
  }),
  /** `stage` is the CRM's own stage id (HubSpot dealstage id, Salesforce StageName). */
  'crm.stage_changed': z.object({ stage: z.string(), pipeline: z.string().optional() }),
  'crm.amount_changed': z.object({ amount: z.number().nullable() }),
  'crm.close_date_changed': z.object({ closeDate: isoDate.nullable() }),
  'crm.owner_changed': z.object({ ownerId: z.string().nullable() }),
  'crm.probability_changed': z.object({ probability: z.number().min(0).max(100) }),
  'crm.pipeline_changed': z.object({ pipeline: z.string() }),
  'crm.deal_deleted': empty,
  /** Any other deal field the playbook may use in a gate (e.g. a custom "budget_confirmed"). */
  'crm.field_changed': z.object({ field: z.string(), value: z.string().nullable() }),

  // Buying committee.
  'stakeholder.added': contact,
  'stakeholder.removed': contact,
  /** A contact left the company (e.g. a CRM field or a bounced-email marker said so). */
  'stakeholder.departed': contact,

  // Activities logged in the CRM or captured by a conversation tool.
  'activity.email': z.object({ direction: z.enum(['inbound', 'outbound']) }),
  'activity.call': z.object({
    durationMinutes: z.number().min(0),
    direction: z.enum(['inbound', 'outbound']).optional(),
  }),
  'activity.meeting': z.object({
    kind: z.enum(['discovery', 'demo', 'technical', 'executive', 'other']).default('other'),
    durationMinutes: z.number().min(0).optional(),
    attendeeCount: z.number().int().min(0).optional(),
  }),
  'activity.task_completed': z.object({ subject: z.string().optional() }),

  // Proposal documents (PandaDoc).
  'proposal.sent': document,
  'proposal.viewed': document,
  'proposal.completed': document,
  'proposal.declined': document,
  'proposal.approval_requested': document,
  'proposal.approved': document,
  'proposal.rejected': document,
  'proposal.paid': document,
  'proposal.recipient_completed': document.extend({ recipientEmail: z.string().optional() }),

  // E-signature envelopes (DocuSign).
  'esign.sent': document,
  'esign.delivered': document,
  'esign.completed': document,
  'esign.declined': document,
  'esign.voided': document.extend({ reason: z.string().optional() }),
  'esign.recipient_completed': document.extend({ recipientEmail: z.string().optional() }),

  // Conversation intelligence (Gong).
  'call.completed': z.object({
    callId: z.string(),
    title: z.string().optional(),
    durationMinutes: z.number().min(0),
    externalParticipants: z.number().int().min(0),
    internalParticipants: z.number().int().min(0),
    /** The most senior buyer-side title on the call. */
    topExternalSeniority: seniority,
  }),
  'conversation.competitor_mentioned': z.object({ competitor: z.string().optional() }),
  'conversation.pricing_discussed': empty,
  'conversation.budget_mentioned': z.object({ amount: z.number().optional() }),
  'conversation.timeline_mentioned': z.object({ date: isoDate.optional() }),
  'conversation.security_review': empty,
  'conversation.legal_review': empty,

  // Milestones (seed rule type 3), from CRM fields, trackers or the API.
  'milestone.security_review_requested': empty,
  'milestone.legal_review_requested': empty,
  'milestone.reference_call_completed': empty,
  'milestone.pilot_completed': z.object({ positive: z.boolean().default(true) }),
  'milestone.budget_approved': z.object({ amount: z.number().optional() }),
  'milestone.budget_cancelled': empty,
  'milestone.competitor_won_evaluation': z.object({ competitor: z.string().optional() }),
  'milestone.next_step_agreed': z.object({ description: z.string().optional(), date: isoDate.optional() }),
  'milestone.pain_documented': empty,
  'milestone.decision_process_mapped': empty,
} as const;

export type SignalType = keyof typeof signalPayloads;
export const signalTypes = Object.keys(signalPayloads) as SignalType[];
export type SignalPayload<T extends SignalType> = z.infer<(typeof signalPayloads)[T]>;

export const signalSources = ['hubspot', 'salesforce', 'docusign', 'pandadoc', 'gong', 'api', 'crm_sync'] as const;
export type SignalSource = (typeof signalSources)[number];

/**
 * How the signal reached us. `echo` marks a change Momentum itself wrote to the CRM: stored for the
 * timeline, never treated as a rep's action. `imported`/`reconciled` come from CRM reads.
 */
export const signalOrigins = ['live', 'echo', 'imported', 'reconciled', 'test'] as const;
export type SignalOrigin = (typeof signalOrigins)[number];

/** A normalized signal as the engine sees it. */
export interface Signal<T extends SignalType = SignalType> {
  id: string;
  dealId: string;
  type: T;
  occurredAt: Date;
  source: SignalSource;
  origin: SignalOrigin;
  payload: SignalPayload<T>;
}

/** What an adapter produces before storage assigns ids. `dedupeKey` is stable per vendor event. */
export interface SignalDraft<T extends SignalType = SignalType> {
  dedupeKey: string;
  dealId: string;
  type: T;
  occurredAt: Date;
  origin: SignalOrigin;
  payload: SignalPayload<T>;
}

/** Validates a payload against its type's schema; adapters call this so nothing off-catalogue is stored. */
export function parseSignalPayload<T extends SignalType>(type: T, payload: unknown): SignalPayload<T> {
  return signalPayloads[type].parse(payload) as SignalPayload<T>;
}
