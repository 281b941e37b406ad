import type { Signal, SignalPayload, StakeholderRole } from '../signals/catalogue.ts';
import { writableFields, writableMemory, type EvalContext } from './context.ts';
import type { IsoDate, Stakeholder } from './types.ts';

/**
 * Applies one signal to the deal mirror (stage, amount, close date, roster, activity) and reports
 * what happened, so the evaluation can react. No decisions are made here.
 */
export type MirrorEvent =
  | { kind: 'stage_entered'; fromStage: string | null; toStage: string; via: 'initial' | 'echo' | 'sync' | 'rep' }
  | { kind: 'stage_unmapped'; crmStage: string }
  | { kind: 'stakeholder_added'; contactId: string; role: StakeholderRole | null }
  | { kind: 'stakeholder_lost'; contactId: string; role: StakeholderRole | null }
  | { kind: 'buyer_response' };

/** Whether a signal says something newer about a CRM field than what the mirror holds. */
function isNewer(ctx: EvalContext, field: string): boolean {
  const asOf = ctx.state.memory.crmAsOf[field];
  const at = ctx.signalIso;
  if (asOf !== undefined && at < asOf) return false;
  writableMemory(ctx, 'crmAsOf')[field] = at;
  return true;
}

/** Moves the mirror into a stage: a new stage visit starts with no gates met and no boosts. */
export function enterStage(ctx: EvalContext, stageKey: string | null, crmStage: string | null, atIso: string): void {
  const s = ctx.state;
  s.stage = stageKey;
  s.crmStage = crmStage;
  s.stageEnteredAt = atIso;
  s.gatesMet = {};
  ctx.copied.add('gatesMet');
  s.memory.probabilityBoosts = [];
}

function setStageFromCrm(ctx: EvalContext, signal: Signal, crmStage: string, events: MirrorEvent[]): void {
  const s = ctx.state;
  const mapped = ctx.pb.crmToStage[s.provider].get(crmStage) ?? null;
  const at = ctx.signalIso;
  if (mapped !== null && mapped === s.stage) {
    // Same playbook stage (often the echo of our own write): just confirm the CRM id.
    s.crmStage = crmStage;
    return;
  }
  const first = s.stage === null && s.crmStage === null;
  const from = s.stage;
  enterStage(ctx, mapped, crmStage, at);
  if (mapped === null) {
    events.push({ kind: 'stage_unmapped', crmStage });
    return;
  }
  const via = first
    ? 'initial'
    : signal.origin === 'echo'
      ? 'echo'
      : signal.origin === 'imported' || signal.origin === 'reconciled'
        ? 'sync'
        : 'rep';
  events.push({ kind: 'stage_entered', fromStage: from, toStage: mapped, via });
}

/** Sets the close date, counting real changes and remembering the first value as the original. */
export function setCloseDate(ctx: EvalContext, value: IsoDate | null): void {
  const s = ctx.state;
  if (value === s.closeDate) return;
  if (s.closeDate !== null && value !== null) s.closeDateChanges += 1;
  if (s.originalCloseDate === null && value !== null) s.originalCloseDate = value;
  s.closeDate = value;
}

function upsertStakeholder(ctx: EvalContext, signal: Signal, patch: (prev: Stakeholder | undefined) => Stakeholder): Stakeholder {
  const { contactId } = signal.payload as SignalPayload<'stakeholder.added'>;
  const list = ctx.state.stakeholders;
  const i = list.findIndex((x) => x.contactId === contactId);
  const next = patch(i === -1 ? undefined : list[i]);
  ctx.state.stakeholders = i === -1 ? [...list, next] : list.map((x, j) => (j === i ? next : x));
  return next;
}

function isRepOrigin(signal: Signal): boolean {
  return signal.origin === 'live' || signal.origin === 'test';
}

function recordTouch(ctx: EvalContext, signal: Signal, events: MirrorEvent[]): void {
  const s = ctx.state;
  const at = ctx.signalIso;
  if (ctx.pb.touchTypes.has(signal.type)) {
    if (s.lastActivityAt === null || at > s.lastActivityAt) s.lastActivityAt = at;
    if (at >= ctx.touchWindowStartIso) {
      const prev = s.memory.touches;
      const touches = [...prev, at];
      // Signals usually arrive in order; sort only a late one into place.
      if (prev.length > 0 && at < prev[prev.length - 1]!) touches.sort();
      s.memory.touches = touches;
    }
  }
  if (ctx.pb.buyerResponse.some((m) => m.matches(signal, s))) {
    if (s.lastBuyerResponseAt === null || at > s.lastBuyerResponseAt) s.lastBuyerResponseAt = at;
    events.push({ kind: 'buyer_response' });
  }
}

