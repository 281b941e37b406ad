import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { runAlertTick } from '../../src/alerts/escalate-alerts.ts';
import { alertRow, createWorkspace, DAY, deliveries, dispatch, HOUR, outboxTasks, publishAlerting, putPerson, raise, SLACK_HOOK } from './support.ts';

// Monday 2025-03-03, 10:00 UTC.
const t0 = new Date('2025-03-03T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const MIN = 60_000;

describe('fatigue controls', async () => {
  const t = await createTestApp();

  it('dedupes: the same type on the same deal within the window is suppressed; a running ladder suppresses until acknowledged', async () => {
    const ws = 'dedupe';
    await createWorkspace(t, ws);
    const first = (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'warning', type: 'stale_deal', now: t0 }))!;
    const again = (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'warning', type: 'stale_deal', now: at(24 * HOUR - MIN) }))!;
    expect(await alertRow(t, ws, again)).toMatchObject({ state: 'suppressed', state_reason: `duplicate of alert ${first}` });
    expect(await deliveries(t, ws, again)).toEqual([]);
    // Exactly at the end of the 24-hour window it is no longer a duplicate.
    const later = (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'warning', type: 'stale_deal', now: at(24 * HOUR) }))!;
    expect((await alertRow(t, ws, later)).state).toBe('open');
    // Another deal is another alert.
    expect((await alertRow(t, ws, (await raise(t, { ws, dealId: 'e', ownerId: 'rep', tier: 'warning', type: 'stale_deal', now: at(MIN) }))!)).state).toBe('open');

    const critical = (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'critical', type: 'score_drop', now: t0 }))!;
    expect((await alertRow(t, ws, (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'critical', type: 'score_drop', now: at(3 * DAY) }))!)).state).toBe('suppressed');
    await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/alerts/${critical}/ack`, headers: t.auth, payload: { by: 'rep' } });
    expect((await alertRow(t, ws, (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'critical', type: 'score_drop', now: at(3 * DAY + MIN) }))!)).state).toBe('open');
  });

  it('throttles per deal: over the limit, warnings fold into the digest; critical alerts still go out', async () => {
    const ws = 'per-deal';
    await createWorkspace(t, ws);
    await publishAlerting(t, ws, { throttle: { perDeal: { max: 2, hours: 24 }, perRecipient: { max: 50, hours: 24 } } });
    const ids: string[] = [];
    for (const [i, type] of ['stage_stall', 'stale_deal', 'score_band_cooling'].entries()) {
      ids.push((await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'warning', type, now: at(i * MIN) }))!);
      await dispatch(t, ws, at(i * MIN));
    }
    const third = await deliveries(t, ws, ids[2]!);
    expect(third.find((d) => d.channel === 'crm_task')).toMatchObject({ status: 'folded', detail: expect.stringContaining('deal d already had 2 alert(s) in 24 h') });
    expect(third.find((d) => d.channel === 'digest')).toMatchObject({ status: 'waiting', recipient_id: 'rep' });
    expect((await deliveries(t, ws, ids[1]!)).find((d) => d.channel === 'crm_task')!.status).toBe('queued');
    expect(await outboxTasks(t, ws)).toHaveLength(2);

    // The window slides: 24 hours after the first one, the deal may be alerted again.
    const fourth = (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'warning', type: 'close_date_drift', now: at(24 * HOUR) }))!;
    await dispatch(t, ws, at(24 * HOUR));
    expect((await deliveries(t, ws, fourth)).find((d) => d.channel === 'crm_task')!.status).toBe('queued');

    const critical = (await raise(t, { ws, dealId: 'd', ownerId: 'rep', tier: 'critical', type: 'champion_departed', now: at(24 * HOUR + MIN) }))!;
    await dispatch(t, ws, at(24 * HOUR + MIN));
    expect((await deliveries(t, ws, critical)).find((d) => d.channel === 'crm_task')!.status).toBe('queued');
  });

  it('throttles per recipient across deals', async () => {
    const ws = 'per-recipient';
    await createWorkspace(t, ws);
    await publishAlerting(t, ws, { throttle: { perDeal: { max: 50, hours: 24 }, perRecipient: { max: 2, hours: 12 } } });
    const ids: string[] = [];
    for (const deal of ['a', 'b', 'c']) {
      ids.push((await raise(t, { ws, dealId: deal, ownerId: 'rep', tier: 'warning', type: 'stale_deal', now: t0 }))!);
      await dispatch(t, ws, t0);
    }
    expect((await deliveries(t, ws, ids[2]!)).find((d) => d.channel === 'crm_task')).toMatchObject({ status: 'folded', detail: expect.stringContaining('rep already had 2 alert(s) in 12 h') });
    // Another owner is not affected.
    const other = (await raise(t, { ws, dealId: 'z', ownerId: 'rep-2', tier: 'warning', type: 'stale_deal', now: t0 }))!;
    await dispatch(t, ws, t0);
    expect((await deliveries(t, ws, other)).find((d) => d.channel === 'crm_task')!.status).toBe('queued');
  });

  it('caps a workspace per day; the overflow goes to the digest and the cap resets at local midnight', async () => {
    const ws = 'capped';
    await createWorkspace(t, ws);
    await publishAlerting(t, ws, { dailyCap: 2, quietHours: 'off' });
    const ids: string[] = [];
    for (const deal of ['a', 'b', 'c']) {
      ids.push((await raise(t, { ws, dealId: deal, ownerId: `rep-${deal}`, tier: 'opportunity', type: 'buying_signal', now: t0 }))!);
    }
    // Opportunities go to the digest only: they never count against the cap.
    await dispatch(t, ws, t0);
    expect((await deliveries(t, ws, ids[0]!)).map((d) => d.status)).toEqual(['waiting']);
    const warnings: string[] = [];
    for (const deal of ['a', 'b', 'c']) {
      warnings.push((await raise(t, { ws, dealId: deal, ownerId: `rep-${deal}`, tier: 'warning', type: 'stale_deal', now: at(HOUR) }))!);
      await dispatch(t, ws, at(HOUR));
    }
    expect((await deliveries(t, ws, warnings[2]!)).find((d) => d.channel === 'crm_task')).toMatchObject({ status: 'folded', detail: expect.stringContaining('daily cap of 2') });
    // The next UTC day (the workspace's zone) starts a new count.
    const nextDay = new Date('2025-03-04T00:00:00Z');
    const fresh = (await raise(t, { ws, dealId: 'd', ownerId: 'rep-d', tier: 'warning', type: 'stale_deal', now: nextDay }))!;
    await dispatch(t, ws, nextDay);
    expect((await deliveries(t, ws, fresh)).find((d) => d.channel === 'crm_task')!.status).toBe('queued');
  });
});

describe('quiet hours', async () => {
  const t = await createTestApp();
  const tick = (now: Date) => runAlertTick({ db: t.db, logger: t.deps.logger }, now);

  beforeAll(async () => {
    await createWorkspace(t, 'quiet');
    await putPerson(t, 'quiet', 'ny-rep', { timeZone: 'America/New_York', managerId: 'ny-mgr' });
  });

  it("defers a delivery outside the recipient's working hours to their next working hour, and the ladder counts from there", async () => {
    // Sunday 2025-03-02 21:00 in New York (EST, UTC-5).
    const sundayNight = new Date('2025-03-03T02:00:00Z');
    const mondayNine = new Date('2025-03-03T14:00:00Z');
    const id = (await raise(t, { ws: 'quiet', dealId: 'q', ownerId: 'ny-rep', tier: 'critical', type: 'champion_departed', now: sundayNight }))!;
    const rows = await deliveries(t, 'quiet', id);
    expect(rows.map((r) => new Date(r.due_at).toISOString())).toEqual([mondayNine.toISOString(), mondayNine.toISOString()]);
    expect(new Date((await alertRow(t, 'quiet', id)).next_escalation_at!).toISOString()).toBe(new Date(mondayNine.getTime() + 2 * DAY).toISOString());

    expect(await dispatch(t, 'quiet', sundayNight)).toMatchObject({ handled: 0 });
    expect((await tick(new Date(mondayNine.getTime() - 1))).dispatched).toBe(0);
    expect(await dispatch(t, 'quiet', new Date(mondayNine.getTime() - 1))).toMatchObject({ handled: 0 });
    // At 09:00 local the tick sees it due and dispatch sends it: deferred, never dropped.
    expect((await tick(mondayNine)).dispatched).toBe(1);
    expect(await dispatch(t, 'quiet', mondayNine)).toMatchObject({ handled: 2 });
    expect((await deliveries(t, 'quiet', id)).map((d) => d.status)).toEqual(['queued', 'skipped']);
  });

  it('a fixed quiet window applies at its edges in the recipient zone', async () => {
    await createWorkspace(t, 'window');
    await publishAlerting(t, 'window', { quietHours: { from: '20:00', to: '07:00' } });
    await putPerson(t, 'window', 'ber', { timeZone: 'Europe/Berlin' });
    // 19:59 Berlin (CET, UTC+1): just before the window.
    const before = (await raise(t, { ws: 'window', dealId: 'w1', ownerId: 'ber', tier: 'warning', type: 'stale_deal', now: new Date('2025-03-03T18:59:00Z') }))!;
    expect(new Date((await deliveries(t, 'window', before))[0]!.due_at).toISOString()).toBe('2025-03-03T18:59:00.000Z');
    // 20:00 Berlin: waits until 07:00 Berlin.
    const inside = (await raise(t, { ws: 'window', dealId: 'w2', ownerId: 'ber', tier: 'warning', type: 'stale_deal', now: new Date('2025-03-03T19:00:00Z') }))!;
    expect(new Date((await deliveries(t, 'window', inside))[0]!.due_at).toISOString()).toBe('2025-03-04T06:00:00.000Z');
  });

  it('sends to the manager while the owner is out of office', async () => {
    await putPerson(t, 'quiet', 'away-rep', { managerId: 'cover-mgr', outOfOffice: [{ from: '2025-03-03', to: '2025-03-07' }] });
    const id = (await raise(t, { ws: 'quiet', dealId: 'ooo', ownerId: 'away-rep', tier: 'warning', type: 'stale_deal', now: t0 }))!;
    expect((await deliveries(t, 'quiet', id))[0]).toMatchObject({ recipient_id: 'cover-mgr', recipient_role: 'owner', detail: expect.stringContaining('out of office') });
  });
});

describe('shadow workspaces', async () => {
  const t = await createTestApp();

  it('record every delivery as shadow: outbox rows that are never sent, Slack messages that are never posted', async () => {
    await createWorkspace(t, 'calib', 'shadow');
    await t.app.inject({ method: 'PUT', url: '/api/workspaces/calib/alerting', headers: t.auth, payload: { slackWebhookUrl: SLACK_HOOK } });
    const id = (await raise(t, { ws: 'calib', dealId: 's', ownerId: 'rep', tier: 'critical', type: 'score_drop', now: t0 }))!;
    await dispatch(t, 'calib', t0);
    expect((await deliveries(t, 'calib', id)).map((d) => [d.channel, d.status])).toEqual([['crm_task', 'shadow'], ['slack', 'shadow']]);
    expect((await outboxTasks(t, 'calib')).map((o) => o.status)).toEqual(['shadow']);
    const jobs = await t.db.selectFrom('graphile_worker.jobs' as never).select('task_identifier' as never).execute();
    expect((jobs as Array<{ task_identifier: string }>).some((j) => j.task_identifier === 'send-slack')).toBe(false);
  });
});
