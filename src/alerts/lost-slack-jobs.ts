import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { SEND_SLACK_TASK, SLACK_JOB_MAX_ATTEMPTS, type SlackTarget } from './alert-jobs.ts';
import { SLACK_MAX_ATTEMPTS } from './send-slack.ts';

/**
 * How long a Slack message may wait past its send time before a missing job counts as lost. The
 * message and its job are written in one transaction, so a missing job is never a race with the
 * writer; the margin keeps the check away from jobs being replaced at that very moment.
 */
export const LOST_SLACK_JOB_GRACE_MS = 2 * 60_000;
const BATCH = 500;

export interface LostSlackJobs {
  requeued: number;
  /** Messages whose attempts ran out while their jobs kept getting lost: marked `dead`. */
  dead: number;
}

/**
 * Finds Slack messages (alert deliveries and digest posts) still waiting to be sent — `queued`, or
 * `retrying` with their retry time behind them — that have no live `send-slack` job: none with their
 * key, or only one that used up its attempts. That happens when a worker dies at the wrong moment, a
 * job fails for good, or the database is restored from a backup. Each gets its job again.
 *
 * A job that is running (locked) counts as live, and job keys allow one waiting job per message, so
 * two jobs never post the same message at once; `sendSlack` itself posts only `queued`/`retrying`
 * rows, so a message already sent is never sent again. Each recovery counts as an attempt, so a
 * message whose jobs keep disappearing ends `dead` (error `job_lost`) instead of looping forever.
 */
export async function requeueLostSlackJobs(db: Database, now: Date): Promise<LostSlackJobs> {
  return db.transaction().execute(async (tx) => {
    const deliveries = await recover(tx, 'delivery', now);
    const digests = await recover(tx, 'digest', now);
    return { requeued: deliveries.requeued + digests.requeued, dead: deliveries.dead + digests.dead };
  });
}

async function recover(tx: Tx, target: SlackTarget, now: Date): Promise<LostSlackJobs> {
  const cutoff = new Date(now.getTime() - LOST_SLACK_JOB_GRACE_MS);
  const table = sql.table(target === 'delivery' ? 'alert_deliveries' : 'alert_digests');
  const isSlack = target === 'delivery' ? sql`m.channel = 'slack'` : sql`m.via = 'slack'`;
  // The same key as slackJobKey() in alert-jobs.ts; the partial index *_slack_unsent holds the rows.
  const lost = (
    await sql<{ workspace_id: string; id: string; attempts: number }>`
      select m.workspace_id, m.id::text as id, m.attempts
      from ${table} m
      where ${isSlack} and m.status in ('queued', 'retrying')
        and coalesce(m.next_attempt_at, m.updated_at) <= ${cutoff}
        and not exists (
          select 1 from graphile_worker.jobs j
          where j.key = 'slack:' || m.workspace_id || ':' || ${target}::text || ':' || m.id
            and (j.locked_at is not null or j.attempts < j.max_attempts)
        )
      order by m.workspace_id, m.id
      limit ${BATCH}
      for update of m skip locked
    `.execute(tx)
  ).rows;
  if (lost.length === 0) return { requeued: 0, dead: 0 };

  const spent = lost.filter((m) => m.attempts + 1 >= SLACK_MAX_ATTEMPTS);
  const again = lost.filter((m) => m.attempts + 1 < SLACK_MAX_ATTEMPTS);
  const jobLost = JSON.stringify({ status: null, code: 'job_lost', message: 'the send-slack job of this message was lost too often', at: now.toISOString() });
  await sql`
    update ${table} m
    set attempts = m.attempts + 1,
        status = case when m.attempts + 1 >= ${SLACK_MAX_ATTEMPTS}::int then 'dead' else m.status end,
        last_error = case when m.attempts + 1 >= ${SLACK_MAX_ATTEMPTS}::int then ${jobLost}::jsonb else m.last_error end,
        next_attempt_at = null,
        updated_at = ${now}
    from unnest(${lost.map((m) => m.workspace_id)}::text[], ${lost.map((m) => m.id)}::bigint[]) as l(workspace_id, id)
    where m.workspace_id = l.workspace_id and m.id = l.id
  `.execute(tx);
  if (again.length > 0) {
    await sql`
      select 1 from graphile_worker.add_jobs(array(
        select row(${SEND_SLACK_TASK}::text, json_build_object('workspaceId', l.workspace_id, 'target', ${target}::text, 'id', l.id),
                   null, null, ${SLACK_JOB_MAX_ATTEMPTS}::smallint, 'slack:' || l.workspace_id || ':' || ${target}::text || ':' || l.id, null, null)::graphile_worker.job_spec
        from unnest(${again.map((m) => m.workspace_id)}::text[], ${again.map((m) => m.id)}::text[]) as l(workspace_id, id)
      ))
    `.execute(tx);
  }
  return { requeued: again.length, dead: spent.length };
}
