import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { AlertingSettings, Role } from '../engine/playbook/schema.ts';
import { currentPlaybook } from '../progression/playbook-store.ts';
import { alertingOf, deliveryPlanFor, DAY_MS } from './alerting-config.ts';
import { loadReportingChain, resolveRecipients } from './recipients.ts';
import { insertRungDeliveries } from './rung-deliveries.ts';
import { scheduleDispatch } from './alert-jobs.ts';
import { resolveAlertsOfClosedDeals } from './open-alert.ts';
import { requeueLostSlackJobs } from './lost-slack-jobs.ts';

export interface TickDeps {
  db: Database;
  logger: Logger;
}

const BATCH = 500;

interface DueAlert {
  workspace_id: string;
  id: string;
  deal_id: string;
  rung: number;
  tier: 'critical' | 'warning' | 'opportunity';
  alert_type: string;
  owner_id: string | null;
  flags: string[];
  next_escalation_at: Date;
}

/**
 * The recurring alert tick: alerts of closed deals are resolved, unacknowledged alerts whose next
 * rung is due climb the ladder (new recipients, a flag), every workspace with deliveries that
 * came due (quiet hours ended, a rung was added) gets a dispatch, and Slack messages whose
 * `send-slack` job was lost get it back. Due alerts are found by one indexed query per batch;
 * nothing scans alerts that are not due.
 */
export async function runAlertTick(
  deps: TickDeps,
  now: Date,
): Promise<{ resolved: number; escalated: number; dispatched: number; slackRequeued: number; slackDead: number }> {
  const resolved = await resolveAlertsOfClosedDeals(deps.db, now);
  let escalated = 0;
  for (;;) {
    const n = await deps.db.transaction().execute((tx) => escalateBatch(tx, now));
    escalated += n;
    if (n < BATCH) break;
  }
  const due = await sql<{ workspace_id: string }>`
    select distinct workspace_id from alert_deliveries where status = 'pending' and due_at <= ${now}
  `.execute(deps.db);
  for (const { workspace_id } of due.rows) await scheduleDispatch(deps.db, workspace_id);
  const lost = await requeueLostSlackJobs(deps.db, now);
  if (lost.requeued > 0 || lost.dead > 0) deps.logger.warn({ requeued: lost.requeued, dead: lost.dead }, 'Slack messages had lost their send-slack job');
  if (escalated > 0 || resolved > 0) deps.logger.info({ escalated, resolved }, 'alert tick');
  return { resolved, escalated, dispatched: due.rows.length, slackRequeued: lost.requeued, slackDead: lost.dead };
}

async function escalateBatch(tx: Tx, now: Date): Promise<number> {
  const due = (
    await sql<DueAlert>`
      select workspace_id, id, deal_id, rung, tier, alert_type, owner_id, flags, next_escalation_at from alerts
      where next_escalation_at <= ${now} and state in ('open', 'escalated')
      order by next_escalation_at
      limit ${BATCH}
      for update skip locked
    `.execute(tx)
  ).rows;
  const settings = new Map<string, AlertingSettings>();
  const toDispatch = new Set<string>();
  for (const alert of due) {
    const id = String(alert.id);
    let alerting = settings.get(alert.workspace_id);
    if (!alerting) {
      alerting = alertingOf((await currentPlaybook(tx, alert.workspace_id)).playbook);
      settings.set(alert.workspace_id, alerting);
    }
    const ladder = deliveryPlanFor(alerting, alert.tier, alert.alert_type);
    const step = ladder.escalation[alert.rung];
    if (!step) {
      await tx.updateTable('alerts').set({ next_escalation_at: null, updated_at: now }).where('workspace_id', '=', alert.workspace_id).where('id', '=', id).execute();
      continue;
    }
    const rung = alert.rung + 1;
    // Rungs are counted from the first delivery, which is where this rung's time was measured from.
    const firstDeliveryMs = new Date(alert.next_escalation_at).getTime() - step.afterDays * DAY_MS;
    const following = ladder.escalation[rung];
    if (step.notify.length > 0) {
      const people = await loadReportingChain(tx, alert.workspace_id, alert.owner_id);
      const recipients = resolveRecipients(step.notify as Role[], alert.owner_id, people, alerting, now.getTime());
      const channels = ladder.channels.filter((c) => c !== 'digest');
      const { dueNow } = await insertRungDeliveries(tx, {
        workspaceId: alert.workspace_id, alertId: id, dealId: alert.deal_id, rung, channels: channels.length > 0 ? channels : ['crm_task'], recipients, people, alerting, now,
      });
      if (dueNow) toDispatch.add(alert.workspace_id);
    }
    await tx
      .updateTable('alerts')
      .set({
        rung,
        state: 'escalated',
        flags: step.flag && !alert.flags.includes(step.flag) ? [...alert.flags, step.flag] : alert.flags,
        next_escalation_at: following ? new Date(firstDeliveryMs + following.afterDays * DAY_MS) : null,
        updated_at: now,
      })
      .where('workspace_id', '=', alert.workspace_id)
      .where('id', '=', id)
      .execute();
  }
  for (const ws of toDispatch) await scheduleDispatch(tx, ws);
  return due.length;
}
