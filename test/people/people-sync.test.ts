import nock from 'nock';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotApi, hubspotWorkspace } from '../writeback/support.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { crmTargetFor } from '../../src/writeback/crm-target.ts';
import { readBucket } from '../../src/writeback/rate-limiter.ts';
import { runPeopleSync, type PeopleSyncDeps } from '../../src/people/sync-people.ts';
import { schedulePeopleSyncs } from '../../src/people/people-sync-store.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

function deps(extra: Partial<PeopleSyncDeps> = {}): PeopleSyncDeps {
  const { db, logger, secretBox } = t.deps;
  return { db, logger, crmFor: (ws) => crmTargetFor({ db, secretBox, logger, config: t.config }, ws), sleep: async () => undefined, retryDelayMs: 1, ...extra };
}

const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object, headers = t.auth) =>
  t.app.inject({ method, url: `/api/workspaces/${url}`, headers, ...(payload === undefined ? {} : { payload }) });

async function people(ws: string): Promise<Map<string, any>> {
  const res = await call('GET', `${ws}/people?limit=500`);
  expect(res.statusCode).toBe(200);
  return new Map(res.json().items.map((p: any) => [p.ownerId, p]));
}

async function peopleJob(ws: string): Promise<{ run_at: Date } | undefined> {
  return (await sql<{ run_at: Date }>`select run_at from graphile_worker.jobs where key = ${`people-sync:${ws}`}`.execute(t.db)).rows[0];
}

/** An owner as HubSpot's GET /crm/v3/owners documents it. */
function owner(id: string, firstName: string, lastName: string, extra: Record<string, unknown> = {}) {
  return {
    id, email: `${firstName.toLowerCase()}@example.com`, type: 'PERSON', firstName, lastName, userId: Number(id) + 100, userIdIncludingInactive: Number(id) + 100,
    createdAt: '2019-10-30T03:30:17.883Z', updatedAt: '2019-12-07T16:50:06.678Z', archived: false, teams: [{ id: '178588', name: 'West Coast Sales', primary: true }], ...extra,
  };
}

/** A portal with two pages of active owners and one archived owner. */
function hubspotOwners(active: Array<ReturnType<typeof owner>>, archived: Array<ReturnType<typeof owner>>) {
  const [page1, page2] = [active.slice(0, 2), active.slice(2)];
  nock(hubspotApi).get('/crm/v3/owners').query({ limit: '500', archived: 'false' }).reply(200, { results: page1, paging: { next: { after: 'MTIzNDU=', link: `${hubspotApi}/crm/v3/owners/?after=MTIzNDU=` } } });
  nock(hubspotApi).get('/crm/v3/owners').query({ limit: '500', archived: 'false', after: 'MTIzNDU=' }).reply(200, { results: page2 });
  nock(hubspotApi).get('/crm/v3/owners').query({ limit: '500', archived: 'true' }).reply(200, { results: archived });
}

