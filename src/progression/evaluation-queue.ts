import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { CrmTarget } from '../writeback/flush-outbox.ts';
import { createMicroBatcher } from '../worker/micro-batcher.ts';
import { createJobNudger } from '../worker/job-nudger.ts';
import { ensureFlushScheduled } from '../writeback/outbox-store.ts';
import { ensureDispatchScheduled } from '../alerts/alert-jobs.ts';
import { hydrateUnseenDeals } from './hydrate-deal.ts';
import { evaluateDeals, type EvaluationRequest, type EvaluationSummary } from './evaluate-deal.ts';
import { dealKeyOf } from './evaluation-load.ts';

export interface EvaluationQueueDeps {
  db: Database;
  logger: Logger;
  crmFor(workspaceId: string): Promise<CrmTarget | undefined>;
  now: () => Date;
  /** Batches in flight at once: each holds one database connection. */
  maxInFlight: number;
}

/** Deals per evaluation transaction: large enough to amortize it, small enough to hold locks briefly. */
const MAX_BATCH = 25;

/**
 * Where evaluate-deal jobs hand their deal: evaluations requested together (the queue runs many
 * such jobs at once) are done as one batch (see evaluateDeals). Unseen deals are first read from
 * the CRM; after the commit, the outbox flush and the alert dispatch the batch calls for are asked
 * for once per workspace. If a batch fails, its deals are retried one by one, so one bad deal
 * fails only its own job.
 */
export function createEvaluationQueue(deps: EvaluationQueueDeps): (request: EvaluationRequest) => Promise<EvaluationSummary> {
  const nudgeFlush = createJobNudger((ws) => ensureFlushScheduled(deps.db, ws));
  const nudgeDispatch = createJobNudger((ws) => ensureDispatchScheduled(deps.db, ws));
  const evaluationDeps = { db: deps.db, logger: deps.logger, now: deps.now };

  async function evaluateAndNudge(requests: EvaluationRequest[]): Promise<EvaluationSummary[]> {
    await hydrateUnseenDeals({ db: deps.db, logger: deps.logger, crmFor: deps.crmFor, now: deps.now }, requests);
    const summaries = await evaluateDeals(evaluationDeps, requests);
    const flushes = new Set<string>();
    const dispatches = new Set<string>();
    requests.forEach((r, i) => {
      if (summaries[i]!.flushWanted) flushes.add(r.workspaceId);
      if (summaries[i]!.dispatchWanted) dispatches.add(r.workspaceId);
    });
    await Promise.all([...[...flushes].map(nudgeFlush), ...[...dispatches].map(nudgeDispatch)]);
    return summaries;
  }

  return createMicroBatcher<EvaluationRequest, EvaluationSummary>({
    keyOf: dealKeyOf,
    maxBatch: MAX_BATCH,
    maxInFlight: deps.maxInFlight,
    async run(requests) {
      try {
        const summaries = await evaluateAndNudge(requests);
        return summaries.map((value) => ({ status: 'fulfilled', value }));
      } catch (error) {
        if (requests.length === 1) return [{ status: 'rejected', reason: error }];
        deps.logger.warn({ err: error, deals: requests.length }, 'an evaluation batch failed; evaluating its deals one by one');
        const outcomes: Array<PromiseSettledResult<EvaluationSummary>> = [];
        for (const request of requests) {
          outcomes.push(
            await evaluateAndNudge([request]).then(
              ([value]) => ({ status: 'fulfilled', value: value! }) as const,
              (reason: unknown) => ({ status: 'rejected', reason }) as const,
            ),
          );
        }
        return outcomes;
      }
    },
  });
}
