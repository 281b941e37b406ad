import { addBusinessDays } from './business-days.ts';
import { writableMemory, type EvalContext } from './context.ts';
import type { Mode, Role, TaskSpec } from './playbook/schema.ts';
import { HOUR_MS, toIso } from './time.ts';
import type { Decision, DecisionBase, MissingGate, ProposedChange, Task } from './types.ts';

/** Fields every decision builder supplies; the rest (key, version, time) is filled in here. */
export interface DecisionCause {
  ruleId: string;
  signalIds: string[];
  reason: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type DecisionDraft = DistributiveOmit<Decision, keyof DecisionBase> & DecisionCause & { mode: DecisionBase['mode'] };

/**
 * The idempotency key: deal, rule, decision type and an anchor that names the logical event
 * (a signal id, a stage visit, a threshold crossing), never the wall-clock time of evaluation.
 */
export function decisionKey(ctx: EvalContext, ruleId: string, type: string, anchor: string): string {
  return `${ctx.state.crmDealId}/${ruleId}/${type}/${anchor}`;
}

/** The mode a rule runs in, or null when it is off. */
export function liveMode(mode: Mode): Exclude<Mode, 'off'> | null {
  return mode === 'off' ? null : mode;
}

/**
 * Anchors naming a signal or a stage entry can never come round again (a signal is applied once,
 * an entry happens once), so their keys need not be remembered; this keeps the state small.
 */
function recurs(anchor: string): boolean {
  return !(anchor.startsWith('signal:') || anchor.startsWith('entry:'));
}

/** Emits a decision unless the same key was emitted before; returns whether it was emitted. */
export function emit(ctx: EvalContext, draft: DecisionDraft, anchor: string): boolean {
  if (!ctx.actionable) return false;
  const key = decisionKey(ctx, draft.ruleId, draft.type, anchor);
  if (ctx.state.memory.emitted[key] !== undefined) return false;
  if (recurs(anchor)) writableMemory(ctx, 'emitted')[key] = ctx.nowIso;
  // Drafts are built fresh by each caller, so completing them in place saves a copy.
  const decision = draft as Decision;
  decision.key = key;
  decision.playbookVersion = ctx.version;
  decision.at = ctx.nowIso;
  ctx.decisions.push(decision);
  return true;
}

function fill(template: string, ctx: EvalContext): string {
  const s = ctx.state;
  return template
    .replaceAll('{stage}', s.stage === null ? '' : (ctx.pb.stageByKey.get(s.stage)?.stage.label ?? s.stage))
    .replaceAll('{amount}', s.amount === null ? 'an unknown amount' : String(s.amount))
    .replaceAll('{closeDate}', s.closeDate ?? 'no close date')
    .replaceAll('{dealId}', s.crmDealId);
}

/** A task from a playbook template; due dates count business days from now where asked. */
export function buildTask(ctx: EvalContext, spec: TaskSpec, fallbackBody: string): Task {
  let dueMs: number;
  if (spec.due && 'hours' in spec.due) dueMs = ctx.nowMs + spec.due.hours * HOUR_MS;
  else dueMs = addBusinessDays(ctx.nowMs, spec.due?.businessDays ?? 1);
  return {
    subject: fill(spec.subject, ctx),
    body: spec.body === undefined ? fallbackBody : fill(spec.body, ctx),
    dueAt: toIso(dueMs),
    priority: spec.priority ?? 'medium',
    ownerRole: spec.ownerRole ?? 'owner',
  };
}

function describeProposal(ctx: EvalContext, p: ProposedChange): string {
  const label = (k: string): string => ctx.pb.stageByKey.get(k)?.stage.label ?? k;
  switch (p.type) {
    case 'advance_stage':
      return `Move to ${label(p.toStage)}`;
    case 'regress_stage':
      return `Move back to ${label(p.toStage)}`;
    case 'set_probability':
      return `Set probability to ${p.to}%`;
    case 'set_close_date':
      return `Set close date to ${p.to}`;
    case 'create_task':
      return p.task.subject;
    case 'update_field':
      return `Set ${p.field} to ${p.value ?? 'empty'}`;
    case 'assign_owner':
      return p.reassign ? 'Reassign the deal to another owner' : 'Assign an owner to the deal';
  }
}

export interface ChangeRequest extends DecisionCause {
  mode: Exclude<Mode, 'off'>;
  proposed: ProposedChange;
  anchor: string;
  missingGates?: MissingGate[];
  /** Why a person must approve even though the rule is automatic (e.g. a skipped stage). */
  forceApproval?: string | undefined;
  /** Why the owner must decide even though the rule is automatic (e.g. unmet gates). */
  forceSuggestion?: string | undefined;
  conclusive?: boolean | undefined;
  /** Who approves in `approve` mode; a manager unless the rule names someone else. */
  approverRole?: Role | undefined;
}

/**
 * Applies a rule's mode to a change the engine wants to make: `auto` makes it, `approve` asks a
 * manager, `suggest` gives the owner a task. Returns true only when the change is made now, so the
 * caller updates the next state.
 */
export function decideChange(ctx: EvalContext, req: ChangeRequest): boolean {
  const missingGates = req.missingGates ?? [];
  let mode = req.mode;
  const notes: string[] = [];
  if (req.forceApproval !== undefined) {
    notes.push(req.forceApproval);
    if (mode !== 'suggest') mode = 'approve';
  }
  if (req.forceSuggestion !== undefined) {
    notes.push(req.forceSuggestion);
    if (mode === 'auto') mode = ctx.pb.playbook.policies.unmetGates === 'approve' ? 'approve' : 'suggest';
  }
  const reason = notes.length ? `${req.reason}; ${notes.join('; ')}` : req.reason;
  const base = { ruleId: req.ruleId, signalIds: req.signalIds, reason };
  if (mode === 'approve') {
    emit(ctx, { ...base, type: 'request_approval', mode, approverRole: req.approverRole ?? 'manager', proposed: req.proposed, missingGates }, req.anchor);
    return false;
  }
  if (mode === 'suggest') {
    const missing = missingGates.length ? ` (missing: ${missingGates.map((g) => g.label).join('; ')})` : '';
    const task = buildTask(ctx, { subject: `${describeProposal(ctx, req.proposed)}?${missing}` }, reason);
    emit(ctx, { ...base, type: 'suggest', mode, task, proposed: req.proposed, missingGates }, req.anchor);
    return false;
  }
  const p = req.proposed;
  switch (p.type) {
    case 'advance_stage':
      return emit(ctx, { ...base, mode, type: 'advance_stage', fromStage: p.fromStage, toStage: p.toStage, crmStage: p.crmStage, skipped: p.skipped, conclusive: req.conclusive ?? false }, req.anchor);
    case 'regress_stage':
      return emit(ctx, { ...base, mode, type: 'regress_stage', fromStage: p.fromStage, toStage: p.toStage, crmStage: p.crmStage }, req.anchor);
    case 'set_probability':
      return emit(ctx, { ...base, mode, type: 'set_probability', from: p.from, to: p.to }, req.anchor);
    case 'set_close_date':
      return emit(ctx, { ...base, mode, type: 'set_close_date', from: p.from, to: p.to }, req.anchor);
    case 'create_task':
      return emit(ctx, { ...base, mode, type: 'create_task', task: p.task }, req.anchor);
    case 'update_field':
      return emit(ctx, { ...base, mode, type: 'update_field', field: p.field, from: p.from, value: p.value }, req.anchor);
    case 'assign_owner': {
      const { type: _type, ...assignment } = p;
      return emit(ctx, { ...base, mode, type: 'assign_owner', ...assignment }, req.anchor);
    }
  }
}
