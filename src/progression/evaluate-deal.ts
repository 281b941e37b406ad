import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { evaluateDeal } from '../engine/evaluate.ts';
import { initialDealState } from '../engine/state.ts';
import type { Decision, DealState, Provider, Trigger } from '../engine/types.ts';
import type { Playbook } from '../engine/playbook/schema.ts';
import { loadDealSignals } from '../signals/signal-store.ts';
import { planActions, type PlannedWrite } from '../writeback/plan-actions.ts';
import { enqueueDecisionWrites } from '../writeback/outbox-store.ts';
import { closeObsoleteApprovals, DEFAULT_APPROVAL_TTL_MS, openApproval } from '../writeback/approvals.ts';
import { cachedPlaybookVersion, currentPlaybook } from './playbook-store.ts';
import { openAlert } from '../alerts/open-alert.ts';
import { loadRoutingDirectory, settleAssignments, type RoutingDirectory } from '../routing/routing-store.ts';
import { redirectAwayOwners, routeDecisions } from '../routing/apply-routing.ts';

export interface EvaluateDealDeps {
  db: Database;
  logger: Logger;
  now: () => Date;
}

export interface EvaluationSummary {
  decisions: number;
  writes: number;
  approvals: number;
  /** Writes were queued for the CRM: once committed, a flush must be scheduled (see job-nudger.ts). */
  flushWanted: boolean;
  /** Alert deliveries are due now: once committed, a dispatch must be scheduled. */
  dispatchWanted: boolean;
}

const nothingDecided: EvaluationSummary = { decisions: 0, writes: 0, approvals: 0, flushWanted: false, dispatchWanted: false };

const stageDecisionTypes = new Set(['advance_stage', 'regress_stage', 'record_override']);

/**
 * Loads a deal and its signals, runs the engine, and stores decisions, the new deal state and the
 * actions they call for, in one transaction. The deal row is locked for the whole of it, so two
 * workers never evaluate the same deal at once; the second waits and then sees the first's state.
 * The caller schedules the flush of queued writes and the dispatch of due alerts after the commit.
 */
export async function evaluateDealNow(
  deps: EvaluateDealDeps,
  input: { workspaceId: string; dealId: string; trigger: Trigger },
): Promise<EvaluationSummary> {
  const { workspaceId, dealId, trigger } = input;
  return deps.db.transaction().execute(async (tx) => {
    const workspace = await workspaceAndPlaybookVersion(tx, workspaceId);
    if (!workspace) return nothingDecided;
    const deal = await lockDeal(tx, workspaceId, dealId);
    const playbook = await playbookAt(tx, workspaceId, workspace.playbookVersion);
    const signals = await loadDealSignals(tx, workspaceId, dealId);
    const now = deps.now();
    const routing = await loadRoutingDirectory(tx, workspaceId, playbook.compiled.playbook.alerting, now.getTime());
    const result = evaluateDeal({
      deal: deal.state as unknown as DealState,
      signals,
      playbook: playbook.compiled,
      playbookVersion: String(playbook.version),
      now,
      trigger,
      owners: routing?.facts,
      ...(workspace.connectedAt ? { options: { connectedAt: workspace.connectedAt } } : {}),
    });
    const next = result.nextState;
    await tx
      .updateTable('deals')
      .set({
        state: json(next),
        provider: next.provider,
        stage: next.stage,
        crm_stage: next.crmStage,
        stage_entered_at: next.stageEnteredAt,
        close_date: next.closeDate,
        last_activity_at: next.lastActivityAt,
        owner_id: next.ownerId,
        health_score: next.healthScore === null ? null : Math.round(next.healthScore),
        is_closed: isClosed(playbook.compiled, next),
        playbook_version: playbook.version,
        evaluated_at: now,
        updated_at: now,
      })
      .where('workspace_id', '=', workspaceId)
      .where('deal_id', '=', dealId)
      .execute();

    await settleAssignments(tx, workspaceId, dealId, next.ownerId, next.memory.crmAsOf['ownerId'], now);
    const summary = await storeDecisions(tx, { workspaceId, dealId, trigger, shadow: workspace.mode === 'shadow', deal: next, decisions: result.decisions, playbook: playbook.playbook, now, routing });
    if (summary.decisions > 0) deps.logger.debug({ workspaceId, dealId, ...summary }, 'deal evaluated');
    return summary;
  });
}

/**
 * The workspace's mode, current playbook version (the playbook itself is cached) and when its CRM
 * was connected, in one read. What an import finds from before the connection shapes the mirror
 * only; changes reconciliation finds later act like webhooks.
 */
async function workspaceAndPlaybookVersion(tx: Tx, workspaceId: string) {
  const row = await sql<{ mode: 'shadow' | 'live'; version: number | null; connected_at: Date | null }>`
    select w.mode,
           (select max(version) from playbooks p where p.workspace_id = w.id) as version,
           (select created_at from connections c where c.workspace_id = w.id) as connected_at
    from workspaces w where w.id = ${workspaceId}
  `.execute(tx);
  const first = row.rows[0];
  return first ? { mode: first.mode, playbookVersion: first.version, connectedAt: first.connected_at } : undefined;
}

/**
 * Locks the deal row for the rest of the transaction, creating it first for a deal never seen.
 * The common case (a known deal) is a single statement.
 */
async function lockDeal(tx: Tx, workspaceId: string, dealId: string): Promise<{ state: unknown }> {
  const lock = () =>
    tx.selectFrom('deals').select(['state']).where('workspace_id', '=', workspaceId).where('deal_id', '=', dealId).forUpdate().executeTakeFirst();
  const known = await lock();
  if (known) return known;
  const provider = await providerFor(tx, workspaceId, dealId);
  await tx
    .insertInto('deals')
    .values({ workspace_id: workspaceId, deal_id: dealId, provider, state: json(initialDealState(dealId, provider)) })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return (await lock())!;
}

