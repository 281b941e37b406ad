import type { SignalDraft } from '../../signals/catalogue.ts';
import { calendarDate, draftSignal, parseDecimal } from '../shared/signal-draft.ts';
import type { SignalContext } from '../shared/signal-draft.ts';
import type { NormalizedDelivery, NormalizedEvent } from '../webhook-source.ts';
import type { HubspotDelivery, HubspotEvent } from './payload.ts';
import type { HubspotSourceConfig } from './source-config.ts';

/**
 * Deal events become CRM signals; deal↔contact associations become stakeholder signals; meetings
 * associated with a deal become activity signals. Everything else is recorded as ignored, with why.
 */

// HubSpot's object type ids, used by generic (`object.*`) subscriptions. Maps, so that a
// vendor-supplied key such as "constructor" finds nothing inherited.
const objectTypeIds = new Map(Object.entries({
  '0-1': 'contact', '0-2': 'company', '0-3': 'deal', '0-27': 'task',
  '0-46': 'note', '0-47': 'meeting', '0-48': 'call', '0-49': 'email',
}));

// Object names as they appear in legacy association types such as DEAL_TO_CONTACT.
const associationObjectNames = new Map(Object.entries({
  CONTACT: 'contact', COMPANY: 'company', DEAL: 'deal', TASK: 'task',
  NOTE: 'note', MEETING: 'meeting', MEETING_EVENT: 'meeting', CALL: 'call', EMAIL: 'email',
}));

type EventResult = { outcome: 'accepted'; signals: SignalDraft[] } | { outcome: 'ignored' | 'unattributed'; reason: string };

export function hubspotEventKey(event: HubspotEvent): string {
  // eventId alone is not guaranteed unique (VENDORS.md §6).
  return `${event.portalId}:${event.eventId}:${event.subscriptionId}:${event.occurredAt}`;
}

/** `deal` for `deal.propertyChange`; for `object.*` the name behind `objectTypeId`. */
function objectKindOf(event: HubspotEvent): string | undefined {
  const [prefix] = event.subscriptionType.split('.');
  if (prefix !== 'object') return prefix;
  return event.objectTypeId === undefined ? undefined : objectTypeIds.get(event.objectTypeId);
}

function actionOf(event: HubspotEvent): string {
  return event.subscriptionType.split('.').slice(1).join('.');
}

/** Which object types an association event links, from type ids when present, else its name. */
function associationEnds(event: HubspotEvent): { from: string | undefined; to: string | undefined } {
  if (event.fromObjectTypeId !== undefined && event.toObjectTypeId !== undefined) {
    return { from: objectTypeIds.get(event.fromObjectTypeId), to: objectTypeIds.get(event.toObjectTypeId) };
  }
  const match = /^([A-Z_]+?)_TO_([A-Z_]+)$/.exec(event.associationType ?? '');
  return {
    from: match?.[1] === undefined ? undefined : associationObjectNames.get(match[1]),
    to: match?.[2] === undefined ? undefined : associationObjectNames.get(match[2]),
  };
}

