import type { SignalDraft } from '../../signals/catalogue.ts';
import { draftSignal, parseDecimal } from '../shared/signal-draft.ts';
import type { SignalContext } from '../shared/signal-draft.ts';
import type { NormalizeContext, NormalizedDelivery, NormalizedEvent } from '../webhook-source.ts';
import type { PandadocDelivery, PandadocDocument, PandadocEvent } from './payload.ts';
import type { PandadocSourceConfig } from './source-config.ts';

const proposalSignalByStatus = new Map([
  ['document.sent', 'proposal.sent'],
  ['document.viewed', 'proposal.viewed'],
  ['document.completed', 'proposal.completed'],
  ['document.declined', 'proposal.declined'],
  ['document.waiting_approval', 'proposal.approval_requested'],
  ['document.approved', 'proposal.approved'],
  ['document.rejected', 'proposal.rejected'],
  ['document.paid', 'proposal.paid'],
] as const);

/**
 * With the event-id header (sent since 2026-07-20) the key survives PandaDoc's retries exactly;
 * without it, the document's id, status and modification time identify the change.
 */
export function pandadocEventKey(delivery: PandadocDelivery, event: PandadocEvent, index: number): string {
  if (delivery.webhookEventId !== undefined) return `${delivery.webhookEventId}:${index}`;
  const document = event.document;
  if (document === undefined) return `${event.documentId ?? 'unknown'}:${event.event}:#${index}`;
  if (event.event === 'recipient_completed') {
    // The document's status is the same for every recipient; who finished and when tells them apart.
    return `${document.id}:recipient_completed:${document.action_by?.email ?? ''}:${document.action_date ?? document.date_modified ?? ''}`;
  }
  return `${document.id}:${document.status}:${document.date_modified ?? ''}`;
}

export function pandadocDealId(document: PandadocDocument, keys: readonly string[]): string | undefined {
  const metadata = Object.entries(document.metadata ?? {});
  for (const wanted of keys) {
    const value = metadata.find(([key]) => key === wanted) ?? metadata.find(([key]) => key.toLowerCase() === wanted.toLowerCase());
    const text = value?.[1] === null || value?.[1] === undefined ? '' : String(value[1]).trim();
    if (text) return text;
  }
  return undefined;
}

function parsedDate(value: string | undefined): Date | undefined {
  const date = value ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

function signalFor(event: PandadocEvent, document: PandadocDocument, ctx: SignalContext): SignalDraft | undefined {
  const amount = document.grand_total?.amount === undefined ? undefined : parseDecimal(String(document.grand_total.amount));
  const payload = {
    documentId: document.id,
    ...(document.name ? { name: document.name } : {}),
    ...(amount === undefined ? {} : { amount }),
  };
  if (event.event === 'recipient_completed') {
    const email = document.action_by?.email;
    return draftSignal(ctx, 'proposal.recipient_completed', email ? { ...payload, recipientEmail: email } : payload);
  }
  const type = proposalSignalByStatus.get(document.status as 'document.sent');
  return type === undefined ? undefined : draftSignal(ctx, type, payload);
}

function normalizeEvent(delivery: PandadocDelivery, event: PandadocEvent, index: number, config: PandadocSourceConfig, receivedAt: Date): NormalizedEvent {
  const vendorEventId = pandadocEventKey(delivery, event, index);
  const document = event.document;
  const eventType = document && event.event === 'document_state_changed' ? `${event.event}:${document.status}` : event.event;
  const base = { vendorEventId, eventType };
  if (document === undefined) return { ...base, outcome: 'ignored', reason: `${event.event} is not used by Momentum`, signals: [] };
  const dealId = pandadocDealId(document, config.dealIdMetadataKeys);
  const when = event.event === 'recipient_completed' ? document.action_date ?? document.date_modified : document.date_modified;
  const ctx = { eventKey: vendorEventId, dealId: dealId ?? '', occurredAt: parsedDate(when) ?? receivedAt, origin: 'live' as const };
  const signal = signalFor(event, document, ctx);
  if (signal === undefined) return { ...base, outcome: 'ignored', reason: `status ${document.status} is not used by Momentum`, signals: [] };
  if (dealId === undefined) {
    return { ...base, outcome: 'unattributed', reason: `no document metadata key named ${config.dealIdMetadataKeys.join(', ')}`, signals: [] };
  }
  return { ...base, outcome: 'accepted', signals: [signal] };
}

export function normalizePandadocDelivery(delivery: PandadocDelivery, config: PandadocSourceConfig, ctx: NormalizeContext): NormalizedDelivery {
  return { events: delivery.events.map((event, index) => normalizeEvent(delivery, event, index, config, ctx.receivedAt)) };
}
