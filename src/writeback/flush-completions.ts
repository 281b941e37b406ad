import type { Database } from '../platform/db.ts';
import type { OutboxRow, RowSettlement } from './outbox-store.ts';
import type { CompleteTaskPayload } from './plan-actions.ts';

/**
 * A completion whose task is still on its way is looked at again no sooner than this: the task's
 * own retry decides when, this only keeps a busy row from being claimed over and over.
 */
const IN_FLIGHT_RECHECK_MS = 10_000;

/**
 * Which claimed `complete_task` rows can go out now, with the CRM id of the task each completes.
 * The id is the one the task's own row got when it was sent; the rest are settled here:
 * - task row still on its way (`pending`, `failed`, `sending`, `held`): the completion waits and
 *   is due again when the task next is (at once when this very flush claimed the task, so that
 *   the next flush, which the worker books for the earliest due row, finds it sent);
 * - task row that never reached the CRM (`dead`, `superseded`, `shadow`), or sent without an id:
 *   there is nothing to complete, and the completion is `superseded` with the reason.
 */
export async function sendableCompletions(
  db: Database,
  workspaceId: string,
  rows: readonly OutboxRow[],
  claimed: ReadonlySet<string>,
  settle: (s: RowSettlement) => void,
): Promise<Map<string, string>> {
  const completions = rows.filter((row) => row.kind === 'complete_task');
  const sendable = new Map<string, string>();
  if (completions.length === 0) return sendable;
  const taskKeyOf = (row: OutboxRow) => (row.payload as unknown as CompleteTaskPayload).taskKey;
  const tasks = await db
    .selectFrom('outbox')
    .select(['id', 'idempotency_key', 'status', 'crm_id', 'next_attempt_at'])
    .where('workspace_id', '=', workspaceId)
    .where('idempotency_key', 'in', [...new Set(completions.map(taskKeyOf))])
    .execute();
  const taskByKey = new Map(tasks.map((task) => [task.idempotency_key, task]));
  const now = Date.now();
  const nothingToComplete = (row: OutboxRow, message: string) => settle({ id: row.id, status: 'superseded', error: { kind: 'nothing_to_complete', message } });

  for (const row of completions) {
    const task = taskByKey.get(taskKeyOf(row));
    if (!task) {
      nothingToComplete(row, 'The task to complete is not in the outbox.');
    } else if (task.status === 'sent') {
      if (task.crm_id) sendable.set(row.id, task.crm_id);
      else nothingToComplete(row, 'The CRM returned no id for the task when it was created, so it cannot be addressed.');
    } else if (task.status === 'dead' || task.status === 'superseded' || task.status === 'shadow') {
      nothingToComplete(row, `The task never reached the CRM (its write is ${task.status}).`);
    } else {
      const inThisFlush = claimed.has(String(task.id));
      const due = inThisFlush ? now : Math.max(now + IN_FLIGHT_RECHECK_MS, new Date(task.next_attempt_at).getTime());
      settle({ id: row.id, status: 'pending', nextAttemptAt: new Date(due), refundAttempt: true });
    }
  }
  return sendable;
}
