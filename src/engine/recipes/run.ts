import type { Signal } from '../../signals/catalogue.ts';
import { raiseAlert } from '../alerts.ts';
import { conditionContext, isOpen, writableFields, type EvalContext } from '../context.ts';
import { buildTask, decideChange, liveMode, type ChangeRequest } from '../decisions.ts';
import type { FieldValue, Mode, WorkflowAction, WorkflowRule } from '../playbook/schema.ts';
import { DAY_MS, HOUR_MS, toIso } from '../time.ts';
import type { ProposedChange } from '../types.ts';
import { compileWorkflows, type CompiledWorkflow } from './compile.ts';
import { parseFieldDate } from './dates.ts';
import { describeCondition, describeTrigger } from './describe.ts';

/**
 * Workflow rules: a trigger (signal, stage entered or left, time, score crossing), an optional
 * condition, and actions that go through the same decision builders as every other rule, so
 * modes, idempotency keys and write-back behave identically.
 */

/** One firing of a trigger: what happened, when, and what it read. */
interface Firing {
  /** Names the logical event; each action appends its index. */
  anchor: string;
  signalIds: string[];
  /** The concrete event, e.g. "call.completed at 2025-03-03T10:00:00.000Z". */
  event: string;
  inputs: string[];
  atMs: number;
  cutoffSeq: number;
}

const mirrorFields: Record<string, (ctx: EvalContext) => string | null> = {
  amount: (ctx) => (ctx.state.amount === null ? null : String(ctx.state.amount)),
  closeDate: (ctx) => ctx.state.closeDate,
  ownerId: (ctx) => ctx.state.ownerId,
};

function currentField(ctx: EvalContext, name: string): string | null {
  const mirror = mirrorFields[name];
  return mirror ? mirror(ctx) : (ctx.state.fields[name] ?? null);
}

/** The newest visible signal of the given types that carries `field`, or null. */
function latestPayloadValue(ctx: EvalContext, types: string | string[], field: string, atMs: number, cutoffSeq: number): { value: unknown; signalId: string } | null {
  let best: { value: unknown; signalId: string; at: number } | null = null;
  for (const type of Array.isArray(types) ? types : [types]) {
    const list = ctx.view.byType.get(type);
    if (!list) continue;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (e.seq > cutoffSeq || e.at > atMs) continue;
      const value = (e.signal.payload as Record<string, unknown>)[field];
      if (value === undefined || value === null || value === '') continue;
      if (!best || e.at > best.at) best = { value, signalId: e.signal.id, at: e.at };
      break;
    }
  }
  return best;
}

/** A field value to write; undefined when it is not known yet (nothing is written then). */
function resolveValue(ctx: EvalContext, value: FieldValue, f: Firing): { value: string | null; signalId?: string } | undefined {
  if (value === null) return { value: null };
  if (typeof value !== 'object') return { value: String(value) };
  const found = latestPayloadValue(ctx, value.fromSignal.type, value.fromSignal.field, f.atMs, f.cutoffSeq);
  return found ? { value: String(found.value), signalId: found.signalId } : undefined;
}

function actionMode(rule: WorkflowRule, action: WorkflowAction): Exclude<Mode, 'off'> | null {
  return liveMode(action.mode ?? rule.mode);
}

function runAction(ctx: EvalContext, rule: WorkflowRule, action: WorkflowAction, index: number, head: string, signalIds: string[], f: Firing): void {
  const mode = actionMode(rule, action);
  if (!mode) return;
  const anchor = `${f.anchor}/a${index}`;
  const change = (reason: string, proposed: ProposedChange, extra: Partial<ChangeRequest> = {}): boolean =>
    decideChange(ctx, { ruleId: rule.id, mode, signalIds, reason, proposed, anchor, ...extra });

  if (action.task) {
    const task = buildTask(ctx, action.task, head);
    change(`${head} → task "${task.subject}"`, { type: 'create_task', task });
    return;
  }
  if (action.alert) {
    raiseAlert(ctx, { ruleId: rule.id, mode, spec: action.alert, signalIds, reason: head, anchor });
    return;
  }
  if (action.updateField) {
    const { name } = action.updateField;
    const resolved = resolveValue(ctx, action.updateField.value, f);
    if (resolved === undefined) return; // e.g. no competitor was ever named: nothing to capture
    const from = currentField(ctx, name);
    if (from === resolved.value) return;
    const ids = resolved.signalId && !signalIds.includes(resolved.signalId) ? [...signalIds, resolved.signalId] : signalIds;
    const applied = decideChange(ctx, {
      ruleId: rule.id,
      mode,
      signalIds: ids,
      reason: `${head} → set ${name} from ${from ?? 'empty'} to ${resolved.value ?? 'empty'}`,
      proposed: { type: 'update_field', field: name, from, value: resolved.value },
      anchor,
    });
    // The mirror takes the value now so the rule does not fire again before the CRM echoes it.
    if (applied) writableFields(ctx)[name] = resolved.value;
    return;
  }
  if (action.approval) {
    const a = action.approval;
    let proposed: ProposedChange;
    if (a.setField) {
      const resolved = resolveValue(ctx, a.setField.value, f);
      proposed = { type: 'update_field', field: a.setField.name, from: currentField(ctx, a.setField.name), value: resolved?.value ?? null };
    } else {
      proposed = { type: 'create_task', task: buildTask(ctx, { subject: a.subject, ownerRole: a.approver }, head) };
    }
    // An approval action asks even in `auto` mode: asking is what the rule is for.
    const asMode = mode === 'suggest' ? 'suggest' : 'approve';
    decideChange(ctx, {
      ruleId: rule.id,
      mode: asMode,
      signalIds,
      reason: `${head} → ${a.subject} (approver: ${a.approver})`,
      proposed,
      anchor,
      approverRole: a.approver,
    });
    return;
  }
  if (action.assignOwner) {
    // Routing needs the workspace's directory of owners; without one there is nobody to pick.
    if (!ctx.owners || Object.keys(ctx.owners).length === 0) return;
    const { reassign, fallback } = action.assignOwner;
    const from = ctx.state.ownerId;
    change(`${head} → ${reassign ? `reassign from ${from ?? 'nobody'}` : 'assign an owner'} by the routing rules`, {
      type: 'assign_owner',
      fromOwnerId: from,
      toOwnerId: null,
      reassign,
      fallback,
    });
  }
}

