import type { CrmActivity, CrmDealRecord } from '../crm/types.ts';
import { meetingKindFromSubject } from '../integrations/salesforce/meeting-kind.ts';
import { parseSignalPayload, type SignalOrigin, type SignalPayload, type SignalType, type StakeholderRole } from '../signals/catalogue.ts';

/**
 * Turns what the CRM says about a deal into signals, pure. A deal Momentum has never seen gets
 * its history (created, stage entered, contacts); a known deal gets only what differs from the
 * mirror. Keys are stable — built from CRM ids, values and CRM timestamps, never from our clock —
 * so reading the same page again (a resumed import, an overlapping reconciliation) adds nothing.
 */

/** The part of the mirror a comparison needs (probability is a percentage, like the engine's). */
export interface MirrorView {
  crmStage: string | null;
  amount: number | null;
  closeDate: string | null;
  ownerId: string | null;
  probability: number | null;
  deleted: boolean;
  contactIds: Set<string>;
}

export interface SyncSignal {
  dedupeKey: string;
  dealId: string;
  type: SignalType;
  occurredAt: Date;
  origin: SignalOrigin;
  payload: Record<string, unknown>;
}

const roleNames: Record<string, StakeholderRole> = {
  champion: 'champion',
  'economic buyer': 'economic_buyer',
  'decision maker': 'decision_maker',
  'technical buyer': 'technical_buyer',
  influencer: 'influencer',
  'business user': 'user',
  user: 'user',
};

/** CRM role names (HubSpot association labels, Salesforce contact roles) → buying-committee roles. */
export function stakeholderRoleOf(roles: string[]): StakeholderRole {
  for (const name of roles) {
    const role = roleNames[name.trim().toLowerCase()];
    if (role) return role;
  }
  return 'other';
}

function signal<T extends SignalType>(key: string, deal: string, type: T, at: Date, origin: SignalOrigin, payload: SignalPayload<T>): SyncSignal {
  return { dedupeKey: key, dealId: deal, type, occurredAt: at, origin, payload: parseSignalPayload(type, payload) as Record<string, unknown> };
}

function firstDate(now: Date, ...values: Array<string | null>): Date {
  for (const value of values) if (value !== null) return new Date(value);
  return now;
}

/** Never later than now: a CRM clock ahead of ours must not date a signal in the future. */
function notAfter(at: Date, now: Date): Date {
  return at.getTime() > now.getTime() ? now : at;
}

export function dealSignals(record: CrmDealRecord, mirror: MirrorView | null, options: { origin: SignalOrigin; now: Date }): SyncSignal[] {
  const { origin, now } = options;
  const id = record.id;
  const key = `sync:deal:${id}`;
  const modifiedAt = notAfter(firstDate(now, record.modifiedAt), now);
  const out: SyncSignal[] = [];
  const percent = record.probability === null ? null : Math.round(record.probability * 10_000) / 100;

  if (mirror === null) {
    const createdAt = notAfter(firstDate(now, record.createdAt, record.stageEnteredAt, record.modifiedAt), now);
    out.push(
      signal(`${key}:created`, id, 'crm.deal_created', createdAt, origin, {
        ...(record.name ? { name: record.name } : {}),
        ...(record.pipelineId ? { pipeline: record.pipelineId } : {}),
        amount: record.amount,
        closeDate: record.closeDate,
        ownerId: record.ownerId,
      }),
    );
    if (record.stageId !== null) {
      const enteredAt = notAfter(firstDate(now, record.stageEnteredAt, record.createdAt), now);
      out.push(stageSignal(record, key, enteredAt, origin));
    }
    if (percent !== null) out.push(signal(`${key}:probability:${percent}:${modifiedAt.toISOString()}`, id, 'crm.probability_changed', modifiedAt, origin, { probability: percent }));
    for (const contact of record.contacts) out.push(contactSignal(record, contact.contactId, contact.roles, createdAt, origin));
    return out;
  }

  const stamp = modifiedAt.toISOString();
  if (record.stageId !== null && record.stageId !== mirror.crmStage) {
    out.push(stageSignal(record, key, notAfter(firstDate(now, record.stageEnteredAt, record.modifiedAt), now), origin));
  }
  if (record.amount !== mirror.amount) {
    out.push(signal(`${key}:amount:${record.amount}:${stamp}`, id, 'crm.amount_changed', modifiedAt, origin, { amount: record.amount }));
  }
  if (record.closeDate !== mirror.closeDate) {
    out.push(signal(`${key}:close_date:${record.closeDate}:${stamp}`, id, 'crm.close_date_changed', modifiedAt, origin, { closeDate: record.closeDate }));
  }
  if (record.ownerId !== mirror.ownerId) {
    out.push(signal(`${key}:owner:${record.ownerId}:${stamp}`, id, 'crm.owner_changed', modifiedAt, origin, { ownerId: record.ownerId }));
  }
  if (percent !== null && percent !== mirror.probability) {
    out.push(signal(`${key}:probability:${percent}:${stamp}`, id, 'crm.probability_changed', modifiedAt, origin, { probability: percent }));
  }
  for (const contact of record.contacts) {
    if (!mirror.contactIds.has(contact.contactId)) out.push(contactSignal(record, contact.contactId, contact.roles, modifiedAt, origin));
  }
  return out;
}

function stageSignal(record: CrmDealRecord, key: string, at: Date, origin: SignalOrigin): SyncSignal {
  const stage = record.stageId!;
  return signal(`${key}:stage:${stage}:${at.toISOString()}`, record.id, 'crm.stage_changed', at, origin, {
    stage,
    ...(record.pipelineId ? { pipeline: record.pipelineId } : {}),
  });
}

function contactSignal(record: CrmDealRecord, contactId: string, roles: string[], at: Date, origin: SignalOrigin): SyncSignal {
  const role = stakeholderRoleOf(roles);
  return signal(`sync:deal:${record.id}:contact:${contactId}:${role}`, record.id, 'stakeholder.added', at, origin, { contactId, role });
}

/**
 * An activity as a signal, keyed by the CRM record and the deal so an import and a later
 * reconciliation agree. Open tasks, cancelled meetings and anything dated in the future are not
 * activities yet.
 */
export function activitySignal(activity: CrmActivity, options: { origin: SignalOrigin; now: Date }): SyncSignal | null {
  const at = new Date(activity.occurredAt);
  if (!activity.completed || Number.isNaN(at.getTime()) || at.getTime() > options.now.getTime()) return null;
  const key = `sync:${activity.kind}:${activity.id}:deal:${activity.dealId}`;
  const { origin } = options;
  switch (activity.kind) {
    case 'email':
      return signal(key, activity.dealId, 'activity.email', at, origin, { direction: activity.direction ?? 'outbound' });
    case 'call':
      if (activity.durationMinutes === undefined) return null;
      return signal(key, activity.dealId, 'activity.call', at, origin, {
        durationMinutes: activity.durationMinutes,
        ...(activity.direction ? { direction: activity.direction } : {}),
      });
    case 'meeting':
      return signal(key, activity.dealId, 'activity.meeting', at, origin, {
        kind: meetingKindFromSubject(activity.subject),
        ...(activity.durationMinutes === undefined ? {} : { durationMinutes: activity.durationMinutes }),
      });
    case 'task':
      return signal(key, activity.dealId, 'activity.task_completed', at, origin, activity.subject ? { subject: activity.subject } : {});
  }
}
