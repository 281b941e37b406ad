import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import { EVALUATE_DEAL_TASK } from '../signals/pump.ts';

/** Every open deal is looked at by time at least this often, so stage-duration alerts never lag more. */
const MAX_QUIET_HOURS = 24;
/** Activity thresholds (days) whose crossing since the last evaluation warrants one now. */
const ACTIVITY_THRESHOLDS_DAYS = [2, 30, 60];
const SWEEP_BATCH = 20_000;

/**
 * Finds open deals whose time-based conditions may have changed since they were last evaluated —
 * the close date passed, an activity threshold was crossed, or a day went by — and queues their
 * evaluation with the time trigger. One set-based statement over indexed columns; no deal is
 * loaded into JavaScript. `asOf` moves the clock (tests, backtests, catching up).
 */
export async function sweepDeals(db: Database, options: { workspaceId?: string; asOf: Date }): Promise<{ enqueued: number }> {
  const asOf = options.asOf.toISOString();
  const result = await sql<{ enqueued: number }>`
    with due as (
      select workspace_id, deal_id from deals
      where not is_closed
        and (${options.workspaceId ?? null}::text is null or workspace_id = ${options.workspaceId ?? null})
        and (
          evaluated_at is null
          or evaluated_at < ${asOf}::timestamptz - make_interval(hours => ${MAX_QUIET_HOURS})
          or (close_date is not null and close_date < ${asOf}::timestamptz::date and evaluated_at < close_date + 1)
          or exists (
            select 1 from unnest(${ACTIVITY_THRESHOLDS_DAYS}::int[]) days
            where last_activity_at + make_interval(days => days) > evaluated_at
              and last_activity_at + make_interval(days => days) <= ${asOf}::timestamptz
          )
        )
      limit ${SWEEP_BATCH}
    ),
    jobs as (
      select 1 from graphile_worker.add_jobs(array(
        select row(${EVALUATE_DEAL_TASK}::text,
                   json_build_object('workspaceId', workspace_id, 'dealId', deal_id, 'trigger', 'time', 'asOf', ${asOf}::text),
                   null, now(), 10, 'evaluate:' || workspace_id || ':' || deal_id, null, null)::graphile_worker.job_spec
        from due
      ))
    )
    select count(*)::int as enqueued from jobs
  `.execute(db);
  return { enqueued: result.rows[0]?.enqueued ?? 0 };
}
