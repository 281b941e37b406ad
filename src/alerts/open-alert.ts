import { sql } from 'kysely';
import type { Tx } from '../platform/db.ts';
import type { DealState, RaiseAlertDecision } from '../engine/types.ts';
import type { Playbook } from '../engine/playbook/schema.ts';
import { alertingOf, deliveryPlanFor, DAY_MS, HOUR_MS } from './alerting-config.ts';
import { loadReportingChains, resolveRecipients } from './recipients.ts';
import { insertDeliveryRows, planRungDeliveries, type DeliveryRow } from './rung-deliveries.ts';
import type { Person } from '../people/people-store.ts';
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
  const [opened] = await openAlerts(tx, [input]);
  return opened ?? null;
}

/**
 * The same for many alerts at once (a batch of evaluations), in a few statements whatever their
 * number. Returns one outcome per input, in order; null for an alert stored before (same key).
 */
export async function openAlerts(tx: Tx, inputs: readonly OpenAlertInput[]): Promise<Array<OpenedAlert | null>> {
  if (inputs.length === 0) return [];
  // An alert is the duplicate of an earlier one of the same type on the same deal, even an earlier
  // one of this very call: those go in a second round, once the first is stored.
  const seen = new Set<string>();
  const firstRound: number[] = [];
  const laterRound: number[] = [];
  inputs.forEach((input, i) => {
    const kind = `${input.workspaceId}:${input.dealId}:${input.decision.alertType}`;
    (seen.has(kind) ? laterRound : firstRound).push(i);
    seen.add(kind);
  });
  const outcomes = new Array<OpenedAlert | null>(inputs.length).fill(null);
  const first = await openDistinctAlerts(tx, firstRound.map((i) => inputs[i]!));
  firstRound.forEach((i, n) => (outcomes[i] = first[n]!));
  if (laterRound.length > 0) {
    const later = await openAlerts(tx, laterRound.map((i) => inputs[i]!));
    laterRound.forEach((i, n) => (outcomes[i] = later[n]!));
  }
  return outcomes;
}

/** Alerts no two of which share a deal and type. */
async function openDistinctAlerts(tx: Tx, inputs: readonly OpenAlertInput[]): Promise<Array<OpenedAlert | null>> {
  const duplicates = await findDuplicates(tx, inputs);
  const people = await peopleOf(tx, inputs);
  const planned = inputs.map((input, i) => {
    const alerting = alertingOf(input.playbook);
    const plan = deliveryPlanFor(alerting, input.decision.tier, input.decision.alertType);
    const duplicate = duplicates[i] ?? null;
    if (duplicate !== null) return { input, plan, duplicate, rung: null };
    const directory = people.get(input.workspaceId)!;
    const recipients = resolveRecipients(input.decision.recipients, input.deal.ownerId, directory, alerting, input.now.getTime());
    const rungInput = { workspaceId: input.workspaceId, alertId: '', dealId: input.dealId, rung: 0, channels: plan.channels, recipients, people: directory, alerting, now: input.now };
    const firstRung = plan.escalation[0];
    const { firstDueAt } = planRungDeliveries(rungInput);
    const nextEscalationAt = firstRung ? new Date((firstDueAt ?? input.now).getTime() + firstRung.afterDays * DAY_MS) : null;
    return { input, plan, duplicate, rung: { rungInput, nextEscalationAt } };
  });

  const inserted = await tx
    .insertInto('alerts')
    .values(
      planned.map(({ input, plan, duplicate, rung }) => ({
        workspace_id: input.workspaceId,
        deal_id: input.dealId,
        decision_id: input.decisionId,
        key: input.decision.key,
        rule_id: input.decision.ruleId,
        tier: input.decision.tier,
        alert_type: input.decision.alertType,
        reason: input.decision.reason,
        recipients: input.decision.recipients,
        owner_id: input.deal.ownerId,
        state: duplicate === null ? 'open' : 'suppressed',
        state_reason: duplicate === null ? null : `duplicate of alert ${duplicate}`,
        requires_ack: plan.requireAck,
        opened_at: input.now,
        next_escalation_at: rung?.nextEscalationAt ?? null,
      })),
    )
    .onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing())
    .returning(['workspace_id', 'key', 'id', 'state'])
    .execute();
  const byKey = new Map(inserted.map((row) => [`${row.workspace_id}:${row.key}`, row]));

  const deliveries: DeliveryRow[] = [];
  const outcomes = planned.map(({ input, rung }) => {
    const row = byKey.get(`${input.workspaceId}:${input.decision.key}`);
    if (!row) return null;
    const alertId = String(row.id);
    if (!rung) return { alertId, state: row.state, dispatchNow: false };
    const deliveryPlan = planRungDeliveries({ ...rung.rungInput, alertId });
    deliveries.push(...deliveryPlan.rows);
    return { alertId, state: row.state, dispatchNow: deliveryPlan.dueNow };
  });
  await insertDeliveryRows(tx, deliveries);
  return outcomes;
}

/** For each alert, the id of the alert it duplicates, if any (see openAlert), in one read. */
async function findDuplicates(tx: Tx, inputs: readonly OpenAlertInput[]): Promise<Array<string | null>> {
  const result = await sql<{ i: string; id: string | null }>`
    select k.i, (
      select a.id from alerts a
      where a.workspace_id = k.workspace_id and a.deal_id = k.deal_id and a.alert_type = k.alert_type and a.state <> 'suppressed'
        and ((a.requires_ack and a.state in ('open', 'escalated')) or a.opened_at > k.since)
      order by a.id desc
      limit 1
    ) as id
    from unnest(
      ${inputs.map((i) => i.workspaceId)}::text[], ${inputs.map((i) => i.dealId)}::text[], ${inputs.map((i) => i.decision.alertType)}::text[],
      ${inputs.map((i) => new Date(i.now.getTime() - alertingOf(i.playbook).dedupeHours * HOUR_MS).toISOString())}::timestamptz[]
    ) with ordinality as k(workspace_id, deal_id, alert_type, since, i)
  `.execute(tx);
  const byIndex = new Map(result.rows.map((row) => [Number(row.i), row.id === null ? null : String(row.id)]));
  return inputs.map((_, i) => byIndex.get(i + 1) ?? null);
}

/** The owners' reporting chains, per workspace. */
async function peopleOf(tx: Tx, inputs: readonly OpenAlertInput[]): Promise<Map<string, Map<string, Person>>> {
  const owners = new Map<string, string[]>();
  for (const input of inputs) {
    const list = owners.get(input.workspaceId) ?? [];
    if (input.deal.ownerId !== null) list.push(input.deal.ownerId);
    owners.set(input.workspaceId, list);
  }
  const people = new Map<string, Map<string, Person>>();
  for (const [workspaceId, ownerIds] of owners) people.set(workspaceId, await loadReportingChains(tx, workspaceId, ownerIds));
  return people;
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
