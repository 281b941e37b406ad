import { sql } from 'kysely';
import type { Task } from 'graphile-worker';
import { z } from 'zod';
import type { Database } from '../platform/db.ts';
import { runImport, type SyncDeps } from './import-deals.ts';
import { runReconcile } from './reconcile.ts';
import { IMPORT_LEASE_MS, SYNC_IMPORT_TASK, SYNC_RECONCILE_TASK } from './sync-store.ts';
import { schedulePeopleSyncs } from '../people/people-sync-store.ts';

export const SYNC_SCHEDULE_TASK = 'sync-schedule';
/** Every 15 minutes: how long a lost webhook can delay a decision at most, plus one run. */
export const SYNC_SCHEDULE_CRON = '*/15 * * * *';

const workspacePayload = z.object({ workspaceId: z.string() });

/**
 * The sync's jobs: an import per workspace (resumable, one at a time through its lease), a
 * reconciliation per workspace, and the recurring task that queues reconciliations and revives
 * imports whose worker died (a killed worker leaves its job locked for hours).
 */
export function syncTasks(deps: SyncDeps): Record<string, Task> {
  return {
    [SYNC_IMPORT_TASK]: async (payload) => {
      const { workspaceId } = workspacePayload.parse(payload);
      await runImport(deps, workspaceId);
    },
    [SYNC_RECONCILE_TASK]: async (payload) => {
      const { workspaceId } = workspacePayload.parse(payload);
      await runReconcile(deps, workspaceId);
    },
    [SYNC_SCHEDULE_TASK]: async () => {
      await scheduleSyncJobs(deps.db);
      // The people directory rides on the same schedule, once a day per workspace.
      await schedulePeopleSyncs(deps.db);
    },
  };
}

/** Queues a reconciliation for every connected workspace whose import finished once, and restarts stalled imports. */
export async function scheduleSyncJobs(db: Database): Promise<{ reconciliations: number; revivedImports: number }> {
  const result = await sql<{ reconciliations: number; revived: number }>`
    with due as (
      select s.workspace_id from sync_state s join connections c using (workspace_id) where s.watermark is not null
    ),
    stalled as (
      select workspace_id from sync_state
      where import_status in ('queued', 'running', 'waiting')
        and (import_lease_until is null or import_lease_until < now())
        and coalesce(import_requested_at, updated_at) < now() - make_interval(secs => ${IMPORT_LEASE_MS / 1000})
        and updated_at < now() - make_interval(secs => ${IMPORT_LEASE_MS / 1000})
    ),
    queued as (
      select graphile_worker.add_jobs(array(
        select row(${SYNC_RECONCILE_TASK}::text, json_build_object('workspaceId', workspace_id), null, now(), 3,
                   'sync-reconcile:' || workspace_id, null, null)::graphile_worker.job_spec from due
        union all
        select row(${SYNC_IMPORT_TASK}::text, json_build_object('workspaceId', workspace_id), null, now(), 25,
                   'sync-import:' || workspace_id, null, null)::graphile_worker.job_spec from stalled
      ))
    )
    select (select count(*)::int from due) as reconciliations, (select count(*)::int from stalled) as revived, (select count(*) from queued) as n
  `.execute(db);
  const row = result.rows[0]!;
  return { reconciliations: row.reconciliations, revivedImports: row.revived };
}
