import { createHash } from 'node:crypto';
import type { AssignOwnerChange, Decision, DealState, ProposedChange, Task } from '../engine/types.ts';
import type { DealFieldUpdate, NewNote, NewTask, TaskPriority } from '../crm/types.ts';

/** One CRM write to queue in the outbox. */
export type PlannedWrite =
  | { kind: 'deal_update'; idempotencyKey: string; payload: { fields: DealFieldUpdate } }
  | { kind: 'task'; idempotencyKey: string; payload: Omit<NewTask, 'key' | 'dealId'> }
  | { kind: 'note'; idempotencyKey: string; payload: Omit<NewNote, 'key' | 'dealId'> }
  | { kind: 'complete_task'; idempotencyKey: string; payload: CompleteTaskPayload };

/**
 * Completes a task another outbox row created (the approver's task, once its approval closed). The
 * task's CRM id is looked up from that row when the flush sends this, since it may not have one yet.
 */
export interface CompleteTaskPayload {
  /** The idempotency key of the task's own outbox row. */
  taskKey: string;
  approvalId: string;
  /** How the approval closed: approved, rejected, expired or obsolete. */
  approvalStatus: string;
}

export interface ActionPlan {
  writes: PlannedWrite[];
  /** The decision waits for a person before anything is written. */
  needsApproval: boolean;
}

/**
 * CRM keys must be short and plain (they travel in task bodies and search filters), so the
 * outbox key is a hash of the decision key and the write's role. Same decision → same key.
 */
export function outboxKey(decisionKey: string, role: string): string {
  // Letters and digits only: CRM search tokenizers split on punctuation.
  return `m${createHash('sha256').update(`${decisionKey}#${role}`).digest('hex').slice(0, 40)}`;
}

const priorities: Record<Task['priority'], TaskPriority> = { high: 'high', medium: 'normal', low: 'low' };

function taskWrite(decisionKey: string, task: Task, deal: DealState, role = 'task'): PlannedWrite {
  return {
    kind: 'task',
    idempotencyKey: outboxKey(decisionKey, role),
    payload: {
      subject: task.subject,
      body: task.body,
      dueDate: task.dueAt,
      priority: priorities[task.priority],
      // Only the deal owner is known here; other roles are routed by the CRM's default owner.
      ...(task.ownerRole === 'owner' && deal.ownerId ? { ownerId: deal.ownerId } : {}),
    },
  };
}

function stageWrites(decision: Decision, change: { toStage: string; crmStage: string | null }, deal: DealState): PlannedWrite[] {
  if (!change.crmStage) return [];
  return [
    {
      kind: 'deal_update',
      idempotencyKey: outboxKey(decision.key, 'stage'),
      payload: { fields: { stage: { pipelineId: deal.pipeline ?? 'default', stageId: change.crmStage } } },
    },
    {
      kind: 'note',
      idempotencyKey: outboxKey(decision.key, 'note'),
      payload: {
        body: `Momentum moved this deal to ${change.toStage}. ${decision.reason} (rule ${decision.ruleId}, playbook v${decision.playbookVersion}, signals ${decision.signalIds.join(', ') || 'none'})`,
        timestamp: decision.at,
      },
    },
  ];
}

/** An owner chosen by the router: the owner field, and a note saying which rule chose and why. */
function ownerWrites(decision: Decision, change: Omit<AssignOwnerChange, 'type'>): PlannedWrite[] {
  if (change.toOwnerId === null || change.toOwnerId === change.fromOwnerId) return [];
  return [
    { kind: 'deal_update', idempotencyKey: outboxKey(decision.key, 'owner'), payload: { fields: { ownerId: change.toOwnerId } } },
    {
      kind: 'note',
      idempotencyKey: outboxKey(decision.key, 'owner_note'),
      payload: {
        body: `Momentum assigned this deal to owner ${change.toOwnerId} (rule ${decision.ruleId}, playbook v${decision.playbookVersion}). ${change.routing?.explanation ?? decision.reason}`,
        timestamp: decision.at,
      },
    },
  ];
}

/** The writes a change makes once it is allowed to happen (directly, or after approval). */
export function writesForChange(decision: Decision, change: ProposedChange, deal: DealState): PlannedWrite[] {
  switch (change.type) {
    case 'advance_stage':
    case 'regress_stage':
      return stageWrites(decision, change, deal);
    case 'set_probability':
      return [{ kind: 'deal_update', idempotencyKey: outboxKey(decision.key, 'probability'), payload: { fields: { probability: change.to / 100 } } }];
    case 'set_close_date':
      return [{ kind: 'deal_update', idempotencyKey: outboxKey(decision.key, 'close_date'), payload: { fields: { closeDate: change.to } } }];
    case 'create_task':
      return [taskWrite(decision.key, change.task, deal)];
    case 'update_field':
      return [{ kind: 'deal_update', idempotencyKey: outboxKey(decision.key, `field:${change.field}`), payload: { fields: { custom: { [change.field]: change.value } } } }];
    case 'assign_owner':
      return ownerWrites(decision, change);
  }
}

/**
 * What a decision asks of the CRM. Stage, probability and close-date changes and tasks are
 * written; a suggestion becomes a task for the owner; an approval request writes nothing until it
 * is approved. Workflow field updates and routed owner assignments are written too. Alerts,
 * flags, overrides and sequence markers stay on the timeline.
 */
export function planActions(decision: Decision, deal: DealState): ActionPlan {
  switch (decision.type) {
    case 'advance_stage':
    case 'regress_stage':
      return { writes: stageWrites(decision, decision, deal), needsApproval: false };
    case 'set_probability':
      return { writes: writesForChange(decision, { type: 'set_probability', from: decision.from, to: decision.to }, deal), needsApproval: false };
    case 'set_close_date':
      return { writes: writesForChange(decision, { type: 'set_close_date', from: decision.from, to: decision.to }, deal), needsApproval: false };
    case 'create_task':
      return { writes: [taskWrite(decision.key, decision.task, deal)], needsApproval: false };
    case 'suggest':
      return { writes: [taskWrite(decision.key, decision.task, deal)], needsApproval: false };
    case 'request_approval':
      return { writes: [], needsApproval: true };
    case 'update_field':
      return { writes: writesForChange(decision, { type: 'update_field', field: decision.field, from: decision.from, value: decision.value }, deal), needsApproval: false };
    case 'assign_owner':
      return { writes: ownerWrites(decision, decision), needsApproval: false };
    default:
      return { writes: [], needsApproval: false };
  }
}
