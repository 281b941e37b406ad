import { conditionContext, writableGates, type EvalContext } from './context.ts';
import type { CompiledStage } from './playbook/compile.ts';
import type { MissingGate } from './types.ts';

/**
 * Exit gates. A gate once met stays met for the rest of the stage visit (evidence does not expire
 * just because older signals drop out of the history a caller passes in); entering a stage starts
 * over, and evidence gathered before entry counts, since work often runs ahead of the stage.
 */

/** Records newly met gates of the current stage; returns the ones still unmet. */
export function refreshCurrentGates(ctx: EvalContext, atMs: number, cutoffSeq: number): MissingGate[] {
  const key = ctx.state.stage;
  const stage = key === null ? undefined : ctx.pb.stageByKey.get(key);
  if (!stage) return [];
  const missing: MissingGate[] = [];
  const cctx = conditionContext(ctx, atMs, cutoffSeq);
  for (const gate of stage.gates) {
    if (ctx.state.gatesMet[gate.id] !== undefined) continue;
    const evidence: string[] = [];
    if (gate.condition.test(cctx, evidence)) {
      writableGates(ctx)[gate.id] = { at: new Date(atMs).toISOString(), signalIds: [...new Set(evidence)].sort() };
    } else {
      missing.push({ stage: stage.key, gateId: gate.id, label: gate.label });
    }
  }
  return missing;
}

/**
 * Gates that block a move from the current stage to `target`: the current stage's unmet gates
 * plus those of every stage the move would skip (skipping a stage means having done its work).
 */
export function missingGatesForMove(ctx: EvalContext, target: CompiledStage, atMs: number, cutoffSeq: number): MissingGate[] {
  const current = ctx.state.stage === null ? undefined : ctx.pb.stageByKey.get(ctx.state.stage);
  if (!current || current.rank === null || target.rank === null) return [];
  const missing = refreshCurrentGates(ctx, atMs, cutoffSeq);
  const cctx = conditionContext(ctx, atMs, cutoffSeq);
  for (let r = current.rank + 1; r < target.rank; r++) {
    const between = ctx.pb.ranked[r]!;
    for (const gate of between.gates) {
      if (!gate.condition.test(cctx, null)) missing.push({ stage: between.key, gateId: gate.id, label: gate.label });
    }
  }
  return missing;
}