describe('people from HubSpot owners', () => {
  it('queues a read when the connection is set, and merges owners under API-set fields', async () => {
    const ws = await hubspotWorkspace(t, 'people-hs', 'shadow');
    // The connection queued a people sync, a little later so corrections to it can settle.
    const job = await peopleJob(ws);
    expect(job).toBeDefined();
    expect(new Date(job!.run_at).getTime()).toBeGreaterThan(Date.now() + 60_000);
    expect((await call('GET', `${ws}/people/sync`)).json()).toMatchObject({ status: 'queued', reason: 'connection', people: 0 });

    // An admin had already described Ana: her manager, hours and a name of their choosing.
    expect((await call('PUT', `${ws}/people/102`, { name: 'Ana (EMEA)', managerId: '103', timeZone: 'Europe/Madrid', workingHours: { start: '08:00', end: '16:00' } })).statusCode).toBe(200);

    hubspotOwners([owner('101', 'John', 'Smith'), owner('102', 'Ana', 'Rep'), owner('103', 'Max', 'Lead')], [owner('900', 'Olga', 'Former', { archived: true })]);
    expect(await runPeopleSync(deps(), ws)).toEqual({ status: 'completed', people: 4, deactivated: 0 });
    expect(nock.pendingMocks()).toEqual([]);

    const dir = await people(ws);
    expect([...dir.keys()]).toEqual(['101', '102', '103', '900']);
    expect(dir.get('101')).toMatchObject({
      name: 'John Smith', email: 'john@example.com', managerId: null, timeZone: null, source: 'crm', active: true,
      fieldSources: { name: 'crm', email: 'crm', managerId: 'default', timeZone: 'default', workingHours: 'default' },
    });
    expect(dir.get('101').crmSeenAt).not.toBeNull();
    // API-set fields win; the CRM fills the rest (her email).
    expect(dir.get('102')).toMatchObject({
      name: 'Ana (EMEA)', email: 'ana@example.com', managerId: '103', timeZone: 'Europe/Madrid', workingHours: { start: '08:00', end: '16:00' }, source: 'crm+api',
      fieldSources: { name: 'api', email: 'crm', managerId: 'api', timeZone: 'api', workingHours: 'api', outOfOffice: 'default' },
    });
    // The archived owner is kept, marked inactive, and says so.
    expect(dir.get('900')).toMatchObject({ name: 'Olga Former', active: false, inactiveReason: 'archived in HubSpot', source: 'crm' });
    expect(dir.get('900').inactiveSince).not.toBeNull();
    expect((await call('GET', `${ws}/people/sync`)).json()).toMatchObject({ status: 'completed', people: 4, deactivated: 0, error: null });

    // Leaving a field out of a PUT gives it back to the CRM.
    expect((await call('PUT', `${ws}/people/102`, { managerId: '103' })).json()).toMatchObject({ name: 'Ana Rep', email: 'ana@example.com', managerId: '103', timeZone: null, source: 'crm+api' });

    // Next day: John was archived, Max is gone from the portal altogether.
    hubspotOwners([owner('102', 'Ana', 'Rep'), owner('900', 'Olga', 'Former')], [owner('101', 'John', 'Smith', { archived: true })]);
    expect(await runPeopleSync(deps(), ws)).toEqual({ status: 'completed', people: 3, deactivated: 2 });
    const after = await people(ws);
    expect(after.get('101')).toMatchObject({ active: false, inactiveReason: 'archived in HubSpot' });
    expect(after.get('103')).toMatchObject({ active: false, inactiveReason: 'no longer listed by HubSpot', name: 'Max Lead' });
    // Olga is back, active again.
    expect(after.get('900')).toMatchObject({ active: true, inactiveSince: null, inactiveReason: null });
    expect(after.get('102')).toMatchObject({ managerId: '103', active: true });
  });

  it('waits out a 429 through the shared limiter, pausing the account for every process', async () => {
    const ws = await hubspotWorkspace(t, 'people-429', 'shadow');
    nock(hubspotApi)
      .get('/crm/v3/owners')
      .query({ limit: '500', archived: 'false' })
      .reply(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: 'c-429', policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': '2' });
    hubspotOwners([owner('201', 'Rita', 'Rep')], []);
    const slept: number[] = [];
    const before = Date.now();
    expect(await runPeopleSync(deps({ sleep: async (ms) => void slept.push(ms) }), ws)).toMatchObject({ status: 'completed', people: 1 });
    const bucket = await readBucket(t.db, `hubspot:${ws}`);
    expect(bucket!.paused_until!.getTime()).toBeGreaterThan(before + 1_500);
    expect(slept.some((ms) => ms > 1_500 && ms <= 2_000)).toBe(true);
    expect((await people(ws)).get('201')).toMatchObject({ name: 'Rita Rep', source: 'crm' });
  });

  it('defers a long rate-limit wait to a later job, and fails plainly on a missing scope', async () => {
    const ws = await hubspotWorkspace(t, 'people-daily', 'shadow');
    nock(hubspotApi)
      .get('/crm/v3/owners')
      .query(true)
      .reply(429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', correlationId: 'c-d', policyName: 'DAILY' });
    const outcome = await runPeopleSync(deps(), ws);
    expect(outcome.status).toBe('deferred');
    const job = await peopleJob(ws);
    expect(new Date(job!.run_at).getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
    const waiting = (await call('GET', `${ws}/people/sync`)).json();
    expect(waiting.status).toBe('waiting');
    expect(waiting.error.retryAt).toBeDefined();

    await sql`update crm_rate_limits set paused_until = null where bucket = ${`hubspot:${ws}`}`.execute(t.db);
    nock(hubspotApi)
      .get('/crm/v3/owners')
      .query(true)
      .reply(403, { status: 'error', message: "This app hasn't been granted all required scopes to make this call.", category: 'MISSING_SCOPES', correlationId: 'c-s' });
    expect(await runPeopleSync(deps(), ws)).toMatchObject({ status: 'failed' });
    const failed = (await call('GET', `${ws}/people/sync`)).json();
    expect(failed).toMatchObject({ status: 'failed', error: { kind: 'permanent', status: 403 } });
    expect(failed.error.message).toContain('required scopes');
  });
});

describe('people from Salesforce users', () => {
  const instance = 'https://acme.my.salesforce.com';
  const base = '/services/data/v62.0';

  function user(id: string, name: string, managerId: string | null, extra: Record<string, unknown> = {}) {
    return { attributes: { type: 'User', url: `${base}/sobjects/User/${id}` }, Id: id, Name: name, Email: `${name.split(' ')[0]!.toLowerCase()}@acme.example`, ManagerId: managerId, TimeZoneSidKey: 'America/New_York', IsActive: true, ...extra };
  }

  function users(records: Array<ReturnType<typeof user>>) {
    nock(instance)
      .get(`${base}/query`)
      .query((q) => String(q.q).includes('FROM User'))
      .reply(200, { totalSize: records.length, done: false, nextRecordsUrl: `${base}/query/01gUSERS-2000`, records: records.slice(0, 2) }, { 'sforce-limit-info': 'api-usage=120/15000' });
    nock(instance).get(`${base}/query/01gUSERS-2000`).reply(200, { totalSize: records.length, done: true, records: records.slice(2) });
  }

  const rep = '005000000000001AAA';
  const oldBoss = '005000000000002AAA';
  const newBoss = '005000000000003AAA';
  const pinned = '005000000000004AAA';

  it('takes managers and time zones from the CRM unless the API set them, across re-syncs', async () => {
    const ws = 'people-sf';
    expect((await call('PUT', ws, { name: ws, mode: 'shadow' })).statusCode).toBe(201);
    const connection = { provider: 'salesforce', auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 'cs-secret', refreshToken: 'rt-secret', instanceUrl: instance } };
    expect((await call('PUT', `${ws}/connection`, connection)).statusCode).toBe(200);
    nock('https://login.salesforce.com').post('/services/oauth2/token').reply(200, { access_token: 'sf-token', instance_url: instance });

    // The API pins this rep's manager; the CRM says otherwise.
    await call('PUT', `${ws}/people/${pinned}`, { managerId: newBoss, slackUserId: 'U024BE7LH' });
    users([
      user(rep, 'Ana Rep', oldBoss),
      user(oldBoss, 'Olaf Boss', null, { TimeZoneSidKey: 'Europe/Berlin' }),
      user(pinned, 'Pia Pinned', oldBoss),
      user('005000000000005AAA', 'Gus Gone', oldBoss, { IsActive: false }),
    ]);
    expect(await runPeopleSync(deps(), ws)).toEqual({ status: 'completed', people: 4, deactivated: 0 });
    let dir = await people(ws);
    expect(dir.get(rep)).toMatchObject({ name: 'Ana Rep', managerId: oldBoss, timeZone: 'America/New_York', source: 'crm', fieldSources: { managerId: 'crm', timeZone: 'crm' } });
    expect(dir.get(oldBoss)).toMatchObject({ managerId: null, timeZone: 'Europe/Berlin' });
    expect(dir.get(pinned)).toMatchObject({ name: 'Pia Pinned', managerId: newBoss, timeZone: 'America/New_York', slackUserId: 'U024BE7LH', source: 'crm+api', fieldSources: { managerId: 'api', timeZone: 'crm', slackUserId: 'api' } });
    expect(dir.get('005000000000005AAA')).toMatchObject({ active: false, inactiveReason: 'deactivated in Salesforce' });
    // The daily API usage Salesforce reported reached the shared limiter.
    expect(await readBucket(t.db, `salesforce:${ws}`)).toMatchObject({ daily_used: 120, daily_limit: 15000 });

    // The org moves both reps to a new manager: the one without an override follows it.
    users([
      user(rep, 'Ana Rep', newBoss),
      user(oldBoss, 'Olaf Boss', null, { TimeZoneSidKey: 'Europe/Berlin' }),
      user(pinned, 'Pia Pinned', oldBoss, { TimeZoneSidKey: 'America/Chicago' }),
      user('005000000000005AAA', 'Gus Gone', oldBoss, { IsActive: false }),
    ]);
    expect(await runPeopleSync(deps(), ws)).toMatchObject({ status: 'completed', people: 4 });
    dir = await people(ws);
    expect(dir.get(rep)).toMatchObject({ managerId: newBoss, source: 'crm' });
    expect(dir.get(pinned)).toMatchObject({ managerId: newBoss, timeZone: 'America/Chicago', fieldSources: { managerId: 'api', timeZone: 'crm' } });
    // The token was refreshed once and kept.
    expect(nock.pendingMocks()).toEqual([]);

    // Dropping the override hands the manager back to the CRM.
    expect((await call('PUT', `${ws}/people/${pinned}`, { slackUserId: 'U024BE7LH' })).json()).toMatchObject({ managerId: oldBoss, fieldSources: { managerId: 'crm' } });
  });
});

describe('POST /people/sync', () => {
  it('queues the job, which the worker runs with the real task list', async () => {
    const ws = await hubspotWorkspace(t, 'people-route', 'shadow');
    const res = await call('POST', `${ws}/people/sync`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'queued', reason: 'api' });
    // Asked for now: it replaces the connection's later job.
    expect(new Date((await peopleJob(ws))!.run_at).getTime()).toBeLessThanOrEqual(Date.now() + 1_000);

    hubspotOwners([owner('301', 'Nia', 'Route')], []);
    await drainQueue(t, 1);
    expect((await call('GET', `${ws}/people/sync`)).json()).toMatchObject({ status: 'completed', people: 1 });
    expect((await people(ws)).get('301')).toMatchObject({ name: 'Nia Route', source: 'crm' });
    expect(await peopleJob(ws)).toBeUndefined();
  });

  it('answers 409 without a CRM connection, and 404 to a token of another workspace', async () => {
    expect((await call('PUT', 'people-none', { name: 'none', mode: 'shadow' })).statusCode).toBe(201);
    const none = await call('POST', 'people-none/people/sync');
    expect(none.statusCode).toBe(409);
    expect(none.json().error.code).toBe('no_connection');
    expect((await call('GET', 'people-none/people/sync')).json()).toMatchObject({ status: 'never' });

    const { token } = await createAdminToken(t.db, { name: 'people-scoped', workspaceId: 'people-none' });
    const scoped = { authorization: `Bearer ${token}` };
    for (const method of ['POST', 'GET'] as const) {
      const res = await call(method, 'people-route/people/sync', undefined, scoped);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('people-route/people');
    }
    expect((await call('GET', 'people-route/people/301', undefined, scoped)).statusCode).toBe(404);
  });
});

describe('the daily schedule', () => {
  it('queues connected workspaces not read for a day, and leaves recent ones alone', async () => {
    await hubspotWorkspace(t, 'people-stale', 'shadow');
    await sql`update people_sync_state set requested_at = now() - interval '25 hours' where workspace_id = 'people-stale'`.execute(t.db);
    await sql`select graphile_worker.remove_job(${'people-sync:people-stale'})`.execute(t.db);
    // The workspace without a connection is never queued.
    await sql`delete from people_sync_state where workspace_id = 'people-none'`.execute(t.db);

    expect(await schedulePeopleSyncs(t.db)).toBe(1);
    expect(await peopleJob('people-stale')).toBeDefined();
    expect((await call('GET', 'people-stale/people/sync')).json()).toMatchObject({ status: 'queued', reason: 'schedule' });
    expect(await peopleJob('people-none')).toBeUndefined();
    // Asked for a moment ago: nothing more until tomorrow.
    expect(await schedulePeopleSyncs(t.db)).toBe(0);
  });
});
