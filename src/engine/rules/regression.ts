import type { Signal, StakeholderRole } from '../../signals/catalogue.ts';
import { raiseAlert } from '../alerts.ts';
import { conditionContext, isOpen, stageLabel, type EvalContext } from '../context.ts';
import { liveMode } from '../decisions.ts';
import type { RegressionRule } from '../playbook/schema.ts';
import { proposeRegress, resolveTarget } from '../stage-move.ts';
import { DAY_MS, toIso } from '../time.ts';
import type { PendingRegression } from '../types.ts';

/**
 * Regression rules: concrete bad news moves a deal back (seed: champion left, budget cancelled,
 * competitor won the evaluation, stakeholder lost). Nothing here looks at silence, so a quiet
 * deal is never moved backwards — it gets alerts from the time rules instead.
 */

function roleFilled(ctx: EvalContext, role: StakeholderRole | null, exceptContactId: string | null): boolean {
  if (role === null) return false;
  return ctx.state.stakeholders.some(
    (s) => s.role === role && s.contactId !== exceptContactId && s.departedAt === null && s.removedAt === null,
  );
}

function regress(ctx: EvalContext, rule: RegressionRule, signalIds: string[], why: string, atMs: number, cutoffSeq: number): void {
  const mode = liveMode(rule.mode);
  const target = resolveTarget(ctx, rule.regressTo);
  if (!mode || !target) return;
  const from = ctx.state.stage;
  const moved = proposeRegress(ctx, {
    ruleId: rule.id,
    mode,
    target,
    signalIds,
    reason: `${why}: ${stageLabel(ctx, from)} → ${target.stage.label}${rule.probabilityPenalty ? `, probability -${rule.probabilityPenalty}` : ''}`,
    atMs,
    cutoffSeq,
    probabilityPenalty: rule.probabilityPenalty,
  });
  // Seed: a manager reviews every automatic regression.
  if (moved && rule.alert) {
    raiseAlert(ctx, { ruleId: rule.id, mode, spec: rule.alert, signalIds, reason: `Regressed: ${why}`, anchor: `signal:${signalIds.join(',')}/regressed` });
  }
}

export function runRegressionRules(ctx: EvalContext, signal: Signal, seq: number): void {
  const rules = ctx.pb.regressionRulesByType.get(signal.type);
  if (!rules) return;
  const atMs = signal.occurredAt.getTime();
  for (const cr of rules) {
    if (!isOpen(ctx)) return;
    const rule = cr.rule;
    const mode = liveMode(rule.mode);
    if (!mode) continue;
    if (cr.from && !cr.from.has(ctx.state.stage!)) continue;
    if (!cr.condition.matches(signal, ctx.state)) continue;
    if (!cr.condition.test(conditionContext(ctx, atMs, seq), null)) continue;
    const why = `${rule.description ?? rule.id} (${signal.type} at ${ctx.signalIso})`;
    if (!rule.grace) {
      regress(ctx, rule, [signal.id], why, atMs, seq);
      continue;
    }
    const payload = signal.payload as { contactId?: string; role?: StakeholderRole };
    const contactId = payload.contactId ?? null;
    const role = payload.role ?? ctx.state.stakeholders.find((s) => s.contactId === contactId)?.role ?? null;
    const graceDays = rule.grace.days ?? ctx.pb.playbook.policies.championGraceDays;
    const filled = rule.grace.cancelWhenRoleFilled && roleFilled(ctx, role, contactId);
    if (rule.alert) {
      const outlook = filled ? 'another stakeholder already holds the role, so no regression' : `regression in ${graceDays} days unless a replacement is named`;
      raiseAlert(ctx, { ruleId: rule.id, mode, spec: rule.alert, signalIds: [signal.id], reason: `${why}; ${outlook}`, anchor: `signal:${signal.id}` });
    }
    if (filled) continue;
    const pending = ctx.state.memory.pendingRegressions;
    if (pending.some((p) => p.ruleId === rule.id && p.contactId === contactId)) continue;
    const entry: PendingRegression = {
      ruleId: rule.id,
      contactId,
      role,
      startedAt: toIso(atMs),
      dueAt: toIso(atMs + graceDays * DAY_MS),
      signalIds: [signal.id],
    };
    ctx.state.memory.pendingRegressions = [...pending, entry];
  }
}

/** A replacement in the lost role cancels the waiting regression (state only, no decision). */
export function cancelPendingOnReplacement(ctx: EvalContext, role: StakeholderRole | null): void {
  if (role === null) return;
  const pending = ctx.state.memory.pendingRegressions;
  if (pending.length === 0) return;
  const keep = pending.filter((p) => {
    const rule = ctx.pb.playbook.rules.find((r) => r.id === p.ruleId);
    const cancels = rule?.type === 'regression' && rule.grace?.cancelWhenRoleFilled !== false;
    return !(cancels && p.role === role);
  });
  if (keep.length !== pending.length) ctx.state.memory.pendingRegressions = keep;
}

/** Grace periods that ran out: regress unless the role was filled in the meantime. */
export function expireGracePeriods(ctx: EvalContext): void {
  const pending = ctx.state.memory.pendingRegressions;
  if (pending.length === 0) return;
  const due = pending.filter((p) => Date.parse(p.dueAt) <= ctx.nowMs);
  if (due.length === 0) return;
  ctx.state.memory.pendingRegressions = pending.filter((p) => Date.parse(p.dueAt) > ctx.nowMs);
  for (const p of due) {
    const rule = ctx.pb.playbook.rules.find((r) => r.id === p.ruleId);
    if (rule?.type !== 'regression' || !isOpen(ctx)) continue;
    if (rule.grace?.cancelWhenRoleFilled !== false && roleFilled(ctx, p.role, p.contactId)) continue;
    const days = Math.round((Date.parse(p.dueAt) - Date.parse(p.startedAt)) / DAY_MS);
    const why = `${rule.description ?? rule.id}: no replacement named within ${days} days of ${p.startedAt.slice(0, 10)}`;
    regress(ctx, rule, p.signalIds, why, ctx.nowMs, Number.MAX_SAFE_INTEGER);
  }
}
