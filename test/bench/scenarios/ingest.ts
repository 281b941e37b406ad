import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { hubspotTestSecret } from '../../../src/integrations/hubspot/fixtures.ts';
import { createAdminToken } from '../../../src/workspaces/admin-tokens.ts';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { loadTest, signHubspotDeliveries, type LoadResult } from '../support/load.ts';
import type { Row, Scenario } from '../support/scenario.ts';
import { round } from '../support/stats.ts';

const WORKSPACE = 'bench-ingest';
const CONNECTIONS = 20;

async function api(server: ChildServer, token: string, path: string, body: object): Promise<void> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`PUT ${path} answered ${response.status}: ${await response.text()}`);
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export const ingestScenario: Scenario = {
  name: 'ingest',
  description: 'Signed HubSpot deliveries/s through the real endpoint vs a one-INSERT Fastify floor, same autocannon settings, alternating runs',
  async run(ctx) {
    const database = await ctx.createDatabase('ingest', 2);
    const key = randomBytes(32).toString('base64');
    // The floor's table has the shape of `deliveries`: same key, same kinds of columns, one index by time.
    await sql`
      create table bench_floor_deliveries (
        workspace_id text not null, id bigint generated always as identity, source text not null, status text not null,
        content_type text, headers jsonb not null, raw_body bytea, received_at timestamptz not null default now(),
        primary key (workspace_id, id))`.execute(database.db);
    await sql`create index bench_floor_by_time on bench_floor_deliveries (workspace_id, received_at desc, id desc)`.execute(database.db);
    const { token } = await createAdminToken(database.db, { name: 'bench' });

    const servers: ChildServer[] = [];
    try {
      const momentum = await startChildServer('momentum', database.url, key);
      servers.push(momentum);
      const floor = await startChildServer('floor', database.url, key);
      servers.push(floor);
      await api(momentum, token, `/api/workspaces/${WORKSPACE}`, { name: 'Bench ingest', mode: 'live' });
      await api(momentum, token, `/api/workspaces/${WORKSPACE}/sources/hubspot`, { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 });

      const durationS = ctx.quick ? 4 : 10;
      const poolSize = durationS * 8000;
      const run = (server: ChildServer, path: string, seconds: number, overallRate?: number) =>
        loadTest({ url: server.url, path, pool: signHubspotDeliveries(poolSize), connections: CONNECTIONS, durationS: seconds, ...(overallRate ? { overallRate } : {}) });
      const describe = (r: LoadResult) => `${Math.round(r.okPerSecond)}/s, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}${r.reused ? `, ${r.reused} reused` : ''}`;

      // Warm both (JIT, pools, caches) before anything counts.
      await run(floor, '/floor', 2);
      await run(momentum, '/webhooks/hubspot', 2);
      const floorRuns: LoadResult[] = [];
      const momentumRuns: LoadResult[] = [];
      for (let i = 0; i < 2; i += 1) {
        floorRuns.push(await run(floor, '/floor', durationS));
        ctx.log(`floor #${i + 1}: ${describe(floorRuns.at(-1)!)}`);
        momentumRuns.push(await run(momentum, '/webhooks/hubspot', durationS));
        ctx.log(`momentum #${i + 1}: ${describe(momentumRuns.at(-1)!)}`);
      }
      const floorPeak = mean(floorRuns.map((r) => r.okPerSecond));
      const momentumPeak = mean(momentumRuns.map((r) => r.okPerSecond));
      const half = await run(momentum, '/webhooks/hubspot', durationS, Math.max(1, Math.round(momentumPeak / 2)));
      ctx.log(`momentum at half peak: ${describe(half)}`);

      const stored = await sql<{ status: string; n: number }>`select status, count(*)::int as n from deliveries group by status`.execute(database.db);
      const statuses = Object.fromEntries(stored.rows.map((r) => [r.status, r.n]));
      const failures = [...floorRuns, ...momentumRuns, half].reduce((n, r) => n + r.non2xx + r.errors, 0);
      const rows: Row[] = [
        { metric: 'floor: one INSERT per request', value: Math.round(floorPeak), unit: 'req/s', note: floorRuns.map(describe).join(' | ') },
        { metric: 'momentum: signed HubSpot deliveries', value: Math.round(momentumPeak), unit: 'req/s', note: `${momentumRuns.map(describe).join(' | ')}; deliveries stored: ${JSON.stringify(statuses)}` },
        { metric: 'momentum / floor throughput', value: round(momentumPeak / floorPeak, 2), unit: '×', target: { op: '>=', value: 0.7 } },
        { metric: 'momentum p99 at peak', value: round(mean(momentumRuns.map((r) => r.p99)), 1), unit: 'ms' },
        { metric: `momentum p50 at half peak (${Math.round(momentumPeak / 2)}/s)`, value: half.p50, unit: 'ms' },
        { metric: `momentum p99 at half peak (${Math.round(momentumPeak / 2)}/s)`, value: half.p99, unit: 'ms', target: { op: '<=', value: 50 }, note: describe(half) },
        { metric: 'failed requests (non-2xx + errors)', value: failures, unit: '', target: { op: '<=', value: 0 } },
      ];
      return rows;
    } finally {
      for (const server of servers) await server.stop();
      await database.close();
    }
  },
};
