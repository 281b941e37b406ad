import type { SignalDraft, StakeholderRole } from '../../signals/catalogue.ts';
import { calendarDate, draftSignal, parseDecimal } from '../shared/signal-draft.ts';
import type { SignalContext } from '../shared/signal-draft.ts';
import type { NormalizeContext, NormalizedDelivery, NormalizedEvent } from '../webhook-source.ts';
import { meetingKindFromSubject } from './meeting-kind.ts';
import type { SalesforceDelivery, SalesforceRecord } from './payload.ts';
import { sameSalesforceId } from './source-config.ts';
import type { SalesforceSourceConfig } from './source-config.ts';

/**
 * Outbound messages carry the record's latest values for every selected field, not what changed
 * (a change while queued is sent with the newest values). So each message emits a signal for every
 * field it carries; the engine compares them with the deal it already knows.
 */

type RecordResult = { outcome: 'accepted'; signals: SignalDraft[] } | { outcome: 'ignored' | 'unattributed'; reason: string };
type Fields = SalesforceRecord['fields'];

/** Fields that identify or audit a record rather than describe the deal. */
const bookkeepingFields = new Set([
  'Id', 'IsDeleted', 'CreatedById', 'CreatedDate', 'LastModifiedById', 'LastModifiedDate', 'SystemModstamp',
  'LastActivityDate', 'LastViewedDate', 'LastReferencedDate', 'StageName', 'Amount', 'CloseDate', 'Probability', 'OwnerId',
]);

// Maps rather than object literals, so a role named "constructor" finds nothing inherited.
const rolesByName = new Map<string, StakeholderRole>([
  ['champion', 'champion'],
  ['economic buyer', 'economic_buyer'],
  ['decision maker', 'decision_maker'],
  ['technical buyer', 'technical_buyer'],
  ['influencer', 'influencer'],
  ['business user', 'user'],
  ['user', 'user'],
]);

const isOpportunityId = (id: string | null | undefined): id is string => typeof id === 'string' && id.startsWith('006');

/** Undefined when the field is absent or unreadable; null when Salesforce sent it empty. */
const amountOf = (value: string | null | undefined) => (value === undefined ? undefined : value ? parseDecimal(value) : null);
const closeDateOf = (value: string | null | undefined) => (value === undefined ? undefined : value ? calendarDate(value) : null);

/** What a just-created opportunity says about itself; only fields the message carries. */
function createdPayload(fields: Fields) {
  const amount = amountOf(fields['Amount']);
  const closeDate = closeDateOf(fields['CloseDate']);
  return {
    ...(fields['Name'] ? { name: fields['Name'] } : {}),
    ...(fields['StageName'] ? { stage: fields['StageName'] } : {}),
    ...(amount === undefined ? {} : { amount }),
    ...(closeDate === undefined ? {} : { closeDate }),
    ...(fields['OwnerId'] === undefined ? {} : { ownerId: fields['OwnerId'] || null }),
  };
}

function opportunitySignals(fields: Fields, ctx: SignalContext): SignalDraft[] {
  const signals: SignalDraft[] = [];
  const fieldChanged = (field: string) => draftSignal(ctx, 'crm.field_changed', { field, value: fields[field] ?? null }, field);
  // A record whose creation time equals its last change was just created.
  if (fields['CreatedDate'] && fields['CreatedDate'] === fields['LastModifiedDate']) {
    signals.push(draftSignal(ctx, 'crm.deal_created', createdPayload(fields)));
  }
  for (const field of Object.keys(fields)) {
    const value = fields[field] ?? null;
    switch (field) {
      case 'StageName':
        signals.push(value ? draftSignal(ctx, 'crm.stage_changed', { stage: value }) : fieldChanged(field));
        break;
      case 'Amount': {
        const parsed = amountOf(value);
        signals.push(parsed === undefined ? fieldChanged(field) : draftSignal(ctx, 'crm.amount_changed', { amount: parsed }));
        break;
      }
      case 'CloseDate': {
        const parsed = closeDateOf(value);
        signals.push(parsed === undefined ? fieldChanged(field) : draftSignal(ctx, 'crm.close_date_changed', { closeDate: parsed }));
        break;
      }
      case 'Probability': {
        const probability = value ? parseDecimal(value) : undefined;
        const valid = probability !== undefined && probability >= 0 && probability <= 100;
        signals.push(valid ? draftSignal(ctx, 'crm.probability_changed', { probability }) : fieldChanged(field));
        break;
      }
      case 'OwnerId':
        signals.push(draftSignal(ctx, 'crm.owner_changed', { ownerId: value || null }));
        break;
      default:
        if (!bookkeepingFields.has(field)) signals.push(fieldChanged(field));
    }
  }
  return signals;
}

