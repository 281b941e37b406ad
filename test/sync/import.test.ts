import { sql } from 'kysely';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotWorkspace } from '../writeback/support.ts';
import { crmTargetFor } from '../../src/writeback/crm-target.ts';
import { runImport, type SyncDeps } from '../../src/sync/import-deals.ts';
import { requestImport } from '../../src/sync/sync-store.ts';
import { readBucket } from '../../src/writeback/rate-limiter.ts';
import { fakeHubspot, makeDeal, type FakeHubspot } from './hubspot-crm.ts';

let t: TestApp;
let crm: FakeHubspot | undefined;

beforeAll(async () => {
  t = await createTestApp();
});

afterEach(() => {
  crm?.stop();
  crm = undefined;
});

const recent = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();

/** A portal with `count` open deals (ids from 1001), one of them with contacts and recent activity. */
function portal(count: number): FakeHubspot {
  const fake = fakeHubspot();
  for (let i = 0; i < count; i += 1) fake.deals.set(String(1001 + i), makeDeal(1001 + i));
  fake.deals.set('1001', makeDeal(1001, { contacts: [{ id: '201', label: 'Champion' }, { id: '202' }] }));
  // Closed deals and deals of other pipelines are not imported.
  fake.deals.set('5001', makeDeal(5001, { stage: 'closedlost', closed: true }));
  fake.deals.set('5002', makeDeal(5002, { pipeline: 'renewals' }));
  fake.activities.push(
    { type: 'emails', id: '7001', dealIds: ['1001'], properties: { hs_timestamp: recent(5), hs_email_direction: 'INCOMING_EMAIL', hs_email_subject: 'Re: pricing' } },
    { type: 'calls', id: '7002', dealIds: ['1001'], properties: { hs_timestamp: recent(4), hs_call_duration: '2700000', hs_call_direction: 'OUTBOUND', hs_call_status: 'COMPLETED' } },
    { type: 'meetings', id: '7003', dealIds: ['1001', '1002'], properties: { hs_timestamp: recent(3), hs_meeting_title: 'Product demo', hs_meeting_start_time: recent(3), hs_meeting_end_time: recent(3 - 1 / 24), hs_meeting_outcome: 'COMPLETED' } },
    { type: 'tasks', id: '7004', dealIds: ['1001'], properties: { hs_timestamp: recent(2), hs_task_subject: 'Send deck', hs_task_status: 'COMPLETED' } },
    { type: 'tasks', id: '7005', dealIds: ['1001'], properties: { hs_timestamp: recent(1), hs_task_subject: 'Still open', hs_task_status: 'NOT_STARTED' } },
    // Older than the activity window.
    { type: 'emails', id: '7006', dealIds: ['1001'], properties: { hs_timestamp: recent(200), hs_email_direction: 'EMAIL' } },
  );
  return fake;
}

function syncDeps(extra: Partial<SyncDeps> = {}): SyncDeps {
  const { db, logger, metrics, secretBox } = t.deps;
  return { db, logger, metrics, crmFor: (ws) => crmTargetFor({ db, secretBox, logger, config: t.config }, ws), ...extra };
}

async function signalsOf(ws: string) {
  return t.db.selectFrom('signals').selectAll().where('workspace_id', '=', ws).orderBy('id').execute();
}

