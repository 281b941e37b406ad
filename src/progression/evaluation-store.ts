import { sql } from 'kysely';
import type { Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import type { Playbook } from '../engine/playbook/schema.ts';
import type { Decision, DealState, Trigger } from '../engine/types.ts';
import { planActions, type PlannedWrite } from '../writeback/plan-actions.ts';
import { enqueueDecisionWrites } from '../writeback/outbox-store.ts';
import { closeObsoleteApprovalsOf, DEFAULT_APPROVAL_TTL_MS, openApprovals, type ApprovalToOpen } from '../writeback/approvals.ts';
import { openAlerts, type OpenAlertInput } from '../alerts/open-alert.ts';
import type { RoutingDirectory } from '../routing/routing-store.ts';
import { redirectAwayOwners, routeDecisions } from '../routing/apply-routing.ts';
import { dealKeyOf, type DealKey } from './evaluation-load.ts';

/** What one deal's evaluation leaves to store. */
export interface EvaluatedDeal extends DealKey {
  trigger: Trigger;
  now: Date;
  shadow: boolean;
  state: DealState;
  closed: boolean;
  playbook: Playbook;
  playbookVersion: number;
  decisions: Decision[];
  routing: RoutingDirectory | undefined;
}

export interface EvaluationSummary {
  decisions: number;
  writes: number;
  approvals: number;
  /** Writes were queued for the CRM: once committed, a flush must be scheduled (see worker/job-nudger.ts). */
  flushWanted: boolean;
  /** Alert deliveries are due now: once committed, a dispatch must be scheduled. */
  dispatchWanted: boolean;
}

export const nothingDecided: EvaluationSummary = { decisions: 0, writes: 0, approvals: 0, flushWanted: false, dispatchWanted: false };

const stageDecisionTypes = new Set(['advance_stage', 'regress_stage', 'record_override']);

/** Rows per multi-row insert: far below Postgres's 65,535 bind parameters at ~13 columns a row. */
const INSERT_CHUNK = 2_000;

/** Writes the new state of every evaluated deal, with its indexed columns, in one statement. */
export async function updateDealRows(tx: Tx, deals: readonly EvaluatedDeal[]): Promise<void> {
  if (deals.length === 0) return;
  const rows = deals.map((d) => ({
    workspace_id: d.workspaceId,
    deal_id: d.dealId,
    state: d.state,
    provider: d.state.provider,
    stage: d.state.stage,
    crm_stage: d.state.crmStage,
    stage_entered_at: d.state.stageEnteredAt,
    close_date: d.state.closeDate,
    last_activity_at: d.state.lastActivityAt,
    owner_id: d.state.ownerId,
    health_score: d.state.healthScore === null ? null : Math.round(d.state.healthScore),
    is_closed: d.closed,
    playbook_version: d.playbookVersion,
    evaluated_at: d.now,
  }));
  await sql`
    update deals d set
      state = x.state, provider = x.provider, stage = x.stage, crm_stage = x.crm_stage,
      stage_entered_at = x.stage_entered_at, close_date = x.close_date, last_activity_at = x.last_activity_at,
      owner_id = x.owner_id, health_score = x.health_score, is_closed = x.is_closed,
      playbook_version = x.playbook_version, evaluated_at = x.evaluated_at, updated_at = x.evaluated_at
    from jsonb_to_recordset(${json(rows)}::jsonb) as x(
      workspace_id text, deal_id text, state jsonb, provider text, stage text, crm_stage text,
      stage_entered_at timestamptz, close_date date, last_activity_at timestamptz, owner_id text,
      health_score integer, is_closed boolean, playbook_version integer, evaluated_at timestamptz)
    where d.workspace_id = x.workspace_id and d.deal_id = x.deal_id
  `.execute(tx);
}

/**
 * Routing assignments the CRM has caught up with (the owner now matches, or the owner changed in
 * the CRM after the assignment) are settled.
 */
export async function settleRoutedOwners(tx: Tx, routed: readonly EvaluatedDeal[]): Promise<void> {
  if (routed.length === 0) return;
  await sql`
    update routing_assignments a set settled_at = x.now
    from unnest(
      ${routed.map((d) => d.workspaceId)}::text[], ${routed.map((d) => d.dealId)}::text[], ${routed.map((d) => d.state.ownerId)}::text[],
      ${routed.map((d) => d.state.memory.crmAsOf['ownerId'] ?? null)}::timestamptz[], ${routed.map((d) => d.now.toISOString())}::timestamptz[]
    ) as x(workspace_id, deal_id, owner_id, owner_changed_at, now)
    where a.workspace_id = x.workspace_id and a.deal_id = x.deal_id and a.settled_at is null
      and (a.owner_id = x.owner_id or a.assigned_at < x.owner_changed_at)
  `.execute(tx);
}

function decisionStatus(decision: Decision, writes: number, shadow: boolean): string {
  if (decision.type === 'request_approval') return 'awaiting_approval';
  if (writes === 0) return 'recorded';
  return shadow ? 'shadow' : 'queued';
}

/**
 * Stores every deal's decisions and what they call for (owners routed, approvals, alerts, CRM
 * writes), with one insert for all the decisions and one for all the writes. A decision already
 * stored (a repeated job) is not acted on twice. Returns a summary per deal, in order.
 */
export async function storeDecisions(tx: Tx, deals: readonly EvaluatedDeal[]): Promise<EvaluationSummary[]> {
  const deciding = deals.filter((d) => d.decisions.length > 0);
  if (deciding.length === 0) return deals.map(() => nothingDecided);

  // Owners are chosen (and away owners' tasks redirected) before anything is stored.
  const planned = [];
  for (const deal of deciding) {
    await routeDecisions(tx, { workspaceId: deal.workspaceId, dealId: deal.dealId, deal: deal.state, decisions: deal.decisions, directory: deal.routing });
    const plans = deal.decisions.map((decision) => ({ decision, plan: planActions(decision, deal.state) }));
    redirectAwayOwners(plans, deal.routing);
    planned.push({ deal, plans });
  }

  const idByKey = await insertDecisions(tx, planned);
  const summaries = new Map<string, EvaluationSummary>();
  const queuedWrites: Array<{ workspaceId: string; dealId: string; decisionId: string; write: PlannedWrite; shadow: boolean }> = [];
  const alerts: OpenAlertInput[] = [];
  const approvals: ApprovalToOpen[] = [];
  const freshApprovals: string[] = [];
  const stageMoved: EvaluatedDeal[] = [];
  for (const { deal, plans } of planned) {
    const summary: EvaluationSummary = { ...nothingDecided };
    for (const { decision, plan } of plans) {
      const decisionId = idByKey.get(`${deal.workspaceId}:${decision.key}`);
      if (!decisionId) continue;
      summary.decisions += 1;
      for (const write of plan.writes) queuedWrites.push({ workspaceId: deal.workspaceId, dealId: deal.dealId, decisionId, write, shadow: deal.shadow });
      if (plan.needsApproval) {
        approvals.push({ workspaceId: deal.workspaceId, dealId: deal.dealId, decisionId, expiresAt: new Date(deal.now.getTime() + DEFAULT_APPROVAL_TTL_MS) });
        summary.approvals += 1;
      }
      if (decision.type === 'request_approval') freshApprovals.push(decisionId);
      if (decision.type === 'raise_alert') {
        alerts.push({ workspaceId: deal.workspaceId, dealId: deal.dealId, decisionId, decision, deal: deal.state, playbook: deal.playbook, now: deal.now });
      }
    }
    if (plans.some(({ decision }) => stageDecisionTypes.has(decision.type))) stageMoved.push(deal);
    summaries.set(dealKeyOf(deal), summary);
  }

  await openApprovals(tx, approvals);
  // A stage decision makes the deal's older stage approvals pointless; the ones just opened stay.
  // Closing them may queue completions of their approvers' tasks: CRM writes like any other.
  const completions = await closeObsoleteApprovalsOf(tx, stageMoved, freshApprovals);

  // Alerts and their first deliveries commit with the decisions; the dispatcher sends them.
  const opened = await openAlerts(tx, alerts);
  alerts.forEach((alert, i) => {
    if (opened[i]?.dispatchNow) summaries.get(dealKeyOf(alert))!.dispatchWanted = true;
  });
  const writesPerDeal = await enqueueDecisionWrites(tx, queuedWrites);
  return deals.map((deal) => {
    const summary = summaries.get(dealKeyOf(deal));
    if (!summary) return nothingDecided;
    const writes = (writesPerDeal.get(dealKeyOf(deal)) ?? 0) + (completions.get(dealKeyOf(deal)) ?? 0);
    return { ...summary, writes, flushWanted: writes > 0 && !deal.shadow };
  });
}

/** One insert per chunk of decisions; returns the new ids by `workspaceId:key`. */
async function insertDecisions(
  tx: Tx,
  planned: ReadonlyArray<{ deal: EvaluatedDeal; plans: ReadonlyArray<{ decision: Decision; plan: { writes: PlannedWrite[] } }> }>,
): Promise<Map<string, string>> {
  const rows = planned.flatMap(({ deal, plans }) =>
    plans.map(({ decision, plan }) => ({
      workspace_id: deal.workspaceId,
      deal_id: deal.dealId,
      key: decision.key,
      type: decision.type,
      rule_id: decision.ruleId,
      mode: decision.mode,
      reason: decision.reason,
      signal_ids: decision.signalIds,
      playbook_version: Number(decision.playbookVersion),
      trigger: deal.trigger,
      body: json(decision),
      status: decisionStatus(decision, plan.writes.length, deal.shadow),
      decided_at: decision.at,
    })),
  );
  const idByKey = new Map<string, string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const inserted = await tx
      .insertInto('decisions')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing())
      .returning(['workspace_id', 'id', 'key'])
      .execute();
    for (const row of inserted) idByKey.set(`${row.workspace_id}:${row.key}`, String(row.id));
  }
  return idByKey;
}
