import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { createWorkspace, openDeal, putPerson, putRouting, route } from './support.ts';

/** Tuesday 4 March 2025, 10:00 UTC: inside default working hours. */
const TUESDAY_10 = Date.parse('2025-03-04T10:00:00.000Z');
const TUESDAY_22 = Date.parse('2025-03-04T22:00:00.000Z');

describe('routing API', async () => {
  const t = await createTestApp();
  beforeAll(async () => {
    await createWorkspace(t, 'api-ws');
    await createWorkspace(t, 'other-ws');
  });

  it('stores the document with defaults and reads it back with rotation counts', async () => {
    const put = await t.app.inject({ method: 'PUT', url: '/api/workspaces/api-ws/routing', headers: t.auth, payload: { owners: [{ ownerId: '101', territories: ['west'], capacity: 20 }] } });
    expect(put.statusCode).toBe(200);
    const get = await t.app.inject({ method: 'GET', url: '/api/workspaces/api-ws/routing', headers: t.auth });
    expect(get.json()).toMatchObject({
      territoryField: 'territory',
      segmentFields: ['industry', 'segment'],
      respectWorkingHours: true,
      fallbackOwnerId: null,
      owners: [{ ownerId: '101', territories: ['west'], segments: [], weight: 1, capacity: 20, active: true }],
      pools: [],
    });
    expect(get.json().updatedAt).toEqual(expect.any(String));
  });

  it.each([
    [{ owners: [{ ownerId: 'a' }, { ownerId: 'a' }] }, 'owners.1.ownerId'],
    [{ owners: [{ ownerId: 'a', weight: 0 }] }, 'owners.0.weight'],
    [{ owners: [{ ownerId: 'a', capacity: -1 }] }, 'owners.0.capacity'],
    [{ owners: [{ ownerId: 'a', region: 'west' }] }, 'owners.0'],
  ])('refuses %j with the path of the problem', async (payload, path) => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/workspaces/api-ws/routing', headers: t.auth, payload });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().error)).toContain(path.split('.').pop()!);
  });

  it('is reachable only with the workspace authority', async () => {
    const { token } = await createAdminToken(t.db, { name: 'scoped', workspaceId: 'other-ws' });
    const res = await t.app.inject({ method: 'GET', url: '/api/workspaces/api-ws/routing', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(404);
  });
});

describe('routing strategies', async () => {
  const t = await createTestApp();
  let n = 0;
  /** A fresh workspace per case, so rotations and counts never leak between rows. */
  const workspace = async (routing: Record<string, unknown>, people: Record<string, Record<string, unknown>> = {}): Promise<string> => {
    n += 1;
    const ws = `routes-${n}`;
    await createWorkspace(t, ws);
    await putRouting(t, ws, routing);
    for (const [id, body] of Object.entries(people)) await putPerson(t, ws, id, body);
    return ws;
  };
  const leave = { outOfOffice: [{ from: '2025-03-03', to: '2025-03-07' }] };

  it.each([
    // [label, routing, people, existing open deals {owner: count}, route options, expected owners for successive deals, expected strategy of the last]
    ['territory match wins over everything else', { owners: [{ ownerId: 'w', territories: ['west'] }, { ownerId: 'e', territories: ['east'] }, { ownerId: 'h', segments: ['health'] }] }, {}, {}, { fields: { territory: 'West', industry: 'health' } }, ['w', 'w'], 'territory'],
    ['ties inside a territory rotate', { owners: [{ ownerId: 'w1', territories: ['west'] }, { ownerId: 'w2', territories: ['west'] }] }, {}, {}, { fields: { territory: 'west' } }, ['w1', 'w2', 'w1'], 'territory'],
    ['segment match when no territory matches', { owners: [{ ownerId: 'e', territories: ['east'] }, { ownerId: 'h', segments: ['Healthcare'] }] }, {}, {}, { fields: { territory: 'west', industry: 'healthcare' } }, ['h'], 'segment'],
    ['weighted round-robin as the fallback', { owners: [{ ownerId: 'a', weight: 2 }, { ownerId: 'b' }] }, {}, {}, {}, ['a', 'b', 'a', 'a', 'b', 'a'], 'round_robin'],
    ['an owner at capacity is skipped', { owners: [{ ownerId: 'a', capacity: 1 }, { ownerId: 'b', capacity: 5 }] }, {}, { a: 1 }, {}, ['b', 'b'], 'round_robin'],
    ['a full territory falls through to the round-robin', { owners: [{ ownerId: 'w', territories: ['west'], capacity: 0 }, { ownerId: 'x' }] }, {}, {}, { fields: { territory: 'west' } }, ['x'], 'round_robin'],
    ['all at capacity: the fallback owner takes it', { fallbackOwnerId: 'queue', owners: [{ ownerId: 'a', capacity: 1 }, { ownerId: 'b', capacity: 1 }] }, {}, { a: 1, b: 1 }, {}, ['queue'], 'fallback'],
    ['all at capacity and no fallback: nobody', { owners: [{ ownerId: 'a', capacity: 0 }] }, {}, {}, { fallback: 'none' as const }, [null], 'none'],
    ['owners on leave are skipped', { owners: [{ ownerId: 'a' }, { ownerId: 'b' }, { ownerId: 'c' }] }, { b: leave }, {}, {}, ['a', 'c', 'a'], 'round_robin'],
    ['everyone on leave: the current owner’s manager', { owners: [{ ownerId: 'a' }, { ownerId: 'b' }] }, { a: { ...leave, managerId: 'boss' }, b: leave }, {}, { currentOwnerId: 'a', reassign: true }, ['boss'], 'fallback'],
    ['a stale reassignment never returns the deal to its owner', { owners: [{ ownerId: 'a' }, { ownerId: 'b' }] }, {}, {}, { currentOwnerId: 'a', reassign: true }, ['b', 'b'], 'round_robin'],
    ['inactive owners are out of the rotation', { owners: [{ ownerId: 'a', active: false }, { ownerId: 'b' }] }, {}, {}, {}, ['b', 'b'], 'round_robin'],
    ['closed deals do not count toward capacity', { owners: [{ ownerId: 'a', capacity: 1 }] }, {}, { 'a:closed': 1 }, {}, ['a'], 'round_robin'],
  ])('%s', async (_label, routing, people, existing, opts, expected, lastStrategy) => {
    const ws = await workspace(routing, people);
    for (const [key, count] of Object.entries(existing)) {
      const [owner, closed] = key.split(':');
      for (let i = 0; i < count; i++) await openDeal(t.db, ws, `held-${owner}-${i}`, owner!, closed === 'closed');
    }
    const picked: (string | null)[] = [];
    let last = null as Awaited<ReturnType<typeof route>> | null;
    for (let i = 0; i < expected.length; i++) {
      // Each routed deal is open, so the capacity check sees it (pending until the CRM confirms).
      last = await route(t.db, ws, `new-${i}`, { ...opts, now: TUESDAY_10 });
      picked.push(last.ownerId);
    }
    expect(picked).toEqual(expected);
    expect(last!.strategy).toBe(lastStrategy);
    expect(last!.explanation.length).toBeGreaterThan(10);
  });

  it('prefers owners at work; when nobody is, picks among those not on leave and says so', async () => {
    const ws = await workspace({ owners: [{ ownerId: 'ny' }, { ownerId: 'ldn' }] }, { ny: { timeZone: 'America/New_York' }, ldn: { timeZone: 'Europe/London' } });
    // 22:00 UTC is 17:00 in New York (working) and 22:00 in London (not).
    expect((await route(t.db, ws, 'd1', { now: TUESDAY_22 })).ownerId).toBe('ny');
    expect((await route(t.db, ws, 'd2', { now: TUESDAY_22 })).ownerId).toBe('ny');
    // 03:00 UTC: nobody is working.
    const night = await route(t.db, ws, 'd3', { now: Date.parse('2025-03-05T03:00:00.000Z') });
    expect(night.ownerId).not.toBeNull();
    expect(night.explanation).toContain('nobody in the pool is inside working hours');
  });

  it('explains the choice: strategy, rotation position and who was skipped', async () => {
    const ws = await workspace({ owners: [{ ownerId: 'a', capacity: 0 }, { ownerId: 'b' }] });
    const r = await route(t.db, ws, 'd1', { now: TUESDAY_10 });
    expect(r).toEqual({ strategy: 'round_robin', pool: 'all', ownerId: 'b', explanation: 'weighted round-robin over all owners picked b; rotation all #1; skipped a at capacity (0/0)' });
    const row = await t.db.selectFrom('routing_assignments').selectAll().where('workspace_id', '=', ws).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ deal_id: 'd1', owner_id: 'b', pool: 'all', seq: '1', strategy: 'round_robin', settled_at: null });
  });
});
