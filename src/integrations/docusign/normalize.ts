import type { SignalDraft } from '../../signals/catalogue.ts';
import { draftSignal } from '../shared/signal-draft.ts';
import type { SignalContext } from '../shared/signal-draft.ts';
import type { NormalizedDelivery, NormalizedEvent } from '../webhook-source.ts';
import type { DocusignConnectMessage } from './payload.ts';
import type { DocusignSourceConfig } from './source-config.ts';

// A Map, not an object literal: an event named "constructor" must not find a prototype member.
const envelopeSignalTypes = new Map([
  ['envelope-sent', 'esign.sent'],
  ['envelope-delivered', 'esign.delivered'],
  ['envelope-completed', 'esign.completed'],
  ['envelope-declined', 'esign.declined'],
] as const);

export function docusignEventKey(message: DocusignConnectMessage): string {
  const base = `${message.data.envelopeId}:${message.event}:${message.generatedDateTime}`;
  // Several recipients can complete within one envelope; their events differ only by recipient.
  return message.data.recipientId === undefined ? base : `${base}:${message.data.recipientId}`;
}

/** The CRM deal id from the envelope's custom fields, trying the configured names in order. */
export function docusignDealId(message: DocusignConnectMessage, dealIdFields: readonly string[]): string | undefined {
  const customFields = message.data.envelopeSummary?.customFields;
  const fields = [...(customFields?.textCustomFields ?? []), ...(customFields?.listCustomFields ?? [])];
  for (const wanted of dealIdFields) {
    const value = fields.find((field) => field.name.toLowerCase() === wanted.toLowerCase())?.value?.trim();
    if (value) return value;
  }
  return undefined;
}

function signalFor(message: DocusignConnectMessage, ctx: SignalContext): SignalDraft | undefined {
  const summary = message.data.envelopeSummary;
  const document = { documentId: message.data.envelopeId, ...(summary?.emailSubject ? { name: summary.emailSubject } : {}) };
  if (message.event === 'envelope-voided') {
    return draftSignal(ctx, 'esign.voided', summary?.voidedReason ? { ...document, reason: summary.voidedReason } : document);
  }
  if (message.event === 'recipient-completed') {
    const recipientId = message.data.recipientId;
    const email = summary?.recipients?.signers?.find((signer) => signer.recipientId === recipientId)?.email;
    return draftSignal(ctx, 'esign.recipient_completed', email ? { ...document, recipientEmail: email } : document);
  }
  const type = envelopeSignalTypes.get(message.event as 'envelope-sent');
  return type === undefined ? undefined : draftSignal(ctx, type, document);
}

export function normalizeDocusignMessage(message: DocusignConnectMessage, config: DocusignSourceConfig): NormalizedDelivery {
  const vendorEventId = docusignEventKey(message);
  const base = { vendorEventId, eventType: message.event };
  const dealId = docusignDealId(message, config.dealIdFields);
  const ctx = { eventKey: vendorEventId, dealId: dealId ?? '', occurredAt: new Date(message.generatedDateTime), origin: 'live' as const };
  const signal = signalFor(message, ctx);
  let event: NormalizedEvent;
  if (signal === undefined) event = { ...base, outcome: 'ignored', reason: `${message.event} is not used by Momentum`, signals: [] };
  else if (dealId === undefined) {
    event = { ...base, outcome: 'unattributed', reason: `no envelope custom field named ${config.dealIdFields.join(', ')}`, signals: [] };
  } else event = { ...base, outcome: 'accepted', signals: [signal] };
  return { events: [event] };
}
