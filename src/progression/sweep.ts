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
 * the close date passed, an activity or stage-duration (stall) threshold was crossed, or a day
 * went by — and queues their evaluation with the time trigger. One set-based statement over indexed columns; no deal is
 * loaded into JavaScript. `asOf` moves the clock (tests, backtests, catching up).
 */
export async function sweepDeals(db: Database, options: { workspaceId?: string; asOf: Date }): Promise<{ enqueued: number; batchFull: boolean }> {
  const asOf = options.asOf.toISOString();
  const workspaceId = options.workspaceId ?? null;
  const result = await sql<{ enqueued: number }>`
    with playbook as materialized (
      select distinct on (workspace_id) workspace_id, document from playbooks
      where ${workspaceId}::text is null or workspace_id = ${workspaceId}
      order by workspace_id, version desc
    ),
    -- Stall thresholds per workspace and stage, as the engine computes them: the stage's average
    -- duration times the rule's threshold or the policy's multiple.
    stall as materialized (
      select p.workspace_id, s->>'key' as stage,
             ((s->'durationDays'->>'min')::float8 + (s->'durationDays'->>'max')::float8) / 2
               * coalesce((r->>'threshold')::float8,
                          (p.document->'policies'->'stall'->>(case r->>'check' when 'stall_warning' then 'warningMultiple' else 'criticalMultiple' end))::float8) as days
      from playbook p
      cross join jsonb_array_elements(p.document->'stages') s
      cross join jsonb_array_elements(p.document->'rules') r
      where s ? 'durationDays' and r->>'type' = 'time' and r->>'check' in ('stall_warning', 'stall_critical') and r->>'mode' <> 'off'
    ),
    due as (
      select workspace_id, deal_id from deals
      where not is_closed
        and (${workspaceId}::text is null or workspace_id = ${workspaceId})
        and (
          evaluated_at is null
          or evaluated_at < ${asOf}::timestamptz - make_interval(hours => ${MAX_QUIET_HOURS})
          or (close_date is not null and close_date < ${asOf}::timestamptz::date and evaluated_at < close_date + 1)
          -- The engine acts once a threshold is strictly behind it, so a deal last evaluated exactly
          -- at the crossing still needs an evaluation after it.
          or exists (
            select 1 from unnest(${ACTIVITY_THRESHOLDS_DAYS}::int[]) days
            where last_activity_at + make_interval(days => days) >= evaluated_at
              and last_activity_at + make_interval(days => days) < ${asOf}::timestamptz
          )
          or exists (
            select 1 from stall t
            where t.workspace_id = deals.workspace_id and t.stage = deals.stage
              and stage_entered_at + t.days * interval '1 day' >= evaluated_at
              and stage_entered_at + t.days * interval '1 day' < ${asOf}::timestamptz
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
  const enqueued = result.rows[0]?.enqueued ?? 0;
  // A full batch may have left due deals behind; the caller decides when to come back for them.
  return { enqueued, batchFull: enqueued >= SWEEP_BATCH };
}

/**
 * Sweeps every workspace, one statement per workspace and batch (as the recurring job does),
 * until nothing is due: each statement then only probes its own workspace's stall thresholds.
 */
export async function sweepEveryWorkspace(db: Database, asOf: Date): Promise<number> {
  const workspaces = await db.selectFrom('workspaces').select('id').orderBy('id').execute();
  let enqueued = 0;
  for (const { id } of workspaces) {
    for (;;) {
      const result = await sweepDeals(db, { workspaceId: id, asOf });
      enqueued += result.enqueued;
      if (!result.batchFull) break;
    }
  }
  return enqueued;
}
