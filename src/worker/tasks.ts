import { setTimeout as sleep } from 'node:timers/promises';
import { parseCronItems, type ParsedCronItem, type Task, type TaskList } from 'graphile-worker';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Runtime } from '../runtime.ts';
import { createEvaluationQueue } from '../progression/evaluation-queue.ts';
import { EVALUATE_DEAL_TASK, pumpSignals } from '../signals/pump.ts';
import { FLUSH_OUTBOX_TASK, scheduleDueFlushes, scheduleFlush } from '../writeback/outbox-store.ts';
import { flushOutbox, type FlushDeps } from '../writeback/flush-outbox.ts';
import { crmTargetFor } from '../writeback/crm-target.ts';
import { sweepDueWorkspaces } from '../progression/sweep-schedule.ts';
import { SYNC_SCHEDULE_CRON, SYNC_SCHEDULE_TASK, syncTasks } from '../sync/sync-tasks.ts';
import { peopleTasks } from '../people/people-tasks.ts';
import { alertTasks, alertCronItems } from '../alerts/alert-tasks.ts';
import { approvalJobs } from '../writeback/notify-approver.ts';

const evaluatePayload = z.object({
  workspaceId: z.string(),
  dealId: z.string(),
  trigger: z.enum(['signals', 'time', 'replay']).default('signals'),
  /** Set by sweeps that move the clock; otherwise the evaluation happens as of now. */
  asOf: z.iso.datetime({ offset: true }).optional(),
});
const flushPayload = z.object({ workspaceId: z.string() });

/** Payloads are checked first: a job may have been queued by an older version of this code. */
function task<T>(schema: z.ZodType<T>, run: (payload: T) => Promise<void>): Task {
  return async (payload) => run(schema.parse(payload));
}

export type WorkerDeps = Pick<Runtime, 'db' | 'logger' | 'metrics' | 'secretBox' | 'config'>;

/**
 * Tasks that batch their own database work: the queue runs many of them at once (their database
 * use is bounded by the batches in flight), while every other task shares `WORKER_CONCURRENCY` slots.
 */
export const BATCHED_TASKS: readonly string[] = [EVALUATE_DEAL_TASK];

/** Every job this service runs, by name, and the recurring ones. */
export function buildTaskList(runtime: WorkerDeps): { taskList: TaskList; cronItems: ParsedCronItem[] } {
  const now = () => new Date();
  // evaluate-deal jobs running at once are evaluated together, in batches (BATCHED_TASKS).
  const evaluate = createEvaluationQueue({
    db: runtime.db,
    logger: runtime.logger,
    crmFor: (ws) => crmTargetFor(runtime, ws),
    now,
    maxInFlight: runtime.config.workerConcurrency,
  });
  const taskList: TaskList = {
    [EVALUATE_DEAL_TASK]: task(evaluatePayload, async (payload) => {
      await evaluate({ workspaceId: payload.workspaceId, dealId: payload.dealId, trigger: payload.trigger, ...(payload.asOf ? { asOf: new Date(payload.asOf) } : {}) });
    }),

    [FLUSH_OUTBOX_TASK]: task(flushPayload, async ({ workspaceId }) => {
      const deps = flushJobDeps(runtime);
      const startedAt = Date.now();
      for (let round = 1; ; round += 1) {
        const result = await flushOutbox(deps, workspaceId);
        // Without a connection nothing can go out; setting one schedules the next flush.
        if (result.unconnected) return;
        // Writes keep arriving while a flush is busy: rather than end the job and wait for the
        // queue to hand out the next one, this one goes round again while its rounds are short.
        const goRoundAgain = round < MAX_ROUNDS && Date.now() - startedAt < MAX_JOB_MS;
        if (result.deferredUntil) {
          // A pause of a second or two (the end of a rate-limit window) is waited out here: a job
          // booked for later is only found by the queue's next poll, which would add up to 2 s.
          const pauseMs = result.deferredUntil.getTime() - Date.now();
          if (pauseMs <= SHORT_PAUSE_MS && goRoundAgain) {
            await sleep(Math.max(0, pauseMs));
            continue;
          }
          // Come back when the limiter or the CRM says so. The queue finds a job booked for later
          // at its next poll (every 2 s), so it is booked that much early; the flush then claims
          // its rows and waits for the slot in place.
          await scheduleFlush(runtime.db, workspaceId, new Date(result.deferredUntil.getTime() - SHORT_PAUSE_MS));
        } else if (result.more || (result.calls > 0 && goRoundAgain)) {
          if (goRoundAgain) continue;
          await scheduleFlush(runtime.db, workspaceId);
        } else {
          // Always book the next flush the remaining rows need: a flush queued for "now" replaces
          // (same job key) the one booked for a retry and may find nothing due yet, which would
          // strand them.
          await scheduleNextRetry(runtime, workspaceId, flushLeaseMs(runtime.config.crmTimeoutMs));
        }
        return;
      }
    }),

    // Every minute; each workspace is swept at its own interval (docs/alerts.md).
    sweep: async () => {
      await sweepDueWorkspaces({ db: runtime.db, logger: runtime.logger }, now());
    },

    ...alertTasks(runtime),

    // Telling an approver through a CRM task, once their approval is committed.
    ...approvalJobs(runtime),

    // Initial import and reconciliation of CRM deals (docs/sync.md).
    ...syncTasks({ db: runtime.db, logger: runtime.logger, metrics: runtime.metrics, crmFor: (ws) => crmTargetFor(runtime, ws) }),

    // The people directory read from the CRM's owners/users (docs/alerts.md).
    ...peopleTasks({ db: runtime.db, logger: runtime.logger, crmFor: (ws) => crmTargetFor(runtime, ws) }),

    // Writes due in a connected workspace with no flush waiting: a safety net after crashes.
    'flush-due': async () => {
      await scheduleDueFlushes(runtime.db);
    },

    // The web process pumps right after each webhook; this catches anything a crash left behind.
    'pump-signals': async () => {
      while ((await pumpSignals(runtime.db)).signals > 0);
    },
  };
  const cronItems = parseCronItems([
    { task: 'pump-signals', match: '* * * * *', identifier: 'pump-signals', options: { backfillPeriod: 0, queueName: 'pump' } },
    { task: 'sweep', match: '* * * * *', identifier: 'sweep', options: { backfillPeriod: 0, queueName: 'sweep' } },
    { task: 'flush-due', match: '* * * * *', identifier: 'flush-due', options: { backfillPeriod: 0 } },
    { task: SYNC_SCHEDULE_TASK, match: SYNC_SCHEDULE_CRON, identifier: SYNC_SCHEDULE_TASK, options: { backfillPeriod: 0 } },
    ...alertCronItems,
  ]);
  return { taskList, cronItems };
}

