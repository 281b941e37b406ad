import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Signal, SignalType } from '../signals/catalogue.ts';
import { evaluateDeal } from './evaluate.ts';
import { compilePlaybook } from './playbook/compile.ts';
import { defaultPlaybook } from './playbook/default-playbook.ts';
import type { Playbook } from './playbook/schema.ts';
import { replayDeal } from './replay.ts';
import { initialDealState } from './state.ts';
import { T0, tweakedPlaybook } from './test-fixtures.ts';
import type { DealState, Decision } from './types.ts';

/*
 * Properties of the engine over random signal histories. Expected facts are stated independently
 * of the engine (stage order, caps and gate signals are written out here), never computed by it.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const pb = compilePlaybook(defaultPlaybook());

type Draft = { type: SignalType; payload: Record<string, unknown>; gapHours: number; origin: Signal['origin'] };

const contact = fc.constantFrom('c1', 'c2', 'c3', 'c4');
const role = fc.constantFrom('champion', 'economic_buyer', 'decision_maker', 'technical_buyer', 'influencer', 'user');
const seniority = fc.constantFrom('executive', 'vp', 'director', 'manager', 'individual');
const hubspotStage = fc.constantFrom('appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost');
const date = fc.integer({ min: 0, max: 200 }).map((d) => new Date(T0 + d * DAY).toISOString().slice(0, 10));

const payloads: Partial<Record<SignalType, fc.Arbitrary<Record<string, unknown>>>> = {
  'activity.email': fc.record({ direction: fc.constantFrom('inbound', 'outbound') }),
  'activity.call': fc.record({ durationMinutes: fc.integer({ min: 0, max: 90 }) }),
  'activity.meeting': fc.record({ kind: fc.constantFrom('discovery', 'demo', 'technical', 'executive', 'other'), durationMinutes: fc.integer({ min: 5, max: 90 }), attendeeCount: fc.integer({ min: 1, max: 6 }) }),
  'call.completed': fc.record({ callId: fc.string(), durationMinutes: fc.integer({ min: 1, max: 90 }), externalParticipants: fc.integer({ min: 0, max: 4 }), internalParticipants: fc.constant(1), topExternalSeniority: seniority }),
  'stakeholder.added': fc.record({ contactId: contact, role, seniority }),
  'stakeholder.departed': fc.record({ contactId: contact }),
  'stakeholder.removed': fc.record({ contactId: contact }),
  'conversation.competitor_mentioned': fc.constant({}),
  'conversation.pricing_discussed': fc.constant({}),
  'conversation.budget_mentioned': fc.record({ amount: fc.integer({ min: 1000, max: 200000 }) }),
  'conversation.timeline_mentioned': fc.option(date, { nil: undefined }).map((d) => (d === undefined ? {} : { date: d })),
  'conversation.legal_review': fc.constant({}),
  'conversation.security_review': fc.constant({}),
  'milestone.security_review_requested': fc.constant({}),
  'milestone.legal_review_requested': fc.constant({}),
  'milestone.reference_call_completed': fc.constant({}),
  'milestone.pilot_completed': fc.record({ positive: fc.boolean() }),
  'milestone.budget_approved': fc.constant({}),
  'milestone.budget_cancelled': fc.constant({}),
  'milestone.competitor_won_evaluation': fc.constant({}),
  'milestone.next_step_agreed': fc.option(date, { nil: undefined }).map((d) => (d === undefined ? {} : { date: d })),
  'milestone.pain_documented': fc.constant({}),
  'milestone.decision_process_mapped': fc.constant({}),
  'proposal.sent': fc.constant({ documentId: 'p' }),
  'proposal.viewed': fc.constant({ documentId: 'p' }),
  'proposal.approved': fc.constant({ documentId: 'p' }),
  'esign.sent': fc.constant({ documentId: 'e' }),
  'esign.completed': fc.constant({ documentId: 'e' }),
  'crm.close_date_changed': fc.record({ closeDate: date }),
  'crm.amount_changed': fc.record({ amount: fc.integer({ min: 0, max: 500000 }) }),
  'crm.field_changed': fc.record({ field: fc.constantFrom('budget_confirmed', 'pricing_agreed', 'legal_review_complete', 'implementation_plan_agreed'), value: fc.constant('true') }),
  'crm.stage_changed': fc.record({ stage: hubspotStage }),
};

const regressionCauses: SignalType[] = ['stakeholder.departed', 'stakeholder.removed', 'milestone.budget_cancelled', 'milestone.competitor_won_evaluation'];

function draftArb(types: SignalType[]): fc.Arbitrary<Draft> {
  return fc.constantFrom(...types).chain((type) =>
    fc.record({
      type: fc.constant(type),
      payload: payloads[type]!,
      gapHours: fc.integer({ min: 0, max: 96 }),
      origin: fc.constantFrom<Signal['origin']>('live', 'live', 'live', 'live', 'echo', 'imported'),
    }),
  );
}

function history(types: SignalType[], firstStage: fc.Arbitrary<string> = hubspotStage.filter((s) => !s.startsWith('closed'))): fc.Arbitrary<Signal[]> {
  return fc.tuple(firstStage, fc.array(draftArb(types), { minLength: 1, maxLength: 40 })).map(([stage, drafts]) => {
    let t = T0;
    const signals: Signal[] = [{ id: 's000', dealId: 'd', type: 'crm.deal_created', occurredAt: new Date(t), source: 'hubspot', origin: 'live', payload: { stage, pipeline: 'default' } } as Signal];
    drafts.forEach((d, i) => {
      t += d.gapHours * HOUR;
      signals.push({ id: `s${String(i + 1).padStart(3, '0')}`, dealId: 'd', type: d.type, occurredAt: new Date(t), source: 'hubspot', origin: d.origin, payload: d.payload } as Signal);
    });
    return signals;
  });
}

const allTypes = Object.keys(payloads) as SignalType[];
const lastAt = (signals: Signal[]): number => signals[signals.length - 1]!.occurredAt.getTime();

function evaluate(deal: DealState, signals: Signal[], nowMs: number, playbook = pb) {
  return evaluateDeal({ deal, signals, playbook, playbookVersion: 'p', now: new Date(nowMs), trigger: 'signals' });
}

const order = ['identified', 'discovery', 'qualified', 'proposal', 'negotiation', 'closed_won'];
const caps: Record<string, number> = { identified: 10, discovery: 25, qualified: 40, proposal: 55, negotiation: 80, closed_won: 100, closed_lost: 0 };

describe('engine properties', () => {
  it('is deterministic and its state survives JSON', () => {
    fc.assert(
      fc.property(history(allTypes), fc.integer({ min: 0, max: 60 * 24 }), (signals, laterHours) => {
        const now = lastAt(signals) + laterHours * HOUR;
        const a = evaluate(initialDealState('d', 'hubspot'), signals, now);
        const b = evaluate(initialDealState('d', 'hubspot'), signals, now);
        expect(b).toStrictEqual(a);
        expect(JSON.parse(JSON.stringify(a.nextState))).toStrictEqual(a.nextState);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('never repeats itself: re-running with its own next state adds nothing, later runs reuse no key', () => {
    fc.assert(
      fc.property(history(allTypes), fc.integer({ min: 1, max: 30 * 24 }), (signals, laterHours) => {
        const now = lastAt(signals);
        const first = evaluate(initialDealState('d', 'hubspot'), signals, now);
        expect(evaluate(first.nextState, signals, now).decisions).toEqual([]);
        const later = evaluate(first.nextState, signals, now + laterHours * HOUR);
        const seen = new Set(first.decisions.map((d) => d.key));
        expect(later.decisions.filter((d) => seen.has(d.key))).toEqual([]);
        expect(new Set(first.decisions.map((d) => d.key)).size).toBe(first.decisions.length);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('silence never moves a deal: no regression without a regression signal, no progression from time alone', () => {
    const quietTypes = allTypes.filter((t) => !regressionCauses.includes(t) && t !== 'crm.stage_changed');
    fc.assert(
      fc.property(history(quietTypes), fc.integer({ min: 1, max: 150 }), (signals, silentDays) => {
        const last = lastAt(signals);
        const result = replayDeal({ crmDealId: 'd', provider: 'hubspot', signals, playbook: pb, playbookVersion: 'p', dailyTicks: { until: new Date(last + silentDays * DAY) } });
        const proposesRegression = (d: Decision) => d.type === 'regress_stage' || ((d.type === 'suggest' || d.type === 'request_approval') && d.proposed?.type === 'regress_stage');
        expect(result.decisions.filter(proposesRegression)).toEqual([]);
        const afterSilence = result.decisions.filter((d) => Date.parse(d.at) > last);
        expect(afterSilence.filter((d) => d.type === 'advance_stage' || d.type === 'regress_stage')).toEqual([]);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('never skips more than one stage without approval', () => {
    fc.assert(
      fc.property(history(allTypes), (signals) => {
        const result = replayDeal({ crmDealId: 'd', provider: 'hubspot', signals, playbook: pb, playbookVersion: 'p' });
        for (const d of result.decisions) {
          if (d.type !== 'advance_stage') continue;
          const jump = order.indexOf(d.toStage) - order.indexOf(d.fromStage);
          expect(jump).toBeGreaterThanOrEqual(1);
          expect(jump - 1).toBeLessThanOrEqual(1);
          expect(d.skipped).toHaveLength(jump - 1);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('keeps probability within [0, stage cap]', () => {
    fc.assert(
      fc.property(history(allTypes), (signals) => {
        let deal = initialDealState('d', 'hubspot');
        const times = [...new Set(signals.map((s) => s.occurredAt.getTime()))];
        for (const t of times) {
          const r = evaluate(deal, signals, t);
          deal = r.nextState;
          const cap = deal.stage === null ? 100 : caps[deal.stage]!;
          for (const d of r.decisions) {
            if (d.type === 'set_probability') {
              expect(d.to).toBeGreaterThanOrEqual(0);
              expect(d.to).toBeLessThanOrEqual(cap);
            }
          }
          if (deal.probability !== null) {
            expect(deal.probability).toBeGreaterThanOrEqual(0);
            expect(deal.probability).toBeLessThanOrEqual(cap);
          }
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});

/** One gate per stage, each met by one signal type: an oracle anyone can check by eye. */
const gateSignal: Record<string, SignalType> = {
  s1: 'milestone.pain_documented',
  s2: 'milestone.decision_process_mapped',
  s3: 'conversation.pricing_discussed',
  s4: 'milestone.reference_call_completed',
};
const gatePlaybook: Playbook = tweakedPlaybook((p) => {
  const template = p.stages[1]!;
  delete p.pipelines;
  p.stages = Object.entries(gateSignal).map(([key, type], i) => ({
    ...template,
    key,
    label: key,
    crmStageIds: { hubspot: [key] },
    probability: 10 * (i + 1),
    onEntry: undefined,
    exitGates: [{ id: `g-${key}`, label: `gate of ${key}`, when: { signal: { type } } }],
  }));
  p.stages.push({ key: 'won', label: 'won', crmStageIds: { hubspot: ['won'] }, probability: 100, closed: 'won', exitGates: [] });
  p.stages.push({ key: 'lost', label: 'lost', crmStageIds: { hubspot: ['lost'] }, probability: 0, closed: 'lost', exitGates: [] });
  p.rules = [
    { id: 'next-on-email', type: 'activity', mode: 'auto', when: { signal: { type: 'activity.email' } }, advanceTo: 'next' },
    { id: 's3-on-meeting', type: 'activity', mode: 'auto', when: { signal: { type: 'activity.meeting' } }, advanceTo: 's3' },
    { id: 's4-on-proposal', type: 'milestone', mode: 'auto', when: { signal: { type: 'proposal.sent' } }, advanceTo: 's4' },
    { id: 'win-on-esign', type: 'activity', mode: 'auto', when: { signal: { type: 'esign.completed' } }, advanceTo: 'won', conclusive: true },
  ];
});

describe('gates hold', () => {
  it('never advances past an unmet gate unless the milestone is conclusive', () => {
    const types: SignalType[] = ['activity.email', 'activity.meeting', 'proposal.sent', 'esign.completed', ...Object.values(gateSignal)];
    const compiled = compilePlaybook(gatePlaybook);
    fc.assert(
      fc.property(history(types, fc.constant('s1')), (raw) => {
        const signals = raw.map((s) => ({ ...s, origin: 'live' as const }));
        const result = replayDeal({ crmDealId: 'd', provider: 'hubspot', signals, playbook: compiled, playbookVersion: 'p' });
        for (const d of result.decisions) {
          if (d.type !== 'advance_stage') continue;
          if (d.conclusive) {
            expect(d.toStage).toBe('won');
            continue;
          }
          for (const stage of [d.fromStage, ...d.skipped]) {
            const met = signals.some((s) => s.type === gateSignal[stage] && s.occurredAt.getTime() <= Date.parse(d.at));
            expect(met, `${d.fromStage}→${d.toStage} at ${d.at} without the gate of ${stage}`).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
