import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { runAlertTick } from '../../src/alerts/escalate-alerts.ts';
import { alertRow, createWorkspace, DAY, deliveries, dispatch, HOUR, outboxTasks, publishAlerting, putPerson, raise, SLACK_HOOK } from './support.ts';

// Monday 2025-03-03, 10:00 UTC: inside everyone's (default, UTC) working hours.
const t0 = new Date('2025-03-03T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('critical alerts: acknowledgement and the escalation ladder', async () => {
  const t = await createTestApp();
  const ws = 'ladder';
  const tick = (now: Date) => runAlertTick({ db: t.db, logger: t.deps.logger }, now);

  beforeAll(async () => {
    await createWorkspace(t, ws, 'live');
    await putPerson(t, ws, 'rep-1', { name: 'Ana Rep', managerId: 'mgr-1' });
    await putPerson(t, ws, 'mgr-1', { name: 'Max Manager', managerId: 'vp-1', slackUserId: 'U0MGR1' });
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/alerting`, headers: t.auth, payload: { slackWebhookUrl: SLACK_HOOK } });
  });

  it('day 1: the rep gets a CRM task and the channel a Slack message; the first rung waits two days', async () => {
    const id = (await raise(t, { ws, dealId: 'd-1', ownerId: 'rep-1', tier: 'critical', type: 'champion_departed', now: t0 }))!;
    const alert = await alertRow(t, ws, id);
    expect(alert).toMatchObject({ state: 'open', requires_ack: true, rung: 0 });
    expect(new Date(alert.next_escalation_at!).toISOString()).toBe(at(2 * DAY).toISOString());

    expect(await dispatch(t, ws, t0)).toMatchObject({ handled: 2 });
    const rows = await deliveries(t, ws, id);
    expect(rows.map((r) => [r.rung, r.channel, r.recipient_id, r.status])).toEqual([
      [0, 'crm_task', 'rep-1', 'queued'],
      [0, 'slack', null, 'queued'],
    ]);
    const [task] = await outboxTasks(t, ws);
    expect(task).toMatchObject({ deal_id: 'd-1', status: 'pending', idempotency_key: rows[0]!.outbox_key });
    expect(task!.payload).toMatchObject({ ownerId: 'rep-1', priority: 'high', dueDate: t0.toISOString() });
    expect(String(task!.payload.body)).toContain('What to do:');
    expect(String(task!.payload.body)).toContain(`https://momentum.example.com/api/workspaces/${ws}/deals/d-1`);
  });

  it('day 3: unacknowledged, it escalates to the manager — not a millisecond before', async () => {
    const [alert] = await t.db.selectFrom('alerts').select('id').where('deal_id', '=', 'd-1').execute();
    const id = String(alert!.id);
    expect((await tick(at(2 * DAY - 1))).escalated).toBe(0);
    expect((await alertRow(t, ws, id)).rung).toBe(0);

    expect((await tick(at(2 * DAY))).escalated).toBe(1);
    const row = await alertRow(t, ws, id);
    expect(row).toMatchObject({ state: 'escalated', rung: 1 });
    expect(new Date(row.next_escalation_at!).toISOString()).toBe(at(6 * DAY).toISOString());

    await dispatch(t, ws, at(2 * DAY));
    const rung1 = (await deliveries(t, ws, id)).filter((d) => d.rung === 1);
    expect(rung1.map((r) => [r.channel, r.recipient_id, r.recipient_role, r.status])).toEqual([
      ['crm_task', 'mgr-1', 'manager', 'queued'],
      ['slack', null, 'manager', 'queued'],
    ]);
    const managerTask = (await outboxTasks(t, ws)).find((o) => o.payload.ownerId === 'mgr-1');
    expect(String(managerTask!.payload.subject)).toMatch(/^Escalated \(step 1\) Critical/);
    expect(JSON.stringify(rung1[1]!.payload)).toContain('<@U0MGR1> (manager)');
  });

  it('day 7: flagged for pipeline review, and the ladder ends there', async () => {
    const [alert] = await t.db.selectFrom('alerts').select('id').where('deal_id', '=', 'd-1').execute();
    const id = String(alert!.id);
    expect((await tick(at(6 * DAY - 1))).escalated).toBe(0);
    expect((await tick(at(6 * DAY))).escalated).toBe(1);
    expect(await alertRow(t, ws, id)).toMatchObject({ state: 'escalated', rung: 2, flags: ['pipeline_review'], next_escalation_at: null });
    expect((await tick(at(30 * DAY))).escalated).toBe(0);
    const flagged = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts?flag=pipeline_review`, headers: t.auth });
    expect(flagged.json().items.map((a: { id: string }) => a.id)).toEqual([id]);
  });

  it('an acknowledged alert stops climbing; acknowledging again is harmless', async () => {
    const id = (await raise(t, { ws, dealId: 'd-2', ownerId: 'rep-1', tier: 'critical', type: 'score_drop', now: t0 }))!;
    const ack = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/alerts/${id}/ack`, headers: t.auth, payload: { by: 'ana@example.com' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ id, state: 'acknowledged', acknowledgedBy: 'ana@example.com', nextEscalationAt: null });
    const again = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/alerts/${id}/ack`, headers: t.auth, payload: { by: 'someone else' } });
    expect(again.json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ana@example.com' });
    await tick(at(10 * DAY));
    expect(await alertRow(t, ws, id)).toMatchObject({ state: 'acknowledged', rung: 0 });
    // Its first deliveries were still due: they are skipped rather than sent after the ack.
    await dispatch(t, ws, at(10 * DAY));
    expect((await deliveries(t, ws, id)).every((d) => d.status === 'skipped')).toBe(true);
  });

  it('a per-type ladder replaces the tier ladder; a rung whose role has nobody on record is shown as skipped', async () => {
    await publishAlerting(t, ws, { types: { competitor_entered: { escalation: [{ afterDays: 1, notify: ['leadership'] }] } } });
    const id = (await raise(t, { ws, dealId: 'd-3', ownerId: 'rep-1', tier: 'critical', type: 'competitor_entered', now: t0 }))!;
    expect(new Date((await alertRow(t, ws, id)).next_escalation_at!).toISOString()).toBe(at(DAY).toISOString());
    await tick(at(DAY));
    const rung1 = (await deliveries(t, ws, id)).filter((d) => d.rung === 1);
    // vp-1 is mgr-1's manager; no directory entry is needed to be named.
    expect(rung1.find((d) => d.channel === 'crm_task')).toMatchObject({ recipient_id: 'vp-1', recipient_role: 'leadership', status: 'pending' });
    expect((await alertRow(t, ws, id)).next_escalation_at).toBeNull();

    const orphan = (await raise(t, { ws, dealId: 'd-4', ownerId: 'rep-9', tier: 'critical', type: 'competitor_entered', now: t0 }))!;
    await tick(at(DAY));
    expect((await deliveries(t, ws, orphan)).find((d) => d.rung === 1 && d.channel === 'crm_task')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('no manager') });
  });

  it('alerts of a deal that closed are resolved and cannot be acknowledged', async () => {
    const id = (await raise(t, { ws, dealId: 'd-5', ownerId: 'rep-1', tier: 'critical', type: 'deal_regressed', now: t0 }))!;
    await t.db.updateTable('deals').set({ is_closed: true }).where('workspace_id', '=', ws).where('deal_id', '=', 'd-5').execute();
    expect((await tick(at(HOUR))).resolved).toBeGreaterThanOrEqual(1);
    expect(await alertRow(t, ws, id)).toMatchObject({ state: 'resolved', state_reason: 'deal closed', next_escalation_at: null });
    const ack = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/alerts/${id}/ack`, headers: t.auth, payload: { by: 'x' } });
    expect(ack.statusCode).toBe(409);
    expect(ack.json().error.code).toBe('not_acknowledgeable');
  });

  it('lists alerts with filters and pages, and keeps other workspaces out', async () => {
    const list = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts?tier=critical&state=acknowledged`, headers: t.auth });
    expect(list.json().items.map((a: { dealId: string }) => a.dealId)).toEqual(['d-2']);
    const page1 = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts?limit=2`, headers: t.auth });
    expect(page1.json().items).toHaveLength(2);
    const page2 = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts?limit=2&cursor=${page1.json().nextCursor}`, headers: t.auth });
    expect(page2.json().items[0].id < page1.json().items[1].id).toBe(true);
    const byDeal = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts?dealId=d-1`, headers: t.auth });
    expect(byDeal.json().items[0].deliveries.find((d: { channel: string }) => d.channel === 'crm_task')).toMatchObject({ outboxStatus: 'pending' });

    await createWorkspace(t, 'other');
    const { token } = await createAdminToken(t.db, { name: 'scoped', workspaceId: 'other' });
    const scoped = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts`, headers: scoped })).statusCode).toBe(404);
    const [first] = page1.json().items;
    expect((await t.app.inject({ method: 'POST', url: `/api/workspaces/other/alerts/${first.id}/ack`, headers: t.auth, payload: { by: 'x' } })).statusCode).toBe(404);
  });
});
