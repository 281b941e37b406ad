import { runOnce } from 'graphile-worker';
import type { TestApp } from './app.ts';
import { buildTaskList } from '../../src/worker/tasks.ts';
import { pumpSignals } from '../../src/signals/pump.ts';
import { queueLogger } from '../../src/platform/queue-logger.ts';

/**
 * Drains the queue the way a worker process would, with the real task list: pump signals into
 * evaluation jobs, then run every job that is due (jobs may queue more; loop until none are left).
 */
export async function drainQueue(t: TestApp, rounds = 5): Promise<void> {
  const { taskList } = buildTaskList({ db: t.db, logger: t.deps.logger, metrics: t.deps.metrics, secretBox: t.deps.secretBox, config: t.config });
  for (let round = 0; round < rounds; round += 1) {
    await t.pump.idle();
    await pumpSignals(t.db);
    await runOnce({ pgPool: t.pool, taskList, logger: queueLogger(t.deps.logger) });
  }
}
