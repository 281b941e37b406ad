import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { conflict, notFound } from '../platform/errors.ts';
import type { Decision, DealState, RequestApprovalDecision } from '../engine/types.ts';
import { writesForChange } from './plan-actions.ts';
import { enqueueWrites, ensureFlushScheduled, scheduleFlush } from './outbox-store.ts';
import { closeApproverTasks } from './close-approver-tasks.ts';
import { scheduleApproverNotices } from './notify-approver.ts';

export const DEFAULT_APPROVAL_TTL_MS = 7 * 24 * 3600_000;

export interface ApprovalToOpen {
  workspaceId: string;
  dealId: string;
  decisionId: string;
  expiresAt: Date;
}

/**
 * Opens approvals for decisions (once: a repeated evaluation adds nothing) and asks for their
 * approvers to be told, which happens after the commit (see notify-approver.ts). One insert and
 * one statement for the notices, however many (a batch of evaluations).
 */
export async function openApprovals(tx: Tx, approvals: readonly ApprovalToOpen[]): Promise<void> {
  if (approvals.length === 0) return;
  const opened = await tx
    .insertInto('approvals')
    .values(approvals.map((a) => ({ workspace_id: a.workspaceId, deal_id: a.dealId, decision_id: a.decisionId, status: 'pending', expires_at: a.expiresAt })))
    .onConflict((oc) => oc.columns(['workspace_id', 'decision_id']).doNothing())
    .returning(['workspace_id', 'id'])
    .execute();
  await scheduleApproverNotices(tx, opened.map((row) => ({ workspaceId: row.workspace_id, approvalId: String(row.id) })));
}

/**
 * A newer stage decision (or a rep's own move) makes waiting stage approvals of those deals
 * pointless: close them. `exceptDecisionIds` are the approvals just opened, which stay. Returns the
 * CRM writes this queued (completions of approver tasks already sent) per `workspaceId:dealId`, for
 * the evaluation's summary: the caller asks for a flush after its commit.
 */
export async function closeObsoleteApprovalsOf(
  tx: Tx,
  deals: ReadonlyArray<{ workspaceId: string; dealId: string }>,
  exceptDecisionIds: string[],
): Promise<Map<string, number>> {
  if (deals.length === 0) return new Map();
  const closed = await sql<{ workspace_id: string; id: string }>`
    update approvals a set status = 'obsolete', decided_at = now(), decided_reason = 'a newer decision replaced it'
    from decisions d, unnest(${deals.map((k) => k.workspaceId)}::text[], ${deals.map((k) => k.dealId)}::text[]) as k(workspace_id, deal_id)
    where a.workspace_id = k.workspace_id and a.deal_id = k.deal_id and a.status = 'pending'
      and d.workspace_id = a.workspace_id and d.id = a.decision_id
      and d.body->'proposed'->>'type' in ('advance_stage', 'regress_stage')
      and not (a.decision_id::text = any(${exceptDecisionIds}::text[]))
    returning a.workspace_id, a.id
  `.execute(tx);
  const tasks = await closeApproverTasks(tx, closed.rows.map((row) => ({ workspaceId: row.workspace_id, approvalId: String(row.id), status: 'obsolete' as const })));
  return tasks.completionsPerDeal;
}

/** Closes a workspace's approvals past their expiry; a completion queued for a sent task is flushed after the commit. */
export async function expireApprovals(db: Database, workspaceId: string, now: Date): Promise<void> {
  const tasks = await db.transaction().execute(async (tx) => {
    const expired = await tx
      .updateTable('approvals')
      .set({ status: 'expired', decided_at: now, decided_reason: 'nobody decided before it expired' })
      .where('workspace_id', '=', workspaceId)
      .where('status', '=', 'pending')
      .where('expires_at', '<=', now)
      .returning('id')
      .execute();
    return closeApproverTasks(tx, expired.map((row) => ({ workspaceId, approvalId: String(row.id), status: 'expired' as const })));
  });
  if (tasks.flushWorkspaces.size > 0) await ensureFlushScheduled(db, workspaceId);
}

/**
 * A person decides. Approving queues the proposed change's writes (recorded only, in shadow mode)
 * and asks for a flush, all in one transaction with the approval itself. Either way, the task that
 * asks the approver is withdrawn if it has not gone out yet, or completed in the CRM if it has.
 */