function fire(ctx: EvalContext, cw: CompiledWorkflow, f: Firing): void {
  if (cw.stages && (ctx.state.stage === null || !cw.stages.has(ctx.state.stage))) return;
  const evidence: string[] = [];
  if (cw.condition && !cw.condition.test(conditionContext(ctx, f.atMs, f.cutoffSeq), evidence)) return;
  const rule = cw.rule;
  const signalIds = [...new Set([...f.signalIds, ...evidence])];
  const inputs = f.inputs.length > 0 ? ` [${f.inputs.join(', ')}]` : '';
  const conditions = rule.when ? `; conditions met: ${describeCondition(rule.when)}` : '';
  const head = `${rule.description ?? rule.id} — trigger: ${describeTrigger(rule.trigger)}; event: ${f.event}${inputs}${conditions}`;
  rule.actions.forEach((action, i) => runAction(ctx, rule, action, i, head, signalIds, f));
}

function payloadInputs(signal: Signal): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(signal.payload as Record<string, unknown>)) {
    if (out.length >= 6) break;
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out.push(`${k}=${String(v)}`);
  }
  return out;
}

/** Signal triggers, for one new signal (history up to it is visible, nothing after). */
export function runWorkflowSignalTriggers(ctx: EvalContext, signal: Signal, seq: number): void {
  const rules = compileWorkflows(ctx.pb.playbook).bySignalType.get(signal.type);
  if (!rules) return;
  for (const cw of rules) {
    if (!cw.signal!.matches(signal, ctx.state)) continue;
    fire(ctx, cw, {
      anchor: `signal:${signal.id}`,
      signalIds: [signal.id],
      event: `${signal.type} at ${signal.occurredAt.toISOString()}`,
      inputs: payloadInputs(signal),
      atMs: signal.occurredAt.getTime(),
      cutoffSeq: seq,
    });
  }
}

/** Where the deal stood before a step, to see whether the step moved it. */
export interface WorkflowMark {
  stage: string | null;
  stageEnteredAt: string | null;
  healthScore: number | null;
  lastHealthAt: string | null;
}

export function workflowMark(ctx: EvalContext): WorkflowMark {
  const s = ctx.state;
  return { stage: s.stage, stageEnteredAt: s.stageEnteredAt, healthScore: s.healthScore, lastHealthAt: s.healthHistory.at(-1)?.at ?? null };
}

/** Stage-entered and stage-left triggers, when the step since `mark` changed the stage. */
export function runWorkflowStageTriggers(ctx: EvalContext, mark: WorkflowMark, signalIds: string[], atMs: number, cutoffSeq: number): void {
  const s = ctx.state;
  if (s.stage === mark.stage && s.stageEnteredAt === mark.stageEnteredAt) return;
  const wf = compileWorkflows(ctx.pb.playbook);
  for (const cw of wf.stageChange) {
    const t = cw.rule.trigger;
    const event = `${mark.stage ?? 'no stage'} → ${s.stage ?? 'an unmapped stage'}`;
    if (t.stageEntered && s.stage !== null && t.stageEntered.includes(s.stage)) {
      fire(ctx, cw, { anchor: `entry:${s.stage}@${s.stageEnteredAt ?? ctx.nowIso}`, signalIds, event, inputs: [], atMs, cutoffSeq });
    }
    if (t.stageLeft && mark.stage !== null && t.stageLeft.includes(mark.stage)) {
      fire(ctx, cw, { anchor: `entry:${mark.stage}@${mark.stageEnteredAt ?? ''}/left`, signalIds, event, inputs: [], atMs, cutoffSeq });
    }
  }
}

