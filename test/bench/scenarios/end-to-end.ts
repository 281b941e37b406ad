import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { initialDealState } from '../../../src/engine/state.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../../src/integrations/hubspot/fixtures.ts';
import { putSourceConfig } from '../../../src/ingest/source-config-store.ts';
import { webhookAdapter } from '../../../src/integrations/registry.ts';
import { connectWorkspaceToHubspot } from '../support/connection.ts';
import { startFakeHubspot } from '../support/fake-hubspot.ts';
import { benchRuntime } from '../support/runtime.ts';
import type { Row, Scenario } from '../support/scenario.ts';
import { percentile, round, sleep, waitFor } from '../support/stats.ts';
import { startBenchWorker } from '../support/worker.ts';
import { startChildServer } from '../support/child-server.ts';

const WORKSPACE = 'bench-e2e';

/**
 * Webhook received → CRM write issued, on one node with the web role (the real app) in a process of
 * its own, as `momentum web` + `momentum worker` deployments run it, so the load generator and the
 * web requests do not share the worker's event loop; the worker (concurrency 8) and the fake
 * HubSpot run in this process. Each delivery is a rep moving a
 * new deal to another stage, which the default playbook answers with stage-entry tasks; latency
 * is from sending the webhook to the fake HubSpot receiving that deal's first write.
 */
export const endToEndScenario: Scenario = {
  name: 'end-to-end',
  description: 'Webhook → CRM write latency at a steady signal rate, real app + worker + fake HubSpot under its rate limit',
  async run(ctx) {
    const database = await ctx.createDatabase('e2e', 24);
    const key = randomBytes(32).toString('base64');
    const rt = benchRuntime(database, { MOMENTUM_ENCRYPTION_KEY: key });
    const fake = await startFakeHubspot();
    const web = await startChildServer('momentum', database.url, key);
    const worker = await startBenchWorker(rt, 8);
    try {
      await connectWorkspaceToHubspot(rt, WORKSPACE, fake.url);
      await putSourceConfig(rt.db, rt.secretBox, webhookAdapter('hubspot')!, WORKSPACE, { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 });
      const url = `${web.url}/webhooks/hubspot`;

      const rate = ctx.quick ? 200 : 500;
      const seconds = ctx.quick ? 5 : 10;
      // Deals Momentum already knows (the steady state): an unseen deal is first read from the CRM.
      const known = Array.from({ length: rate * seconds }, (_, i) => String(80_000_000 + i));
      for (let i = 0; i < known.length; i += 2000) {
        const rows = known.slice(i, i + 2000).map((id) => ({ id, state: initialDealState(id, 'hubspot') }));
        await sql`
          insert into deals (workspace_id, deal_id, provider, state)
          select ${WORKSPACE}, r.id, 'hubspot', r.state from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id text, state jsonb)
        `.execute(rt.db);
      }
      const sentAt = new Map<string, number>();
      let failed = 0;
      let eventId = 5_000_000;
      const inFlight: Promise<void>[] = [];
      const send = (dealId: string) => {
        const now = Date.now();
        const raw = signedHubspotRequest({
          body: [hubspotEvent({ eventId: eventId++, objectId: Number(dealId), propertyName: 'dealstage', propertyValue: 'qualifiedtobuy', occurredAt: now - 500 })],
          timestamp: now,
        });
        const headers = Object.fromEntries(Object.entries(raw.headers).filter((e): e is [string, string] => e[1] !== undefined));
        sentAt.set(dealId, performance.now());
        inFlight.push(
          fetch(url, { method: 'POST', headers, body: new Uint8Array(raw.rawBody) }).then(
            async (r) => {
              await r.arrayBuffer();
              if (r.status !== 200) failed += 1;
            },
            () => {
              failed += 1;
            },
          ),
        );
      };

      // Open loop: a tick every 10 ms sends what the schedule says is due, whatever the answers do.
      const total = rate * seconds;
      const t0 = performance.now();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
        while (sent < due) send(String(80_000_000 + sent++));
        await sleep(10);
      }
      const sendMs = performance.now() - t0;
      await Promise.all(inFlight);
      const firstWrite = () => {
        const first = new Map<string, number>();
        for (const w of fake.stats.writes) if (!first.has(w.dealId)) first.set(w.dealId, w.at);
        return first;
      };
      await waitFor(() => firstWrite().size >= sentAt.size, 15_000, 200);
      const first = firstWrite();
      const latencies = [...sentAt].filter(([deal]) => first.has(deal)).map(([deal, at]) => first.get(deal)! - at);
      ctx.log(`sent ${sent} in ${round(sendMs / 1000, 1)} s; ${latencies.length} deals written; ${fake.stats.requests} CRM calls, ${fake.stats.rateLimited} 429s`);
      const stages = await stageMedians(rt.db);
      const rows: Row[] = [
        { metric: 'offered rate', value: round(sent / (sendMs / 1000)), unit: 'signals/s', note: `${sent} deliveries, ${failed} failed` },
        { metric: 'deals with a CRM write', value: latencies.length, unit: `of ${sent}`, note: `${fake.stats.taskRecords} tasks, ${fake.stats.noteRecords} notes, ${fake.stats.dealRecords} deal updates in ${fake.stats.requests} calls` },
        { metric: 'webhook → CRM write p50', value: round(percentile(latencies, 50), 1), unit: 'ms', target: { op: '<=', value: 100 }, note: `medians from the webhook's commit: ${stages}` },
        { metric: 'webhook → CRM write p99', value: round(percentile(latencies, 99), 1), unit: 'ms', target: { op: '<=', value: 250 } },
        { metric: 'CRM 429 answers', value: fake.stats.rateLimited, unit: '', target: { op: '<=', value: 0 }, note: `calls by route: ${JSON.stringify(fake.stats.byRoute)}` },
        { metric: 'job errors', value: [...worker.errors.values()].reduce((a, b) => a + b, 0), unit: '', note: worker.firstError ?? '' },
      ];
      return rows;
    } finally {
      await worker.stop();
      await web.stop();
      await fake.close();
      await database.close();
    }
  },
};

/**
 * Where the time goes, from timestamps Postgres wrote (each is its transaction's start): the signal
 * pumped into a job, the evaluation that queued the deal's first write, and that write settled.
 */
async function stageMedians(db: import('../../../src/platform/db.ts').Database): Promise<string> {
  const result = await sql<{ pumped: number; evaluated: number; settled: number }>`
    with firsts as (
      select s.received_at, s.pumped_at,
             (select min(o.created_at) from outbox o where o.workspace_id = s.workspace_id and o.deal_id = s.deal_id) as queued_at,
             (select min(o.sent_at) from outbox o where o.workspace_id = s.workspace_id and o.deal_id = s.deal_id) as sent_at
      from signals s where s.workspace_id = ${WORKSPACE}
    )
    select percentile_cont(0.5) within group (order by extract(epoch from pumped_at - received_at) * 1000) as pumped,
           percentile_cont(0.5) within group (order by extract(epoch from queued_at - received_at) * 1000) as evaluated,
           percentile_cont(0.5) within group (order by extract(epoch from sent_at - received_at) * 1000) as settled
    from firsts
  `.execute(db);
  const row = result.rows[0];
  if (!row) return 'no signals';
  return `pumped ${Math.round(row.pumped)} ms, evaluation started ${Math.round(row.evaluated)} ms, write settled ${Math.round(row.settled)} ms`;
}
