import { nextBusinessInstant } from './business-days.ts';
import { isOpen, type EvalContext } from './context.ts';
import { buildTask, decideChange, emit, liveMode } from './decisions.ts';
import type { SignalPayload } from '../signals/catalogue.ts';
import { DAY_MS, HOUR_MS, dateToMs, msToDate, toIso } from './time.ts';

/**
 * Follow-up cadence (seed 002): the 48-hour rule and the re-engagement sequence. Both only ever
 * create tasks for the rep; nothing here writes to a buyer.
 */

/** Ends the sequence when the buyer answers or the deal closes. */
export function stopSequence(ctx: EvalContext, stoppedBy: 'buyer_response' | 'deal_closed', signalIds: string[]): void {
  const seq = ctx.state.memory.sequence;
  if (!seq) return;
  ctx.state.memory.sequence = null;
  emit(
    ctx,
    {
      type: 'stop_sequence',
      ruleId: seq.ruleId,
      mode: 'auto',
      signalIds,
      reason: stoppedBy === 'buyer_response' ? 'The buyer responded, so the re-engagement sequence stops' : 'The deal closed, so the re-engagement sequence stops',
      sequence: 're_engagement',
      stoppedBy,
    },
    `${seq.startedAt}/stop`,
  );
}

/** A clear next step: an agreed next step dated today or later. */
function hasUpcomingNextStep(ctx: EvalContext): boolean {
  const list = ctx.view.byType.get('milestone.next_step_agreed');
  if (!list) return false;
  const today = msToDate(ctx.nowMs);
  for (const entry of list) {
    const date = (entry.signal.payload as SignalPayload<'milestone.next_step_agreed'>).date;
    if (date !== undefined && date >= today && entry.at <= ctx.nowMs) return true;
  }
  return false;
}

function followUp(ctx: EvalContext): void {
  const rule = ctx.pb.followUpRule;
  const s = ctx.state;
  const mode = rule ? liveMode(rule.mode) : null;
  if (!rule || !mode || s.memory.sequence !== null) return;
  // The rule keeps a live conversation going; cold prospecting before any reply is not one.
  const last = s.lastActivityAt;
  if (last === null || s.lastBuyerResponseAt === null) return;
  const policy = ctx.pb.playbook.policies.cadence.followUp;
  const quietMs = ctx.nowMs - Date.parse(last);
  if (quietMs <= policy.afterHours * HOUR_MS || hasUpcomingNextStep(ctx)) return;
  const hours = Math.floor(quietMs / HOUR_MS);
  const task = buildTask(ctx, { ...policy.task, due: policy.task.due ?? { hours: 0 } }, `No buyer interaction for ${hours} hours and no next step agreed.`);
  decideChange(ctx, {
    ruleId: rule.id,
    mode,
    signalIds: [],
    reason: `No interaction for ${hours} hours and no agreed next step (${policy.afterHours}-hour rule)`,
    proposed: { type: 'create_task', task },
    anchor: `quiet-since:${last}`,
  });
}

function reengagement(ctx: EvalContext): void {
  const rule = ctx.pb.reengagementRule;
  const s = ctx.state;
  const mode = rule ? liveMode(rule.mode) : null;
  if (!rule || !mode) return;
  const policy = ctx.pb.playbook.policies.cadence.reengagement;
  if (s.memory.sequence === null) {
    const quietSince = s.lastBuyerResponseAt;
    if (quietSince === null) return;
    const startMs = Date.parse(quietSince) + policy.startAfterQuietDays * DAY_MS;
    if (ctx.nowMs < startMs) return;
    const started = emit(
      ctx,
      {
        type: 'start_sequence',
        ruleId: rule.id,
        mode,
        signalIds: [],
        reason: `The buyer has not responded since ${quietSince.slice(0, 10)} (${policy.startAfterQuietDays}+ days)`,
        sequence: 're_engagement',
        stepDays: policy.steps.map((x) => x.day),
      },
      `quiet-since:${quietSince}`,
    );
    if (!started) return;
    s.memory.sequence = { name: 're_engagement', ruleId: rule.id, startedAt: toIso(startMs), stepsIssued: [] };
  }
  const seq = s.memory.sequence;
  if (seq === null) return;
  const startMs = Date.parse(seq.startedAt);
  const issued = [...seq.stepsIssued];
  for (const step of policy.steps) {
    if (issued.includes(step.day)) continue;
    // Day 1 is the day the sequence starts.
    const stepMs = startMs + (step.day - 1) * DAY_MS;
    if (ctx.nowMs < stepMs) break;
    // Due at the end of the step's business day (17:00 UTC), never in the past.
    const dueMs = Math.max(ctx.nowMs, nextBusinessInstant(dateToMs(msToDate(stepMs)) + 17 * HOUR_MS));
    const task = { ...buildTask(ctx, step.task, `Re-engagement day ${step.day}: the buyer has gone quiet.`), dueAt: toIso(dueMs) };
    decideChange(ctx, {
      ruleId: rule.id,
      mode,
      signalIds: [],
      reason: `Re-engagement sequence, day ${step.day}: no buyer response since ${(s.lastBuyerResponseAt ?? seq.startedAt).slice(0, 10)}`,
      proposed: { type: 'create_task', task },
      anchor: `${seq.startedAt}/day${step.day}`,
    });
    issued.push(step.day);
  }
  s.memory.sequence = { ...seq, stepsIssued: issued };
}

/** Runs at the end of every evaluation for open deals. */
export function runCadence(ctx: EvalContext): void {
  if (!isOpen(ctx)) return;
  reengagement(ctx);
  followUp(ctx);
}
