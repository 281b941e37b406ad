import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { createDatabase, createPool } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { acquireCall, finishCall, pauseBucket, readBucket, recordDailyUsage, UNFINISHED_CALL_MARGIN_MS, type Acquired, type RateLimits } from '../../src/writeback/rate-limiter.ts';

const run = promisify(execFile);
const childScript = fileURLToPath(new URL('./fixtures/acquire-calls.ts', import.meta.url));
const limits: RateLimits = { perWindow: 5, windowMs: 1_000 };
const granted = (results: Acquired[]) => results.filter((r) => r.granted).length;
const refusals = (results: Acquired[]) => results.filter((r): r is Extract<Acquired, { granted: false }> => !r.granted);

/**
 * The limiter's state lives in Postgres so every process shares one budget per CRM account. Two
 * pools (and two OS processes) stand in for two workers.
 */
describe('the rate limiter shared by all processes', async () => {
  const t = await createTestDatabase();
  // A second "process": its own pool and Kysely instance on the same database.
  const other = createDatabase(createPool(t.url, 8, createLogger({ level: 'silent' })));
  afterAll(() => other.destroy());
  let n = 0;
  const bucket = () => `hubspot:limit-${(n += 1)}`;
  /** `count` acquisitions at once, alternating between the two pools. */
  const burst = (name: string, count: number, l: RateLimits = limits) =>
    Promise.all(Array.from({ length: count }, (_, i) => acquireCall(i % 2 === 0 ? t.db : other, name, l)));

  it('grants exactly the window\'s budget to 20 concurrent callers from two pools, and tells the rest when to come back', async () => {
    const name = bucket();
    // Open every pooled connection first, so the burst itself fits well inside one window.
    await Promise.all([t.db, other].flatMap((db) => Array.from({ length: 8 }, () => sql`select pg_sleep(0.05)`.execute(db))));
    const started = Date.now();
    const results = await burst(name, 20);
    expect(Date.now() - started).toBeLessThan(limits.windowMs);

    expect(granted(results)).toBe(5);
    for (const refusal of refusals(results)) {
      expect(refusal.reason).toBe('window');
      expect(refusal.retryAfterMs).toBeGreaterThan(0);
      // Unfinished calls hold their slot a margin past the window.
      expect(refusal.retryAfterMs).toBeLessThanOrEqual(limits.windowMs + UNFINISHED_CALL_MARGIN_MS);
    }
    expect((await readBucket(t.db, name))!.recent).toHaveLength(5);

    // Waiting as long as the soonest refusal said opens a slot.
    await sleep(Math.min(...refusals(results).map((r) => r.retryAfterMs)) + 20);
    expect((await acquireCall(other, name, limits)).granted).toBe(true);
  });

  it('stamps a call a margin after its grant, and at its end once it is finished', async () => {
    const name = bucket();
    const one: RateLimits = { perWindow: 1, windowMs: 400 };
    const first = await acquireCall(t.db, name, one);
    expect(first.granted).toBe(true);
    // Unfinished: the slot opens a window plus the margin after the grant.
    const whileRunning = await acquireCall(other, name, one);
    expect(whileRunning).toMatchObject({ granted: false, reason: 'window' });
    expect((whileRunning as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(one.windowMs + UNFINISHED_CALL_MARGIN_MS - 100);

    await sleep(100);
    await finishCall(t.db, name, (first as { stamp: string }).stamp);
    // Finished: a window from its end, which came before now, so never more than a window.
    const afterEnd = await acquireCall(other, name, one);
    expect(afterEnd).toMatchObject({ granted: false, reason: 'window' });
    expect((afterEnd as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(one.windowMs);
    expect((afterEnd as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(one.windowMs - 100);
    expect((await readBucket(t.db, name))!.recent).toHaveLength(1);
  });

  it('records the end of a call the window already dropped', async () => {
    const name = bucket();
    const short: RateLimits = { perWindow: 1, windowMs: 100 };
    const first = await acquireCall(t.db, name, short);
    await sleep(short.windowMs + UNFINISHED_CALL_MARGIN_MS + 50);
    // Another call drops the old stamp from the window; the slow first call ends after that.
    expect((await acquireCall(other, name, short)).granted).toBe(true);
    await finishCall(t.db, name, (first as { stamp: string }).stamp);
    expect((await readBucket(t.db, name))!.recent).toHaveLength(2);
  });

  it('grants a fresh budget once the window has passed, and no more', async () => {
    const name = bucket();
    expect(granted(await burst(name, 8))).toBe(5);
    expect(granted(await burst(name, 8))).toBe(0);
    await sleep(limits.windowMs + UNFINISHED_CALL_MARGIN_MS + 50);
    expect(granted(await burst(name, 8))).toBe(5);
  });

  it('refuses every process while the bucket is paused, and a shorter pause never cuts a longer one', async () => {
    const name = bucket();
    const until = new Date(Date.now() + 400);
    await pauseBucket(t.db, name, until);
    await pauseBucket(other, name, new Date(Date.now() + 50));
    expect((await readBucket(t.db, name))!.paused_until).toEqual(until);

    const results = await burst(name, 4);
    expect(granted(results)).toBe(0);
    for (const refusal of refusals(results)) {
      expect(refusal.reason).toBe('paused');
      expect(refusal.retryAfterMs).toBeGreaterThan(0);
      expect(refusal.retryAfterMs).toBeLessThanOrEqual(401);
    }
    // Paused calls do not use up the window.
    expect((await readBucket(t.db, name))!.recent).toEqual([]);

    await sleep(450);
    expect(granted(await burst(name, 4))).toBe(4);
  });

  it('refuses for the day when the CRM reports its daily budget spent, until the next UTC day', async () => {
    const name = bucket();
    expect((await acquireCall(t.db, name, limits)).granted).toBe(true);
    await recordDailyUsage(t.db, name, 100_000, 100_000);

    const refused = await acquireCall(other, name, limits);
    expect(refused).toMatchObject({ granted: false, reason: 'daily' });
    const now = new Date();
    const nextUtcDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    expect(Math.abs(now.getTime() + (refused as { retryAfterMs: number }).retryAfterMs - nextUtcDay)).toBeLessThan(5_000);

    // The CRM says there is room again (e.g. Sforce-Limit-Info after its rolling 24 h).
    await recordDailyUsage(t.db, name, 99_000, 100_000);
    expect((await acquireCall(other, name, limits)).granted).toBe(true);
  });

  it('counts our own calls against a per-day limit', async () => {
    const name = bucket();
    const daily: RateLimits = { perWindow: 100, windowMs: 1_000, perDay: 3 };
    const results = await burst(name, 6, daily);
    expect(granted(results)).toBe(3);
    expect(refusals(results).map((r) => r.reason)).toEqual(['daily', 'daily', 'daily']);
    expect((await readBucket(t.db, name))!.day_count).toBe(3);
  });

  it('shares the budget between two real OS processes', async () => {
    const name = bucket();
    // A long window so that both processes, whenever they start, fall in the same one.
    const args = [childScript, t.url, name, '10', '5', '30000'];
    const [a, b] = await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
    const [first, second] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(first.granted + second.granted).toBe(5);
    expect(first.refused + second.refused).toBe(15);
  });
});
