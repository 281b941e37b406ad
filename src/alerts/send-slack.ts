import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { SlackTarget } from './alert-jobs.ts';
import { postSlackWebhook, type SlackError } from './slack-webhook.ts';
import { slackWebhookUrl } from './alerting-settings-store.ts';

export interface SlackSendDeps {
  db: Database;
  secretBox: SecretBox;
  logger: Logger;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export const SLACK_MAX_ATTEMPTS = 8;
const BASE_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;

/** 30 s, 1 min, 2 min … capped at an hour. */
export function slackBackoffMs(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1));
}

export type SlackSendResult = { status: 'sent' | 'retrying' | 'dead' | 'skipped'; retryAt: Date | null };

const tableOf = (target: SlackTarget) => sql.table(target === 'delivery' ? 'alert_deliveries' : 'alert_digests');

/**
 * Posts one queued Slack message (an alert or a digest) and records the answer. A 429 waits as
 * long as Retry-After says; 5xx and network failures back off; a refusal (4xx) is final and
 * shown on the alert. The caller reschedules the job at `retryAt`.
 */
export async function sendSlack(deps: SlackSendDeps, input: { workspaceId: string; target: SlackTarget; id: string }, now: Date): Promise<SlackSendResult> {
  const { workspaceId, target, id } = input;
  const table = tableOf(target);
  const row = (
    await sql<{ status: string; payload: unknown; attempts: number }>`
      select status, payload, attempts from ${table} where workspace_id = ${workspaceId} and id = ${id}
    `.execute(deps.db)
  ).rows[0];
  if (!row || (row.status !== 'queued' && row.status !== 'retrying')) return { status: 'skipped', retryAt: null };
  const attempts = row.attempts + 1;
  const url = await slackWebhookUrl(deps.db, deps.secretBox, workspaceId);
  const outcome = url
    ? await postSlackWebhook(url, row.payload, { ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}) })
    : { kind: 'rejected' as const, error: { status: null, code: 'not_configured', message: 'Slack is not configured for this workspace' } };

  const log = deps.logger.child({ workspaceId, slackTarget: target, slackMessageId: id, attempts });
  if (outcome.kind === 'sent') {
    await settle(deps.db, { workspaceId, target, id, status: 'sent', attempts, error: null, nextAttemptAt: null, now });
    await sql`update alerting_settings set slack_last_sent_at = ${now}, slack_last_error = null where workspace_id = ${workspaceId}`.execute(deps.db);
    return { status: 'sent', retryAt: null };
  }
  if (outcome.kind === 'retry' && attempts < SLACK_MAX_ATTEMPTS) {
    const retryAt = new Date(now.getTime() + (outcome.afterMs ?? slackBackoffMs(attempts)));
    log.warn({ slackError: outcome.error, retryAt }, 'Slack post failed; will retry');
    await settle(deps.db, { workspaceId, target, id, status: 'retrying', attempts, error: outcome.error, nextAttemptAt: retryAt, now });
    return { status: 'retrying', retryAt };
  }
  log.warn({ slackError: outcome.error }, 'Slack post failed for good');
  await settle(deps.db, { workspaceId, target, id, status: 'dead', attempts, error: outcome.error, nextAttemptAt: null, now });
  await sql`update alerting_settings set slack_last_error = ${JSON.stringify({ ...outcome.error, at: now.toISOString() })}::jsonb where workspace_id = ${workspaceId}`.execute(deps.db);
  return { status: 'dead', retryAt: null };
}

async function settle(
  db: Database,
  s: { workspaceId: string; target: SlackTarget; id: string; status: string; attempts: number; error: SlackError | null; nextAttemptAt: Date | null; now: Date },
): Promise<void> {
  await sql`
    update ${tableOf(s.target)} set status = ${s.status}, attempts = ${s.attempts}, last_error = ${s.error === null ? null : JSON.stringify(s.error)}::jsonb,
      next_attempt_at = ${s.nextAttemptAt}, sent_at = case when ${s.status} = 'sent' then ${s.now}::timestamptz else sent_at end, updated_at = ${s.now}
    where workspace_id = ${s.workspaceId} and id = ${s.id}
  `.execute(db);
}
