import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createDatabase, createPool } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createWorkspace, putRouting, route } from './support.ts';

const TUESDAY_10 = Date.parse('2025-03-04T10:00:00.000Z');

/** Runs `jobs` with at most `width` in flight, like a worker's concurrency setting. */
async function inFlight<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

describe('two workers routing at once', async () => {
  const t = await createTestApp();
  // A second pool of connections: another worker process's view of the same database.
  const otherPool = createPool(t.url, 8, createLogger({ level: 'silent' }));
  const other = createDatabase(otherPool);

  it('share one fair rotation with no duplicate turns', async () => {
    await createWorkspace(t, 'rr');
    await putRouting(t, 'rr', { owners: [{ ownerId: 'a' }, { ownerId: 'b' }, { ownerId: 'c' }] });
    const jobs = (db: typeof t.db, prefix: string) => Array.from({ length: 30 }, (_, i) => () => route(db, 'rr', `${prefix}-${i}`, { now: TUESDAY_10 }));
    await Promise.all([inFlight(jobs(t.db, 'w1'), 6), inFlight(jobs(other, 'w2'), 6)]);

    const rows = await t.db.selectFrom('routing_assignments').select(['deal_id', 'owner_id', 'seq']).where('workspace_id', '=', 'rr').orderBy('seq').execute();
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r.deal_id)).size).toBe(60);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // In turn order the owners cycle exactly: a b c a b c …
    expect(rows.map((r) => r.owner_id).join('')).toBe('abc'.repeat(20));
    const pool = await t.db.selectFrom('routing_pools').select('assigned').where('workspace_id', '=', 'rr').where('pool', '=', 'all').executeTakeFirstOrThrow();
    expect(Number(pool.assigned)).toBe(60);
  });

  it('never push an owner past capacity', async () => {
    await createWorkspace(t, 'cap');
    await putRouting(t, 'cap', { fallbackOwnerId: 'queue', owners: [{ ownerId: 'a', capacity: 4 }, { ownerId: 'b', capacity: 4, weight: 3 }] });
    const jobs = (db: typeof t.db, prefix: string) => Array.from({ length: 6 }, (_, i) => () => route(db, 'cap', `${prefix}-${i}`, { now: TUESDAY_10 }));
    const results = (await Promise.all([inFlight(jobs(t.db, 'w1'), 3), inFlight(jobs(other, 'w2'), 3)])).flat();
    const count = (id: string) => results.filter((r) => r.ownerId === id).length;
    expect([count('a'), count('b'), count('queue')]).toEqual([4, 4, 4]);
    expect(results.filter((r) => r.ownerId === 'queue').every((r) => r.strategy === 'fallback' && r.explanation.includes('at capacity'))).toBe(true);
    await other.destroy();
  });
});
