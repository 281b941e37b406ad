import { writableMemory, type EvalContext } from './context.ts';
import { emit } from './decisions.ts';
import type { AlertSpec, Mode } from './playbook/schema.ts';
import { HOUR_MS } from './time.ts';

export interface AlertRequest {
  ruleId: string;
  mode: Exclude<Mode, 'off'>;
  spec: AlertSpec;
  signalIds: string[];
  reason: string;
  /** Names the logical event; see decisionKey. */
  anchor: string;
  /** Distinguishes alerts of one type about different things (e.g. two plan milestones). */
  subject?: string | undefined;
}

export function throttleHours(ctx: EvalContext, alertType: string): number {
  const table = ctx.pb.playbook.policies.alertThrottleHours;
  return table[alertType] ?? table.default;
}

/**
 * Raises an alert unless the same alert for this deal fired within its throttle window. The
 * window lives in the deal state, so throttling holds across evaluations and processes.
 */
export function raiseAlert(ctx: EvalContext, req: AlertRequest): boolean {
  const throttleKey = req.subject === undefined ? req.spec.type : `${req.spec.type}:${req.subject}`;
  const last = ctx.state.memory.alertsRaisedAt[throttleKey];
  if (last !== undefined && ctx.nowMs - Date.parse(last) < throttleHours(ctx, req.spec.type) * HOUR_MS) return false;
  const message = req.spec.message === undefined ? req.reason : `${req.spec.message}: ${req.reason}`;
  const emitted = emit(
    ctx,
    {
      type: 'raise_alert',
      ruleId: req.ruleId,
      signalIds: req.signalIds,
      reason: message,
      mode: req.mode === 'suggest' ? 'suggest' : 'auto',
      tier: req.spec.tier,
      alertType: req.spec.type,
      recipients: req.spec.recipients,
    },
    req.anchor,
  );
  if (emitted) writableMemory(ctx, 'alertsRaisedAt')[throttleKey] = ctx.nowIso;
  return emitted;
}

/**
 * Anchor for an alert that keeps firing while a condition lasts: the crossing instant plus how
 * many throttle windows have passed since, so a retry within a window reuses the same key.
 */
export function repeatingAnchor(ctx: EvalContext, alertType: string, base: string, crossedAtMs: number): string {
  const windowMs = throttleHours(ctx, alertType) * HOUR_MS;
  const n = windowMs > 0 ? Math.floor(Math.max(0, ctx.nowMs - crossedAtMs) / windowMs) : 0;
  return `${base}#${n}`;
}
