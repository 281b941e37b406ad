import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';

/** Storage of the people sync: its state row per workspace and its job. */

export const PEOPLE_SYNC_TASK = 'people-sync';
export const peopleSyncJobKey = (workspaceId: string) => `people-sync:${workspaceId}`;
/** The recurring schedule re-reads each connected workspace's owners/users once a day. */
export const PEOPLE_SYNC_INTERVAL_MS = 24 * 60 * 60_000;
/** Like the deal import, a new connection settles (credentials are often corrected right away) before the read. */
export const PEOPLE_SYNC_AFTER_CONNECTION_DELAY_MS = 2 * 60_000;
const maxAttempts = 10;

export async function loadPeopleSyncState(db: Database | Tx, workspaceId: string) {
  return db.selectFrom('people_sync_state').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
}

export type PeopleSyncStateRow = NonNullable<Awaited<ReturnType<typeof loadPeopleSyncState>>>;

/**
 * Asks for a reading of the CRM's people: the state says `queued` (unless a run is under way, which
 * the new job follows) and the job is queued in the same transaction. One job per workspace: a
 * request while one waits replaces it, so repeated requests coalesce.
 */
export async function requestPeopleSync(db: Database, workspaceId: string, options: { reason: string; runAt?: Date }): Promise<PeopleSyncStateRow> {
  return db.transaction().execute(async (tx) => {
    await tx
      .insertInto('people_sync_state')
      .values({ workspace_id: workspaceId, reason: options.reason })
      .onConflict((oc) =>
        oc.column('workspace_id').doUpdateSet({
          status: sql<'queued' | 'running'>`case when people_sync_state.status = 'running' then 'running' else 'queued' end`,
          reason: options.reason,
          requested_at: new Date(),
          updated_at: new Date(),
        }),
      )
      .execute();
    await queuePeopleSyncJob(tx, workspaceId, options.runAt ?? new Date());
    return tx.selectFrom('people_sync_state').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
  });
}

/** A connection was set: read its people once it has settled (each new PUT pushes the read back). */
export async function queuePeopleSyncForConnection(db: Database, workspaceId: string, now: Date): Promise<void> {
  await requestPeopleSync(db, workspaceId, { reason: 'connection', runAt: new Date(now.getTime() + PEOPLE_SYNC_AFTER_CONNECTION_DELAY_MS) });
}

export async function queuePeopleSyncJob(db: Database | Tx, workspaceId: string, runAt: Date): Promise<void> {
  await sql`
    select graphile_worker.add_job(${PEOPLE_SYNC_TASK}, json_build_object('workspaceId', ${workspaceId}::text),
      job_key => ${peopleSyncJobKey(workspaceId)}, run_at => ${runAt}, max_attempts => ${maxAttempts})
  `.execute(db);
}

/**
 * The daily refresh, run by the recurring sync schedule: every connected workspace whose people
 * were last asked for more than a day ago (or never) gets a job. A job already waiting keeps its
 * time (a rate-limit deferral stays deferred). Returns how many were queued.
 */
export async function schedulePeopleSyncs(db: Database): Promise<number> {
  const result = await sql<{ queued: number }>`
    with due as (
      select c.workspace_id from connections c left join people_sync_state s using (workspace_id)
      where s.workspace_id is null or s.requested_at < now() - make_interval(secs => ${PEOPLE_SYNC_INTERVAL_MS / 1000})
    ),
    marked as (
      insert into people_sync_state (workspace_id, reason) select workspace_id, 'schedule' from due
      on conflict (workspace_id) do update set
        status = case when people_sync_state.status = 'running' then 'running' else 'queued' end,
        reason = 'schedule', requested_at = now(), updated_at = now()
      returning workspace_id
    ),
    queued as (
      select graphile_worker.add_jobs(array(
        select row(${PEOPLE_SYNC_TASK}::text, json_build_object('workspaceId', workspace_id), null, now(), ${maxAttempts}::int,
                   'people-sync:' || workspace_id, null, null)::graphile_worker.job_spec from marked
      ), true)
    )
    select (select count(*)::int from marked) as queued, (select count(*) from queued) as n
  `.execute(db);
  return result.rows[0]!.queued;
}

export async function markPeopleSyncRunning(db: Database, workspaceId: string, startedAt: Date): Promise<void> {
  await db
    .insertInto('people_sync_state')
    .values({ workspace_id: workspaceId, status: 'running', reason: 'job', started_at: startedAt })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ status: 'running', started_at: startedAt, updated_at: new Date() }))
    .execute();
}

export async function finishPeopleSync(
  db: Database,
  workspaceId: string,
  outcome: { status: 'completed'; people: number; deactivated: number } | { status: 'waiting' | 'failed'; error: Record<string, unknown> },
  at: Date,
): Promise<void> {
  await db
    .updateTable('people_sync_state')
    .set(
      outcome.status === 'completed'
        ? { status: 'completed', finished_at: at, people: outcome.people, deactivated: outcome.deactivated, error: null, updated_at: new Date() }
        : { status: outcome.status, error: json(outcome.error), updated_at: new Date(), ...(outcome.status === 'failed' ? { finished_at: at } : {}) },
    )
    .where('workspace_id', '=', workspaceId)
    .execute();
}
