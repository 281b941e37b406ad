import { raiseAlert } from './alerts.ts';
import { stageLabel, type EvalContext } from './context.ts';
import { buildTask, decideChange } from './decisions.ts';

/**
 * Stage-entry workflows: the tasks and notifications a stage asks for when a deal enters it.
 * Keys are anchored on the stage visit, so a retried evaluation never creates a task twice.
 */
export function runEntryWorkflows(ctx: EvalContext, stageKey: string, signalIds: string[]): void {
  const stage = ctx.pb.stageByKey.get(stageKey);
  const onEntry = stage?.stage.onEntry;
  if (!stage || !onEntry) return;
  const mode = onEntry.mode ?? 'auto';
  if (mode === 'off') return;
  const ruleId = `workflow:${stageKey}`;
  const visit = `entry:${stageKey}@${ctx.state.stageEnteredAt ?? ctx.nowIso}`;
  const reason = `Deal entered ${stage.stage.label}`;
  onEntry.tasks.forEach((spec, i) => {
    const task = buildTask(ctx, spec, `${reason}; this task is part of the stage's entry workflow.`);
    decideChange(ctx, {
      ruleId,
      mode,
      signalIds,
      reason: `${reason}: ${task.subject}`,
      proposed: { type: 'create_task', task },
      anchor: `${visit}/task${i}`,
    });
  });
  onEntry.notify.forEach((spec, i) => {
    raiseAlert(ctx, {
      ruleId,
      mode,
      spec,
      signalIds,
      reason: `${reason} (${stageLabel(ctx, stageKey)}, amount ${ctx.state.amount ?? 'unknown'})`,
      anchor: `${visit}/notify${i}`,
      subject: `${stageKey}@${ctx.state.stageEnteredAt ?? ctx.nowIso}`,
    });
  });
}