function dateFiring(ctx: EvalContext, cw: CompiledWorkflow): Firing | null {
  const b = cw.rule.trigger.time!.beforeDate!;
  let dateMs: number | null = null;
  let source: string;
  const signalIds: string[] = [];
  if (b.date.field !== undefined) {
    source = b.date.field;
    dateMs = parseFieldDate(currentField(ctx, b.date.field));
  } else {
    const sig = b.date.signal!;
    source = `${Array.isArray(sig.type) ? sig.type.join('|') : sig.type}.${sig.field}`;
    const found = latestPayloadValue(ctx, sig.type, sig.field, ctx.nowMs, Number.MAX_SAFE_INTEGER);
    if (found && (typeof found.value === 'string' || typeof found.value === 'number')) {
      dateMs = parseFieldDate(found.value);
      signalIds.push(found.signalId);
    }
  }
  if (dateMs === null) return null;
  const fireAtMs = dateMs - (b.days ?? 0) * DAY_MS - (b.hours ?? 0) * HOUR_MS;
  // After the date itself there is nothing left to prepare for.
  if (ctx.nowMs < fireAtMs || ctx.nowMs >= dateMs) return null;
  const iso = toIso(dateMs);
  return { anchor: `date:${source}=${iso}`, signalIds, event: `${source} is ${iso}`, inputs: [`${source}=${iso}`], atMs: ctx.nowMs, cutoffSeq: Number.MAX_SAFE_INTEGER };
}

function timeFiring(ctx: EvalContext, cw: CompiledWorkflow): Firing | null {
  const t = cw.rule.trigger.time!;
  const s = ctx.state;
  const now = { atMs: ctx.nowMs, cutoffSeq: Number.MAX_SAFE_INTEGER };
  if (t.beforeDate) return dateFiring(ctx, cw);
  // Silence and unworked assignments only matter while the deal is open.
  if (!isOpen(ctx)) return null;
  if (t.quietDays !== undefined) {
    const last = s.lastActivityAt ?? s.stageEnteredAt ?? s.createdAt;
    if (last === null || ctx.nowMs <= Date.parse(last) + t.quietDays * DAY_MS) return null;
    const days = Math.floor((ctx.nowMs - Date.parse(last)) / DAY_MS);
    return { anchor: `quiet-since:${last}`, signalIds: [], event: `no activity for ${days} days`, inputs: [`lastActivityAt=${last}`], ...now };
  }
  const hours = t.unworkedAssignmentHours!;
  if (s.ownerId === null) return null;
  const assignedAt = s.memory.crmAsOf['ownerId'] ?? s.createdAt;
  if (assignedAt === null) return null;
  if (s.lastActivityAt !== null && s.lastActivityAt >= assignedAt) return null;
  if (ctx.nowMs <= Date.parse(assignedAt) + hours * HOUR_MS) return null;
  return {
    anchor: `owner:${s.ownerId}@${assignedAt}`,
    signalIds: [],
    event: `owner ${s.ownerId} assigned at ${assignedAt}, no touch since`,
    inputs: [`ownerId=${s.ownerId}`, `assignedAt=${assignedAt}`],
    ...now,
  };
}

/**
 * The end-of-evaluation pass: stage moves made by time (grace periods), time triggers and health
 * score crossings. Runs for closed deals too (a renewal reminder belongs to a won deal).
 */
export function runWorkflowsAtEnd(ctx: EvalContext, mark: WorkflowMark): void {
  const wf = compileWorkflows(ctx.pb.playbook);
  if (!wf.any) return;
  runWorkflowStageTriggers(ctx, mark, [], ctx.nowMs, Number.MAX_SAFE_INTEGER);
  for (const cw of wf.time) {
    const f = timeFiring(ctx, cw);
    if (f) fire(ctx, cw, f);
  }
  const before = mark.healthScore;
  const after = ctx.state.healthScore;
  if (before === null || after === null || before === after) return;
  for (const cw of wf.score) {
    const { crosses, value } = cw.rule.trigger.score!;
    const crossed = crosses === 'above' ? before < value && after >= value : before >= value && after < value;
    if (!crossed) continue;
    fire(ctx, cw, {
      anchor: `score:${crosses}${value}@${mark.lastHealthAt ?? ''}`,
      signalIds: [],
      event: `health score ${before} → ${after}`,
      inputs: [`healthScore=${after}`],
      atMs: ctx.nowMs,
      cutoffSeq: Number.MAX_SAFE_INTEGER,
    });
  }
}
