import type { CompiledPlaybook } from './playbook/compile.ts';
import type { SignalView } from './signal-view.ts';
import type { ConditionContext } from './conditions.ts';
import type { DealState, Decision, EngineMemory, OwnerDirectory, ProbabilityBoost } from './types.ts';

/**
 * The working context of one evaluation. `state` is the next state under construction: a shallow
 * copy of the input whose nested records are copied on first write, so the caller's deal is never
 * mutated and nothing large is deep-cloned.
 */
export interface EvalContext {
  pb: CompiledPlaybook;
  version: string;
  nowMs: number;
  nowIso: string;
  state: DealState;
  decisions: Decision[];
  view: SignalView;
  /** Whether the current step may produce decisions (false for state-only history). */
  actionable: boolean;
  /** The deal entered a stage through an actionable step during this evaluation. */
  enteredStage: boolean;
  /** Probability boosts added during this evaluation, to explain the resulting set_probability. */
  newBoosts: ProbabilityBoost[];
  copied: Set<string>;
  /** ISO time of the signal being applied (formatting dates is costly, so once per signal). */
  signalIso: string;
  /** Start of the engagement window as ISO, computed once per evaluation. */
  touchWindowStartIso: string;
  /** Owner facts for `owner` conditions (empty without a routing directory). */
  owners?: OwnerDirectory | undefined;
}

type RecordKeys = 'emitted' | 'alertsRaisedAt' | 'recentSignalIds' | 'lastSeenByType' | 'crmAsOf';

/** Returns a memory record that is safe to mutate, copying it the first time. */
export function writableMemory<K extends RecordKeys>(ctx: EvalContext, key: K): EngineMemory[K] {
  const tag = `memory.${key}`;
  if (!ctx.copied.has(tag)) {
    ctx.state.memory[key] = { ...ctx.state.memory[key] };
    ctx.copied.add(tag);
  }
  return ctx.state.memory[key];
}

export function writableFields(ctx: EvalContext): DealState['fields'] {
  if (!ctx.copied.has('fields')) {
    ctx.state.fields = { ...ctx.state.fields };
    ctx.copied.add('fields');
  }
  return ctx.state.fields;
}

export function writableGates(ctx: EvalContext): DealState['gatesMet'] {
  if (!ctx.copied.has('gatesMet')) {
    ctx.state.gatesMet = { ...ctx.state.gatesMet };
    ctx.copied.add('gatesMet');
  }
  return ctx.state.gatesMet;
}

/** Condition context at a given instant, seeing history plus new signals up to `cutoffSeq`. */
export function conditionContext(ctx: EvalContext, atMs: number, cutoffSeq: number): ConditionContext {
  return { view: ctx.view, cutoffSeq, atMs, state: ctx.state, owners: ctx.owners };
}

export function isOpen(ctx: EvalContext): boolean {
  const stage = ctx.state.stage === null ? undefined : ctx.pb.stageByKey.get(ctx.state.stage);
  return stage !== undefined && stage.stage.closed === undefined;
}

export function stageLabel(ctx: EvalContext, key: string | null): string {
  if (key === null) return 'an unmapped stage';
  return ctx.pb.stageByKey.get(key)?.stage.label ?? key;
}
