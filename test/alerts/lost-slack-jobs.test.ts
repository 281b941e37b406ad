import nock from 'nock';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from 'graphile-worker';
import { createTestApp } from '../support/app.ts';
import { runAlertTick } from '../../src/alerts/escalate-alerts.ts';
import { sendDigests } from '../../src/alerts/digests.ts';
import { alertTasks } from '../../src/alerts/alert-tasks.ts';
import { SEND_SLACK_TASK } from '../../src/alerts/alert-jobs.ts';
import { queueLogger } from '../../src/platform/queue-logger.ts';
import { createWorkspace, deliveries, dispatch, publishAlerting, putPerson, raise, SLACK_HOOK } from './support.ts';

const MINUTE = 60_000;
const t0 = new Date('2025-03-03T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
const hookPath = new URL(SLACK_HOOK).pathname;

/**
 * A Slack message whose send-slack job disappeared (a worker killed at the wrong moment, a job that
 * used up its attempts, a restored database) gets its job back from the alert tick — once, and never
 * for a message already sent.
 */
describe('lost send-slack jobs', async () => {
  const t = await createTestApp();
  const ws = 'lost-jobs';
  const tick = (now: Date) => runAlertTick({ db: t.db, logger: t.deps.logger }, now);
  const keyOf = (target: 'delivery' | 'digest', id: string) => `slack:${ws}:${target}:${id}`;
  const job = async (key: string) =>
    (await sql<{ attempts: number; max_attempts: number; locked_at: Date | null; task_identifier: string }>`
      select attempts, max_attempts, locked_at, task_identifier from graphile_worker.jobs where key = ${key}
    `.execute(t.db)).rows[0];
  const dropJob = (key: string) => sql`delete from graphile_worker._private_jobs where key = ${key}`.execute(t.db);
  const row = (id: string) => t.db.selectFrom('alert_deliveries').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirstOrThrow();

  /** Runs the queued send-slack jobs with the real task. */
  async function runSlackJobs(): Promise<void> {
    const tasks = alertTasks({ db: t.db, logger: t.deps.logger, secretBox: t.deps.secretBox, config: t.config });
    await runOnce({ pgPool: t.pool, taskList: { [SEND_SLACK_TASK]: tasks[SEND_SLACK_TASK]! }, logger: queueLogger(t.deps.logger) });
  }

  /** A critical alert dispatched at `now`: its Slack delivery is queued with a job of its own. */
  async function queuedSlack(dealId: string, now = t0): Promise<string> {
    const alertId = (await raise(t, { ws, dealId, ownerId: 'rep', tier: 'critical', type: 'champion_departed', now }))!;
    await dispatch(t, ws, now);
    const id = (await deliveries(t, ws, alertId)).find((d) => d.channel === 'slack')!.id;
    expect(await row(id)).toMatchObject({ status: 'queued' });
    expect(await job(keyOf('delivery', id))).toMatchObject({ task_identifier: SEND_SLACK_TASK });
    return id;
  }

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await putPerson(t, ws, 'rep', { name: 'Ana', slackUserId: 'U0REP1' });
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/alerting`, headers: t.auth, payload: { slackWebhookUrl: SLACK_HOOK } });
  });

  it('queues the job again once the grace period is over, and the message goes out once', async () => {
    const id = await queuedSlack('deal-deleted');
    // A job that exists is left alone, however old the message.
    expect((await tick(at(10))).slackRequeued).toBe(0);
    await dropJob(keyOf('delivery', id));
    // Within the grace period nothing happens yet.
    expect((await tick(at(1))).slackRequeued).toBe(0);
    expect(await job(keyOf('delivery', id))).toBeUndefined();
    const recovered = await tick(at(12));
    expect(recovered).toMatchObject({ slackRequeued: 1, slackDead: 0 });
    expect(await job(keyOf('delivery', id))).toMatchObject({ task_identifier: SEND_SLACK_TASK, attempts: 0, max_attempts: 3 });
    expect(await row(id)).toMatchObject({ status: 'queued', attempts: 1 });
    // The next tick finds the job in place.
    expect((await tick(at(20))).slackRequeued).toBe(0);

    // The recovered job posts the message; Slack sees it exactly once.
    const posted = nock('https://hooks.slack.com').post(hookPath).once().reply(200, 'ok');
    await runSlackJobs();
    expect(posted.isDone()).toBe(true);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await job(keyOf('delivery', id))).toBeUndefined();
    // Sent: no later tick brings it back, and a stray job for it has nothing to do.
    expect((await tick(at(60))).slackRequeued).toBe(0);
    await sql`select graphile_worker.add_job(${SEND_SLACK_TASK}, json_build_object('workspaceId', ${ws}::text, 'target', 'delivery', 'id', ${id}::text), job_key := ${keyOf('delivery', id)})`.execute(t.db);
    await runSlackJobs();
    expect(nock.pendingMocks()).toEqual([]);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('takes over a job that used up its attempts, but not one a worker is running', async () => {
    const exhausted = await queuedSlack('deal-exhausted', at(100));
    await sql`update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'boom' where key = ${keyOf('delivery', exhausted)}`.execute(t.db);
    const running = await queuedSlack('deal-running', at(100));
    await sql`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'busy-worker' where key = ${keyOf('delivery', running)}`.execute(t.db);

    expect((await tick(at(110))).slackRequeued).toBe(1);
    expect(await job(keyOf('delivery', exhausted))).toMatchObject({ attempts: 0, locked_at: null });
    expect(await row(exhausted)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await row(running)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await job(keyOf('delivery', running))).toMatchObject({ locked_at: expect.any(Date) });
    await sql`delete from graphile_worker._private_jobs where key in (${keyOf('delivery', exhausted)}, ${keyOf('delivery', running)})`.execute(t.db);
    await t.db.updateTable('alert_deliveries').set({ status: 'sent' }).where('id', 'in', [exhausted, running]).execute();
  });

  it('waits for the retry time of a message that is retrying', async () => {
    const id = await queuedSlack('deal-retrying', at(200));
    // Slack said to come back in an hour; then the job vanished.
    await t.db.updateTable('alert_deliveries').set({ status: 'retrying', attempts: 3, next_attempt_at: at(260), updated_at: at(200) }).where('id', '=', id).execute();
    await dropJob(keyOf('delivery', id));
    expect((await tick(at(230))).slackRequeued).toBe(0);
    expect((await tick(at(261))).slackRequeued).toBe(0);
    expect((await tick(at(263))).slackRequeued).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'retrying', attempts: 4, next_attempt_at: null });
    await dropJob(keyOf('delivery', id));
    await t.db.updateTable('alert_deliveries').set({ status: 'sent' }).where('id', '=', id).execute();
  });

  it('gives up on a message whose jobs keep disappearing', async () => {
    const id = await queuedSlack('deal-poison', at(300));
    await t.db.updateTable('alert_deliveries').set({ attempts: 7 }).where('id', '=', id).execute();
    await dropJob(keyOf('delivery', id));
    expect(await tick(at(310))).toMatchObject({ slackRequeued: 0, slackDead: 1 });
    expect(await row(id)).toMatchObject({ status: 'dead', attempts: 8, last_error: { code: 'job_lost' } });
    expect(await job(keyOf('delivery', id))).toBeUndefined();
    expect((await tick(at(320))).slackDead).toBe(0);
  });

  it('leaves shadow messages alone', async () => {
    await createWorkspace(t, 'lost-shadow', 'shadow');
    await putPerson(t, 'lost-shadow', 'rep', { name: 'Sam' });
    const alertId = (await raise(t, { ws: 'lost-shadow', dealId: 'd', ownerId: 'rep', tier: 'critical', type: 'champion_departed', now: at(450) }))!;
    // 17:30 on a Monday: handled at once, as shadow, with no job.
    await dispatch(t, 'lost-shadow', at(450));
    expect((await deliveries(t, 'lost-shadow', alertId)).find((d) => d.channel === 'slack')).toMatchObject({ status: 'shadow' });
    expect((await tick(at(470))).slackRequeued).toBe(0);
  });

  it('does the same for a digest posted to Slack', async () => {
    await publishAlerting(t, ws, { digest: { hour: 8 } });
    await raise(t, { ws, dealId: 'deal-digest', ownerId: 'rep', tier: 'warning', type: 'stale_deal', now: at(400) });
    // The next morning at 08:00 UTC the digest is built and its Slack job queued.
    const morning = new Date('2025-03-04T08:00:00Z');
    expect((await sendDigests({ db: t.db, logger: t.deps.logger, publicBaseUrl: t.config.publicBaseUrl }, morning)).sent).toBe(1);
    const digest = await t.db.selectFrom('alert_digests').selectAll().where('workspace_id', '=', ws).executeTakeFirstOrThrow();
    const id = String(digest.id);
    expect(digest).toMatchObject({ via: 'slack', status: 'queued' });
    expect(await job(keyOf('digest', id))).toMatchObject({ task_identifier: SEND_SLACK_TASK });
    // The digest row is stamped by the database clock; put it on the test's clock.
    await t.db.updateTable('alert_digests').set({ updated_at: morning }).where('id', '=', id).execute();
    await dropJob(keyOf('digest', id));

    expect((await tick(new Date(morning.getTime() + MINUTE))).slackRequeued).toBe(0);
    expect((await tick(new Date(morning.getTime() + 5 * MINUTE))).slackRequeued).toBe(1);
    const posted = nock('https://hooks.slack.com').post(hookPath, (body: { text: string }) => body.text.includes('Daily digest')).once().reply(200, 'ok');
    await runSlackJobs();
    expect(posted.isDone()).toBe(true);
    expect(await t.db.selectFrom('alert_digests').select(['status', 'attempts']).where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ status: 'sent', attempts: 2 });
  });
});