function epochMsToDate(value: string): string | undefined {
  const ms = Number(value);
  if (!Number.isSafeInteger(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}

/** Pipeline values carried by the same batch, so a stage change can name its pipeline when known. */
function pipelinesInBatch(events: readonly HubspotEvent[]): Map<string, string> {
  const pipelines = new Map<string, string>();
  for (const event of events) {
    if (event.propertyName === 'pipeline' && event.propertyValue && event.objectId !== undefined) {
      pipelines.set(`${event.objectId}@${event.occurredAt}`, event.propertyValue);
    }
  }
  return pipelines;
}

function propertyChangeSignals(event: HubspotEvent, ctx: SignalContext, pipelines: Map<string, string>): SignalDraft[] {
  const field = event.propertyName ?? '';
  const value = event.propertyValue ?? null;
  const fieldChanged = () => [draftSignal(ctx, 'crm.field_changed', { field, value }, field)];
  switch (field) {
    case 'dealstage': {
      if (!value) return fieldChanged();
      const pipeline = pipelines.get(`${event.objectId}@${event.occurredAt}`);
      return [draftSignal(ctx, 'crm.stage_changed', pipeline === undefined ? { stage: value } : { stage: value, pipeline })];
    }
    case 'amount': {
      if (!value) return [draftSignal(ctx, 'crm.amount_changed', { amount: null })];
      const amount = parseDecimal(value);
      return amount === undefined ? fieldChanged() : [draftSignal(ctx, 'crm.amount_changed', { amount })];
    }
    case 'closedate': {
      if (!value) return [draftSignal(ctx, 'crm.close_date_changed', { closeDate: null })];
      // HubSpot sends close dates as epoch-ms strings; an ISO date is accepted too.
      const closeDate = /^\d+$/.test(value) ? epochMsToDate(value) : calendarDate(value);
      return closeDate === undefined ? fieldChanged() : [draftSignal(ctx, 'crm.close_date_changed', { closeDate })];
    }
    case 'hubspot_owner_id':
      return [draftSignal(ctx, 'crm.owner_changed', { ownerId: value || null })];
    case 'pipeline':
      return value ? [draftSignal(ctx, 'crm.pipeline_changed', { pipeline: value })] : fieldChanged();
    default:
      // hs_deal_stage_probability is derived from the stage; it and custom fields feed playbook gates.
      return fieldChanged();
  }
}

function dealEventResult(event: HubspotEvent, ctx: Omit<SignalContext, 'dealId'>, pipelines: Map<string, string>): EventResult {
  const dealCtx = { ...ctx, dealId: event.objectId ?? '' };
  switch (actionOf(event)) {
    case 'creation':
      return { outcome: 'accepted', signals: [draftSignal(dealCtx, 'crm.deal_created', {})] };
    case 'deletion':
      return { outcome: 'accepted', signals: [draftSignal(dealCtx, 'crm.deal_deleted', {})] };
    case 'propertyChange':
      return { outcome: 'accepted', signals: propertyChangeSignals(event, dealCtx, pipelines) };
    case 'associationChange':
      return associationResult(event, ctx);
    default:
      return { outcome: 'ignored', reason: `${event.subscriptionType} is not used by Momentum` };
  }
}

function associationResult(event: HubspotEvent, ctx: Omit<SignalContext, 'dealId'>): EventResult {
  const { from, to } = associationEnds(event);
  const fromId = event.fromObjectId ?? '';
  const toId = event.toObjectId ?? '';
  if (from === 'deal' && to === 'contact') {
    const type = event.associationRemoved === true ? 'stakeholder.removed' : 'stakeholder.added';
    return { outcome: 'accepted', signals: [draftSignal({ ...ctx, dealId: fromId }, type, { contactId: toId })] };
  }
  if (from === 'meeting' && to === 'deal') {
    if (event.associationRemoved === true) return { outcome: 'ignored', reason: 'a meeting was detached from a deal' };
    // Keyed by the meeting, not the event: the same meeting reported twice is one activity.
    const meetingCtx = { ...ctx, dealId: toId, eventKey: `${event.portalId}:meeting:${fromId}:deal:${toId}` };
    return { outcome: 'accepted', signals: [draftSignal(meetingCtx, 'activity.meeting', { kind: 'other' })] };
  }
  if ((from === 'email' || from === 'call') && to === 'deal') {
    const missing = from === 'email' ? 'email direction' : 'call duration';
    return { outcome: 'ignored', reason: `a ${from} association does not carry the ${missing} the signal needs` };
  }
  const name = event.associationType ?? `${event.fromObjectTypeId}→${event.toObjectTypeId}`;
  // Each change arrives once per direction; only the deal-side direction is used, so it counts once.
  return { outcome: 'ignored', reason: `association ${name} is not used by Momentum` };
}

function normalizeEvent(event: HubspotEvent, config: HubspotSourceConfig, pipelines: Map<string, string>): NormalizedEvent {
  const vendorEventId = hubspotEventKey(event);
  const eventType = event.propertyName === undefined ? event.subscriptionType : `${event.subscriptionType}:${event.propertyName}`;
  if (event.portalId !== config.portalId) {
    return { vendorEventId, eventType, outcome: 'ignored', reason: `event is for HubSpot account ${event.portalId}, not this workspace's`, signals: [] };
  }
  const kind = objectKindOf(event);
  const isAssociation = actionOf(event) === 'associationChange';
  if (kind !== 'deal' && !(isAssociation && event.subscriptionType.startsWith('object.'))) {
    return { vendorEventId, eventType, outcome: 'ignored', reason: `${event.subscriptionType} events for ${kind ?? 'this object type'} are not used by Momentum`, signals: [] };
  }
  // Momentum's own CRM writes come back as webhooks; they are stored but never read as a rep's action.
  const isEcho = event.changeSource === 'INTEGRATION' && event.sourceId === config.appId;
  const ctx = { eventKey: vendorEventId, occurredAt: new Date(event.occurredAt), origin: isEcho ? 'echo' as const : 'live' as const };
  const result = dealEventResult(event, ctx, pipelines);
  if (result.outcome !== 'accepted') return { vendorEventId, eventType, outcome: result.outcome, reason: result.reason, signals: [] };
  if (isEcho) return { vendorEventId, eventType, outcome: 'echo', reason: 'change written by this app', signals: result.signals };
  return { vendorEventId, eventType, outcome: 'accepted', signals: result.signals };
}

export function normalizeHubspotDelivery(delivery: HubspotDelivery, config: HubspotSourceConfig): NormalizedDelivery {
  const pipelines = pipelinesInBatch(delivery.events);
  return { events: delivery.events.map((event) => normalizeEvent(event, config, pipelines)) };
}
