import type { Signal, SignalOrigin, SignalType } from '../signals/catalogue.ts';
import { evaluateDeal } from './evaluate.ts';
import { compilePlaybook, type CompiledPlaybook } from './playbook/compile.ts';
import { defaultPlaybook } from './playbook/default-playbook.ts';
import type { Playbook } from './playbook/schema.ts';
import { initialDealState } from './state.ts';
import type { DealState, Decision, EvaluationOptions, EvaluationResult } from './types.ts';

/**
 * Helpers for the engine's unit tests: readable signal builders, fixed instants and a one-line
 * evaluation with the default playbook. Not used by production code.
 */

/** Monday 3 March 2025, 09:00 UTC. */
export const T0 = Date.parse('2025-03-03T09:00:00.000Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** ISO instant `days` (fractional allowed) after T0. */
export function at(days: number, hours = 0): string {
  return new Date(T0 + days * DAY + hours * HOUR).toISOString();
}

export interface SignalOptions {
  origin?: SignalOrigin;
  id?: string;
}

/** Builds signals with sequential ids for one deal. */
export function signalMaker(dealId = 'deal-1'): <T extends SignalType>(type: T, when: string, payload?: Record<string, unknown>, opts?: SignalOptions) => Signal {
  let n = 0;
  return (type, when, payload = {}, opts = {}) => {
    n += 1;
    return {
      id: opts.id ?? `${dealId}-${String(n).padStart(3, '0')}`,
      dealId,
      type,
      occurredAt: new Date(when),
      source: 'hubspot',
      origin: opts.origin ?? 'live',
      payload,
    } as Signal;
  };
}

/** A copy of the default playbook with a change applied (the parsed default stays untouched). */
export function tweakedPlaybook(change: (pb: Playbook) => void): Playbook {
  const copy = structuredClone(defaultPlaybook());
  change(copy);
  return copy;
}

export interface RunOptions {
  deal?: DealState;
  playbook?: Playbook | CompiledPlaybook;
  options?: EvaluationOptions;
}

export function run(signals: readonly Signal[], now: string, opts: RunOptions = {}): EvaluationResult {
  return evaluateDeal({
    deal: opts.deal ?? initialDealState('deal-1', 'hubspot'),
    signals,
    playbook: compilePlaybook(opts.playbook ?? defaultPlaybook()),
    playbookVersion: 'v-test',
    now,
    trigger: 'signals',
    options: opts.options,
  });
}

/** Evaluates at each instant in turn, carrying the state; returns all decisions and the last state. */
export function runAt(signals: readonly Signal[], nows: readonly string[], opts: RunOptions = {}): { decisions: Decision[]; state: DealState } {
  let deal = opts.deal ?? initialDealState('deal-1', 'hubspot');
  const decisions: Decision[] = [];
  for (const now of nows) {
    const r = run(signals, now, { ...opts, deal });
    decisions.push(...r.decisions);
    deal = r.nextState;
  }
  return { decisions, state: deal };
}

export function ofType<T extends Decision['type']>(decisions: readonly Decision[], type: T): Extract<Decision, { type: T }>[] {
  return decisions.filter((d): d is Extract<Decision, { type: T }> => d.type === type);
}

export function byRule(decisions: readonly Decision[], ruleId: string): Decision[] {
  return decisions.filter((d) => d.ruleId === ruleId);
}
