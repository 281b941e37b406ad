import type { Signal } from '../signals/catalogue.ts';
import { evaluateDeal } from './evaluate.ts';
import { compilePlaybook, type CompiledPlaybook } from './playbook/compile.ts';
import type { Playbook } from './playbook/schema.ts';
import { compareSignals } from './signal-view.ts';
import { initialDealState } from './state.ts';
import { DAY_MS, HOUR_MS, toIso, toMs } from './time.ts';
import type { DealState, Decision, EvaluationOptions, IsoInstant, Provider } from './types.ts';

export interface ReplayInput {
  crmDealId: string;
  provider: Provider;
  signals: readonly Signal[];
  playbook: CompiledPlaybook | Playbook;
  playbookVersion: string;
  /** Extra evaluation instants besides each signal's time. */
  ticks?: readonly (Date | IsoInstant)[] | undefined;
  /** Adds one evaluation a day at this UTC hour, from the first signal until `until`. */
  dailyTicks?: { until: Date | IsoInstant; hourUtc?: number | undefined } | undefined;
  options?: EvaluationOptions | undefined;
  /** Start from this state instead of a fresh one. */
  initialState?: DealState | undefined;
}

export interface ReplayStep {
  at: IsoInstant;
  decisions: Decision[];
}

export interface ReplayResult {
  decisions: Decision[];
  /** Only the instants that produced decisions. */
  steps: ReplayStep[];
  finalState: DealState;
  evaluations: number;
}

function timeline(input: ReplayInput, sorted: readonly Signal[]): number[] {
  const times = new Set<number>();
  for (const s of sorted) times.add(s.occurredAt.getTime());
  for (const t of input.ticks ?? []) times.add(toMs(t));
  const first = sorted[0];
  if (input.dailyTicks && first) {
    const until = toMs(input.dailyTicks.until);
    const hour = input.dailyTicks.hourUtc ?? 6;
    const startDay = Math.floor(first.occurredAt.getTime() / DAY_MS) * DAY_MS;
    for (let t = startDay + hour * HOUR_MS; t <= until; t += DAY_MS) times.add(t);
  }
  return [...times].sort((a, b) => a - b);
}

/**
 * Re-runs a deal's whole history from a fresh state: one evaluation at each signal's time (and at
 * each tick), exactly as the live engine would have seen it. Pure, so the replay API and backtests
 * get the same answer every time.
 */
export function replayDeal(input: ReplayInput): ReplayResult {
  const playbook = compilePlaybook(input.playbook);
  const sorted = [...input.signals].sort(compareSignals);
  let state = input.initialState ?? initialDealState(input.crmDealId, input.provider);
  const decisions: Decision[] = [];
  const steps: ReplayStep[] = [];
  let evaluations = 0;
  for (const at of timeline(input, sorted)) {
    const result = evaluateDeal({
      deal: state,
      signals: sorted,
      playbook,
      playbookVersion: input.playbookVersion,
      now: new Date(at),
      trigger: 'replay',
      options: input.options,
    });
    evaluations += 1;
    state = result.nextState;
    if (result.decisions.length > 0) {
      decisions.push(...result.decisions);
      steps.push({ at: toIso(at), decisions: result.decisions });
    }
  }
  return { decisions, steps, finalState: state, evaluations };
}
