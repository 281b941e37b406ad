import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { sendSlack } from '../../src/alerts/send-slack.ts';
import { sendDigests } from '../../src/alerts/digests.ts';
import { createWorkspace, deliveries, dispatch, outboxTasks, publishAlerting, putPerson, raise, SLACK_HOOK } from './support.ts';

const t0 = new Date('2025-03-03T10:00:00Z');
const hookPath = new URL(SLACK_HOOK).pathname;
const slack = () => nock('https://hooks.slack.com');

describe('Slack delivery', async () => {
  const t = await createTestApp();
  const ws = 'slacky';
  const send = (id: string, now = t0) => sendSlack({ db: t.db, secretBox: t.deps.secretBox, logger: t.deps.logger }, { workspaceId: ws, target: 'delivery', id }, now);

  async function queuedSlack(dealId: string): Promise<string> {
    const alertId = (await raise(t, { ws, dealId, ownerId: 'rep', tier: 'critical', type: 'champion_departed', reason: 'Champion Dana <dana@acme> left & nobody replaced her', now: t0 }))!;
    await dispatch(t, ws, t0);
    return (await deliveries(t, ws, alertId)).find((d) => d.channel === 'slack')!.id;
  }
  const slackRow = (id: string) => t.db.selectFrom('alert_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await putPerson(t, ws, 'rep', { name: 'Ana', slackUserId: 'U0REP1' });
  });

  it('stores the webhook URL sealed and never shows it', async () => {
    const put = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/alerting`, headers: t.auth, payload: { slackWebhookUrl: SLACK_HOOK } });
    expect(put.statusCode).toBe(200);
    expect(put.json().slack.configured).toBe(true);
    const get = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerting`, headers: t.auth });
    expect(get.body).not.toContain('hooks.slack.com');
    const stored = await t.db.selectFrom('alerting_settings').select('slack_webhook').where('workspace_id', '=', ws).executeTakeFirstOrThrow();
    expect(stored.slack_webhook).not.toContain('XXXX');
    const bad = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/alerting`, headers: t.auth, payload: { slackWebhookUrl: 'http://hooks.slack.com/x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('hooks.slack.com/x');
  });

  it('posts the deal, the reason, what to do and the timeline link; Slack answers 200 "ok"', async () => {
    const id = await queuedSlack('deal-ok');
    let posted: { text: string; blocks: Array<{ text: { text: string } }> } | undefined;
    slack().post(hookPath, (body) => ((posted = body), true)).reply(200, 'ok');
    expect(await send(id)).toEqual({ status: 'sent', retryAt: null });
    const text = posted!.blocks[0]!.text.text;
    expect(text).toContain(`<https://momentum.example.com/api/workspaces/${ws}/deals/deal-ok|deal-ok>`);
    expect(text).toContain('Champion Dana &lt;dana@acme&gt; left &amp; nobody replaced her');
    expect(text).toContain('*What to do:*');
    expect(text).toContain('<@U0REP1> (owner)');
    expect(await slackRow(id)).toMatchObject({ status: 'sent', attempts: 1 });
    // Sent once: a repeated job has nothing to do.
    expect(await send(id)).toEqual({ status: 'skipped', retryAt: null });
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    const id = await queuedSlack('deal-429');
    slack().post(hookPath).reply(429, 'rate_limited', { 'Retry-After': '30' });
    const first = await send(id);
    expect(first).toEqual({ status: 'retrying', retryAt: new Date(t0.getTime() + 30_000) });
    expect(await slackRow(id)).toMatchObject({ status: 'retrying', attempts: 1, last_error: { status: 429, code: 'rate_limited' } });
    slack().post(hookPath).reply(200, 'ok');
    expect((await send(id, new Date(t0.getTime() + 30_000))).status).toBe('sent');
  });

  it('backs off on 5xx and network failures, and gives up after the last attempt', async () => {
    const id = await queuedSlack('deal-500');
    slack().post(hookPath).reply(500, 'rollup_error');
    expect(await send(id)).toEqual({ status: 'retrying', retryAt: new Date(t0.getTime() + 30_000) });
    slack().post(hookPath).replyWithError('socket hang up');
    expect(await send(id)).toEqual({ status: 'retrying', retryAt: new Date(t0.getTime() + 60_000) });
    await t.db.updateTable('alert_deliveries').set({ attempts: 7 }).where('id', '=', id).execute();
    slack().post(hookPath).reply(503, 'service_unavailable');
    expect((await send(id)).status).toBe('dead');
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('a %i %s refusal is final and shown on the alert and the settings, without the URL', async (status, code) => {
    const id = await queuedSlack(`deal-${status}`);
    slack().post(hookPath).reply(status, code);
    expect(await send(id)).toEqual({ status: 'dead', retryAt: null });
    expect(await slackRow(id)).toMatchObject({ status: 'dead', last_error: { status, code } });
    const settings = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerting`, headers: t.auth });
    expect(settings.json().slack.lastError).toMatchObject({ status, code });
    expect(JSON.stringify(await slackRow(id))).not.toContain('hooks.slack.com');
  });

  it('a failing Slack never holds back the CRM task of the same alert', async () => {
    const id = await queuedSlack('deal-both');
    slack().post(hookPath).reply(500, 'rollup_error');
    await send(id);
    const task = (await outboxTasks(t, ws)).find((o) => o.deal_id === 'deal-both');
    expect(task).toMatchObject({ status: 'pending' });
  });
});

describe('daily digests', async () => {
  const t = await createTestApp();
  const digest = (now: Date) => sendDigests({ db: t.db, logger: t.deps.logger, publicBaseUrl: t.config.publicBaseUrl }, now);
  const digests = (ws: string) => t.db.selectFrom('alert_digests').selectAll().where('workspace_id', '=', ws).orderBy('id').execute();

  beforeAll(async () => {
    for (const ws of ['dig-slack', 'dig-crm']) {
      await createWorkspace(t, ws);
      await putPerson(t, ws, 'ny', { name: 'Nia', timeZone: 'America/New_York', slackUserId: 'U0NIA' });
      await publishAlerting(t, ws, { digest: { hour: 8 } });
    }
    await t.app.inject({ method: 'PUT', url: '/api/workspaces/dig-slack/alerting', headers: t.auth, payload: { slackWebhookUrl: SLACK_HOOK } });
  });

  it("sends one digest per recipient at the digest hour in the recipient's zone, to Slack when it is set", async () => {
    const ws = 'dig-slack';
    // Monday evening in New York: a warning and an opportunity wait for Tuesday's digest.
    const monday = new Date('2025-03-03T23:00:00Z');
    const warning = (await raise(t, { ws, dealId: 'w', ownerId: 'ny', tier: 'warning', type: 'stale_deal', reason: 'No activity for 31 days', now: monday }))!;
    await raise(t, { ws, dealId: 'o', ownerId: 'ny', tier: 'opportunity', type: 'buying_signal', reason: 'Pricing page viewed 3 times', now: monday });
    // 07:59 EST on Tuesday is 12:59 UTC: too early.
    expect((await digest(new Date('2025-03-04T12:59:00Z'))).sent).toBe(0);
    expect((await digest(new Date('2025-03-04T13:00:00Z'))).sent).toBe(1);
    const [row] = await digests(ws);
    expect(row).toMatchObject({ recipient_id: 'ny', local_date: '2025-03-04', via: 'slack', item_count: 2, status: 'queued' });
    const text = (row!.payload as { blocks: Array<{ text: { text: string } }> }).blocks[0]!.text.text;
    expect(text).toContain('Daily digest for <@U0NIA>, 2025-03-04: 2 alert(s)');
    expect(text.indexOf('Warning (1)')).toBeLessThan(text.indexOf('Opportunity (1)'));
    expect((await deliveries(t, ws, warning)).find((d) => d.channel === 'digest')).toMatchObject({ status: 'digested', digest_id: String(row!.id) });

    slack().post(hookPath).reply(200, 'ok');
    const sent = await sendSlack({ db: t.db, secretBox: t.deps.secretBox, logger: t.deps.logger }, { workspaceId: ws, target: 'digest', id: String(row!.id) }, new Date('2025-03-04T13:00:00Z'));
    expect(sent.status).toBe('sent');

    // Later the same day: one digest a day, so new lines wait for tomorrow.
    await raise(t, { ws, dealId: 'w2', ownerId: 'ny', tier: 'warning', type: 'stage_stall', now: new Date('2025-03-04T15:00:00Z') });
    expect((await digest(new Date('2025-03-04T20:00:00Z'))).sent).toBe(0);
    expect((await digest(new Date('2025-03-05T13:00:00Z'))).sent).toBe(1);
    expect((await digests(ws)).map((d) => d.local_date)).toEqual(['2025-03-04', '2025-03-05']);
  });

  it('waits for a working day, and becomes one CRM task for the recipient when Slack is not set', async () => {
    const ws = 'dig-crm';
    // Friday 2025-03-07 evening in New York.
    await raise(t, { ws, dealId: 'a', ownerId: 'ny', tier: 'warning', type: 'stale_deal', now: new Date('2025-03-07T23:00:00Z') });
    await raise(t, { ws, dealId: 'b', ownerId: 'ny', tier: 'opportunity', type: 'score_band_hot', now: new Date('2025-03-07T23:30:00Z') });
    expect((await digest(new Date('2025-03-08T14:00:00Z'))).sent).toBe(0);
    expect((await digest(new Date('2025-03-09T14:00:00Z'))).sent).toBe(0);
    // Monday 08:00 EDT (DST began on Sunday 2025-03-09) is 12:00 UTC.
    expect((await digest(new Date('2025-03-10T11:59:00Z'))).sent).toBe(0);
    expect((await digest(new Date('2025-03-10T12:00:00Z'))).sent).toBe(1);
    const [row] = await digests(ws);
    expect(row).toMatchObject({ via: 'crm_task', item_count: 2, local_date: '2025-03-10' });
    const tasks = await outboxTasks(t, ws);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ deal_id: 'a', idempotency_key: row!.outbox_key, status: 'pending' });
    expect(tasks[0]!.payload).toMatchObject({ ownerId: 'ny', subject: 'Momentum daily digest 2025-03-10: 2 alert(s) on your deals' });
    expect(String(tasks[0]!.payload.body)).toContain('• deal b score band hot');
  });
});
