import type { ProposedChange, RequestApprovalDecision } from '../engine/types.ts';
import { outboxKey, type PlannedWrite } from './plan-actions.ts';

/** The approver's task for one approval: one key per approval, so asking twice queues nothing new. */
export function approvalTaskKey(approvalId: string): string {
  return outboxKey(`approval:${approvalId}`, 'approver_task');
}

/**
 * The row that completes that task in the CRM once the approval closes: one per approval, so
 * closing it twice queues nothing new. Never searched for in a CRM, so it may carry punctuation.
 */
export function approvalTaskCompletionKey(approvalId: string): string {
  return `${approvalTaskKey(approvalId)}:complete`;
}

export interface ApprovalTaskFacts {
  workspaceId: string;
  approvalId: string;
  dealId: string;
  /** The deal's name in the CRM, when Momentum has seen it. */
  dealName: string | null;
  decision: Pick<RequestApprovalDecision, 'ruleId' | 'reason' | 'playbookVersion' | 'proposed' | 'missingGates'>;
  /** A playbook stage key → its label. */
  stageLabel: (key: string) => string;
  approverId: string;
  /** Why this person is asked (see approver.ts). */
  why: string;
  dueAt: Date;
  expiresAt: Date;
  /** Where Momentum is reachable, for links; without it the task names the paths. */
  publicBaseUrl: string | undefined;
}

/**
 * A high-priority task on the deal for the approver. Its body says what is asked, the rule's
 * reason, the gates not met or stages skipped, and where to answer, so the approver can judge the
 * request from the CRM and only needs Momentum to record the answer.
 */
export function approvalTaskWrite(facts: ApprovalTaskFacts): PlannedWrite {
  const deal = facts.dealName ?? `deal ${facts.dealId}`;
  return {
    kind: 'task',
    idempotencyKey: approvalTaskKey(facts.approvalId),
    payload: {
      subject: `Approve: ${describeChange(facts.decision.proposed, deal, facts.stageLabel)}`,
      body: taskBody(facts),
      dueDate: facts.dueAt.toISOString(),
      ownerId: facts.approverId,
      priority: 'high',
    },
  };
}

/** The change in a few words, e.g. "move Acme platform to Proposal". */
export function describeChange(change: ProposedChange, deal: string, stageLabel: (key: string) => string): string {
  switch (change.type) {
    case 'advance_stage':
      return `move ${deal} to ${stageLabel(change.toStage)}`;
    case 'regress_stage':
      return `move ${deal} back to ${stageLabel(change.toStage)}`;
    case 'set_probability':
      return `set the probability of ${deal} to ${change.to}%`;
    case 'set_close_date':
      return `move the close date of ${deal} to ${change.to}`;
    case 'create_task':
      return `create the task "${change.task.subject}" on ${deal}`;
    case 'update_field':
      return change.value === null ? `clear ${change.field} on ${deal}` : `set ${change.field} to ${change.value} on ${deal}`;
    case 'assign_owner':
      if (change.toOwnerId !== null) return `assign ${deal} to owner ${change.toOwnerId}`;
      return change.reassign ? `reassign ${deal} to another owner` : `assign an owner to ${deal}`;
  }
}

function taskBody(facts: ApprovalTaskFacts): string {
  const { decision, stageLabel } = facts;
  const change = decision.proposed;
  const lines = [`Momentum is waiting for your decision before it changes this deal in the CRM.`, ''];
  if (change.type === 'advance_stage' || change.type === 'regress_stage') {
    lines.push(`Proposed: ${stageLabel(change.fromStage)} → ${stageLabel(change.toStage)}.`);
  }
  lines.push(`Why: ${decision.reason} (rule ${decision.ruleId}, playbook v${decision.playbookVersion}).`);
  // Reasons often name the skipped stages and the gates already; they are listed only when not.
  const named = (text: string) => decision.reason.includes(text);
  if (change.type === 'advance_stage' && !change.skipped.map(stageLabel).every(named)) {
    lines.push(`Stages skipped: ${change.skipped.map(stageLabel).join(', ')}.`);
  }
  if (!decision.missingGates.every((gate) => named(gate.label))) {
    lines.push('Exit gates not met:', ...decision.missingGates.map((gate) => `- ${stageLabel(gate.stage)}: ${gate.label}`));
  }
  lines.push('', facts.why, '', ...howToDecide(facts));
  lines.push(`Nothing is written to the CRM unless the request is approved. It expires on ${readableInstant(facts.expiresAt)}.`);
  return lines.join('\n');
}

function howToDecide(facts: ApprovalTaskFacts): string[] {
  const ws = encodeURIComponent(facts.workspaceId);
  const base = facts.publicBaseUrl ?? '';
  const consoleUrl = `${base}/console/w/${ws}/approvals`;
  const api = `${base}/api/workspaces/${ws}/approvals/${facts.approvalId}`;
  return [
    facts.publicBaseUrl ? `Approve or reject in the Momentum console: ${consoleUrl}` : `Approve or reject in the Momentum console, under Approvals (${consoleUrl}).`,
    `Or through the API: POST ${api}/approve (or ${api}/reject) with {"by": "<your name>", "reason": "<why>"}.`,
  ];
}

/** `2026-03-10 14:00 UTC`: the same for everyone, whatever their CRM's time zone. */
function readableInstant(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
