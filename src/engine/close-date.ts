import type { Signal, SignalPayload } from '../signals/catalogue.ts';
import { raiseAlert } from './alerts.ts';
import { conditionContext, isOpen, type EvalContext } from './context.ts';
import { decideChange, emit, liveMode } from './decisions.ts';
import { engagementBand } from './engagement.ts';
import { setCloseDate } from './mirror.ts';
import type { Mode } from './playbook/schema.ts';
import { DAY_MS, dateToMs, msToDate } from './time.ts';
import type { IsoDate } from './types.ts';

interface CloseDateRequest {
  ruleId: string;
  mode: Exclude<Mode, 'off'>;
  to: IsoDate;
  signalIds: string[];
  reason: string;
}

function repRespected(ctx: EvalContext): boolean {
  const rep = ctx.state.memory.repCloseDate;
  return rep !== null && ctx.nowMs < Date.parse(rep.at) + ctx.pb.playbook.policies.overrideRespectDays * DAY_MS;
}

function proposeCloseDate(ctx: EvalContext, req: CloseDateRequest): void {
  const s = ctx.state;
  // A close date the rep set by hand stands for the override period.
  if (req.to === s.closeDate || repRespected(ctx)) return;
  const limit = ctx.pb.playbook.policies.closeDate.approvalForExtensionDays;
  const extension = s.closeDate === null ? 0 : (dateToMs(req.to) - dateToMs(s.closeDate)) / DAY_MS;
  const applied = decideChange(ctx, {
    ruleId: req.ruleId,
    mode: req.mode,
    signalIds: req.signalIds,
    reason: req.reason,
    proposed: { type: 'set_close_date', from: s.closeDate, to: req.to },
    anchor: `${s.memory.writeSeq}:${req.to}`,
    forceApproval: limit !== undefined && extension > limit ? `it extends the close date by ${extension} days (over ${limit})` : undefined,
  });
  if (applied) {
    setCloseDate(ctx, req.to);
    s.memory.writeSeq += 1;
  }
}

/**
 * Close date = today + stage average × engagement multiplier. Recomputed when the deal enters a
 * stage or its engagement band changes, not on every tick, so the date does not creep daily.
 */
export function updateCloseDate(ctx: EvalContext): void {
  const s = ctx.state;
  const rule = ctx.pb.velocityRule;
  const { band, multiplier, rate } = engagementBand(ctx);
  const previousBand = s.memory.engagementBand;
  s.memory.engagementBand = band;
  const mode = rule ? liveMode(rule.mode) : null;
  if (!rule || !mode || !isOpen(ctx)) return;
  const stage = ctx.pb.stageByKey.get(s.stage!)!;
  if (stage.averageDays === null) return;
  const bandChanged = previousBand !== null && previousBand !== band;
  if (!ctx.enteredStage && !bandChanged && s.closeDate !== null) return;
  const days = Math.round(stage.averageDays * multiplier);
  const to = msToDate(ctx.nowMs + days * DAY_MS);
  const why = ctx.enteredStage ? `entered ${stage.stage.label}` : bandChanged ? `engagement changed from ${previousBand} to ${band}` : 'no close date set';
  proposeCloseDate(ctx, {
    ruleId: rule.id,
    mode,
    to,
    signalIds: [],
    reason: `Close date → ${to}: ${why}; ${stage.averageDays}-day stage average × ${multiplier} (${rate.toFixed(1)} touches/week)`,
  });
}

/** A buyer naming a date moves the close date to it (seed rule type 2, timeline mentioned). */
export function runTimelineRules(ctx: EvalContext, signal: Signal, seq: number): void {
  const rules = ctx.pb.timelineRulesByType.get(signal.type);
  if (!rules || !isOpen(ctx)) return;
  const date = (signal.payload as SignalPayload<'conversation.timeline_mentioned'>).date;
  if (date === undefined) return;
  for (const cr of rules) {
    const mode = liveMode(cr.rule.mode);
    if (!mode || !cr.condition) continue;
    if (!cr.condition.matches(signal, ctx.state)) continue;
    if (!cr.condition.test(conditionContext(ctx, signal.occurredAt.getTime(), seq), null)) continue;
    proposeCloseDate(ctx, {
      ruleId: cr.rule.id,
      mode,
      to: date,
      signalIds: [signal.id],
      reason: `${cr.rule.description ?? cr.rule.id}: the buyer named ${date} (${signal.type})`,
    });
  }
}

/** Drift beyond the threshold from the original date alerts; many changes flag the deal. */
export function checkCloseDateHistory(ctx: EvalContext): void {
  const s = ctx.state;
  if (!isOpen(ctx) || s.closeDate === null || s.originalCloseDate === null) return;
  const policy = ctx.pb.playbook.policies.closeDate;
  const drift = Math.round((dateToMs(s.closeDate) - dateToMs(s.originalCloseDate)) / DAY_MS);
  if (Math.abs(drift) > policy.driftAlertDays) {
    raiseAlert(ctx, {
      ruleId: 'policy:close_date.drift',
      mode: 'auto',
      spec: policy.driftAlert,
      signalIds: [],
      reason: `Close date ${s.closeDate} is ${Math.abs(drift)} days ${drift > 0 ? 'after' : 'before'} the original ${s.originalCloseDate}`,
      anchor: `close-date:${s.closeDate}`,
    });
  }
  if (s.closeDateChanges >= policy.changesFlagAt) {
    emit(
      ctx,
      {
        type: 'flag',
        ruleId: 'policy:close_date.changes',
        mode: 'auto',
        signalIds: [],
        reason: `Close date changed ${s.closeDateChanges} times (original ${s.originalCloseDate}, now ${s.closeDate})`,
        flagType: 'close_date_changes',
      },
      `original:${s.originalCloseDate}`,
    );
  }
}