export async function decideApproval(
  db: Database,
  input: { workspaceId: string; approvalId: string; approve: boolean; by: string; reason: string | undefined; now: Date },
): Promise<{ status: 'approved' | 'rejected'; writes: number }> {
  return db.transaction().execute(async (tx) => {
    const approval = await tx
      .selectFrom('approvals')
      .innerJoin('decisions', (join) => join.onRef('decisions.workspace_id', '=', 'approvals.workspace_id').onRef('decisions.id', '=', 'approvals.decision_id'))
      .innerJoin('workspaces', 'workspaces.id', 'approvals.workspace_id')
      .select(['approvals.status', 'approvals.expires_at', 'approvals.deal_id', 'approvals.decision_id', 'decisions.body', 'workspaces.mode'])
      .where('approvals.workspace_id', '=', input.workspaceId)
      .where('approvals.id', '=', input.approvalId)
      .forUpdate('approvals')
      .executeTakeFirst();
    if (!approval) throw notFound(`Approval ${input.approvalId}`);
    if (approval.status !== 'pending') throw conflict('approval_closed', `Approval ${input.approvalId} is already ${approval.status}`);
    if (new Date(approval.expires_at) <= input.now) throw conflict('approval_expired', `Approval ${input.approvalId} expired at ${new Date(approval.expires_at).toISOString()}`);

    const status = input.approve ? 'approved' : 'rejected';
    await tx
      .updateTable('approvals')
      .set({ status, decided_by: input.by, decided_reason: input.reason ?? null, decided_at: input.now })
      .where('workspace_id', '=', input.workspaceId)
      .where('id', '=', input.approvalId)
      .execute();
    const tasks = await closeApproverTasks(tx, [{ workspaceId: input.workspaceId, approvalId: input.approvalId, status }]);
    const completing = tasks.flushWorkspaces.size > 0;
    if (!input.approve) {
      if (completing) await scheduleFlush(tx, input.workspaceId);
      return { status, writes: 0 };
    }

    const decision = approval.body as unknown as RequestApprovalDecision;
    const deal = await tx.selectFrom('deals').select('state').where('workspace_id', '=', input.workspaceId).where('deal_id', '=', approval.deal_id).executeTakeFirstOrThrow();
    const writes = writesForChange(decision as Decision, decision.proposed, deal.state as unknown as DealState);
    const shadow = approval.mode === 'shadow';
    const queued = await enqueueWrites(tx, { workspaceId: input.workspaceId, dealId: approval.deal_id, decisionId: approval.decision_id, writes, shadow });
    if (completing || (!shadow && queued > 0)) await scheduleFlush(tx, input.workspaceId);
    return { status, writes: queued };
  });
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'obsolete';

export interface ApprovalListItem {
  id: string;
  dealId: string;
  decisionId: string;
  status: ApprovalStatus;
  ruleId: string;
  reason: string;
  proposed: unknown;
  missingGates: unknown[];
  signalIds: string[];
  playbookVersion: number;
  expiresAt: string;
  decidedBy: string | null;
  decidedReason: string | null;
  createdAt: string;
}

/** Approval requests newest first, with the decision's evidence; `limit` rows at most. */
export async function listApprovals(
  db: Database,
  workspaceId: string,
  filter: { status: ApprovalStatus; limit: number; beforeId?: string | undefined },
): Promise<ApprovalListItem[]> {
  let query = db
    .selectFrom('approvals')
    .innerJoin('decisions', (join) => join.onRef('decisions.workspace_id', '=', 'approvals.workspace_id').onRef('decisions.id', '=', 'approvals.decision_id'))
    .select([
      'approvals.id', 'approvals.deal_id', 'approvals.decision_id', 'approvals.status', 'approvals.expires_at', 'approvals.decided_by',
      'approvals.decided_reason', 'approvals.created_at', 'decisions.rule_id', 'decisions.reason', 'decisions.body', 'decisions.signal_ids',
      'decisions.playbook_version',
    ])
    .where('approvals.workspace_id', '=', workspaceId)
    .where('approvals.status', '=', filter.status)
    .orderBy('approvals.id', 'desc')
    .limit(filter.limit);
  if (filter.beforeId) query = query.where('approvals.id', '<', filter.beforeId);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: String(row.id),
    dealId: row.deal_id,
    decisionId: String(row.decision_id),
    status: row.status,
    ruleId: row.rule_id,
    reason: row.reason,
    proposed: (row.body as Record<string, unknown>).proposed ?? null,
    missingGates: ((row.body as Record<string, unknown>).missingGates as unknown[]) ?? [],
    signalIds: row.signal_ids,
    playbookVersion: row.playbook_version,
    expiresAt: new Date(row.expires_at).toISOString(),
    decidedBy: row.decided_by,
    decidedReason: row.decided_reason,
    createdAt: row.created_at.toISOString(),
  }));
}
