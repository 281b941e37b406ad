import { sql } from 'kysely';
import type { Tx } from '../platform/db.ts';
import type { DealState, RaiseAlertDecision } from '../engine/types.ts';
import type { Playbook } from '../engine/playbook/schema.ts';
import { alertingOf, deliveryPlanFor, DAY_MS, HOUR_MS } from './alerting-config.ts';
import { loadReportingChain, resolveRecipients } from './recipients.ts';
import { insertRungDeliveries } from './rung-deliveries.ts';
import type { AlertState } from '../platform/schema.ts';

export interface OpenAlertInput {
  workspaceId: string;
  dealId: string;
  decisionId: string;
  decision: RaiseAlertDecision;
  deal: DealState;
  /** The playbook version the decision came from; its alerting settings apply. */
  playbook: Playbook;
  now: Date;
}

export interface OpenedAlert {
  alertId: string;
  state: AlertState;
  /** Deliveries are due already: the caller schedules a dispatch once this is committed. */
  dispatchNow: boolean;
}

/**
 * Turns a raise_alert decision into an alert and its first deliveries, inside the decision's
 * transaction (no network here: CRM tasks and Slack posts are made by the dispatcher). An alert
 * of the same type on the same deal that is still climbing its ladder, or was opened within the
 * dedupe window, makes this one `suppressed`: recorded, never delivered.
 */
export async function openAlert(tx: Tx, input: OpenAlertInput): Promise<OpenedAlert | null> {
  const { workspaceId, dealId, decision, now } = input;
  const alerting = alertingOf(input.playbook);
  const plan = deliveryPlanFor(alerting, decision.tier, decision.alertType);

  const duplicate = await tx
    .selectFrom('alerts')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('deal_id', '=', dealId)
    .where('alert_type', '=', decision.alertType)
    .where('state', '!=', 'suppressed')
    .where((eb) =>
      eb.or([
        eb.and([eb('requires_ack', '=', true), eb('state', 'in', ['open', 'escalated'])]),
        eb('opened_at', '>', new Date(now.getTime() - alerting.dedupeHours * HOUR_MS)),
      ]),
    )
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();

  const inserted = await tx
    .insertInto('alerts')
    .values({
      workspace_id: workspaceId,
      deal_id: dealId,
      decision_id: input.decisionId,
      key: decision.key,
      rule_id: decision.ruleId,
      tier: decision.tier,
      alert_type: decision.alertType,
      reason: decision.reason,
      recipients: decision.recipients,
      owner_id: input.deal.ownerId,
      state: duplicate ? 'suppressed' : 'open',
      state_reason: duplicate ? `duplicate of alert ${duplicate.id}` : null,
      requires_ack: plan.requireAck,
      opened_at: now,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing())
    .returning(['id', 'state'])
    .executeTakeFirst();
  if (!inserted) return null;
  const alertId = String(inserted.id);
  if (inserted.state === 'suppressed') return { alertId, state: inserted.state, dispatchNow: false };

  const people = await loadReportingChain(tx, workspaceId, input.deal.ownerId);
  const recipients = resolveRecipients(decision.recipients, input.deal.ownerId, people, alerting, now.getTime());
  const { firstDueAt, dueNow } = await insertRungDeliveries(tx, { workspaceId, alertId, dealId, rung: 0, channels: plan.channels, recipients, people, alerting, now });
  const firstRung = plan.escalation[0];
  if (firstRung) {
    const from = (firstDueAt ?? now).getTime();
    await tx
      .updateTable('alerts')
      .set({ next_escalation_at: new Date(from + firstRung.afterDays * DAY_MS) })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', alertId)
      .execute();
  }
  return { alertId, state: inserted.state, dispatchNow: dueNow };
}

/** Alerts of deals that closed are over: nobody needs to act on them any more. */
export async function resolveAlertsOfClosedDeals(db: Tx | import('../platform/db.ts').Database, now: Date): Promise<number> {
  const result = await sql`
    update alerts a set state = 'resolved', state_reason = 'deal closed', resolved_at = ${now}, next_escalation_at = null, updated_at = ${now}
    from deals d
    where d.workspace_id = a.workspace_id and d.deal_id = a.deal_id and d.is_closed
      and a.state in ('open', 'acknowledged', 'escalated')
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
