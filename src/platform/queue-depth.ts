import { sql } from 'kysely';
import type { Database } from './db.ts';
import type { Metrics } from './metrics.ts';

/** Waiting jobs per task, read when Prometheus scrapes (cheap: one grouped count). */
export async function sampleQueueDepth(db: Database, metrics: Metrics): Promise<void> {
  const rows = await sql<{ task: string; waiting: number }>`
    select task_identifier as task, count(*)::int as waiting from graphile_worker.jobs
    where locked_at is null and attempts < max_attempts
    group by task_identifier
  `.execute(db).then((r) => r.rows, () => []);
  metrics.queueDepth.reset();
  for (const row of rows) metrics.queueDepth.labels(row.task).set(row.waiting);
}
