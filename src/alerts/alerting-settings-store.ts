import type { Database } from '../platform/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { getSweepSchedule, setSweepInterval } from '../progression/sweep-schedule.ts';

/** What the API shows of a workspace's alerting settings: whether Slack is set, never its URL. */
export interface AlertingSettingsView {
  slack: { configured: boolean; lastSentAt: string | null; lastError: Record<string, unknown> | null };
  /** How often time-based conditions are swept (docs/alerts.md, "Time sweeps and alerts"). */
  sweep: { intervalMinutes: number; lastSweptAt: string | null };
  updatedAt: string | null;
}

export interface AlertingSettingsInput {
  slackWebhookUrl?: string | null | undefined;
  sweepIntervalMinutes?: number | undefined;
}

/**
 * Changes what the input names and keeps the rest. For the Slack incoming-webhook URL (sealed),
 * `undefined` keeps the stored one, so other settings can change without re-entering it; `null`
 * removes it.
 */
export async function putAlertingSettings(db: Database, box: SecretBox, workspaceId: string, input: AlertingSettingsInput, now: Date): Promise<AlertingSettingsView> {
  await db.transaction().execute(async (tx) => {
    if (input.slackWebhookUrl !== undefined) {
      const sealed = input.slackWebhookUrl === null ? null : box.seal({ url: input.slackWebhookUrl });
      await tx
        .insertInto('alerting_settings')
        .values({ workspace_id: workspaceId, slack_webhook: sealed, updated_at: now })
        .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ slack_webhook: sealed, slack_last_error: null, updated_at: now }))
        .execute();
    }
    if (input.sweepIntervalMinutes !== undefined) await setSweepInterval(tx, workspaceId, input.sweepIntervalMinutes, now);
  });
  return getAlertingSettings(db, workspaceId);
}

export async function getAlertingSettings(db: Database, workspaceId: string): Promise<AlertingSettingsView> {
  const row = await db.selectFrom('alerting_settings').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
  const sweep = await getSweepSchedule(db, workspaceId);
  const changed = [row?.updated_at, sweep.updatedAt].filter((d): d is Date => d instanceof Date);
  return {
    slack: { configured: Boolean(row?.slack_webhook), lastSentAt: row?.slack_last_sent_at?.toISOString() ?? null, lastError: row?.slack_last_error ?? null },
    sweep: { intervalMinutes: sweep.intervalMinutes, lastSweptAt: sweep.lastSweptAt?.toISOString() ?? null },
    updatedAt: changed.length > 0 ? new Date(Math.max(...changed.map((d) => d.getTime()))).toISOString() : null,
  };
}

export async function slackWebhookUrl(db: Database, box: SecretBox, workspaceId: string): Promise<string | null> {
  const row = await db.selectFrom('alerting_settings').select('slack_webhook').where('workspace_id', '=', workspaceId).executeTakeFirst();
  return row?.slack_webhook ? box.open<{ url: string }>(row.slack_webhook).url : null;
}
