import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { evaluateDeal } from '../engine/evaluate.ts';
import type { DealState, Trigger } from '../engine/types.ts';
import { loadSignalsOfDeals } from '../signals/signal-store.ts';
import { cachedPlaybookVersion, currentPlaybook, type StoredPlaybook } from './playbook-store.ts';
import { loadRoutingDirectory, type RoutingDirectory } from '../routing/routing-store.ts';
import { dealKeyOf, loadWorkspaceFacts, lockDeals, type WorkspaceFacts } from './evaluation-load.ts';
import { nothingDecided, settleRoutedOwners, storeDecisions, updateDealRows, type EvaluatedDeal, type EvaluationSummary } from './evaluation-store.ts';

export type { EvaluationSummary } from './evaluation-store.ts';

export interface EvaluateDealDeps {
  db: Database;
  logger: Logger;
  now: () => Date;
}

export interface EvaluationRequest {
  workspaceId: string;
  dealId: string;
  trigger: Trigger;
  /** Evaluate as of this instant (sweeps that move the clock); otherwise `deps.now()`. */
  asOf?: Date;
}

/**
 * Loads deals and their signals, runs the engine on each, and stores the decisions, the new deal
 * states and the actions they call for, in one transaction. The deal rows are locked for the whole
 * of it, so two workers never evaluate the same deal at once; the second waits and then sees the
 * first's state. A batch is what keeps the cost per deal low under load: every step is one
 * statement for all of its deals. Requests must name distinct deals. The caller schedules the flush
 * of queued writes and the dispatch of due alerts after the commit (see the summaries).
 */
export async function evaluateDeals(deps: EvaluateDealDeps, requests: readonly EvaluationRequest[]): Promise<EvaluationSummary[]> {
  if (requests.length === 0) return [];
  return deps.db.transaction().execute(async (tx) => {
    const workspaces = await loadWorkspaceFacts(tx, [...new Set(requests.map((r) => r.workspaceId))]);
    // A workspace deleted since the job was queued has nothing left to evaluate.
    const live = requests.filter((r) => workspaces.has(r.workspaceId));
    if (live.length === 0) return requests.map(() => nothingDecided);
    const states = await lockDeals(tx, live, workspaces);
    const signals = await loadSignalsOfDeals(tx, live);
    const context = new WorkspaceContext(tx, workspaces);

    const evaluated: EvaluatedDeal[] = [];
    const batchNow = deps.now();
    for (const request of live) {
      const now = request.asOf ?? batchNow;
      const facts = workspaces.get(request.workspaceId)!;
      const playbook = await context.playbook(request.workspaceId);
      const routing = await context.routing(request.workspaceId, playbook, now);
      const result = evaluateDeal({
        deal: states.get(dealKeyOf(request))!,
        signals: signals.get(dealKeyOf(request))!,
        playbook: playbook.compiled,
        playbookVersion: String(playbook.version),
        now,
        trigger: request.trigger,
        owners: routing?.facts,
        ...(facts.connectedAt ? { options: { connectedAt: facts.connectedAt } } : {}),
      });
      evaluated.push({
        workspaceId: request.workspaceId,
        dealId: request.dealId,
        trigger: request.trigger,
        now,
        shadow: facts.mode === 'shadow',
        state: result.nextState,
        closed: isClosed(playbook, result.nextState),
        playbook: playbook.playbook,
        playbookVersion: playbook.version,
        decisions: result.decisions,
        routing,
      });
    }

    await updateDealRows(tx, evaluated);
    await settleRoutedOwners(tx, evaluated);
    const summaries = await storeDecisions(tx, evaluated);
    const byDeal = new Map(evaluated.map((deal, i) => [dealKeyOf(deal), summaries[i]!]));
    for (const [key, summary] of byDeal) if (summary.decisions > 0) deps.logger.debug({ deal: key, ...summary }, 'deal evaluated');
    return requests.map((r) => byDeal.get(dealKeyOf(r)) ?? nothingDecided);
  });
}

/** One deal, on its own (tests, replays of one deal). */
export async function evaluateDealNow(deps: EvaluateDealDeps, request: EvaluationRequest): Promise<EvaluationSummary> {
  const [summary] = await evaluateDeals(deps, [request]);
  return summary!;
}

/** Per-workspace inputs of a batch, read once per workspace. */
class WorkspaceContext {
  private readonly playbooks = new Map<string, StoredPlaybook>();
  private readonly directories = new Map<string, RoutingDirectory | undefined>();
  private readonly tx: Tx;
  private readonly workspaces: Map<string, WorkspaceFacts>;

  constructor(tx: Tx, workspaces: Map<string, WorkspaceFacts>) {
    this.tx = tx;
    this.workspaces = workspaces;
  }

  async playbook(workspaceId: string): Promise<StoredPlaybook> {
    let playbook = this.playbooks.get(workspaceId);
    if (!playbook) {
      const version = this.workspaces.get(workspaceId)!.playbookVersion;
      playbook = (version === null ? undefined : await cachedPlaybookVersion(this.tx, workspaceId, version)) ?? (await currentPlaybook(this.tx, workspaceId));
      this.playbooks.set(workspaceId, playbook);
    }
    return playbook;
  }

  /** Availability depends on the clock, so a batch mixing instants reads the directory per instant. */
  async routing(workspaceId: string, playbook: StoredPlaybook, now: Date): Promise<RoutingDirectory | undefined> {
    const key = `${workspaceId}@${now.getTime()}`;
    if (!this.directories.has(key)) {
      this.directories.set(key, await loadRoutingDirectory(this.tx, workspaceId, playbook.compiled.playbook.alerting, now.getTime()));
    }
    return this.directories.get(key);
  }
}

function isClosed(playbook: StoredPlaybook, state: DealState): boolean {
  if (state.deleted) return true;
  return state.stage !== null && playbook.compiled.stageByKey.get(state.stage)?.stage.closed !== undefined;
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
