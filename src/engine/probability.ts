import type { EvalContext } from './context.ts';
import { decideChange, emit, liveMode } from './decisions.ts';
import { DAY_MS } from './time.ts';

export interface ProbabilityBreakdown {
  value: number;
  base: number;
  health: number;
  boosts: number;
  cap: number;
}

/**
 * Probability = stage base + health adjustment (by score band) + signal boosts of this stage visit,
 * clamped to [0, stage cap]. Closed stages take their base as is (won 100, lost 0).
 */
export function computeProbability(ctx: EvalContext, extraPoints = 0): ProbabilityBreakdown | null {
  const key = ctx.state.stage;
  const stage = key === null ? undefined : ctx.pb.stageByKey.get(key);
  if (!stage) return null;
  const base = stage.stage.probability;
  if (stage.stage.closed !== undefined) return { value: base, base, health: 0, boosts: 0, cap: stage.cap };
  const band = ctx.state.memory.healthBand;
  const health = band === null ? 0 : (ctx.pb.playbook.policies.probability.bandAdjustment[band] ?? 0);
  let boosts = extraPoints;
  for (const b of ctx.state.memory.probabilityBoosts) boosts += b.points;
  const value = Math.round(Math.min(stage.cap, Math.max(0, base + health + boosts)));
  return { value, base, health, boosts, cap: stage.cap };
}

export function explainProbability(ctx: EvalContext, p: ProbabilityBreakdown): string {
  const label = ctx.state.stage === null ? '' : (ctx.pb.stageByKey.get(ctx.state.stage)?.stage.label ?? ctx.state.stage);
  const sign = (n: number): string => (n >= 0 ? `+ ${n}` : `- ${-n}`);
  const raw = p.base + p.health + p.boosts;
  const band = ctx.state.memory.healthBand ?? 'unscored';
  const capped = raw > p.cap ? `, capped at ${p.cap}%` : raw < 0 ? ', floored at 0%' : '';
  return `${label} base ${p.base}% ${sign(p.health)} (health ${band}) ${sign(p.boosts)} (signals) = ${p.value}%${capped}`;
}

/** Recomputes the probability at the end of an evaluation; writes only a changed value. */
export function updateProbability(ctx: EvalContext): void {
  const rule = ctx.pb.probabilityRule;
  const mode = rule ? liveMode(rule.mode) : null;
  if (!rule || !mode) return;
  const p = computeProbability(ctx);
  if (!p) return;
  const s = ctx.state;
  const policy = ctx.pb.playbook.policies;
  const rep = s.memory.repProbability;
  if (rep !== null && ctx.nowMs < Date.parse(rep.at) + policy.overrideRespectDays * DAY_MS) {
    // The rep's own number stands for a while; we only point out a large gap.
    const gap = policy.probability.repDiscrepancyFlagPoints;
    if (gap !== undefined && Math.abs(rep.value - p.value) > gap) {
      emit(
        ctx,
        {
          type: 'flag',
          ruleId: rule.id,
          mode: 'auto',
          signalIds: [rep.signalId],
          reason: `Rep-entered probability ${rep.value}% differs from the calculated ${p.value}% by more than ${gap} points`,
          flagType: 'probability_discrepancy',
        },
        `rep:${rep.signalId}`,
      );
    }
    return;
  }
  if (p.value === s.probability) return;
  const boosted = ctx.newBoosts[0];
  const ruleId = boosted?.ruleId ?? rule.id;
  const signalIds = [...new Set(ctx.newBoosts.flatMap((b) => b.signalIds))];
  const applied = decideChange(ctx, {
    ruleId,
    mode,
    signalIds,
    reason: `Probability ${s.probability === null ? 'unset' : `${s.probability}%`} → ${explainProbability(ctx, p)}`,
    proposed: { type: 'set_probability', from: s.probability, to: p.value },
    anchor: `${s.memory.writeSeq}:${p.value}`,
  });
  if (applied) {
    s.probability = p.value;
    s.memory.writeSeq += 1;
  }
}