async function playbookAt(tx: Tx, workspaceId: string, version: number | null) {
  return (version === null ? undefined : await cachedPlaybookVersion(tx, workspaceId, version)) ?? currentPlaybook(tx, workspaceId);
}

function isClosed(pb: { stageByKey: Map<string, { stage: { closed?: unknown } }> }, state: DealState): boolean {
  if (state.deleted) return true;
  return state.stage !== null && pb.stageByKey.get(state.stage)?.stage.closed !== undefined;
}

/** The CRM the deal lives in: the workspace's connection, else the source of its CRM signals. */
export async function providerFor(tx: Tx, workspaceId: string, dealId: string): Promise<Provider> {
  const connection = await tx.selectFrom('connections').select('provider').where('workspace_id', '=', workspaceId).executeTakeFirst();
  if (connection) return connection.provider;
  const crmSignal = await tx
    .selectFrom('signals')
    .select('source')
    .where('workspace_id', '=', workspaceId)
    .where('deal_id', '=', dealId)
    .where('source', 'in', ['hubspot', 'salesforce'])
    .limit(1)
    .executeTakeFirst();
  return crmSignal?.source === 'salesforce' ? 'salesforce' : 'hubspot';
}

function decisionStatus(decision: Decision, writes: number, shadow: boolean): string {
  if (decision.type === 'request_approval') return 'awaiting_approval';
  if (writes === 0) return 'recorded';
  return shadow ? 'shadow' : 'queued';
}

async function storeDecisions(
  tx: Tx,
  input: { workspaceId: string; dealId: string; trigger: Trigger; shadow: boolean; deal: DealState; decisions: Decision[]; playbook: Playbook; now: Date; routing: RoutingDirectory | undefined },
): Promise<EvaluationSummary> {
  if (input.decisions.length === 0) return nothingDecided;
  // Owners are chosen (and away owners' tasks redirected) before anything is stored.
  await routeDecisions(tx, { workspaceId: input.workspaceId, dealId: input.dealId, deal: input.deal, decisions: input.decisions, directory: input.routing });
  const plans = input.decisions.map((decision) => ({ decision, plan: planActions(decision, input.deal) }));
  redirectAwayOwners(plans, input.routing);
  const inserted = await tx
    .insertInto('decisions')
    .values(
      plans.map(({ decision, plan }) => ({
        workspace_id: input.workspaceId,
        deal_id: input.dealId,
        key: decision.key,
        type: decision.type,
        rule_id: decision.ruleId,
        mode: decision.mode,
        reason: decision.reason,
        signal_ids: decision.signalIds,
        playbook_version: Number(decision.playbookVersion),
        trigger: input.trigger,
        body: json(decision),
        status: decisionStatus(decision, plan.writes.length, input.shadow),
        decided_at: decision.at,
      })),
    )
    // A decision already stored (a repeated job) is not acted on twice.
    .onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing())
    .returning(['id', 'key'])
    .execute();
  const idByKey = new Map(inserted.map((row) => [row.key, String(row.id)]));

  let approvals = 0;
  let dispatchWanted = false;
  const queuedWrites: Array<{ decisionId: string; write: PlannedWrite }> = [];
  for (const { decision, plan } of plans) {
    const decisionId = idByKey.get(decision.key);
    if (!decisionId) continue;
    for (const write of plan.writes) queuedWrites.push({ decisionId, write });
    if (plan.needsApproval) {
      await openApproval(tx, { workspaceId: input.workspaceId, dealId: input.dealId, decisionId, expiresAt: new Date(input.now.getTime() + DEFAULT_APPROVAL_TTL_MS) });
      approvals += 1;
    }
    // The alert and its first deliveries commit with the decision; the dispatcher sends them.
    if (decision.type === 'raise_alert') {
      const opened = await openAlert(tx, { workspaceId: input.workspaceId, dealId: input.dealId, decisionId, decision, deal: input.deal, playbook: input.playbook, now: input.now });
      if (opened?.dispatchNow) dispatchWanted = true;
    }
  }
  const writes = await enqueueDecisionWrites(tx, { workspaceId: input.workspaceId, dealId: input.dealId, writes: queuedWrites, shadow: input.shadow });
  if (plans.some(({ decision }) => stageDecisionTypes.has(decision.type))) {
    const fresh = [...idByKey.entries()].filter(([key]) => plans.some(({ decision }) => decision.key === key && decision.type === 'request_approval')).map(([, id]) => id);
    await closeObsoleteApprovals(tx, input.workspaceId, input.dealId, fresh);
  }
  return { decisions: idByKey.size, writes, approvals, flushWanted: writes > 0 && !input.shadow, dispatchWanted };
}

/** Re-evaluates deals whose time-based conditions may have changed; used by sweeps and tests. */
export async function enqueueEvaluation(db: Database | Tx, workspaceId: string, dealIds: string[], trigger: Trigger): Promise<void> {
  if (dealIds.length === 0) return;
  await sql`
    select graphile_worker.add_jobs(array(
      select row('evaluate-deal', json_build_object('workspaceId', ${workspaceId}::text, 'dealId', d, 'trigger', ${trigger}::text), null, now(), 10,
                 'evaluate:' || ${workspaceId}::text || ':' || d, null, null)::graphile_worker.job_spec
      from unnest(${dealIds}::text[]) d
    ))
  `.execute(db);
}
