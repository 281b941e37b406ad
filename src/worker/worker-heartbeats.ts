import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';

/**
 * graphile-worker 0.18 frees the jobs of a dead worker only after 4 hours (its `resetLockedAt`
 * sweep). Each worker process therefore records a heartbeat, and every live worker releases the
 * jobs held by workers whose heartbeat went quiet, with the queue's own `force_unlock_workers`.
 */

export interface WorkerIdentity {
  /** graphile-worker's pool id: the `locked_by` of every job this process holds. */
  id: string;
  pid: number;
  host: string;
}

export async function recordHeartbeat(db: Database, worker: WorkerIdentity): Promise<void> {
  await db
    .insertInto('worker_heartbeats')
    .values({ worker_id: worker.id, pid: worker.pid, host: worker.host })
    .onConflict((oc) => oc.column('worker_id').doUpdateSet({ seen_at: sql`now()` }))
    .execute();
}

/** A clean stop releases every job first, so the row can go. */
export async function removeHeartbeat(db: Database, workerId: string): Promise<void> {
  await db.deleteFrom('worker_heartbeats').where('worker_id', '=', workerId).execute();
}

/**
 * Unlocks the jobs (and named queues) held by workers without a heartbeat newer than `staleAfterMs`.
 * A job locked less than `staleAfterMs` ago is never touched, which covers a worker that took a job
 * before its first heartbeat landed. Returns the workers whose jobs were released.
 */
export async function releaseJobsOfDeadWorkers(db: Database, options: { staleAfterMs: number }): Promise<string[]> {
  const stale = sql`make_interval(secs => ${options.staleAfterMs / 1000})`;
  return db.transaction().execute(async (tx) => {
    // Rows of workers long gone only clutter the table.
    await sql`delete from worker_heartbeats where seen_at < now() - interval '1 day'`.execute(tx);
    const dead = await sql<{ worker_id: string }>`
      select distinct j.locked_by as worker_id
      from graphile_worker.jobs j
      where j.locked_by is not null
        and j.locked_at < now() - ${stale}
        and not exists (
          select 1 from worker_heartbeats h where h.worker_id = j.locked_by and h.seen_at > now() - ${stale}
        )
    `.execute(tx);
    const ids = dead.rows.map((row) => row.worker_id);
    if (ids.length === 0) return [];
    // Adding a job whose key belongs to a running job detaches the running one (key cleared, no
    // attempts left) and queues a fresh one: such a job, orphaned by its dead worker, is done with.
    const detached = await sql<{ id: string }>`
      select id from graphile_worker.jobs
      where locked_by = any(${ids}::text[]) and key is null and attempts >= max_attempts and last_error is null
    `.execute(tx);
    await sql`select graphile_worker.force_unlock_workers(${ids}::text[])`.execute(tx);
    if (detached.rows.length > 0) {
      await sql`select graphile_worker.complete_jobs(${detached.rows.map((r) => r.id)}::bigint[])`.execute(tx);
    }
    return ids;
  });
}
