import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { drainQueue } from '../support/worker.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { createWorkspace, DAY } from './support.ts';

describe('people directory', async () => {
  const t = await createTestApp();
  const put = (ws: string, id: string, payload: unknown, headers = t.auth) => t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/people/${id}`, headers, payload: payload as object });

  it('stores, replaces, reads and lists people', async () => {
    await createWorkspace(t, 'team');
    const res = await put('team', '5001', {
      name: 'Ana Rep', email: 'ana@example.com', managerId: '5000', timeZone: 'Europe/Madrid', workingDays: [1, 2, 3, 4],
      workingHours: { start: '08:30', end: '17:00' }, outOfOffice: [{ from: '2025-08-01', to: '2025-08-15' }], slackUserId: 'U024BE7LH',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ownerId: '5001', managerId: '5000', timeZone: 'Europe/Madrid', workingHours: { start: '08:30', end: '17:00' }, source: 'api' });
    // PUT replaces: fields left out return to their defaults.
    expect((await put('team', '5001', { name: 'Ana' })).json()).toMatchObject({ name: 'Ana', managerId: null, outOfOffice: [] });
    await put('team', '5000', { name: 'Max' });
    await put('team', '4999', { name: 'Vera' });
    const page1 = await t.app.inject({ method: 'GET', url: '/api/workspaces/team/people?limit=2', headers: t.auth });
    expect(page1.json().items.map((p: { ownerId: string }) => p.ownerId)).toEqual(['4999', '5000']);
    const page2 = await t.app.inject({ method: 'GET', url: `/api/workspaces/team/people?limit=2&cursor=${page1.json().nextCursor}`, headers: t.auth });
    expect(page2.json()).toMatchObject({ items: [{ ownerId: '5001' }], nextCursor: null });
    expect((await t.app.inject({ method: 'GET', url: '/api/workspaces/team/people/nobody', headers: t.auth })).statusCode).toBe(404);
  });

  it('rejects bad entries with every problem and its path', async () => {
    const res = await put('team', '5002', { timeZone: 'Mars/Olympus', workingHours: { start: '18:00', end: '09:00' }, outOfOffice: [{ from: '2025-02-10', to: '2025-02-01' }], workingDays: [0] });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    const text = JSON.stringify(body.error);
    for (const path of ['timeZone', 'workingHours', 'outOfOffice', 'workingDays']) expect(text).toContain(path);
  });

  it('keeps other workspaces out', async () => {
    await createWorkspace(t, 'elsewhere');
    const { token } = await createAdminToken(t.db, { name: 'scoped-people', workspaceId: 'elsewhere' });
    const scoped = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ method: 'GET', url: '/api/workspaces/team/people', headers: scoped })).statusCode).toBe(404);
    expect((await put('team', '5003', { name: 'x' }, scoped)).statusCode).toBe(404);
  });
});

describe('alerts from the live pipeline', async () => {
  const t = await createTestApp();

  it('a time sweep that raises the stale-deal warning opens its alert with the decision, addressed to the deal owner', async () => {
    const ws = 'pipeline';
    await createWorkspace(t, ws, 'live');
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/sources/hubspot`, headers: t.auth, payload: { clientSecrets: [hubspotTestSecret], appId: 1, portalId: 62515 } });
    const now = Date.now();
    await injectWebhook(t.app, signedHubspotRequest({
      body: [
        hubspotEvent({ eventId: 11, objectId: 909, propertyValue: 'qualifiedtobuy', occurredAt: now - DAY }),
        hubspotEvent({ eventId: 12, objectId: 909, propertyName: 'hubspot_owner_id', propertyValue: '777', occurredAt: now - DAY }),
      ],
      timestamp: now,
    }));
    await drainQueue(t);
    const later = new Date(now + 35 * DAY);
    await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/sweep`, headers: t.auth, payload: { asOf: later.toISOString() } });
    await drainQueue(t);

    const decision = await t.db.selectFrom('decisions').select(['id', 'rule_id']).where('workspace_id', '=', ws).where('rule_id', '=', 'time-stale').executeTakeFirstOrThrow();
    const list = await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/alerts?dealId=909`, headers: t.auth });
    const alert = list.json().items.find((a: { decisionId: string }) => a.decisionId === String(decision.id));
    expect(alert).toMatchObject({ tier: 'warning', type: 'stale_deal', ownerId: '777', state: 'open', requiresAck: false });
    const crm = alert.deliveries.find((d: { channel: string }) => d.channel === 'crm_task');
    expect(crm).toMatchObject({ recipientId: '777', recipientRole: 'owner' });
    expect(alert.deliveries.find((d: { channel: string }) => d.channel === 'digest')).toMatchObject({ status: 'waiting' });
  });
});
