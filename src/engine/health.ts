import { raiseAlert } from './alerts.ts';
import type { EvalContext } from './context.ts';
import { liveMode } from './decisions.ts';
import { engagementRate } from './engagement.ts';
import type { BandKey } from './playbook/schema.ts';
import { DAY_MS, msToDate } from './time.ts';
import type { HealthPoint } from './types.ts';

export interface HealthBreakdown {
  score: number;
  band: BandKey;
  /** Each component in [0, 1] before weighting. */
  components: { engagement: number; stakeholders: number; champion: number; urgency: number; timeInStage: number };
}

const bandOrder: Record<BandKey, number> = { at_risk: 0, cooling: 1, warm: 2, hot: 3 };

export function bandFor(ctx: EvalContext, score: number): BandKey {
  // Bands are checked from the highest threshold down.
  const bands = [...ctx.pb.playbook.policies.health.bands].sort((a, b) => b.min - a.min);
  for (const b of bands) if (score >= b.min) return b.key;
  return bands[bands.length - 1]!.key;
}

/**
 * Health 0–100 from five weighted parts: engagement (touches per week against the "fast" rate),
 * stakeholder breadth, an active champion, urgency (a future close date; a timeline, next step or
 * budget approval on record) and time in stage (full marks up to the average, none at 2×).
 */
export function computeHealth(ctx: EvalContext): HealthBreakdown {
  const s = ctx.state;
  const policy = ctx.pb.playbook.policies;
  const w = policy.health.weights;

  const fast = policy.engagement.fast.aboveTouchesPerWeek;
  const engagement = fast > 0 ? Math.min(1, engagementRate(ctx) / fast) : 1;

  let active = 0;
  let champion = 0;
  for (const x of s.stakeholders) {
    if (x.departedAt !== null || x.removedAt !== null) continue;
    active += 1;
    if (x.role === 'champion') champion = 1;
  }
  const stakeholders = Math.min(1, active / policy.health.stakeholderTarget);

  const seen = s.memory.lastSeenByType;
  const hasTimeline =
    seen['conversation.timeline_mentioned'] !== undefined ||
    seen['milestone.next_step_agreed'] !== undefined ||
    seen['milestone.budget_approved'] !== undefined;
  const urgency = (s.closeDate !== null && s.closeDate >= msToDate(ctx.nowMs) ? 0.5 : 0) + (hasTimeline ? 0.5 : 0);

  let timeInStage = 1;
  const stage = s.stage === null ? undefined : ctx.pb.stageByKey.get(s.stage);
  if (stage?.averageDays && s.stageEnteredAt !== null) {
    const ratio = (ctx.nowMs - Date.parse(s.stageEnteredAt)) / DAY_MS / stage.averageDays;
    timeInStage = ratio <= 1 ? 1 : ratio >= 2 ? 0 : 2 - ratio;
  }

  const total = w.engagement + w.stakeholders + w.champion + w.urgency + w.timeInStage;
  const raw =
    w.engagement * engagement + w.stakeholders * stakeholders + w.champion * champion + w.urgency * urgency + w.timeInStage * timeInStage;
  const score = Math.round(total > 0 ? (raw / total) * 100 : 0);
  return { score, band: bandFor(ctx, score), components: { engagement, stakeholders, champion, urgency, timeInStage } };
}

/** Records the score, then raises score-drop and band-change alerts (seed 003 playbooks). */
export function updateHealth(ctx: EvalContext): void {
  const s = ctx.state;
  const policy = ctx.pb.playbook.policies.health;
  const h = computeHealth(ctx);
  const previous = s.healthHistory;
  const lastPoint = previous[previous.length - 1];

  const drop = policy.scoreDrop;
  const dropMode = liveMode(drop.mode ?? 'auto');
  if (dropMode) {
    const fromMs = ctx.nowMs - drop.withinDays * DAY_MS;
    // The window also covers the score in effect when it opened (the last point before it).
    let peak: HealthPoint | undefined;
    let before: HealthPoint | undefined;
    for (const p of previous) {
      if (Date.parse(p.at) < fromMs) before = p;
      else if (!peak || p.score > peak.score) peak = p;
    }
    if (before && (!peak || before.score > peak.score)) peak = before;
    if (peak && peak.score - h.score >= drop.points) {
      raiseAlert(ctx, {
        ruleId: 'policy:health.score_drop',
        mode: dropMode,
        spec: drop.alert,
        signalIds: [],
        reason: `Health score fell from ${peak.score} to ${h.score} within ${drop.withinDays} days`,
        anchor: `peak:${peak.at}`,
      });
    }
  }

  const prevBand = s.memory.healthBand;
  if (prevBand !== null && prevBand !== h.band) {
    const band = policy.bands.find((b) => b.key === h.band);
    const spec = band?.alertOnEnter;
    const up = bandOrder[h.band] > bandOrder[prevBand];
    if (spec && (spec.direction === 'any' || (spec.direction === 'up') === up)) {
      const { direction: _direction, ...alert } = spec;
      raiseAlert(ctx, {
        ruleId: 'policy:health.band',
        mode: 'auto',
        spec: alert,
        signalIds: [],
        reason: `Health moved from ${prevBand} to ${h.band} (score ${h.score})`,
        // The last recorded point is stable across a retried evaluation; `now` is not.
        anchor: `${prevBand}>${h.band}@${lastPoint?.at ?? ''}`,
      });
    }
  }

  s.healthScore = h.score;
  s.memory.healthBand = h.band;
  if (!lastPoint || lastPoint.score !== h.score) {
    const keepFrom = ctx.nowMs - policy.historyDays * DAY_MS;
    const kept = previous.filter((p) => Date.parse(p.at) >= keepFrom);
    kept.push({ at: ctx.nowIso, score: h.score });
    s.healthHistory = kept;
  }
}
