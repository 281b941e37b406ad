import type { EvalContext } from './context.ts';

export type EngagementBand = 'fast' | 'normal' | 'slow';

/** Buyer touches per week over the engagement window, from the touch times kept in state. */
export function engagementRate(ctx: EvalContext): number {
  const windowDays = ctx.pb.playbook.policies.engagement.windowDays;
  // ISO strings of one format order like the instants they name.
  let n = 0;
  for (const t of ctx.state.memory.touches) if (t >= ctx.touchWindowStartIso && t <= ctx.nowIso) n += 1;
  return (n / windowDays) * 7;
}

/** Seed 001: more than 2 touches a week is fast (0.7×), 1–2 normal (1.0×), under 1 slow (1.5×). */
export function engagementBand(ctx: EvalContext): { band: EngagementBand; multiplier: number; rate: number } {
  const e = ctx.pb.playbook.policies.engagement;
  const rate = engagementRate(ctx);
  if (rate > e.fast.aboveTouchesPerWeek) return { band: 'fast', multiplier: e.fast.multiplier, rate };
  if (rate < e.slow.belowTouchesPerWeek) return { band: 'slow', multiplier: e.slow.multiplier, rate };
  return { band: 'normal', multiplier: e.normal.multiplier, rate };
}
