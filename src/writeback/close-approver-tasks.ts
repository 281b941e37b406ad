import { sql } from 'kysely';
import type { Tx } from '../platform/db.ts';
import { approvalTaskCompletionKey, approvalTaskKey } from './approval-task.ts';

export interface ClosedApproval {
  workspaceId: string;
  approvalId: string;
  status: 'approved' | 'rejected' | 'expired' | 'obsolete';
}

export interface ApproverTasksClosed {
  /** Completion rows queued (shadow ones included), per `workspaceId:dealId`. */
  completionsPerDeal: Map<string, number>;
  /** Workspaces where a completion waits to be sent: once this commits, they need a flush. */
  flushWorkspaces: Set<string>;
}

/**
 * What becomes of the approver's task when approvals close, in two statements however many closed:
 * - a task that has not gone out never will (the approver would be asked about something settled):
 *   `pending`, `failed` or `dead` rows whose error proves the CRM never got them are superseded;
 * - a task that was sent, is being sent or may have landed (`uncertain`) gets a `complete_task` row,
 *   which the flush turns into a completion once the task's CRM id is known (flush-completions.ts).
 *   In a shadow workspace that row is `shadow`; a task recorded only in shadow mode, in a workspace
 *   that is live now, never reached the CRM and gets none.
 */
export async function closeApproverTasks(tx: Tx, closed: readonly ClosedApproval[]): Promise<ApproverTasksClosed> {
  const summary: ApproverTasksClosed = { completionsPerDeal: new Map(), flushWorkspaces: new Set() };
  if (closed.length === 0) return summary;
  const workspaceIds = closed.map((c) => c.workspaceId);
  const taskKeys = closed.map((c) => approvalTaskKey(c.approvalId));
  await sql`
    update outbox o set status = 'superseded', updated_at = now()
    from unnest(${workspaceIds}::text[], ${taskKeys}::text[]) as c(workspace_id, task_key)
    where o.workspace_id = c.workspace_id and o.idempotency_key = c.task_key
      and o.status in ('pending', 'failed', 'dead') and coalesce(o.last_error->>'kind', '') <> 'uncertain'
  `.execute(tx);

  const queued = await sql<{ workspace_id: string; deal_id: string; status: 'pending' | 'shadow' }>`
    insert into outbox (workspace_id, deal_id, decision_id, kind, idempotency_key, payload, status)
    select t.workspace_id, t.deal_id, t.decision_id, 'complete_task', c.completion_key,
           jsonb_build_object('taskKey', t.idempotency_key, 'approvalId', c.approval_id, 'approvalStatus', c.approval_status),
           case when w.mode = 'shadow' then 'shadow' else 'pending' end
    from unnest(${workspaceIds}::text[], ${closed.map((c) => c.approvalId)}::text[], ${closed.map((c) => c.status)}::text[],
                ${taskKeys}::text[], ${closed.map((c) => approvalTaskCompletionKey(c.approvalId))}::text[])
           as c(workspace_id, approval_id, approval_status, task_key, completion_key)
    join outbox t on t.workspace_id = c.workspace_id and t.idempotency_key = c.task_key
    join workspaces w on w.id = c.workspace_id
    where t.status in ('sent', 'sending')
       or (t.status in ('pending', 'failed') and t.last_error->>'kind' = 'uncertain')
       or (t.status = 'shadow' and w.mode = 'shadow')
    on conflict (workspace_id, idempotency_key) do nothing
    returning workspace_id, deal_id, status
  `.execute(tx);
  for (const row of queued.rows) {
    const key = `${row.workspace_id}:${row.deal_id}`;
    summary.completionsPerDeal.set(key, (summary.completionsPerDeal.get(key) ?? 0) + 1);
    if (row.status === 'pending') summary.flushWorkspaces.add(row.workspace_id);
  }
  return summary;
}
