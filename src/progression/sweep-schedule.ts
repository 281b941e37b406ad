import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { sweepDeals } from './sweep.ts';

/** Minutes between two sweeps of a workspace: the default and the range the API accepts. */
export const SWEEP_INTERVAL_MINUTES = { default: 5, min: 1, max: 1440 } as const;

const MINUTE_MS = 60_000;

export interface SweepSchedule {
  intervalMinutes: number;
  lastSweptAt: Date | null;
  /** When the interval was last set through the API; null while it is the default. */
  updatedAt: Date | null;
}

export async function getSweepSchedule(db: Database, workspaceId: string): Promise<SweepSchedule> {
  const row = await db.selectFrom('sweep_schedules').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
  return {
    intervalMinutes: row?.interval_minutes ?? SWEEP_INTERVAL_MINUTES.default,
    lastSweptAt: row?.last_swept_at ?? null,
    updatedAt: row?.updated_at ?? null,
  };
}

/** Sets the workspace's interval; its next sweep is due that long after its last one. */
export async function setSweepInterval(db: Database | Tx, workspaceId: string, minutes: number, now: Date): Promise<void> {
  await db
    .insertInto('sweep_schedules')
    .values({ workspace_id: workspaceId, interval_minutes: minutes, updated_at: now })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ interval_minutes: minutes, updated_at: now }))
    .execute();
}

/**
 * The recurring job (every minute): sweeps each workspace whose interval has gone by since its last
 * sweep, one set-based statement per workspace (`sweepDeals`), and records the sweep. A sweep counts
 * for the minute it ran in, so a run that starts some seconds after the minute does not push the
 * workspace's next turn a minute later. A sweep that filled its batch is not recorded: the deals it left behind are picked up
 * at the next minute rather than a whole interval later. One workspace failing does not stop the
 * others; it stays due and is tried again at the next minute.
 */
export async function sweepDueWorkspaces(deps: { db: Database; logger: Logger }, now: Date): Promise<{ swept: string[]; enqueued: number }> {
  const due = await sql<{ workspace_id: string }>`
    select w.id as workspace_id
    from workspaces w
    left join sweep_schedules s on s.workspace_id = w.id
    where s.last_swept_at is null or s.last_swept_at + make_interval(mins => s.interval_minutes) <= ${now}
    order by s.last_swept_at nulls first, w.id
  `.execute(deps.db);
  const minute = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS);
  const swept: string[] = [];
  let enqueued = 0;
  for (const { workspace_id: workspaceId } of due.rows) {
    try {
      const result = await sweepDeals(deps.db, { workspaceId, asOf: now });
      enqueued += result.enqueued;
      swept.push(workspaceId);
      if (!result.batchFull) await recordSweep(deps.db, workspaceId, minute);
    } catch (error) {
      deps.logger.error({ err: error, workspaceId }, 'sweep of the workspace failed; it is tried again at the next minute');
    }
  }
  if (enqueued > 0) deps.logger.info({ workspaces: swept.length, enqueued }, 'time sweep');
  return { swept, enqueued };
}

async function recordSweep(db: Database, workspaceId: string, minute: Date): Promise<void> {
  // Through `select … from workspaces`: a workspace deleted meanwhile gets no row (and no error).
  await sql`
    insert into sweep_schedules (workspace_id, interval_minutes, last_swept_at)
    select id, ${SWEEP_INTERVAL_MINUTES.default}, ${minute}::timestamptz from workspaces where id = ${workspaceId}
    on conflict (workspace_id) do update set last_swept_at = excluded.last_swept_at
  `.execute(db);
}