function taskResult(fields: Fields, ctx: Omit<SignalContext, 'dealId'>): RecordResult {
  const dealId = fields['WhatId'];
  if (!isOpportunityId(dealId)) return { outcome: 'unattributed', reason: 'the task is not related to an opportunity (WhatId)' };
  const dealCtx = { ...ctx, dealId };
  switch (fields['TaskSubtype']) {
    case 'Email':
      // Email tasks are logged from sent mail (Send Email, Outlook/Gmail logging); inbound mail is not a task.
      return { outcome: 'accepted', signals: [draftSignal(dealCtx, 'activity.email', { direction: 'outbound' })] };
    case 'Call': {
      const seconds = parseDecimal(fields['CallDurationInSeconds'] ?? '');
      if (seconds === undefined || seconds < 0) return { outcome: 'ignored', reason: 'a call task without CallDurationInSeconds' };
      const callType = fields['CallType'];
      const direction = callType === 'Inbound' ? 'inbound' as const : callType === 'Outbound' ? 'outbound' as const : undefined;
      const payload = { durationMinutes: Math.round((seconds / 60) * 100) / 100, ...(direction ? { direction } : {}) };
      return { outcome: 'accepted', signals: [draftSignal(dealCtx, 'activity.call', payload)] };
    }
    default: {
      const completed = fields['Status'] === 'Completed' || fields['IsClosed'] === 'true';
      if (!completed) return { outcome: 'ignored', reason: 'an open task is not an activity yet' };
      const subject = fields['Subject'];
      return { outcome: 'accepted', signals: [draftSignal(dealCtx, 'activity.task_completed', subject ? { subject } : {})] };
    }
  }
}

function eventResult(fields: Fields, ctx: Omit<SignalContext, 'dealId'>): RecordResult {
  const dealId = fields['WhatId'];
  if (!isOpportunityId(dealId)) return { outcome: 'unattributed', reason: 'the event is not related to an opportunity (WhatId)' };
  const minutes = parseDecimal(fields['DurationInMinutes'] ?? '');
  const payload = {
    kind: meetingKindFromSubject(fields['Subject']),
    ...(minutes !== undefined && minutes >= 0 ? { durationMinutes: minutes } : {}),
  };
  return { outcome: 'accepted', signals: [draftSignal({ ...ctx, dealId }, 'activity.meeting', payload)] };
}

function contactRoleResult(fields: Fields, ctx: Omit<SignalContext, 'dealId'>): RecordResult {
  const dealId = fields['OpportunityId'];
  const contactId = fields['ContactId'];
  if (!isOpportunityId(dealId)) return { outcome: 'unattributed', reason: 'the contact role names no opportunity' };
  if (!contactId) return { outcome: 'ignored', reason: 'the contact role names no contact' };
  const roleName = fields['Role'];
  const role = roleName ? (rolesByName.get(roleName.toLowerCase()) ?? 'other') : undefined;
  const type = fields['IsDeleted'] === 'true' ? 'stakeholder.removed' : 'stakeholder.added';
  return { outcome: 'accepted', signals: [draftSignal({ ...ctx, dealId }, type, role ? { contactId, role } : { contactId })] };
}

function recordResult(record: SalesforceRecord, ctx: Omit<SignalContext, 'dealId'>): RecordResult {
  const { fields } = record;
  switch (record.objectType) {
    case 'Opportunity': {
      const dealId = fields['Id'];
      if (!dealId) return { outcome: 'unattributed', reason: 'the opportunity carries no Id' };
      return { outcome: 'accepted', signals: opportunitySignals(fields, { ...ctx, dealId }) };
    }
    case 'Task':
      return taskResult(fields, ctx);
    case 'Event':
      return eventResult(fields, ctx);
    case 'OpportunityContactRole':
      return contactRoleResult(fields, ctx);
    default:
      return { outcome: 'ignored', reason: `${record.objectType} records are not used by Momentum` };
  }
}

function occurredAt(record: SalesforceRecord, receivedAt: Date): Date {
  if (record.occurredAt) return record.occurredAt;
  const stamp = record.fields['LastModifiedDate'] ?? record.fields['SystemModstamp'];
  const parsed = stamp ? new Date(stamp) : undefined;
  // Without a timestamp in the message, the time we received it is the best we know.
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : receivedAt;
}

export function salesforceEventKey(organizationId: string, record: SalesforceRecord): string {
  return `${organizationId.slice(0, 15)}:${record.eventId}`;
}

function normalizeRecord(record: SalesforceRecord, organizationId: string, config: SalesforceSourceConfig, receivedAt: Date): NormalizedEvent {
  const vendorEventId = salesforceEventKey(organizationId, record);
  const eventType = record.objectType;
  const lastModifiedBy = record.fields['LastModifiedById'];
  const isEcho = config.integrationUserId !== undefined && !!lastModifiedBy && sameSalesforceId(lastModifiedBy, config.integrationUserId);
  const ctx = { eventKey: vendorEventId, occurredAt: occurredAt(record, receivedAt), origin: isEcho ? 'echo' as const : 'live' as const };
  const result = recordResult(record, ctx);
  if (result.outcome !== 'accepted') return { vendorEventId, eventType, outcome: result.outcome, reason: result.reason, signals: [] };
  if (isEcho) return { vendorEventId, eventType, outcome: 'echo', reason: 'last modified by the integration user', signals: result.signals };
  return { vendorEventId, eventType, outcome: 'accepted', signals: result.signals };
}

export function normalizeSalesforceDelivery(delivery: SalesforceDelivery, config: SalesforceSourceConfig, ctx: NormalizeContext): NormalizedDelivery {
  return { events: delivery.records.map((record) => normalizeRecord(record, delivery.organizationId, config, ctx.receivedAt)) };
}
