import { sql } from 'kysely';
import { flushOutbox } from '../../../src/writeback/flush-outbox.ts';
import { enqueueWrites } from '../../../src/writeback/outbox-store.ts';
import { outboxKey, type PlannedWrite } from '../../../src/writeback/plan-actions.ts';
import { connectWorkspaceToHubspot, flushDeps } from '../support/connection.ts';
import { startFakeHubspot, type FakeHubspot } from '../support/fake-hubspot.ts';
import { benchRuntime, type BenchRuntime } from '../support/runtime.ts';
import type { Row, Scenario } from '../support/scenario.ts';
import { round, sleep } from '../support/stats.ts';

const WINDOW_CALLS = 100;
const WINDOW_MS = 10_000;
const STAGES = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent'];

const stageWrite = (key: string, stageId: string): PlannedWrite => ({
  kind: 'deal_update',
  idempotencyKey: outboxKey(key, 'stage'),
  payload: { fields: { stage: { pipelineId: 'default', stageId } } },
});

/** How much before `deferredUntil` the flush job is picked up at the latest (one queue poll). */
const FLUSH_EARLY_MS = 1_000;

/** Flushes like the flush-outbox job does, sleeping until `deferredUntil` instead of rescheduling. */
async function flushUntilDrained(rt: BenchRuntime, workspaceId: string, timeoutMs: number): Promise<{ ms: number; deferrals: number; drained: boolean }> {
  const deps = flushDeps(rt);
  const t0 = performance.now();
  let deferrals = 0;
  while (performance.now() - t0 < timeoutMs) {
    const result = await flushOutbox(deps, workspaceId);
    if (result.deferredUntil) {
      deferrals += 1;
      // Early, as the job is booked: the flush claims its rows and waits for the slot in place.
      await sleep(result.deferredUntil.getTime() - FLUSH_EARLY_MS - Date.now());
      continue;
    }
    if (result.more) continue;
    const left = await sql<{ n: number }>`select count(*)::int as n from outbox where workspace_id = ${workspaceId} and status in ('pending', 'failed', 'sending')`.execute(rt.db);
    if (left.rows[0]!.n === 0) return { ms: performance.now() - t0, deferrals, drained: true };
    await sleep(100);
  }
  return { ms: performance.now() - t0, deferrals, drained: false };
}

/** Changes arrive round after round (each deal changes stage once per round), in parallel transactions. */
async function queueStageChanges(rt: BenchRuntime, workspaceId: string, deals: number, changes: number): Promise<void> {
  const rounds = Math.ceil(changes / deals);
  for (let r = 0; r < rounds; r += 1) {
    const ids = Array.from({ length: Math.min(deals, changes - r * deals) }, (_, i) => String(5_000_000 + i));
    const slices = [0, 1, 2, 3].map((s) => ids.filter((_, i) => i % 4 === s));
    await Promise.all(
      slices.map((slice) =>
        rt.db.transaction().execute(async (tx) => {
          for (const dealId of slice) {
            await enqueueWrites(tx, { workspaceId, dealId, decisionId: null, writes: [stageWrite(`bench:${dealId}:${r}`, STAGES[r % STAGES.length]!)], shadow: false });
          }
        }),
      ),
    );
  }
}

/** One change per distinct deal, so nothing can coalesce: pure backlog against the rate ceiling. */
async function queueDistinctChanges(rt: BenchRuntime, workspaceId: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 5000) {
    const rows = Array.from({ length: Math.min(5000, count - start) }, (_, i) => {
      const dealId = String(6_000_000 + start + i);
      const write = stageWrite(`bench:${dealId}:distinct`, 'contractsent');
      return { deal_id: dealId, key: write.idempotencyKey, payload: write.payload };
    });
    // The rows enqueueWrites would make, inserted in bulk to keep setup short.
    await sql`
      insert into outbox (workspace_id, deal_id, kind, idempotency_key, payload, status)
      select ${workspaceId}, r.deal_id, 'deal_update', r.key, r.payload, 'pending'
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(deal_id text, key text, payload jsonb)
    `.execute(rt.db);
  }
}

