import type { Signal } from '../../signals/catalogue.ts';
import { raiseAlert } from '../alerts.ts';
import { conditionContext, isOpen, stageLabel, type EvalContext } from '../context.ts';
import { decideChange, emit, liveMode } from '../decisions.ts';
import type { CompiledTriggerRule } from '../playbook/compile.ts';
import { computeProbability, explainProbability } from '../probability.ts';
import { proposeAdvance, resolveTarget } from '../stage-move.ts';

/**
 * Activity, signal and milestone rules (seed rule types 1–3). A rule is considered only when a
 * new signal it names arrives and matches one of its signal conditions; then the whole
 * condition is tested against the deal's history up to that signal.
 */

function describe(ctx: EvalContext, rule: CompiledTriggerRule['rule'], signal: Signal): string {
  return `${rule.description ?? rule.id} (${signal.type} at ${ctx.signalIso})`;
}

function boostProbability(ctx: EvalContext, cr: CompiledTriggerRule, points: number, signalIds: string[], why: string, anchor: string): void {
  const rule = cr.rule;
  const mode = liveMode(rule.mode)!;
  const used = ctx.state.memory.probabilityBoosts.filter((b) => b.ruleId === rule.id).length;
  if (used >= (rule.maxPerStage ?? 1)) return;
  if (mode === 'auto') {
    const boost = { ruleId: rule.id, points, signalIds };
    ctx.state.memory.probabilityBoosts = [...ctx.state.memory.probabilityBoosts, boost];
    ctx.newBoosts.push(boost);
    return;
  }
  // Approve/suggest: show the number the boost would produce; nothing changes until a person acts.
  const p = computeProbability(ctx, points);
  if (!p || p.value === ctx.state.probability) return;
  decideChange(ctx, {
    ruleId: rule.id,
    mode,
    signalIds,
    reason: `${why}: probability ${points >= 0 ? '+' : ''}${points} → ${explainProbability(ctx, p)}`,
    proposed: { type: 'set_probability', from: ctx.state.probability, to: p.value },
    anchor,
  });
}

export function runTriggerRules(ctx: EvalContext, signal: Signal, seq: number): void {
  const rules = ctx.pb.triggerRulesByType.get(signal.type);
  if (!rules) return;
  const atMs = signal.occurredAt.getTime();
  for (const cr of rules) {
    // An earlier rule may have closed the deal (e.g. signature completed).
    if (!isOpen(ctx)) return;
    const rule = cr.rule;
    const mode = liveMode(rule.mode);
    if (!mode) continue;
    if (cr.from && !cr.from.has(ctx.state.stage!)) continue;
    if (!cr.condition.matches(signal, ctx.state)) continue;
    const evidence: string[] = [];
    if (!cr.condition.test(conditionContext(ctx, atMs, seq), evidence)) continue;
    const signalIds = [...new Set([signal.id, ...evidence])];
    const why = describe(ctx, rule, signal);
    const anchor = `signal:${signal.id}`;

    if (rule.flag) {
      // A deal is flagged once per kind (a competitive deal stays competitive).
      emit(ctx, { type: 'flag', ruleId: rule.id, mode, signalIds, reason: `${rule.flag.message ?? rule.flag.type}: ${why}`, flagType: rule.flag.type }, `flag:${rule.flag.type}`);
    }
    if (rule.alert) raiseAlert(ctx, { ruleId: rule.id, mode, spec: rule.alert, signalIds, reason: why, anchor });
    if (rule.adjustProbability !== undefined) boostProbability(ctx, cr, rule.adjustProbability, signalIds, why, anchor);
    if (rule.advanceTo !== undefined) {
      const target = resolveTarget(ctx, rule.advanceTo);
      if (!target) continue;
      proposeAdvance(ctx, {
        ruleId: rule.id,
        mode,
        target,
        signalIds,
        reason: `${why}: ${stageLabel(ctx, ctx.state.stage)} → ${target.stage.label}`,
        atMs,
        cutoffSeq: seq,
        conclusive: rule.conclusive,
        onlyIfReady: rule.onlyIfReady,
      });
    }
  }
}
