import type { Signal, SignalType } from '../signals/catalogue.ts';
import { evaluateDeal } from './evaluate.ts';
import { compilePlaybook } from './playbook/compile.ts';
import { defaultPlaybook } from './playbook/default-playbook.ts';
import { initialDealState } from './state.ts';
import { DAY_MS, HOUR_MS } from './time.ts';
import type { DealState, Provider } from './types.ts';

/** A small seeded generator (mulberry32): the same seed always builds the same deal. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchDeal {
  /**
   * The deal as the worker would load it: every signal but the last two already applied. This is
   * the steady-state evaluation (a couple of new signals against a deal with history).
   */
  deal: DealState;
  /** The deal before any signal: evaluating from here replays the whole history at once. */
  initial: DealState;
  signals: Signal[];
  /** An evaluation instant just after the last signal. */
  now: Date;
}

const START = Date.parse('2025-01-06T09:00:00.000Z');

/**
 * A realistic deal of about 50 signals over roughly two months: creation in HubSpot's default
 * pipeline, a buying committee, emails, calls and meetings, a proposal, e-signature and the odd
 * competitor or milestone. For benchmarks and property tests; deterministic per seed.
 */
export function makeRealisticDeal(seed: number, provider: Provider = 'hubspot'): BenchDeal {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const dealId = `deal-${seed}`;
  const signals: Signal[] = [];
  let t = START + Math.floor(rand() * 30) * DAY_MS;
  const add = (type: SignalType, payload: Record<string, unknown>, origin: Signal['origin'] = 'live'): void => {
    t += Math.floor((0.2 + rand() * 2.2) * DAY_MS) + Math.floor(rand() * 8) * HOUR_MS;
    signals.push({ id: `${dealId}-s${signals.length + 1}`, dealId, type, occurredAt: new Date(t), source: provider, origin, payload } as Signal);
  };
  const firstStage = provider === 'hubspot' ? 'appointmentscheduled' : 'Prospecting';
  add('crm.deal_created', { name: `Deal ${seed}`, stage: firstStage, pipeline: 'default', amount: 10_000 + Math.floor(rand() * 190) * 1000, closeDate: '2025-04-30', ownerId: 'owner-1' });
  const roles = ['champion', 'economic_buyer', 'decision_maker', 'technical_buyer', 'influencer', 'user'] as const;
  const seniorities = ['executive', 'vp', 'director', 'manager', 'individual'] as const;
  for (let i = 0; i < 3 + Math.floor(rand() * 3); i++) {
    add('stakeholder.added', { contactId: `c${i}`, role: roles[i % roles.length], seniority: pick(seniorities) });
  }
  const activity: (() => void)[] = [
    () => add('activity.email', { direction: pick(['inbound', 'outbound'] as const) }),
    () => add('activity.email', { direction: 'outbound' }),
    () => add('activity.call', { durationMinutes: Math.floor(rand() * 60), direction: 'outbound' }),
    () => add('activity.meeting', { kind: pick(['discovery', 'demo', 'technical', 'executive', 'other'] as const), durationMinutes: 30 + Math.floor(rand() * 30), attendeeCount: 1 + Math.floor(rand() * 5) }),
    () => add('call.completed', { callId: `call-${signals.length}`, durationMinutes: 10 + Math.floor(rand() * 50), externalParticipants: 1 + Math.floor(rand() * 3), internalParticipants: 1, topExternalSeniority: pick(seniorities) }),
    () => add('conversation.pricing_discussed', {}),
    () => add('conversation.timeline_mentioned', { date: '2025-05-15' }),
    () => add('conversation.budget_mentioned', { amount: 20_000 + Math.floor(rand() * 80) * 1000 }),
    () => add('milestone.pain_documented', {}),
    () => add('milestone.next_step_agreed', { date: '2025-03-20' }),
    () => add('crm.field_changed', { field: 'budget_confirmed', value: 'true' }),
  ];
  const milestones: (() => void)[] = [
    () => add('milestone.decision_process_mapped', {}),
    () => add('proposal.sent', { documentId: `doc-${seed}` }),
    () => add('proposal.viewed', { documentId: `doc-${seed}` }),
    () => add('milestone.security_review_requested', {}),
    () => add('conversation.competitor_mentioned', { competitor: 'Rival' }),
    () => add('milestone.legal_review_requested', {}),
    () => add('crm.close_date_changed', { closeDate: '2025-05-31' }),
    () => add('esign.sent', { documentId: `env-${seed}` }),
  ];
  let m = 0;
  while (signals.length < 48) {
    if (rand() < 0.2 && m < milestones.length) milestones[m++]!();
    else pick(activity)();
  }
  if (rand() < 0.5) add('esign.completed', { documentId: `env-${seed}` });
  else add('activity.email', { direction: 'inbound' });
  const initial = initialDealState(dealId, provider);
  const applied = signals.slice(0, -2);
  const warm = evaluateDeal({
    deal: initial,
    signals: applied,
    playbook: defaultPlaybook(),
    playbookVersion: 'bench',
    now: applied[applied.length - 1]!.occurredAt,
    trigger: 'signals',
  }).nextState;
  // Through JSON, as the worker loads it from its jsonb column.
  return { deal: JSON.parse(JSON.stringify(warm)) as DealState, initial, signals, now: new Date(t + HOUR_MS) };
}

export interface EvaluationRate {
  evaluations: number;
  perSecond: number;
}

/**
 * Evaluates the given deals round-robin for about `durationMs` and reports evaluations per second.
 * `cold` starts every evaluation from the empty state (the whole history at once) instead of the
 * steady-state deal. Reads the clock, so it belongs to benchmarks, never to the engine.
 */
export function measureEvaluationRate(deals: readonly BenchDeal[], durationMs: number, cold = false): EvaluationRate {
  const playbook = compilePlaybook(defaultPlaybook());
  let evaluations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (const d of deals) {
      evaluateDeal({ deal: cold ? d.initial : d.deal, signals: d.signals, playbook, playbookVersion: 'bench', now: d.now, trigger: 'signals' });
      evaluations += 1;
    }
    elapsed = performance.now() - start;
  }
  return { evaluations, perSecond: Math.round((evaluations / elapsed) * 1000) };
}
