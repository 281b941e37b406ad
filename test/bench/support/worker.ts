import { EventEmitter } from 'node:events';
import type { Job } from 'graphile-worker';
import { BATCHED_TASKS, buildTaskList } from '../../../src/worker/tasks.ts';
import { startQueueWorker } from '../../../src/worker/queue-runner.ts';
import type { BenchRuntime } from './runtime.ts';

export interface BenchWorker {
  /** Completed jobs per task, and failures. */
  done: Map<string, number>;
  errors: Map<string, number>;
  firstError: string | undefined;
  stop(): Promise<void>;
}

/**
 * The worker process's queue (the same runners, batching and task list), without the cron items:
 * the periodic pump would only add noise to a timed drain.
 */
export async function startBenchWorker(rt: BenchRuntime, concurrency: number): Promise<BenchWorker> {
  const { taskList } = buildTaskList(rt);
  const events = new EventEmitter();
  const worker: BenchWorker = { done: new Map(), errors: new Map(), firstError: undefined, stop: async () => undefined };
  events.on('job:success', ({ job }: { job: Job }) => worker.done.set(job.task_identifier, (worker.done.get(job.task_identifier) ?? 0) + 1));
  events.on('job:error', ({ job, error }: { job: Job; error: unknown }) => {
    worker.errors.set(job.task_identifier, (worker.errors.get(job.task_identifier) ?? 0) + 1);
    worker.firstError ??= `${job.task_identifier}: ${(error as Error)?.message ?? String(error)}`;
  });
  const queue = await startQueueWorker({
    pool: rt.pool,
    db: rt.db,
    logger: rt.logger,
    metrics: rt.metrics,
    taskList,
    cronItems: [],
    concurrency,
    batchedTasks: BATCHED_TASKS,
    events,
  });
  worker.stop = () => queue.stop();
  return worker;
}
