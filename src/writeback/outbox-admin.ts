import type { Database } from '../platform/db.ts';
import { conflict, notFound } from '../platform/errors.ts';
import type { OutboxStatus } from '../platform/schema.ts';
import { scheduleFlush } from './outbox-store.ts';

/** Outbox rows newest first, for people looking at what was (or could not be) written. */
export async function listOutbox(
  db: Database,
  workspaceId: string,
  filter: { limit: number; status?: OutboxStatus | undefined; statuses?: OutboxStatus[] | undefined; dealId?: string | undefined; beforeId?: string | undefined },
) {
  let query = db.selectFrom('outbox').selectAll().where('workspace_id', '=', workspaceId).orderBy('id', 'desc').limit(filter.limit);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.statuses && filter.statuses.length > 0) query = query.where('status', 'in', filter.statuses);
  if (filter.dealId) query = query.where('deal_id', '=', filter.dealId);
  if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
  return query.execute();
}

/**
 * Sends a dead or failed write again now. A hand retry starts the attempt count again and clears
 * the uncertain marker: a person has checked.
 */
export async function retryOutboxWrite(db: Database, workspaceId: string, outboxId: string, now: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('outbox').select('status').where('workspace_id', '=', workspaceId).where('id', '=', outboxId).forUpdate().executeTakeFirst();
    if (!row) throw notFound(`Outbox entry ${outboxId}`);
    if (row.status !== 'dead' && row.status !== 'failed') throw conflict('not_retryable', `Outbox entry ${outboxId} is ${row.status}; only dead or failed writes can be retried`);
    await tx.updateTable('outbox').set({ status: 'pending', attempts: 0, last_error: null, next_attempt_at: now, updated_at: now })
      .where('workspace_id', '=', workspaceId).where('id', '=', outboxId).execute();
    await scheduleFlush(tx, workspaceId);
  });
}
