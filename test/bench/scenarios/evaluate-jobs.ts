import { sql } from 'kysely';
import { pumpSignals } from '../../../src/signals/pump.ts';
import { putWorkspace } from '../../../src/workspaces/workspaces-dal.ts';
import { insertFollowUpSignals, insertRealisticDeals } from '../support/deals.ts';
import { benchRuntime, type BenchRuntime } from '../support/runtime.ts';
import type { Row, Scenario } from '../support/scenario.ts';
import { round, waitFor } from '../support/stats.ts';
import { startBenchWorker } from '../support/worker.ts';

const WORKSPACE = 'bench-evaluate';
const CONCURRENCY = 8;

async function pumpAll(rt: BenchRuntime): Promise<{ ms: number; deals: number }> {
  const t0 = performance.now();
  let deals = 0;
  for (;;) {
    const pumped = await pumpSignals(rt.db);
    deals += pumped.deals;
    if (pumped.signals === 0) break;
  }
  return { ms: performance.now() - t0, deals };
}

/** Runs a real worker until `expected` evaluate-deal jobs completed; returns the drain time. */
async function drain(rt: BenchRuntime, expected: number, timeoutMs: number) {
  const worker = await startBenchWorker(rt, CONCURRENCY);
  const t0 = performance.now();
  const finished = await waitFor(() => (worker.done.get('evaluate-deal') ?? 0) + (worker.errors.get('evaluate-deal') ?? 0) >= expected, timeoutMs, 20);
  const ms = performance.now() - t0;
  await worker.stop();
  return { ms, finished, completed: worker.done.get('evaluate-deal') ?? 0, errors: worker.errors.get('evaluate-deal') ?? 0, firstError: worker.firstError };
}

export const evaluateJobsScenario: Scenario = {
  name: 'evaluate-jobs',
  description: 'evaluate-deal jobs end to end (load deal + ≈50 signals, decide, store) through a real graphile-worker, concurrency 8',
  async run(ctx) {
    // graphile-worker runs its own queries (fetch, complete, LISTEN) on the same pool as the tasks'
    // transactions; with too few spare connections its batched completion can time out.
    const database = await ctx.createDatabase('evaluate_jobs', CONCURRENCY * 2 + 4);
    const rt = benchRuntime(database);
    try {
      const count = ctx.quick ? 1000 : 2000;
      await putWorkspace(rt.db, { id: WORKSPACE, name: 'Bench evaluate', mode: 'live' });
      const { dealIds, signals } = await insertRealisticDeals(rt.db, WORKSPACE, count);
      await sql`analyze`.execute(rt.db);
      const pumped = await pumpAll(rt);
      ctx.log(`${count} deals, ${signals} signals inserted; pump made ${pumped.deals} jobs in ${Math.round(pumped.ms)} ms`);

      const first = await drain(rt, count, ctx.quick ? 60_000 : 180_000);
      // A drain cut off by its bound still says how fast jobs went; only a queue that made no progress is an error.
      if (first.completed === 0) throw new Error(`no evaluate-deal job completed in ${Math.round(first.ms)} ms (${first.firstError ?? 'no error'})`);
      ctx.log(`first evaluations: ${Math.round((first.completed / first.ms) * 1000)} deals/s`);

      const stored = await sql<{ decisions: number; outbox: number; deals: number }>`
        select (select count(*)::int from decisions) as decisions, (select count(*)::int from outbox) as outbox, (select count(*)::int from deals) as deals
      `.execute(rt.db);
      const counts = stored.rows[0]!;

      const followUps = await insertFollowUpSignals(rt.db, WORKSPACE, dealIds, 2);
      await pumpAll(rt);
      const second = await drain(rt, count, ctx.quick ? 60_000 : 180_000);
      if (second.completed === 0) throw new Error(`no re-evaluation completed in ${Math.round(second.ms)} ms (${second.firstError ?? 'no error'})`);
      ctx.log(`re-evaluations: ${Math.round((second.completed / second.ms) * 1000)} deals/s`);

      const rows: Row[] = [
        { metric: 'deals × signals per deal', value: count, unit: `deals × ${round(signals / count)}` },
        {
          metric: 'deals/s, first evaluation (≈50 signals each)',
          value: Math.round((first.completed / first.ms) * 1000),
          unit: '/s',
          target: { op: '>=', value: 1000 },
          note: `${first.completed} of ${count} jobs done in ${round(first.ms / 1000, 2)} s${first.finished ? '' : ' (NOT drained within the bound)'}; ${counts.decisions} decisions and ${counts.outbox} outbox rows stored; ${first.errors} job errors${first.firstError ? ` (${first.firstError})` : ''}`,
        },
        {
          metric: 'deals/s, re-evaluation (2 new signals each)',
          value: Math.round((second.completed / second.ms) * 1000),
          unit: '/s',
          target: { op: '>=', value: 1000 },
          note: `${second.completed} of ${count} jobs done in ${round(second.ms / 1000, 2)} s${second.finished ? '' : ' (NOT drained within the bound)'}; ${followUps} follow-up signals; ${second.errors} job errors`,
        },
        { metric: 'pump: signals → jobs', value: Math.round((signals / pumped.ms) * 1000), unit: 'signals/s', note: `${signals} signals into ${pumped.deals} jobs in ${Math.round(pumped.ms)} ms` },
      ];
      return rows;
    } finally {
      await database.close();
    }
  },
};