export function applySignal(ctx: EvalContext, signal: Signal): MirrorEvent[] {
  const s = ctx.state;
  const events: MirrorEvent[] = [];
  const at = ctx.signalIso;
  const seen = writableMemory(ctx, 'lastSeenByType');
  if (seen[signal.type] === undefined || seen[signal.type]! < at) seen[signal.type] = at;

  switch (signal.type) {
    case 'crm.deal_created': {
      const p = signal.payload as SignalPayload<'crm.deal_created'>;
      if (s.createdAt === null) s.createdAt = at;
      if (p.pipeline !== undefined && s.pipeline === null) s.pipeline = p.pipeline;
      if (p.amount !== undefined && s.amount === null) s.amount = p.amount;
      if (p.ownerId !== undefined && s.ownerId === null) s.ownerId = p.ownerId;
      if (p.closeDate !== undefined && p.closeDate !== null && s.closeDate === null) {
        // A close date typed in when the deal was created is the rep's own estimate.
        if (isRepOrigin(signal)) s.memory.repCloseDate = { value: p.closeDate, at, signalId: signal.id };
        setCloseDate(ctx, p.closeDate);
      }
      if (p.stage !== undefined && s.crmStage === null && isNewer(ctx, 'stage')) setStageFromCrm(ctx, signal, p.stage, events);
      break;
    }
    case 'crm.stage_changed': {
      const p = signal.payload as SignalPayload<'crm.stage_changed'>;
      if (p.pipeline !== undefined) s.pipeline = p.pipeline;
      if (isNewer(ctx, 'stage')) setStageFromCrm(ctx, signal, p.stage, events);
      break;
    }
    case 'crm.amount_changed':
      if (isNewer(ctx, 'amount')) s.amount = (signal.payload as SignalPayload<'crm.amount_changed'>).amount;
      break;
    case 'crm.close_date_changed': {
      if (!isNewer(ctx, 'closeDate')) break;
      const value = (signal.payload as SignalPayload<'crm.close_date_changed'>).closeDate;
      if (isRepOrigin(signal) && value !== s.closeDate) s.memory.repCloseDate = { value, at, signalId: signal.id };
      setCloseDate(ctx, value);
      break;
    }
    case 'crm.owner_changed':
      if (isNewer(ctx, 'ownerId')) s.ownerId = (signal.payload as SignalPayload<'crm.owner_changed'>).ownerId;
      break;
    case 'crm.probability_changed': {
      if (!isNewer(ctx, 'probability')) break;
      const value = (signal.payload as SignalPayload<'crm.probability_changed'>).probability;
      if (isRepOrigin(signal) && value !== s.probability) s.memory.repProbability = { value, at, signalId: signal.id };
      s.probability = value;
      break;
    }
    case 'crm.pipeline_changed':
      if (isNewer(ctx, 'pipeline')) s.pipeline = (signal.payload as SignalPayload<'crm.pipeline_changed'>).pipeline;
      break;
    case 'crm.deal_deleted':
      s.deleted = true;
      break;
    case 'crm.field_changed': {
      const p = signal.payload as SignalPayload<'crm.field_changed'>;
      if (isNewer(ctx, `field:${p.field}`)) writableFields(ctx)[p.field] = p.value;
      break;
    }
    case 'stakeholder.added': {
      const p = signal.payload as SignalPayload<'stakeholder.added'>;
      const next = upsertStakeholder(ctx, signal, (prev) => ({
        contactId: p.contactId,
        role: p.role ?? prev?.role ?? null,
        seniority: p.seniority ?? prev?.seniority ?? null,
        addedAt: prev?.addedAt ?? at,
        departedAt: null,
        removedAt: null,
      }));
      events.push({ kind: 'stakeholder_added', contactId: next.contactId, role: next.role });
      break;
    }
    case 'stakeholder.removed':
    case 'stakeholder.departed': {
      const p = signal.payload as SignalPayload<'stakeholder.departed'>;
      const departed = signal.type === 'stakeholder.departed';
      const next = upsertStakeholder(ctx, signal, (prev) => ({
        contactId: p.contactId,
        role: prev?.role ?? p.role ?? null,
        seniority: prev?.seniority ?? p.seniority ?? null,
        addedAt: prev?.addedAt ?? at,
        departedAt: departed ? at : (prev?.departedAt ?? null),
        removedAt: departed ? (prev?.removedAt ?? null) : at,
      }));
      events.push({ kind: 'stakeholder_lost', contactId: next.contactId, role: next.role });
      break;
    }
    default:
      break;
  }
  recordTouch(ctx, signal, events);
  return events;
}
