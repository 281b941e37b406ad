import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { createDatabase, createPool } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { startQueueWorker } from '../../src/worker/queue-runner.ts';
import { buildTaskList } from '../../src/worker/tasks.ts';
import { withDatabase } from '../support/global-setup.ts';
import { crmFaults, startFakeCrm } from './support/fake-crm.ts';
import { createFaultEnvironment, PUBLIC_BASE_URL } from './support/environment.ts';
import { measureOutcome, waitForDrain } from './support/measure.ts';
import type { FaultPostgres } from './support/postgres.ts';
import { CRM_LIMIT, type SuiteContext } from './support/scenario.ts';
import { duplicateTraffic, type TrafficLog } from './support/traffic.ts';
import { fuzzScenario } from './scenarios/fuzz.ts';
import { securityScenario } from './scenarios/security.ts';
import { scanForSecrets } from './support/secret-scan.ts';

/**
 * The fault suite's quick subset (the full one is `npm run faults`): everything in this process,
 * against the test run's PostgreSQL. The scenarios that kill processes or restart the database run
 * only in the full suite.
 */

const serverUrl = inject('serverUrl');
const created: string[] = [];

/** The parts of the suite's PostgreSQL these scenarios use: new databases on the test server. */
const testServer: FaultPostgres = {
  url: serverUrl,
  async createDatabase(name) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    created.push(name);
    return withDatabase(serverUrl, name);
  },
  restart: () => Promise.reject(new Error('the quick subset never restarts the shared server')),
  terminateBackends: () => Promise.reject(new Error('not in the quick subset')),
  stop: async () => undefined,
};

const ctx: SuiteContext = { pg: testServer, quick: true, log: () => undefined, transcript: [], secrets: [] };

afterAll(async () => {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  for (const name of created) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('fault suite, quick subset', () => {
  it('refuses a scoped token on every other workspace route, and stale HubSpot signatures', async () => {
    const result = await securityScenario.run(ctx);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
  }, 30_000);

  it('never answers 5xx nor accepts a forgery for generated bodies on every vendor endpoint', async () => {
    const result = await fuzzScenario.run(ctx);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
  }, 60_000);

  it('releases the jobs of a worker whose heartbeat stopped, and runs them', async () => {
    const crm = await startFakeCrm(CRM_LIMIT);
    const env = await createFaultEnvironment(testServer, crm, { name: 'heartbeat', workspaceCount: 1, crmTimeoutMs: 1000 });
    const logger = createLogger({ level: 'silent' });
    const pool = createPool(env.databaseUrl, 4, logger);
    const db = createDatabase(pool);
    try {
      // A job a dead worker took a minute ago; its heartbeat stopped then too.
      await sql`select graphile_worker.add_job('sweep', '{}'::json)`.execute(db);
      await sql`update graphile_worker._private_jobs set locked_by = 'pool-dead', locked_at = now() - interval '60 seconds', attempts = 1`.execute(db);
      await sql`insert into worker_heartbeats (worker_id, pid, host, seen_at) values ('pool-dead', 1, 'gone', now() - interval '60 seconds')`.execute(db);
      const ran: string[] = [];
      const worker = await startQueueWorker({
        pool, db, logger, metrics: createMetrics(), cronItems: [], concurrency: 1,
        taskList: { sweep: async () => void ran.push('sweep') },
        heartbeatIntervalMs: 200,
        deadAfterMs: 5_000,
      });
      const deadline = Date.now() + 10_000;
      while (ran.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const live = await db.selectFrom('worker_heartbeats').select(['worker_id', 'pid']).execute();
      await worker.stop();
      expect(ran).toEqual(['sweep']);
      expect(live.some((w) => w.pid === process.pid)).toBe(true);
      // A clean stop removes its own row.
      expect((await db.selectFrom('worker_heartbeats').select('pid').execute()).map((w) => w.pid)).toEqual([1]);
    } finally {
      await db.destroy();
      await env.close();
      await crm.close();
    }
  }, 30_000);

  it('delivers every effect exactly once through a CRM that spoils 20% of calls, with every webhook sent three times out of order', async () => {
    const crm = await startFakeCrm(CRM_LIMIT);
    // Steady rather than random: batching leaves only a dozen CRM calls, so chance could skip the
    // faults entirely. The two that can cause duplicates (applied but unanswered) come first.
    crm.setFaults({ rate: 0.2, kinds: ['applied_lost', 'slow', ...crmFaults.filter((k) => k !== 'applied_lost' && k !== 'slow')], slowMs: 1_500, pattern: 'steady' });
    const env = await createFaultEnvironment(testServer, crm, { name: 'crm', workspaceCount: 1, crmTimeoutMs: 1000 });
    ctx.secrets.push(...env.secrets);
    const logs: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => logs.push(s) } as unknown as NodeJS.WritableStream });
    // Sized like the service's own pool: the queue runner needs 2 × concurrency + 4 connections.
    const pool = createPool(env.databaseUrl, 16, logger);
    const db = createDatabase(pool);
    const config = loadConfig({ ...env.serviceEnv(), NODE_ENV: 'test', LOG_LEVEL: 'info' });
    const runtime = { config, db, pool, logger, metrics: createMetrics(), secretBox: new SecretBox(config.encryptionKey!) };
    const app = await buildApp(runtime);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { taskList } = buildTaskList(runtime);
    const worker = await startQueueWorker({ ...runtime, taskList, cronItems: [], concurrency: 4 });
    try {
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const traffic: TrafficLog = { attempts: [], abandoned: 0 };
      await duplicateTraffic(traffic, env.workspaces, url, { sets: 2, copies: 3, concurrency: 6, publicUrl: PUBLIC_BASE_URL });
      const drained = await waitForDrain(db, 45_000);
      const outcome = await measureOutcome(db, crm, env.workspaces, traffic);
      ctx.transcript.push(...logs, ...traffic.attempts.map((a) => a.body));
      expect(drained.at, JSON.stringify(drained.last)).toBeDefined();
      expect(outcome.acknowledged).toBe(outcome.attempts);
      expect(outcome.lostAcknowledged).toBe(0);
      expect(outcome.effectsExpected).toBeGreaterThan(20);
      expect({ missing: outcome.effectsMissing, duplicates: outcome.duplicateEffects, unexpected: outcome.unexpectedRecords, problems: outcome.problems }).toEqual({ missing: 0, duplicates: 0, unexpected: 0, problems: [] });
      expect(outcome.crmMaxInWindow).toBeLessThanOrEqual(CRM_LIMIT.perWindow);
      expect(outcome.crmInjected.applied_lost).toBeGreaterThan(0);
      expect(outcome.crmInjected.slow).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await app.close();
      await db.destroy();
      await env.close();
      await crm.close();
    }
  }, 60_000);

  it('shows no configured secret in any log line or answer of the tests above', () => {
    const result = scanForSecrets(ctx.transcript, ctx.secrets);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
