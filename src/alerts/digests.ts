import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { AlertTier } from '../engine/playbook/schema.ts';
import { currentPlaybook } from '../progression/playbook-store.ts';
import { enqueueWrites, scheduleFlush } from '../writeback/outbox-store.ts';
import { outboxKey } from '../writeback/plan-actions.ts';
import { getPerson, workingPatternOf } from '../people/people-store.ts';
import { localMoment } from '../people/local-time.ts';
import { isWorkingDate } from '../people/working-time.ts';
import { alertingOf } from './alerting-config.ts';
import { dealUrlFor, digestSlackPayload, digestTaskWrite, type DigestItem } from './alert-message.ts';
import { mention } from './dispatch-alerts.ts';
import { scheduleSlack } from './alert-jobs.ts';

export interface DigestDeps {
  db: Database;
  logger: Logger;
  publicBaseUrl: string | undefined;
}

/**
 * Sends each recipient one digest a day: once their local clock passes the playbook's digest
 * hour on one of their working days, everything waiting for them (warnings, opportunities and
 * whatever fatigue limits folded in) becomes one Slack message, or one CRM task when the
 * workspace has no Slack. Lines that arrive after today's digest wait for tomorrow's.
 */
export async function sendDigests(deps: DigestDeps, now: Date): Promise<{ sent: number }> {
  const waiting = await sql<{ workspace_id: string; recipient_id: string }>`
    select distinct workspace_id, recipient_id from alert_deliveries where status = 'waiting'
  `.execute(deps.db);
  let sent = 0;
  for (const { workspace_id: ws, recipient_id: recipient } of waiting.rows) {
    if (await sendDigest(deps, ws, recipient, now)) sent += 1;
  }
  return { sent };
}

export async function sendDigest(deps: DigestDeps, workspaceId: string, recipientId: string, now: Date): Promise<boolean> {
  return deps.db.transaction().execute(async (tx) => {
    const workspace = await tx.selectFrom('workspaces').select('mode').where('id', '=', workspaceId).executeTakeFirst();
    if (!workspace) return false;
    const alerting = alertingOf((await currentPlaybook(tx, workspaceId)).playbook);
    const person = await getPerson(tx, workspaceId, recipientId);
    const pattern = workingPatternOf(person, alerting);
    const local = localMoment(now.getTime(), pattern.timeZone);
    if (!isWorkingDate(pattern, local.date) || local.minutes < alerting.digest.hour * 60) return false;
    const already = await tx.selectFrom('alert_digests').select('id').where('workspace_id', '=', workspaceId).where('recipient_id', '=', recipientId).where('local_date', '=', local.date).executeTakeFirst();
    if (already) return false;

    const rows = await lockWaiting(tx, workspaceId, recipientId);
    const live = rows.filter((r) => r.state !== 'resolved');
    const stale = rows.filter((r) => r.state === 'resolved').map((r) => r.id);
    if (stale.length > 0) await markItems(tx, workspaceId, stale, { status: 'skipped', detail: 'the alert was resolved before the digest', digestId: null, now });
    if (live.length === 0) return false;

    // One line per alert, however many rungs or folds put it here.
    const firstPerAlert = live.filter((r, i) => live.findIndex((o) => o.alert_id === r.alert_id) === i);
    const items: DigestItem[] = firstPerAlert.map((r) => ({ alertId: r.alert_id, dealId: r.deal_id, tier: r.tier, alertType: r.alert_type, reason: r.reason, dealUrl: dealUrlFor(deps.publicBaseUrl, workspaceId, r.deal_id) }));
    const shadow = workspace.mode === 'shadow';
    const settings = await tx.selectFrom('alerting_settings').select('slack_webhook').where('workspace_id', '=', workspaceId).executeTakeFirst();
    const via = settings?.slack_webhook ? ('slack' as const) : ('crm_task' as const);
    const task = via === 'crm_task'
      ? digestTaskWrite({ idempotencyKey: outboxKey(`digest:${workspaceId}:${recipientId}:${local.date}`, 'digest'), ownerId: recipientId, localDate: local.date, dueAt: now, items })
      : null;
    const payload = task ? task.payload : digestSlackPayload({ audience: mention(person, recipientId, ''), localDate: local.date, items });
    const digest = await tx
      .insertInto('alert_digests')
      .values({
        workspace_id: workspaceId,
        recipient_id: recipientId,
        local_date: local.date,
        via,
        item_count: items.length,
        payload: JSON.stringify(payload),
        status: shadow ? 'shadow' : 'queued',
        outbox_key: task?.idempotencyKey ?? null,
      })
      .onConflict((oc) => oc.columns(['workspace_id', 'recipient_id', 'local_date']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!digest) return false;
    const digestId = String(digest.id);
    await markItems(tx, workspaceId, live.map((r) => r.id), { status: 'digested', detail: null, digestId, now });
    if (task) {
      // A CRM task must hang off a deal: the digest's first (most urgent) one.
      const written = await enqueueWrites(tx, { workspaceId, dealId: items[0]!.dealId, decisionId: null, writes: [task], shadow });
      if (written > 0 && !shadow) await scheduleFlush(tx, workspaceId);
    } else if (!shadow) {
      await scheduleSlack(tx, { workspaceId, target: 'digest', id: digestId });
    }
    return true;
  });
}

interface WaitingRow {
  id: string;
  alert_id: string;
  deal_id: string;
  tier: AlertTier;
  alert_type: string;
  reason: string;
  state: string;
}

async function lockWaiting(tx: Tx, workspaceId: string, recipientId: string): Promise<WaitingRow[]> {
  const result = await sql<WaitingRow>`
    select d.id, d.alert_id, d.deal_id, a.tier, a.alert_type, a.reason, a.state
    from alert_deliveries d join alerts a on a.workspace_id = d.workspace_id and a.id = d.alert_id
    where d.workspace_id = ${workspaceId} and d.recipient_id = ${recipientId} and d.status = 'waiting'
    order by case a.tier when 'critical' then 0 when 'warning' then 1 else 2 end, d.id
    for update of d skip locked
  `.execute(tx);
  return result.rows.map((r) => ({ ...r, id: String(r.id), alert_id: String(r.alert_id) }));
}

async function markItems(tx: Tx, workspaceId: string, ids: string[], s: { status: 'digested' | 'skipped'; detail: string | null; digestId: string | null; now: Date }): Promise<void> {
  await tx
    .updateTable('alert_deliveries')
    .set({ status: s.status, detail: s.detail, digest_id: s.digestId, handled_at: s.now, updated_at: s.now })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
}
