import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { json } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { initialDealState } from '../../src/engine/state.ts';
import { currentPlaybook } from '../../src/progression/playbook-store.ts';
import { sweepDueWorkspaces } from '../../src/progression/sweep-schedule.ts';
import { buildTaskList } from '../../src/worker/tasks.ts';
import { createWorkspace } from './support.ts';

const MINUTE = 60_000;
// Twenty seconds past the minute, as a cron job that started a little late.
const t0 = new Date('2025-03-03T10:00:20Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);

/** Each workspace is swept at its own interval by the every-minute job; the interval is set through PUT /alerting. */
describe('sweep interval per workspace', async () => {
  const t = await createTestApp();
  // The clock only moves forward through this file: every call sweeps whatever is due then.
  const sweep = async (now: Date) => {
    const result = await sweepDueWorkspaces({ db: t.db, logger: t.deps.logger }, now);
    return { ...result, swept: [...result.swept].sort() };
  };
  const settings = async (ws: string) => (await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerting`, headers: t.auth })).json();
  const putInterval = (ws: string, value: unknown) =>
    t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/alerting`, headers: t.auth, payload: { sweepIntervalMinutes: value } });
  const evaluateJobs = async (ws: string) =>
    (await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where key like ${`evaluate:${ws}:%`}`.execute(t.db)).rows[0]!.n;

  /** An open deal never evaluated: every sweep of its workspace queues it. */
  async function openDeal(ws: string, dealId: string): Promise<void> {
    await t.db.insertInto('deals').values({ workspace_id: ws, deal_id: dealId, provider: 'hubspot', state: json(initialDealState(dealId, 'hubspot')) }).execute();
  }

  beforeAll(async () => {
    for (const ws of ['every-15', 'default-5']) {
      await createWorkspace(t, ws);
      await currentPlaybook(t.db, ws);
      await openDeal(ws, `${ws}-deal`);
    }
  });

  it('shows the default of 5 minutes and no sweep yet; PUT sets 15 and GET shows it', async () => {
    expect((await settings('default-5')).sweep).toEqual({ intervalMinutes: 5, lastSweptAt: null });
    expect((await settings('default-5')).updatedAt).toBeNull();
    const put = await putInterval('every-15', 15);
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ sweep: { intervalMinutes: 15, lastSweptAt: null }, slack: { configured: false } });
    expect(put.json().updatedAt).not.toBeNull();
    expect((await settings('every-15')).sweep.intervalMinutes).toBe(15);
  });

  it('sweeps a 15-minute workspace at +15 but not at +5 or +10, and a default one every 5 minutes', async () => {
    expect((await sweep(at(0))).swept).toEqual(['default-5', 'every-15']);
    expect(await evaluateJobs('every-15')).toBe(1);
    // Recorded for the minute it ran in.
    expect((await settings('every-15')).sweep.lastSweptAt).toBe('2025-03-03T10:00:00.000Z');

    await sql`delete from graphile_worker._private_jobs where key like 'evaluate:%'`.execute(t.db);
    expect((await sweep(at(5))).swept).toEqual(['default-5']);
    expect((await sweep(at(10))).swept).toEqual(['default-5']);
    expect((await sweep(at(14))).swept).toEqual([]);
    expect(await evaluateJobs('every-15')).toBe(0);
    expect((await sweep(at(15))).swept).toEqual(['default-5', 'every-15']);
    expect(await evaluateJobs('every-15')).toBe(1);
    expect((await settings('every-15')).sweep.lastSweptAt).toBe('2025-03-03T10:15:00.000Z');
    // Nothing is swept twice in the same minute.
    expect((await sweep(at(15.5))).swept).toEqual([]);
  });

  it.each([
    [0, 'must be at least 1 minute'],
    [1441, 'must be at most 1440 minutes'],
    [2.5, 'must be a whole number of minutes'],
    ['5', 'must be a whole number of minutes'],
    [null, 'must be a whole number of minutes'],
  ])('refuses %j with a 400 that names the field', async (value, message) => {
    const res = await putInterval('default-5', value);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'validation_failed' });
    expect(res.json().error.message).toContain('body.sweepIntervalMinutes');
    expect(res.json().error.message).toContain(message);
    expect((await settings('default-5')).sweep.intervalMinutes).toBe(5);
  });

  it('the on-demand sweep still queues at once and leaves the schedule alone', async () => {
    await sql`delete from graphile_worker._private_jobs where key like 'evaluate:%'`.execute(t.db);
    const before = (await settings('every-15')).sweep;
    const res = await t.app.inject({ method: 'POST', url: '/api/workspaces/every-15/sweep', headers: t.auth, payload: { asOf: at(20).toISOString() } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ enqueued: 1, asOf: at(20).toISOString() });
    expect((await settings('every-15')).sweep).toEqual(before);
  });

  it('a workspace whose sweep fails does not stop the others, and stays due', async () => {
    await createWorkspace(t, 'broken');
    // Evaluated a minute ago and long in its stage: only the stall check can make it due, so the
    // sweep has to read the stall thresholds.
    await t.db
      .insertInto('deals')
      .values({ workspace_id: 'broken', deal_id: 'broken-deal', provider: 'hubspot', state: json(initialDealState('broken-deal', 'hubspot')), stage: 'qualified', stage_entered_at: at(-100 * 24 * 60), evaluated_at: at(19) })
      .execute();
    // A playbook whose stage duration is not a number: the sweep's cast fails for this workspace only.
    const { playbook } = await currentPlaybook(t.db, 'broken');
    const stages = playbook.stages.map((s) => ('durationDays' in s && s.durationDays ? { ...s, durationDays: { min: 'soon', max: 'later' } } : s));
    await t.db
      .insertInto('playbooks')
      .values({ workspace_id: 'broken', version: 99, document: json({ ...playbook, stages }), source_text: '{}', format: 'json', created_by: 'test' })
      .execute();
    const logs: string[] = [];
    const logger = createLogger({ level: 'error', destination: { write: (line: string) => logs.push(line) } as unknown as NodeJS.WritableStream });
    const result = await sweepDueWorkspaces({ db: t.db, logger }, at(20));
    expect(result.swept).toEqual(['default-5']);
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0]!)).toMatchObject({ workspaceId: 'broken', err: { message: expect.stringContaining('double precision') } });
    expect((await settings('broken')).sweep.lastSweptAt).toBeNull();
    expect((await sweep(at(21))).swept).toEqual([]);
  });

  it('a sweep that filled its batch is repeated at the next minute instead of a whole interval later', async () => {
    await createWorkspace(t, 'big');
    await currentPlaybook(t.db, 'big');
    await putInterval('big', 60);
    await sql`
      insert into deals (workspace_id, deal_id, provider, state)
      select 'big', 'big-' || g, 'hubspot', '{}'::jsonb from generate_series(1, 20001) g
    `.execute(t.db);
    const first = await sweep(at(30));
    expect(first.swept).toContain('big');
    expect(await evaluateJobs('big')).toBe(20_000);
    expect((await settings('big')).sweep.lastSweptAt).toBeNull();
    // The workers evaluate what was queued; the next minute's sweep takes the rest and is recorded.
    await sql`update deals set evaluated_at = ${at(30)} where workspace_id = 'big' and deal_id in (select substr(key, length('evaluate:big:') + 1) from graphile_worker.jobs where key like 'evaluate:big:%')`.execute(t.db);
    await sql`delete from graphile_worker._private_jobs where key like 'evaluate:big:%'`.execute(t.db);
    expect((await sweep(at(31))).swept).toContain('big');
    expect(await evaluateJobs('big')).toBe(1);
    expect((await settings('big')).sweep.lastSweptAt).toBe('2025-03-03T10:31:00.000Z');
    expect((await sweep(at(32))).swept).not.toContain('big');
    await sql`delete from deals where workspace_id = 'big'`.execute(t.db);
  });

  it('a changed interval counts from the last sweep', async () => {
    // every-15 was last swept at +30 (above); at 15 minutes it would be due again at +45.
    expect((await putInterval('every-15', 1)).statusCode).toBe(200);
    expect((await sweep(at(40))).swept).toContain('every-15');
    expect((await putInterval('every-15', 1440)).json().sweep).toEqual({ intervalMinutes: 1440, lastSweptAt: '2025-03-03T10:40:00.000Z' });
    expect((await sweep(at(41))).swept).not.toContain('every-15');
    expect((await sweep(at(40 + 1439))).swept).not.toContain('every-15');
    expect((await sweep(at(40 + 1440))).swept).toContain('every-15');
  });

  it('the worker runs the sweep every minute and sweeps the workspaces that are due', async () => {
    const { taskList, cronItems } = buildTaskList({ db: t.db, logger: t.deps.logger, metrics: t.deps.metrics, secretBox: t.deps.secretBox, config: t.config });
    const cron = cronItems.find((c) => c.identifier === 'sweep')!;
    // Every minute of the hour, not only every fifth.
    for (const min of [0, 1, 7, 59]) expect(cron.match({ min, hour: 3, date: 4, month: 5, dow: 2 })).toBe(true);
    await createWorkspace(t, 'fresh');
    const before = Date.now();
    await taskList.sweep!({}, {} as never);
    const swept = (await settings('fresh')).sweep.lastSweptAt;
    expect(new Date(swept).getTime()).toBe(Math.floor(before / MINUTE) * MINUTE);
  });
});
