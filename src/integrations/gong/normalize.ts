import type { SignalDraft } from '../../signals/catalogue.ts';
import { draftSignal } from '../shared/signal-draft.ts';
import type { SignalContext } from '../shared/signal-draft.ts';
import type { NormalizeContext, NormalizedDelivery, NormalizedEvent } from '../webhook-source.ts';
import type { GongCall, GongDelivery } from './payload.ts';
import { topSeniority } from './seniority.ts';
import type { GongSourceConfig, TrackerSignalType } from './source-config.ts';

/** Tracker names as Gong's default trackers call them; a workspace's `trackerSignals` override these. */
export const defaultTrackerSignals: Readonly<Record<string, TrackerSignalType>> = {
  competitors: 'conversation.competitor_mentioned',
  competitor: 'conversation.competitor_mentioned',
  pricing: 'conversation.pricing_discussed',
  budget: 'conversation.budget_mentioned',
  timeline: 'conversation.timeline_mentioned',
  timing: 'conversation.timeline_mentioned',
  security: 'conversation.security_review',
  legal: 'conversation.legal_review',
};

/** The CRM deals a call is logged against: Salesforce opportunities and HubSpot deals. */
export function gongDealIds(call: GongCall): string[] {
  const ids = (call.context ?? []).flatMap((context) =>
    (context.objects ?? [])
      .filter((object) => ['opportunity', 'deal'].includes(object.objectType?.toLowerCase() ?? ''))
      .flatMap((object) => (object.objectId ? [object.objectId] : [])),
  );
  return [...new Set(ids)];
}

function trackerMap(config: GongSourceConfig): Map<string, TrackerSignalType | 'ignore'> {
  const map = new Map<string, TrackerSignalType | 'ignore'>(Object.entries(defaultTrackerSignals));
  for (const [name, type] of Object.entries(config.trackerSignals)) map.set(name.trim().toLowerCase(), type);
  return map;
}

function callSignals(call: GongCall, ctx: SignalContext, trackers: Map<string, TrackerSignalType | 'ignore'>): SignalDraft[] {
  const parties = call.parties ?? [];
  const external = parties.filter((party) => party.affiliation === 'External');
  const title = call.metaData.title;
  const completed = draftSignal(ctx, 'call.completed', {
    callId: call.metaData.id,
    ...(title ? { title } : {}),
    durationMinutes: Math.round((call.metaData.duration / 60) * 100) / 100,
    externalParticipants: external.length,
    internalParticipants: parties.filter((party) => party.affiliation === 'Internal').length,
    topExternalSeniority: topSeniority(external.map((party) => party.title)),
  });
  const mentions = (call.content?.trackers ?? []).flatMap((tracker) => {
    const type = trackers.get(tracker.name.trim().toLowerCase());
    const hits = tracker.count ?? tracker.occurrences?.length ?? 0;
    if (type === undefined || type === 'ignore' || hits === 0) return [];
    const suffix = tracker.name.trim().toLowerCase();
    if (type === 'conversation.competitor_mentioned') {
      const competitor = tracker.phrases?.find((phrase) => phrase.phrase && (phrase.count ?? 1) > 0)?.phrase;
      return [draftSignal(ctx, type, competitor ? { competitor } : {}, suffix)];
    }
    return [draftSignal(ctx, type, {}, suffix)];
  });
  return [completed, ...mentions];
}

export function normalizeGongDelivery(delivery: GongDelivery, config: GongSourceConfig, ctx: NormalizeContext): NormalizedDelivery {
  const { call, isTest } = delivery;
  const vendorEventId = `${call.metaData.id}:${delivery.ruleKey}`;
  const base = { vendorEventId, eventType: 'call.matched_rule' };
  const dealIds = gongDealIds(call);
  const started = call.metaData.started ? new Date(call.metaData.started) : ctx.receivedAt;
  const trackers = trackerMap(config);
  // A call logged against several deals is a fact about each; the deal id keeps their keys apart.
  const signals = dealIds.flatMap((dealId) =>
    callSignals(call, { eventKey: `${vendorEventId}@${dealId}`, dealId, occurredAt: started, origin: isTest ? 'test' : 'live' }, trackers),
  );
  let event: NormalizedEvent;
  if (isTest) event = { ...base, outcome: 'test', reason: 'Gong test delivery ("Test now"); recorded, never acted on', signals };
  else if (dealIds.length === 0) event = { ...base, outcome: 'unattributed', reason: 'the call is not linked to an opportunity or deal', signals: [] };
  else event = { ...base, outcome: 'accepted', signals };
  return { events: [event] };
}
