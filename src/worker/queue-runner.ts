import { run, type Runner, type TaskList, type ParsedCronItem } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { queueLogger } from '../platform/queue-logger.ts';

export interface QueueWorker {
  isRunning(): boolean;
  stop(): Promise<void>;
  /** Resolves when the runner ends on its own (e.g. it lost the database and gave up). */
  finished: Promise<void>;
}

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

export async function startQueueWorker(options: {
  pool: pg.Pool;
  logger: Logger;
  metrics: Metrics;
  taskList: TaskList;
  cronItems: ParsedCronItem[];
  concurrency: number;
}): Promise<QueueWorker> {
  let running = true;
  const runner: Runner = await run({
    pgPool: options.pool,
    taskList: instrument(options.taskList, options.metrics),
    parsedCronItems: options.cronItems,
    concurrency: options.concurrency,
    noHandleSignals: true,
    logger: queueLogger(options.logger),
    pollInterval: 2000,
  });
  const finished = runner.promise.then(
    () => undefined,
    (error: unknown) => options.logger.error({ err: error }, 'queue worker stopped with an error'),
  ).finally(() => {
    running = false;
  });
  return {
    isRunning: () => running,
    finished,
    async stop() {
      if (!running) return;
      await runner.stop();
      await finished;
    },
  };
}