/** Rate-limit pauses a flush waits out in its job rather than booking a later one (see the task). */
const SHORT_PAUSE_MS = 2_000;
/** One flush job's bounds: it goes round again while writes are due, but not forever. */
const MAX_ROUNDS = 50;
const MAX_JOB_MS = 20_000;
const PARALLEL_CRM_CALLS = 4;

/** What the flush job gives `flushOutbox`; the benchmark flushes with the same. */
export function flushJobDeps(runtime: WorkerDeps): FlushDeps {
  const leaseMs = flushLeaseMs(runtime.config.crmTimeoutMs);
  return {
    db: runtime.db,
    logger: runtime.logger,
    metrics: runtime.metrics,
    crmFor: (ws: string) => crmTargetFor(runtime, ws),
    leaseMs,
    callWindowMs: leaseMs / 2,
    // The next slot of a full window opens within moments: wait for it holding the claimed rows.
    maxInPlaceWaitMs: SHORT_PAUSE_MS,
    // A CRM answers a batch in a few hundred ms; one call at a time could not fill its window.
    parallelCalls: PARALLEL_CRM_CALLS,
  };
}

/**
 * How long a claimed outbox row may stay `sending` before another flush takes it over (marked
 * uncertain). A flush starts no call after half of it, and each call ends within the CRM timeout,
 * so a live flush always settles in time.
 */
export const flushLeaseMs = (crmTimeoutMs: number) => Math.max(45_000, 3 * crmTimeoutMs);

/**
 * Rows waiting for their backoff (failed, or pending after a rate limit) and rows a dead worker left
 * `sending` get one flush job at the earliest moment one of them is due.
 */
async function scheduleNextRetry(runtime: WorkerDeps, workspaceId: string, leaseMs: number): Promise<void> {
  const next = await sql<{ at: Date | null }>`
    select min(case when status = 'sending' then updated_at + make_interval(secs => ${leaseMs / 1000}) else next_attempt_at end) as at
    from outbox
    where workspace_id = ${workspaceId} and status in ('pending', 'failed', 'sending')
  `.execute(runtime.db);
  const at = next.rows[0]?.at;
  if (at) await scheduleFlush(runtime.db, workspaceId, new Date(Math.max(Date.now(), new Date(at).getTime())));
}
