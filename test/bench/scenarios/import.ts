import { sql } from 'kysely';
import { runImport, type ImportProgress } from '../../../src/sync/import-deals.ts';
import { requestImport } from '../../../src/sync/sync-store.ts';
import { connectWorkspaceToHubspot, flushDeps } from '../support/connection.ts';
import { startFakeHubspot } from '../support/fake-hubspot.ts';
import { benchRuntime } from '../support/runtime.ts';
import type { Row, Scenario } from '../support/scenario.ts';
import { round } from '../support/stats.ts';

const WORKSPACE = 'bench-import';
const WINDOW_CALLS = 100;
const WINDOW_MS = 10_000;
/** Without activities a page of 100 deals costs a search and a contact association read. */
const CALLS_PER_PAGE = 2;
const PAGE = 100;

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const heapMb = () => Math.round(process.memoryUsage().heapUsed / 2 ** 20);

export const importScenario: Scenario = {
  name: 'import',
  description: 'Initial import of 100,000 open deals (10,000 with --quick) from a fake HubSpot enforcing 100 calls / rolling 10 s: rate vs the ceiling, 429s, memory',
  async run(ctx) {
    const count = ctx.quick ? 10_000 : 100_000;
    const database = await ctx.createDatabase('import', 6);
    const rt = benchRuntime(database);
    const fake = await startFakeHubspot({ perWindow: WINDOW_CALLS, windowMs: WINDOW_MS, openDeals: count });
    try {
      await connectWorkspaceToHubspot(rt, WORKSPACE, fake.url);
      await requestImport(rt.db, WORKSPACE, { reason: 'bench', activityDays: 0 });
      fake.reset();

      const samples: { at: number; deals: number; rss: number; heap: number }[] = [];
      let lastLog = 0;
      const rssBefore = rssMb();
      const t0 = performance.now();
      const outcome = await runImport({ db: rt.db, logger: rt.logger, metrics: rt.metrics, crmFor: flushDeps(rt).crmFor }, WORKSPACE, {
        onProgress: (p: ImportProgress) => {
          const at = performance.now() - t0;
          samples.push({ at, deals: p.deals, rss: rssMb(), heap: heapMb() });
          if (at - lastLog > 20_000) {
            lastLog = at;
            ctx.log(`${p.deals}/${p.total ?? '?'} deals after ${round(at / 1000, 1)} s, RSS ${rssMb()} MB`);
          }
        },
      });
      const ms = performance.now() - t0;
      if (outcome.status !== 'completed') throw new Error(`import ended ${outcome.status}: ${JSON.stringify(outcome)}`);
      const deals = outcome.progress.deals;

      // Call k (0-based) of a rolling 100-per-10-s window can start no earlier than ⌊k/100⌋·10 s;
      // the ceiling is the time the calls this import needs take at that pace (plus a page's own time).
      const accepted = fake.stats.acceptedAt;
      const calls = accepted.length;
      const idealMs = Math.floor((calls - 1) / WINDOW_CALLS) * WINDOW_MS;
      const spanMs = accepted.at(-1)! - accepted[0]!;
      const ceilingRate = (WINDOW_CALLS / CALLS_PER_PAGE) * PAGE / (WINDOW_MS / 1000);
      const rate = (deals / ms) * 1000;

      // Memory: the first pages warm caches and pools; flat means no growth from a tenth of the way on.
      const settled = samples.filter((s) => s.deals >= deals / 10);
      const rssSettled = settled[0]?.rss ?? rssBefore;
      const rssMax = Math.max(...samples.map((s) => s.rss));
      const rssEnd = samples.at(-1)?.rss ?? rssBefore;
      const heaps = settled.map((s) => s.heap);
      const heapNote = `JS heap in use after the first tenth: min ${Math.min(...heaps)} MB, max ${Math.max(...heaps)} MB, end ${heaps.at(-1)} MB`;
      const stored = await sql<{ signals: number; deals: number; jobs: number }>`
        select (select count(*)::int from signals where workspace_id = ${WORKSPACE}) as signals,
               (select count(distinct deal_id)::int from signals where workspace_id = ${WORKSPACE}) as deals,
               (select count(*)::int from graphile_worker._private_jobs) as jobs
      `.execute(rt.db);
      const s = stored.rows[0]!;

      const rows: Row[] = [
        { metric: 'open deals imported', value: deals, unit: 'deals', note: `${outcome.progress.pages} pages, ${outcome.progress.signals} signals stored for ${s.deals} deals (${s.signals} signal rows), ${s.jobs} jobs queued; calls by route: ${JSON.stringify(fake.stats.byRoute)}` },
        { metric: 'import time', value: round(ms / 1000, 1), unit: 's', note: `the ceiling allows ${round((deals / ceilingRate), 1)} s for ${deals} deals at ${CALLS_PER_PAGE} calls per page` },
        { metric: 'deals/s vs the ceiling (500/s)', value: Math.round(rate), unit: '/s', note: `${round((rate / ceilingRate) * 100, 1)} % of ${ceilingRate}/s` },
        { metric: 'throughput vs rate ceiling', value: round((rate / ceilingRate) * 100, 1), unit: '%', target: { op: '>=', value: 90 } },
        { metric: 'API calls first→last vs ideal', value: round((idealMs / spanMs) * 100, 1), unit: '%', note: `${calls} accepted calls over ${round(spanMs / 1000, 1)} s; a rolling 100 / 10 s window allows ${idealMs / 1000} s at best` },
        { metric: '429 answers', value: fake.stats.rateLimited, unit: '', target: { op: '<=', value: 0 } },
        {
          metric: 'RSS growth after the first tenth',
          value: rssEnd - rssSettled,
          unit: 'MB',
          note: `before ${rssBefore} MB, at a tenth ${rssSettled} MB, max ${rssMax} MB, end ${rssEnd} MB (sampled on each of ${samples.length} pages); ${heapNote}`,
        },
      ];
      return rows;
    } finally {
      await fake.close();
      await database.close();
    }
  },
};
