import type { Database } from '../platform/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';

/** What the API shows of a workspace's alerting settings: whether Slack is set, never its URL. */
export interface AlertingSettingsView {
  slack: { configured: boolean; lastSentAt: string | null; lastError: Record<string, unknown> | null };
  updatedAt: string | null;
}

/**
 * Sets or clears the Slack incoming-webhook URL (sealed). `undefined` keeps the stored one, so
 * other settings can change without re-entering it; `null` removes it.
 */
export async function putAlertingSettings(db: Database, box: SecretBox, workspaceId: string, input: { slackWebhookUrl?: string | null | undefined }): Promise<AlertingSettingsView> {
  if (input.slackWebhookUrl !== undefined) {
    const sealed = input.slackWebhookUrl === null ? null : box.seal({ url: input.slackWebhookUrl });
    await db
      .insertInto('alerting_settings')
      .values({ workspace_id: workspaceId, slack_webhook: sealed })
      .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ slack_webhook: sealed, slack_last_error: null, updated_at: new Date() }))
      .execute();
  }
  return getAlertingSettings(db, workspaceId);
}

export async function getAlertingSettings(db: Database, workspaceId: string): Promise<AlertingSettingsView> {
  const row = await db.selectFrom('alerting_settings').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
  return {
    slack: { configured: Boolean(row?.slack_webhook), lastSentAt: row?.slack_last_sent_at?.toISOString() ?? null, lastError: row?.slack_last_error ?? null },
    updatedAt: row?.updated_at.toISOString() ?? null,
  };
}

export async function slackWebhookUrl(db: Database, box: SecretBox, workspaceId: string): Promise<string | null> {
  const row = await db.selectFrom('alerting_settings').select('slack_webhook').where('workspace_id', '=', workspaceId).executeTakeFirst();
  return row?.slack_webhook ? box.open<{ url: string }>(row.slack_webhook).url : null;
}
