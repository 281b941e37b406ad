import { raiseAlert, repeatingAnchor } from '../alerts.ts';
import { isOpen, stageLabel, type EvalContext } from '../context.ts';
import { buildTask, decideChange, emit, liveMode } from '../decisions.ts';
import type { Mode, TimeRule } from '../playbook/schema.ts';
import { DAY_MS, dateToMs, msToDate } from '../time.ts';

/**
 * Time-based rules (seed rule type 4): stalls, stale deals, past close dates and overdue plan
 * milestones. They alert, flag and create tasks; by construction they never move a stage.
 */

interface Finding {
  /** Names the episode (a stage visit, a quiet period, a date) so keys are stable. */
  anchor: string;
  crossedAtMs: number;
  reason: string;
  subject?: string;
}

function act(ctx: EvalContext, rule: TimeRule, mode: Exclude<Mode, 'off'>, f: Finding): void {
  if (rule.alert) {
    raiseAlert(ctx, {
      ruleId: rule.id,
      mode,
      spec: rule.alert,
      signalIds: [],
      reason: f.reason,
      anchor: repeatingAnchor(ctx, rule.alert.type, f.anchor, f.crossedAtMs),
      subject: f.subject,
    });
  }
  if (rule.flag) {
    emit(ctx, { type: 'flag', ruleId: rule.id, mode, signalIds: [], reason: f.reason, flagType: rule.flag.type }, f.anchor);
  }
  if (rule.task) {
    const task = buildTask(ctx, rule.task, f.reason);
    decideChange(ctx, { ruleId: rule.id, mode, signalIds: [], reason: f.reason, proposed: { type: 'create_task', task }, anchor: f.anchor });
  }
  if (rule.suggest) {
    const task = buildTask(ctx, rule.suggest, f.reason);
    emit(ctx, { type: 'suggest', ruleId: rule.id, mode: 'suggest', signalIds: [], reason: f.reason, task, proposed: null, missingGates: [] }, f.anchor);
  }
}

function stall(ctx: EvalContext, rule: TimeRule, level: 'warning' | 'critical'): Finding | null {
  const s = ctx.state;
  const stage = s.stage === null ? undefined : ctx.pb.stageByKey.get(s.stage);
  if (!stage || stage.averageDays === null || s.stageEnteredAt === null) return null;
  const policy = ctx.pb.playbook.policies.stall;
  const multiple = rule.threshold ?? (level === 'warning' ? policy.warningMultiple : policy.criticalMultiple);
  const enteredMs = Date.parse(s.stageEnteredAt);
  const crossedAtMs = enteredMs + stage.averageDays * multiple * DAY_MS;
  if (ctx.nowMs <= crossedAtMs) return null;
  const days = Math.floor((ctx.nowMs - enteredMs) / DAY_MS);
  return {
    anchor: `${stage.key}@${s.stageEnteredAt}`,
    crossedAtMs,
    reason: `${days} days in ${stage.stage.label}, more than ${multiple}× the ${stage.averageDays}-day average`,
  };
}

function stale(ctx: EvalContext, rule: TimeRule, level: 'alert' | 'suggest'): Finding | null {
  const s = ctx.state;
  const last = s.lastActivityAt ?? s.stageEnteredAt ?? s.createdAt;
  if (last === null) return null;
  const policy = ctx.pb.playbook.policies.stale;
  const days = rule.threshold ?? (level === 'alert' ? policy.alertDays : policy.suggestDays);
  const crossedAtMs = Date.parse(last) + days * DAY_MS;
  if (ctx.nowMs <= crossedAtMs) return null;
  const quiet = Math.floor((ctx.nowMs - Date.parse(last)) / DAY_MS);
  return { anchor: `quiet-since:${last}`, crossedAtMs, reason: `No activity for ${quiet} days (threshold ${days})` };
}

function closeDatePast(ctx: EvalContext): Finding | null {
  const date = ctx.state.closeDate;
  const today = msToDate(ctx.nowMs);
  if (date === null || date >= today) return null;
  return {
    anchor: `close-date:${date}`,
    crossedAtMs: dateToMs(date) + DAY_MS,
    reason: `Close date ${date} is in the past and the deal is still in ${stageLabel(ctx, ctx.state.stage)}: advance it or close it`,
  };
}

function overdueMilestones(ctx: EvalContext): Finding[] {
  const graceMs = ctx.pb.playbook.policies.mutualActionPlan.overdueAfterDays * DAY_MS;
  const out: Finding[] = [];
  for (const m of ctx.state.planMilestones) {
    if (m.completedAt !== null) continue;
    // Overdue once the whole due day (plus any grace) has passed.
    const crossedAtMs = dateToMs(m.dueDate) + DAY_MS + graceMs;
    if (ctx.nowMs < crossedAtMs) continue;
    out.push({
      anchor: `milestone:${m.id}@${m.dueDate}`,
      crossedAtMs,
      reason: `Mutual action plan milestone "${m.title}" (${m.owner}) was due ${m.dueDate} and is not done`,
      subject: m.id,
    });
  }
  return out;
}

export function runTimeRules(ctx: EvalContext): void {
  if (!isOpen(ctx)) return;
  for (const rule of ctx.pb.timeRules) {
    const mode = liveMode(rule.mode);
    if (!mode) continue;
    let findings: Finding[];
    switch (rule.check) {
      case 'stall_warning':
      case 'stall_critical': {
        const f = stall(ctx, rule, rule.check === 'stall_warning' ? 'warning' : 'critical');
        findings = f ? [f] : [];
        break;
      }
      case 'stale_alert':
      case 'stale_suggest': {
        const f = stale(ctx, rule, rule.check === 'stale_alert' ? 'alert' : 'suggest');
        findings = f ? [f] : [];
        break;
      }
      case 'close_date_past': {
        const f = closeDatePast(ctx);
        findings = f ? [f] : [];
        break;
      }
      case 'plan_overdue':
        findings = overdueMilestones(ctx);
        break;
    }
    for (const f of findings) act(ctx, rule, mode, f);
  }
}
