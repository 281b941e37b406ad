import { EventEmitter } from 'node:events';
import os from 'node:os';
import { run, type Runner, type TaskList, type ParsedCronItem, type WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { queueLogger } from '../platform/queue-logger.ts';
import { recordHeartbeat, releaseJobsOfDeadWorkers, removeHeartbeat } from './worker-heartbeats.ts';

export interface QueueWorker {
  isRunning(): boolean;
  stop(): Promise<void>;
  /** Resolves when the runner ends on its own and could not be restarted (e.g. the database stayed away). */
  finished: Promise<void>;
}

export interface QueueWorkerOptions {
  pool: pg.Pool;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  taskList: TaskList;
  cronItems: ParsedCronItem[];
  concurrency: number;
  /** How often this worker says it is alive, and after how long a silent worker counts as dead. */
  heartbeatIntervalMs?: number;
  deadAfterMs?: number;
  /** In-process restarts in a row before giving up and letting the process supervisor take over. */
  maxRestarts?: number;
  /**
   * Tasks that batch their own database work (see BATCHED_TASKS in tasks.ts). They get a runner of
   * their own with many more job slots than `concurrency`, so enough of them run at once to form
   * batches, and they never take the slots of the other tasks.
   */
  batchedTasks?: readonly string[];
  /** Receives the runners' job:success and job:error events (benchmarks count jobs with it). */
  events?: EventEmitter;
}

/** Job slots of the batched runner per unit of `concurrency`. */
const BATCHED_SLOTS_PER_CONCURRENCY = 16;

/** Wraps each task so durations and failures reach the metrics without every task repeating it. */
function instrument(taskList: TaskList, metrics: Metrics): TaskList {
  return Object.fromEntries(
    Object.entries(taskList).map(([name, task]) => [
      name,
      async (payload, helpers) => {
        const end = metrics.jobDuration.startTimer({ task: name });
        try {
          await task!(payload, helpers);
          end({ outcome: 'ok' });
        } catch (error) {
          end({ outcome: 'error' });
          throw error;
        }
      },
    ]),
  ) as TaskList;
}


/**
 * Runs the queue: a runner for the batched tasks and one for every other task (and the recurring
 * ones), each kept alive by superviseRunner. The worker stops when either cannot be kept alive.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const batched = new Set(options.batchedTasks ?? []);
  const pick = (wanted: boolean) => Object.fromEntries(Object.entries(options.taskList).filter(([name]) => batched.has(name) === wanted)) as TaskList;
  const regular = await superviseRunner({ ...options, taskList: pick(false) }, { name: 'regular' });
  if (batched.size === 0) return regular;
  const slots = options.concurrency * BATCHED_SLOTS_PER_CONCURRENCY;
  const batchedRunner = await superviseRunner(
    { ...options, taskList: pick(true), cronItems: [], concurrency: slots },
    // Jobs are fetched and completed in bulk: one query per many jobs instead of two per job.
    { name: 'batched', preset: { worker: { localQueue: { size: slots }, completeJobBatchDelay: 0 } } },
  ).catch(async (error: unknown) => {
    await regular.stop();
    throw error;
  });
  return combineWorkers([regular, batchedRunner]);
}

function combineWorkers(workers: QueueWorker[]): QueueWorker {
  return {
    isRunning: () => workers.every((w) => w.isRunning()),
    // The process cannot do its work with either runner gone for good: let its supervisor restart it.
    finished: Promise.race(workers.map((w) => w.finished)),
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

/**
 * Runs graphile-worker with two safety nets it lacks:
 * - a runner that ends on its own (it shuts itself down when it cannot record a job's outcome,
 *   e.g. while the database restarts) is started again in this process, with backoff;
 * - a heartbeat row per runner, and a periodic release of the jobs locked by runners whose
 *   heartbeat went quiet (a process killed with SIGKILL), instead of graphile-worker's 4 hours.
 */
async function superviseRunner(options: QueueWorkerOptions, kind: { name: string; preset?: GraphileConfig.Preset }): Promise<QueueWorker> {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
  const deadAfterMs = options.deadAfterMs ?? 30_000;
  const maxRestarts = options.maxRestarts ?? 10;
  const log = options.logger.child({ component: 'queue-runner', runner: kind.name });
  const taskList = instrument(options.taskList, options.metrics);

  let stopping = false;
  let current: { runner: Runner; id: string } | undefined;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  // Waits out a restart delay, or less if we are asked to stop meanwhile.
  const pause = (ms: number) => Promise.race([stopped, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);

  async function startRunner(): Promise<{ runner: Runner; id: string }> {
    const events = new EventEmitter() as WorkerEvents;
    let id: string | undefined;
    events.on('pool:create', ({ workerPool }) => {
      id = workerPool.id;
    });
    if (options.events) {
      const external = options.events;
      events.on('job:success', (event) => external.emit('job:success', event));
      events.on('job:error', (event) => external.emit('job:error', event));
    }
    const runner = await run({
      pgPool: options.pool,
      taskList,
      parsedCronItems: options.cronItems,
      concurrency: options.concurrency,
      noHandleSignals: true,
      logger: queueLogger(options.logger),
      pollInterval: 2000,
      events,
      ...(kind.preset ? { preset: kind.preset } : {}),
    });
    if (!id) throw new Error('graphile-worker started without announcing its worker pool');
    const started = { runner, id };
    // Announce ourselves at once: a job we lock before our first heartbeat is safe anyway (jobs
    // younger than deadAfterMs are never released), but the sooner the better.
    await recordHeartbeat(options.db, { id, pid: process.pid, host: os.hostname() }).catch(() => undefined);
    return started;
  }

  // The loop that keeps a runner alive; it settles only on stop() or when restarts are exhausted.
  async function supervise(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      if (!current) {
        try {
          current = await startRunner();
          log.info({ workerId: current.id }, 'queue runner started');
          if (stopping) await current.runner.stop();
        } catch (error) {
          failures += 1;
          if (failures > maxRestarts) {
            log.error({ err: error }, 'the queue runner cannot start; giving up');
            return;
          }
          const delay = Math.min(30_000, 500 * 2 ** failures);
          log.warn({ err: error, retryInMs: delay }, 'could not start the queue runner; retrying');
          await pause(delay);
          continue;
        }
      }
      const { runner, id } = current;
      const startedAt = Date.now();
      await runner.promise.then(
        () => undefined,
        (error: unknown) => log.error({ err: error, workerId: id }, 'queue runner stopped with an error'),
      );
      current = undefined;
      if (stopping) {
        await removeHeartbeat(options.db, id).catch(() => undefined);
        return;
      }
      // Its jobs are no longer running anywhere: free them now rather than after the dead-worker delay.
      await options.pool.query('select graphile_worker.force_unlock_workers($1::text[])', [[id]]).catch(() => undefined);
      failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
      if (failures > maxRestarts) {
        log.error({ workerId: id }, 'the queue runner keeps stopping; giving up');
        return;
      }
      const delay = Math.min(30_000, 500 * 2 ** failures);
      log.warn({ workerId: id, restartInMs: delay }, 'the queue runner stopped on its own; restarting it');
      await pause(delay);
    }
  }

  let beating: NodeJS.Timeout | undefined;
  async function heartbeat(): Promise<void> {
    try {
      if (current) await recordHeartbeat(options.db, { id: current.id, pid: process.pid, host: os.hostname() });
      const released = await releaseJobsOfDeadWorkers(options.db, { staleAfterMs: deadAfterMs });
      if (released.length > 0) log.warn({ workers: released }, 'released the jobs of queue workers that stopped sending heartbeats');
    } catch (error) {
      log.warn({ err: error }, 'heartbeat failed; trying again');
    } finally {
      if (!stopping) beating = setTimeout(() => void heartbeat(), heartbeatIntervalMs);
    }
  }

  current = await startRunner();
  log.info({ workerId: current.id }, 'queue runner started');
  const finished = supervise().finally(() => {
    clearTimeout(beating);
  });
  beating = setTimeout(() => void heartbeat(), heartbeatIntervalMs);

  return {
    isRunning: () => current !== undefined && !stopping,
    finished,
    async stop() {
      if (stopping) return;
      stopping = true;
      wake();
      clearTimeout(beating);
      await current?.runner.stop();
      await finished;
    },
  };
}
