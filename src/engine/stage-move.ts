import { stopSequence } from './cadence.ts';
import { stageLabel, type EvalContext } from './context.ts';
import { decideChange } from './decisions.ts';
import { missingGatesForMove } from './gates.ts';
import { enterStage } from './mirror.ts';
import { crmStageFor, type CompiledStage } from './playbook/compile.ts';
import type { Mode } from './playbook/schema.ts';
import { toIso } from './time.ts';
import { runEntryWorkflows } from './workflows.ts';

/** A stage move the engine would like to make, on behalf of one rule. */
export interface MoveRequest {
  ruleId: string;
  mode: Exclude<Mode, 'off'>;
  target: CompiledStage;
  signalIds: string[];
  reason: string;
  /** When the cause happened (the signal's time, or now for a grace period running out). */
  atMs: number;
  cutoffSeq: number;
  conclusive?: boolean | undefined;
  onlyIfReady?: boolean | undefined;
}

/** Within the override period the engine never moves a deal back where the rep moved it from. */
function blockedByOverride(ctx: EvalContext, targetKey: string, atMs: number): boolean {
  const o = ctx.state.memory.override;
  return o !== null && o.fromStage === targetKey && atMs < Date.parse(o.respectUntil);
}

/** Everything that follows entering a stage through an actionable step. */
export function afterStageEntry(ctx: EvalContext, toStage: string, signalIds: string[]): void {
  ctx.enteredStage = true;
  const stage = ctx.pb.stageByKey.get(toStage);
  if (stage?.stage.closed !== undefined) {
    ctx.state.memory.pendingRegressions = [];
    stopSequence(ctx, 'deal_closed', signalIds);
  }
  runEntryWorkflows(ctx, toStage, signalIds);
}

function applyMove(ctx: EvalContext, target: CompiledStage, crmStage: string | null, atMs: number, signalIds: string[]): void {
  enterStage(ctx, target.key, crmStage, toIso(atMs));
  ctx.state.memory.writeSeq += 1;
  afterStageEntry(ctx, target.key, signalIds);
}

/**
 * Triggers propose, gates dispose: the move happens only when every exit gate is met (or the
 * trigger is conclusive) and no more than the allowed number of stages is skipped. Otherwise a
 * manager approval or an owner suggestion names what is missing. Returns true when it moved.
 */
export function proposeAdvance(ctx: EvalContext, req: MoveRequest): boolean {
  const s = ctx.state;
  const from = s.stage === null ? undefined : ctx.pb.stageByKey.get(s.stage);
  if (!from || from.rank === null || req.target.rank === null || req.target.rank <= from.rank) return false;
  if (blockedByOverride(ctx, req.target.key, req.atMs)) return false;

  const missing = req.conclusive ? [] : missingGatesForMove(ctx, req.target, req.atMs, req.cutoffSeq);
  if (missing.length > 0 && req.onlyIfReady) return false;
  const skipped = ctx.pb.ranked.slice(from.rank + 1, req.target.rank).map((x) => x.key);
  const maxSkip = ctx.pb.playbook.policies.stageSkip.maxSkippedWithoutApproval;
  const crmStage = crmStageFor(ctx.pb, req.target.key, s.provider);

  let forceApproval: string | undefined;
  if (skipped.length > maxSkip) {
    forceApproval = `skipping ${skipped.length} stages (${skipped.map((k) => stageLabel(ctx, k)).join(', ')}) needs approval`;
  }
  let forceSuggestion: string | undefined;
  if (missing.length > 0) forceSuggestion = `exit gates not met: ${missing.map((g) => g.label).join('; ')}`;
  if (crmStage === null) forceSuggestion = `${req.target.stage.label} has no ${s.provider} stage to write`;

  const gateIds = missing.map((g) => `${g.stage}.${g.gateId}`).sort().join(',');
  const applied = decideChange(ctx, {
    ruleId: req.ruleId,
    mode: req.mode,
    signalIds: req.signalIds,
    reason: req.reason,
    proposed: { type: 'advance_stage', fromStage: from.key, toStage: req.target.key, crmStage, skipped },
    anchor: `${from.key}>${req.target.key}@${s.stageEnteredAt ?? ''}${gateIds ? `/missing:${gateIds}` : ''}`,
    missingGates: missing,
    forceApproval,
    forceSuggestion,
    conclusive: req.conclusive,
  });
  if (applied) applyMove(ctx, req.target, crmStage, req.atMs, req.signalIds);
  return applied;
}

/** Moves a deal back. No gates apply; the rule's mode and the override period still do. */
export function proposeRegress(ctx: EvalContext, req: MoveRequest & { probabilityPenalty?: number | undefined }): boolean {
  const s = ctx.state;
  const from = s.stage === null ? undefined : ctx.pb.stageByKey.get(s.stage);
  if (!from || from.rank === null || req.target.rank === null || req.target.rank >= from.rank) return false;
  if (blockedByOverride(ctx, req.target.key, req.atMs)) return false;
  const crmStage = crmStageFor(ctx.pb, req.target.key, s.provider);
  const applied = decideChange(ctx, {
    ruleId: req.ruleId,
    mode: req.mode,
    signalIds: req.signalIds,
    reason: req.reason,
    proposed: { type: 'regress_stage', fromStage: from.key, toStage: req.target.key, crmStage },
    anchor: `${from.key}>${req.target.key}@${s.stageEnteredAt ?? ''}`,
    forceSuggestion: crmStage === null ? `${req.target.stage.label} has no ${s.provider} stage to write` : undefined,
  });
  if (!applied) return false;
  applyMove(ctx, req.target, crmStage, req.atMs, req.signalIds);
  if (req.probabilityPenalty) {
    const boost = { ruleId: req.ruleId, points: -req.probabilityPenalty, signalIds: req.signalIds };
    s.memory.probabilityBoosts = [...s.memory.probabilityBoosts, boost];
    ctx.newBoosts.push(boost);
  }
  return true;
}

/** Resolves a rule's stage target relative to the deal's current stage. */
export function resolveTarget(ctx: EvalContext, target: string): CompiledStage | undefined {
  const current = ctx.state.stage === null ? undefined : ctx.pb.stageByKey.get(ctx.state.stage);
  if (target === 'next' || target === 'previous') {
    if (!current || current.rank === null) return undefined;
    return ctx.pb.ranked[current.rank + (target === 'next' ? 1 : -1)];
  }
  return ctx.pb.stageByKey.get(target);
}
