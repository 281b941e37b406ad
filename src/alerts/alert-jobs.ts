import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';

export const DISPATCH_ALERTS_TASK = 'dispatch-alerts';
export const SEND_SLACK_TASK = 'send-slack';
export const ALERT_TICK_TASK = 'alert-tick';
export const ALERT_DIGESTS_TASK = 'alert-digests';

const dispatchJobKey = (workspaceId: string) => `alerts:${workspaceId}`;

export type SlackTarget = 'delivery' | 'digest';

/**
 * Asks for a dispatch of the workspace's due deliveries, in the caller's transaction. Always "now":
 * deferred deliveries are found by the recurring tick, so a later run time never pushes an earlier
 * one back through the shared job key.
 */
export async function scheduleDispatch(db: Tx | Database, workspaceId: string): Promise<void> {
  await sql`select graphile_worker.add_job(
    ${DISPATCH_ALERTS_TASK}, json_build_object('workspaceId', ${workspaceId}::text),
    job_key := ${dispatchJobKey(workspaceId)}, max_attempts := 10
  )`.execute(db);
}

/**
 * The same, unless a dispatch is already waiting to run: reading first keeps the callers that find
 * one (most of them, under load) off the job row's lock. For use after a commit (see job-nudger.ts).
 */
export async function ensureDispatchScheduled(db: Database, workspaceId: string): Promise<void> {
  await sql`
    select graphile_worker.add_job(${DISPATCH_ALERTS_TASK}, json_build_object('workspaceId', ${workspaceId}::text),
                                   job_key := ${dispatchJobKey(workspaceId)}, max_attempts := 10)
    where not exists (select 1 from graphile_worker.jobs where key = ${dispatchJobKey(workspaceId)} and locked_at is null)
  `.execute(db);
}

/** The job key of a Slack message's `send-slack` job (lost-slack-jobs.ts builds the same in SQL). */
export const slackJobKey = (workspaceId: string, target: SlackTarget, id: string) => `slack:${workspaceId}:${target}:${id}`;
export const SLACK_JOB_MAX_ATTEMPTS = 3;

/** One job per Slack message; its retries are rescheduled by the sender, never by failing the job. */
export async function scheduleSlack(db: Tx | Database, input: { workspaceId: string; target: SlackTarget; id: string; runAt?: Date }): Promise<void> {
  await sql`select graphile_worker.add_job(
    ${SEND_SLACK_TASK}, json_build_object('workspaceId', ${input.workspaceId}::text, 'target', ${input.target}::text, 'id', ${input.id}::text),
    run_at := ${input.runAt ?? null}::timestamptz, job_key := ${slackJobKey(input.workspaceId, input.target, input.id)}, max_attempts := ${SLACK_JOB_MAX_ATTEMPTS}::int
  )`.execute(db);
}
