import { run, type Runner } from 'graphile-worker';
import { buildTaskList } from '../../../src/worker/tasks.ts';
import { queueLogger } from '../../../src/platform/queue-logger.ts';
import type { BenchRuntime } from './runtime.ts';

export interface BenchWorker {
  runner: Runner;
  /** Completed jobs per task, and failures. */
  done: Map<string, number>;
  errors: Map<string, number>;
  firstError: string | undefined;
  stop(): Promise<void>;
}

/**
 * A real graphile-worker runner with Momentum's real task list (what the worker process runs),
 * without the cron items: the periodic pump would only add noise to a timed drain.
 */
export async function startBenchWorker(rt: BenchRuntime, concurrency: number): Promise<BenchWorker> {
  const { taskList } = buildTaskList(rt);
  const runner = await run({
    pgPool: rt.pool,
    taskList,
    concurrency,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: queueLogger(rt.logger),
  });
  const worker: BenchWorker = {
    runner,
    done: new Map(),
    errors: new Map(),
    firstError: undefined,
    async stop() {
      await runner.stop();
    },
  };
  runner.events.on('job:success', ({ job }) => worker.done.set(job.task_identifier, (worker.done.get(job.task_identifier) ?? 0) + 1));
  runner.events.on('job:error', ({ job, error }) => {
    worker.errors.set(job.task_identifier, (worker.errors.get(job.task_identifier) ?? 0) + 1);
    worker.firstError ??= `${job.task_identifier}: ${(error as Error)?.message ?? String(error)}`;
  });
  return worker;
}
