import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { createDatabase, createPool } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createJobNudger } from '../../src/worker/job-nudger.ts';
import { ensureFlushScheduled, flushJobKey, flushQueueName } from '../../src/writeback/outbox-store.ts';
import type { Database } from '../../src/platform/db.ts';

/** The outbox flush is the nudged job these tests watch. */
const createFlushNudger = (db: Database) => createJobNudger((ws) => ensureFlushScheduled(db, ws));

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await condition()) return;
    await sleep(20);
  }
  throw new Error('condition not met within 10 s');
}

describe('asking for follow-up jobs after evaluations commit', async () => {
  const t = await createTestDatabase();
  const flushJobs = (workspaceId: string) =>
    sql<{ id: string; run_at: Date; locked_at: Date | null }>`
      select id, run_at, locked_at from graphile_worker.jobs where task_identifier = 'flush-outbox' and queue_name = ${flushQueueName(workspaceId)} order by id
    `.execute(t.db).then((r) => r.rows);

  it('queues one flush for a workspace that has none, and leaves a waiting one alone', async () => {
    const nudge = createFlushNudger(t.db);
    await nudge('ws-a');
    const [first] = await flushJobs('ws-a');
    expect(first).toBeDefined();
    await nudge('ws-a');
    await nudge('ws-a');
    expect(await flushJobs('ws-a')).toEqual([first]);
  });

  it('brings forward a flush booked for a later retry, and leaves one due within seconds alone', async () => {
    const nudge = createFlushNudger(t.db);
    await nudge('ws-f');
    await sql`update graphile_worker._private_jobs set run_at = now() + interval '10 seconds' where key = ${flushJobKey('ws-f')}`.execute(t.db);
    await nudge('ws-f');
    const [soon] = await flushJobs('ws-f');
    expect(soon!.run_at.getTime()).toBeGreaterThan(Date.now() + 5_000);

    await sql`update graphile_worker._private_jobs set run_at = now() + interval '10 minutes' where key = ${flushJobKey('ws-f')}`.execute(t.db);
    await nudge('ws-f');
    const jobs = await flushJobs('ws-f');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.run_at.getTime()).toBeLessThan(Date.now() + 5_000);
  });

  it('queues another flush when the waiting one has already started (it may have claimed its rows before our commit)', async () => {
    const nudge = createFlushNudger(t.db);
    await nudge('ws-b');
    await sql`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'some-worker' where key = ${flushJobKey('ws-b')}`.execute(t.db);
    await nudge('ws-b');
    const jobs = await flushJobs('ws-b');
    expect(jobs).toHaveLength(2);
    expect(jobs.filter((job) => job.locked_at === null)).toHaveLength(1);
  });

  it('folds a burst of requests into the running check and one more, and all of them wait for a check made after they asked', async () => {
    const nudge = createFlushNudger(t.db);
    // Hold the queue's job table so the first check blocks in Postgres while the burst arrives.
    const blocker = createDatabase(createPool(t.url, 1, createLogger({ level: 'silent' })));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holding = blocker.transaction().execute(async (tx) => {
      await sql`lock table graphile_worker._private_jobs in access exclusive mode`.execute(tx);
      await released;
    });
    try {
      await waitFor(async () => (await sql<{ n: number }>`select count(*)::int as n from pg_locks where relation = 'graphile_worker._private_jobs'::regclass and mode = 'AccessExclusiveLock' and granted`.execute(t.db)).rows[0]!.n === 1);
      const running = nudge('ws-c');
      // The first check is now waiting for the lock in Postgres.
      await waitFor(async () => (await sql<{ n: number }>`select count(*)::int as n from pg_locks where relation = 'graphile_worker._private_jobs'::regclass and not granted`.execute(t.db)).rows[0]!.n >= 1);
      const burst = Array.from({ length: 20 }, () => nudge('ws-c'));
      expect(new Set([running, ...burst]).size).toBe(2);
      let settled = 0;
      for (const p of [running, ...burst]) void p.then(() => (settled += 1));
      await sleep(50);
      expect(settled).toBe(0);
      release();
      await holding;
      await Promise.all([running, ...burst]);
      expect(settled).toBe(21);
      expect(await flushJobs('ws-c')).toHaveLength(1);
    } finally {
      release();
      await holding.catch(() => undefined);
      await blocker.destroy();
    }
  });

  it('keeps workspaces apart and passes a failed check on to everyone waiting for it', async () => {
    const missing = new URL(t.url);
    missing.pathname = '/no_such_database';
    const broken = createDatabase(createPool(missing.toString(), 2, createLogger({ level: 'silent' })));
    const nudge = createFlushNudger(broken);
    const results = await Promise.allSettled([nudge('ws-d'), nudge('ws-d'), nudge('ws-e')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await flushJobs('ws-d')).toHaveLength(0);
    await broken.destroy();

    const healthy = createFlushNudger(t.db);
    await Promise.all([healthy('ws-d'), healthy('ws-e')]);
    expect(await flushJobs('ws-d')).toHaveLength(1);
    expect(await flushJobs('ws-e')).toHaveLength(1);
  });
});