const getSync = async (ws: string) => (await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/sync`, headers: t.auth })).json();

describe('initial import', () => {
  it('pages through every open deal of the mapped pipeline with contacts and recent activity, as imported signals', async () => {
    const ws = await hubspotWorkspace(t, 'import-pages', 'live');
    crm = portal(250);
    const started = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/sync`, headers: t.auth, payload: { activityDays: 90 } });
    expect(started.statusCode).toBe(202);
    expect(started.json().import.status).toBe('queued');
    const progress: number[] = [];
    const outcome = await runImport(syncDeps(), ws, { onProgress: (p) => progress.push(p.deals) });
    expect(outcome.status).toBe('completed');
    expect(progress).toEqual([100, 200, 250]);

    const view = await getSync(ws);
    expect(view.import).toMatchObject({ status: 'completed', pages: 3, deals: 250, totalDeals: 250, activities: 6, error: null });
    expect(view.reconciliation.watermark).toBe(view.import.startedAt);
    // Pages follow the last id seen; only open deals of the playbook's pipeline are asked for.
    expect(crm.searches.map((s) => s.filterGroups[0].filters[0].value)).toEqual(['0', '1100', '1200']);
    expect(crm.searches[0].filterGroups[0].filters.slice(1)).toEqual([
      { propertyName: 'hs_is_closed', operator: 'EQ', value: 'false' },
      { propertyName: 'pipeline', operator: 'IN', values: ['default'] },
    ]);
    expect(crm.searches[0].limit).toBe(100);
    expect(crm.searches[0].properties).toEqual(expect.arrayContaining(['hs_v2_date_entered_appointmentscheduled', 'hs_date_entered_qualifiedtobuy', 'hs_lastmodifieddate']));

    const signals = await signalsOf(ws);
    expect(new Set(signals.map((s) => s.origin))).toEqual(new Set(['imported']));
    expect(signals.some((s) => s.deal_id === '5001' || s.deal_id === '5002')).toBe(false);
    const deal1001 = signals.filter((s) => s.deal_id === '1001');
    expect(deal1001.map((s) => [s.type, s.payload])).toEqual(
      expect.arrayContaining([
        ['crm.deal_created', { name: 'Deal 1001', pipeline: 'default', amount: 12000, closeDate: '2027-03-31', ownerId: '77' }],
        ['crm.stage_changed', { stage: 'appointmentscheduled', pipeline: 'default' }],
        ['stakeholder.added', { contactId: '201', role: 'champion' }],
        ['stakeholder.added', { contactId: '202', role: 'other' }],
        ['activity.email', { direction: 'inbound' }],
        ['activity.call', { durationMinutes: 45, direction: 'outbound' }],
        ['activity.meeting', { kind: 'demo', durationMinutes: 60 }],
        ['activity.task_completed', { subject: 'Send deck' }],
      ]),
    );
    expect(deal1001).toHaveLength(8);
    const stage = deal1001.find((s) => s.type === 'crm.stage_changed')!;
    expect(new Date(stage.occurred_at).toISOString()).toBe('2026-01-10T09:00:00.000Z');
    expect(signals.filter((s) => s.deal_id === '1002' && s.type === 'activity.meeting')).toHaveLength(1);
    // One evaluation per imported deal is queued, and each has a mirror row so it is not read again.
    const jobs = await t.db.selectFrom('graphile_worker.jobs' as any).select('key').where('task_identifier', '=', 'evaluate-deal').where('key', 'like', `evaluate:${ws}:%`).execute();
    expect(jobs).toHaveLength(250);
    expect(await t.db.selectFrom('deals').select('deal_id').where('workspace_id', '=', ws).execute()).toHaveLength(250);
    // The other tests drain the queue; these evaluations are not theirs to run.
    await sql`select graphile_worker.remove_job(key) from graphile_worker.jobs where key like ${`evaluate:${ws}:%`}`.execute(t.db);
  });

  it('builds the mirror from imported history without acting on past events or writing to the CRM', async () => {
    const ws = await hubspotWorkspace(t, 'import-no-writes', 'live');
    crm = portal(3);
    // Deals that need no attention today: recent, and well within their stage's usual duration.
    for (const deal of crm.deals.values()) Object.assign(deal, { createdate: recent(20), stageEntered: recent(6), modified: recent(1), closedate: '2027-06-30T00:00:00Z' });
    // The buyer answered within the last two days, so no follow-up is due either.
    for (const activity of crm.activities) {
      for (const name of ['hs_timestamp', 'hs_meeting_start_time', 'hs_meeting_end_time']) {
        const value = activity.properties[name];
        if (value) activity.properties[name] = new Date(Date.parse(value) + 4 * 86_400_000 - 60_000).toISOString();
      }
    }
    const started = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/sync`, headers: t.auth, payload: { activityDays: 90 } });
    expect(started.statusCode).toBe(202);
    await drainQueue(t);
    expect((await getSync(ws)).import).toMatchObject({ status: 'completed', deals: 3 });

    // The mirror knows the stage, when the deal entered it, and the buying committee.
    const mirror = await t.db.selectFrom('deals').selectAll().where('workspace_id', '=', ws).where('deal_id', '=', '1001').executeTakeFirstOrThrow();
    expect(mirror).toMatchObject({ crm_stage: 'appointmentscheduled', stage: 'discovery' });
    expect(new Date(mirror.stage_entered_at!).getTime()).toBe(Date.parse(crm.deals.get('1001')!.stageEntered));
    expect((mirror.state as any).stakeholders.map((s: any) => [s.contactId, s.role])).toEqual([['201', 'champion'], ['202', 'other']]);
    expect(await t.db.selectFrom('deals').select('deal_id').where('workspace_id', '=', ws).where('evaluated_at', 'is', null).execute()).toEqual([]);

    // The 45-minute call and the demo happened before Momentum was connected: no decision comes of
    // them, and nothing was written to the CRM.
    const decisions = await t.db.selectFrom('decisions').selectAll().where('workspace_id', '=', ws).execute();
    expect(decisions.filter((d) => d.signal_ids.length > 0)).toEqual([]);
    expect(decisions.filter((d) => d.type === 'advance_stage' || d.type === 'create_task')).toEqual([]);
    expect(crm.writes).toEqual([]);
    // What the engine keeps up on its own about the present (the probability of a deal that has
    // none) is all that is queued; no task reaches the CRM.
    const outbox = await t.db.selectFrom('outbox').select(['kind', 'payload']).where('workspace_id', '=', ws).where('status', '!=', 'shadow').execute();
    expect(outbox.filter((row) => row.kind !== 'deal_update' || Object.keys((row.payload as any).fields).some((f) => f !== 'probability'))).toEqual([]);
  });

  it('resumes after a crash in the middle from the last stored page, without duplicates', async () => {
    const ws = await hubspotWorkspace(t, 'import-crash', 'shadow');
    crm = portal(250);
    await requestImport(t.db, ws, { reason: 'test', activityDays: 90 });
    // The third page fails every retry: the run stops there.
    crm.failSearches(0, 500);
    let pages = 0;
    const fast = syncDeps({ sleep: async () => undefined, retryDelayMs: 1 });
    const first = runImport(fast, ws, {
      onProgress: (p) => {
        pages = p.pages;
        if (p.pages === 2) crm!.failSearches(4, 500);
      },
    });
    await expect(first).rejects.toThrow();
    expect(pages).toBe(2);
    const interrupted = await getSync(ws);
    expect(interrupted.import).toMatchObject({ status: 'waiting', pages: 2, deals: 200 });
    expect(interrupted.import.error.message).toBeTruthy();
    const before = (await signalsOf(ws)).length;

    const second = await runImport(fast, ws);
    expect(second.status).toBe('completed');
    // Pages 1 and 2 were not read again: the resumed run started after deal 1200.
    expect(crm.searches.map((s) => s.filterGroups[0].filters[0].value)).toEqual(['0', '1100', '1200', '1200', '1200', '1200', '1200']);
    const signals = await signalsOf(ws);
    expect(new Set(signals.map((s) => s.dedupe_key)).size).toBe(signals.length);
    expect(signals.length - before).toBe(50 * 2);
    expect((await getSync(ws)).import).toMatchObject({ status: 'completed', pages: 3, deals: 250 });

    // Importing everything again later adds nothing either.
    await requestImport(t.db, ws, { reason: 'test', activityDays: 90 });
    expect((await runImport(fast, ws)).status).toBe('completed');
    expect(await signalsOf(ws)).toHaveLength(signals.length);
  });

  it('waits out a 429 through the shared limiter and completes', async () => {
    const ws = await hubspotWorkspace(t, 'import-429', 'shadow');
    crm = portal(150);
    await requestImport(t.db, ws, { reason: 'test', activityDays: 0 });
    crm.failSearches(1, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': '2' });
    const slept: number[] = [];
    const before = Date.now();
    const outcome = await runImport(syncDeps({ sleep: async (ms) => void slept.push(ms) }), ws);
    expect(outcome).toMatchObject({ status: 'completed', progress: { deals: 150, pages: 2 } });
    // The whole account was paused for every process, and this run waited for it.
    const bucket = await readBucket(t.db, `hubspot:${ws}`);
    expect(bucket!.paused_until!.getTime()).toBeGreaterThan(before + 1_500);
    expect(slept.some((ms) => ms > 1_500 && ms <= 2_000)).toBe(true);
    expect(crm.searches).toHaveLength(3);
  });

  it('defers a long rate-limit wait to a later job instead of sleeping through it', async () => {
    const ws = await hubspotWorkspace(t, 'import-daily', 'shadow');
    crm = portal(10);
    await requestImport(t.db, ws, { reason: 'test', activityDays: 0 });
    crm.failSearches(1, 429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY' });
    const outcome = await runImport(syncDeps({ sleep: async () => undefined }), ws);
    expect(outcome.status).toBe('deferred');
    expect((await getSync(ws)).import.status).toBe('waiting');
    const job = await t.db.selectFrom('graphile_worker.jobs' as any).select(['task_identifier', 'run_at']).where('key', '=', `sync-import:${ws}`).executeTakeFirst() as any;
    expect(job.task_identifier).toBe('sync-import');
    expect(new Date(job.run_at).getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it('queues an import when a connection is set, and refuses on-demand syncs without one', async () => {
    const put = (url: string, payload: object) => t.app.inject({ method: 'PUT', url, headers: t.auth, payload });
    expect((await put('/api/workspaces/no-crm', { name: 'no-crm' })).statusCode).toBe(201);
    const refused = await t.app.inject({ method: 'POST', url: '/api/workspaces/no-crm/sync', headers: t.auth, payload: {} });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('no_connection');
    expect((await getSync('no-crm')).import.status).toBe('idle');

    const ws = await hubspotWorkspace(t, 'import-on-connect', 'shadow');
    const view = await getSync(ws);
    expect(view.import).toMatchObject({ status: 'queued', reason: 'connection' });
    const job = await t.db.selectFrom('graphile_worker.jobs' as any).select(['run_at']).where('key', '=', `sync-import:${ws}`).executeTakeFirst() as any;
    expect(new Date(job.run_at).getTime()).toBeGreaterThan(Date.now() + 60_000);

    // Editing the connection again while the import waits starts the settling time over.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await put(`/api/workspaces/${ws}/connection`, { provider: 'hubspot', auth: { type: 'private_app' }, tier: 'professional' })).statusCode).toBe(200);
    const later = await t.db.selectFrom('graphile_worker.jobs' as any).select(['run_at']).where('key', '=', `sync-import:${ws}`).executeTakeFirst() as any;
    expect(new Date(later.run_at).getTime()).toBeGreaterThan(new Date(job.run_at).getTime());
    expect((await getSync(ws)).import).toMatchObject({ status: 'queued', reason: 'connection' });
  });
});