async function coalescingRun(rt: BenchRuntime, fake: FakeHubspot, quick: boolean): Promise<Row[]> {
  const ws = 'bench-writeback-burst';
  await connectWorkspaceToHubspot(rt, ws, fake.url);
  const deals = 2000;
  const changes = 10_000;
  await queueStageChanges(rt, ws, deals, changes);
  fake.reset();
  const run = await flushUntilDrained(rt, ws, quick ? 60_000 : 120_000);
  const calls = fake.stats.dealBatchCalls;
  const statuses = await sql<{ status: string; n: number }>`select status, count(*)::int as n from outbox where workspace_id = ${ws} group by status`.execute(rt.db);
  const byStatus = Object.fromEntries(statuses.rows.map((r) => [r.status, r.n]));
  return [
    { metric: 'burst: changes queued / deals', value: changes, unit: `changes / ${deals} deals` },
    { metric: 'burst: records sent to HubSpot', value: fake.stats.dealRecords, unit: 'records', note: `outbox after flush: ${JSON.stringify(byStatus)}` },
    { metric: 'burst: API calls', value: calls, unit: 'calls' },
    { metric: 'burst: changes per API call', value: round(changes / Math.max(calls, 1)), unit: 'changes/call', target: { op: '>=', value: 50 } },
    { metric: 'burst: records per API call', value: round(fake.stats.dealRecords / Math.max(calls, 1)), unit: 'records/call' },
    { metric: 'burst: 429 answers', value: fake.stats.rateLimited, unit: '', target: { op: '<=', value: 0 } },
    { metric: 'burst: drain time', value: round(run.ms / 1000, 2), unit: 's', note: run.drained ? `${run.deferrals} limiter deferrals` : 'NOT drained within the bound' },
  ];
}

async function backlogRun(rt: BenchRuntime, fake: FakeHubspot, quick: boolean): Promise<Row[]> {
  const ws = 'bench-writeback-backlog';
  await connectWorkspaceToHubspot(rt, ws, fake.url);
  // Enough calls to need 2 (quick) or 3 full windows.
  const count = quick ? 12_000 : 25_000;
  await queueDistinctChanges(rt, ws, count);
  fake.reset();
  const run = await flushUntilDrained(rt, ws, quick ? 60_000 : 120_000);
  const accepted = fake.stats.acceptedAt;
  const calls = accepted.length;
  const spanMs = calls > 1 ? accepted.at(-1)! - accepted[0]! : Number.NaN;
  // Under a rolling window of 100 calls per 10 s, call k (0-based) can start no earlier than ⌊k/100⌋·10 s.
  const idealMs = Math.floor((calls - 1) / WINDOW_CALLS) * WINDOW_MS;
  return [
    { metric: 'backlog: changes queued (distinct deals)', value: count, unit: 'changes' },
    { metric: 'backlog: API calls', value: calls, unit: 'calls', note: `${fake.stats.dealRecords} records; drained in ${round(run.ms / 1000, 2)} s${run.drained ? '' : ' (NOT drained within the bound)'}` },
    { metric: 'backlog: 429 answers', value: fake.stats.rateLimited, unit: '', target: { op: '<=', value: 0 } },
    { metric: 'backlog: first→last call', value: round(spanMs / 1000, 2), unit: 's', note: `the ceiling (100 calls / rolling 10 s) allows ${idealMs / 1000} s at best` },
    { metric: 'backlog: throughput vs rate ceiling', value: round((idealMs / spanMs) * 100, 1), unit: '%', target: { op: '>=', value: 95 } },
    { metric: 'backlog: records/s while backlogged', value: Math.round((fake.stats.dealRecords / spanMs) * 1000), unit: '/s' },
  ];
}

export const writebackScenario: Scenario = {
  name: 'writeback',
  description: 'Outbox flush to a local fake HubSpot (100 calls / rolling 10 s, 429 beyond): coalescing, batching, 429s, throughput vs the ceiling',
  async run(ctx) {
    const database = await ctx.createDatabase('writeback', 8);
    const rt = benchRuntime(database);
    const fake = await startFakeHubspot({ perWindow: WINDOW_CALLS, windowMs: WINDOW_MS });
    try {
      const burst = await coalescingRun(rt, fake, ctx.quick);
      ctx.log(`burst: ${burst.map((r) => `${r.metric.replace('burst: ', '')}=${r.value}`).join(', ')}`);
      // Let the first run's calls leave the rolling window so the backlog starts from an empty one.
      await sleep(WINDOW_MS + 500);
      const backlog = await backlogRun(rt, fake, ctx.quick);
      return [...burst, ...backlog];
    } finally {
      await fake.close();
      await database.close();
    }
  },
};
