import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotWorkspace } from '../writeback/support.ts';
import { crmTargetFor } from '../../src/writeback/crm-target.ts';
import { runImport, type SyncDeps } from '../../src/sync/import-deals.ts';
import { runReconcile } from '../../src/sync/reconcile.ts';
import { requestImport } from '../../src/sync/sync-store.ts';
import { scheduleSyncJobs } from '../../src/sync/sync-tasks.ts';
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

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function syncDeps(): SyncDeps {
  const { db, logger, metrics, secretBox } = t.deps;
  return { db, logger, metrics, crmFor: (ws) => crmTargetFor({ db, secretBox, logger, config: t.config }, ws), sleep: async () => undefined, retryDelayMs: 1 };
}

const getSync = async (ws: string) => (await t.app.inject({ method: 'GET', url: `/api/workspaces/${ws}/sync`, headers: t.auth })).json();
const mirrorOf = (ws: string, dealId: string) => t.db.selectFrom('deals').selectAll().where('workspace_id', '=', ws).where('deal_id', '=', dealId).executeTakeFirstOrThrow();

/** A shadow workspace whose five deals were imported and evaluated; the import finished a while ago. */
async function importedWorkspace(id: string): Promise<string> {
  const ws = await hubspotWorkspace(t, id, 'shadow');
  crm = fakeHubspot();
  for (let i = 0; i < 5; i += 1) crm.deals.set(String(2001 + i), makeDeal(2001 + i, { modified: ago(120), stageEntered: ago(60 * 24 * 5), createdate: ago(60 * 24 * 20) }));
  await requestImport(t.db, ws, { reason: 'test', activityDays: 0 });
  expect((await runImport(syncDeps(), ws)).status).toBe('completed');
  await drainQueue(t);
  // Reconciliation starts where the import started; move that back so the changes below are after it.
  await t.db.updateTable('sync_state').set({ watermark: new Date(ago(30)) }).where('workspace_id', '=', ws).execute();
  return ws;
}

describe('reconciliation', () => {
  it('recovers a stage change whose webhook was lost, as a reconciled signal, and updates the mirror', async () => {
    const ws = await importedWorkspace('reconcile-lost');
    expect((await mirrorOf(ws, '2002')).crm_stage).toBe('appointmentscheduled');
    // A rep moved deal 2002 and changed its amount; HubSpot's webhook never arrived.
    Object.assign(crm!.deals.get('2002')!, { stage: 'qualifiedtobuy', stageEntered: ago(10), amount: '30000', modified: ago(10) });

    const outcome = await runReconcile(syncDeps(), ws);
    expect(outcome).toMatchObject({ status: 'completed', missed: 2, closed: 0 });
    // Asked for what changed since the watermark (minus a small overlap), oldest first.
    const query = crm!.searches.at(-1);
    expect(query.filterGroups[0].filters[0]).toMatchObject({ propertyName: 'hs_lastmodifieddate', operator: 'GTE' });
    expect(query.sorts).toEqual([{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }]);

    const signals = await t.db.selectFrom('signals').selectAll().where('workspace_id', '=', ws).where('origin', '=', 'reconciled').execute();
    expect(signals.map((s) => [s.deal_id, s.type, s.payload])).toEqual(
      expect.arrayContaining([
        ['2002', 'crm.stage_changed', { stage: 'qualifiedtobuy', pipeline: 'default' }],
        ['2002', 'crm.amount_changed', { amount: 30000 }],
      ]),
    );
    expect(signals).toHaveLength(2);
    await drainQueue(t);
    const mirror = await mirrorOf(ws, '2002');
    expect(mirror).toMatchObject({ crm_stage: 'qualifiedtobuy', stage: 'qualified' });
    expect((mirror.state as any).amount).toBe(30000);

    const view = await getSync(ws);
    expect(view.reconciliation).toMatchObject({ runs: 1, missedChanges: 2, lastRunMissedChanges: 2, failures: 0, lastError: null });
    expect(Date.parse(view.reconciliation.watermark)).toBeGreaterThan(Date.now() - 60_000);
    const metrics = await t.deps.metrics.registry.getSingleMetricAsString('momentum_sync_missed_changes_total');
    expect(metrics).toContain('momentum_sync_missed_changes_total{provider="hubspot"} 2');

    // The next run sees the same deal again (inside the overlap) and adds nothing.
    expect(await runReconcile(syncDeps(), ws)).toMatchObject({ status: 'completed', missed: 0 });
  });

  it('closes deals deleted or merged in the CRM', async () => {
    const ws = await importedWorkspace('reconcile-deleted');
    crm!.deals.delete('2003');
    // 2004 was merged into 2005: reading 2004 answers with 2005, which lists it as merged.
    crm!.deals.delete('2004');
    Object.assign(crm!.deals.get('2005')!, { mergedIds: ['2004'] });

    const outcome = await runReconcile(syncDeps(), ws);
    expect(outcome).toMatchObject({ status: 'completed', closed: 2 });
    const deleted = await t.db.selectFrom('signals').select(['deal_id', 'type', 'origin']).where('workspace_id', '=', ws).where('type', '=', 'crm.deal_deleted').orderBy('deal_id').execute();
    expect(deleted).toEqual([
      { deal_id: '2003', type: 'crm.deal_deleted', origin: 'reconciled' },
      { deal_id: '2004', type: 'crm.deal_deleted', origin: 'reconciled' },
    ]);
    await drainQueue(t);
    expect((await mirrorOf(ws, '2003')).is_closed).toBe(true);
    expect((await mirrorOf(ws, '2004')).is_closed).toBe(true);
    expect((await mirrorOf(ws, '2005')).is_closed).toBe(false);
    expect((await getSync(ws)).reconciliation.closedDeals).toBe(2);
  });

  it('keeps the watermark and reports the error when the CRM fails', async () => {
    const ws = await importedWorkspace('reconcile-error');
    const before = (await getSync(ws)).reconciliation.watermark;
    crm!.failSearches(10, 503, { status: 'error', message: 'Service unavailable', category: 'INTERNAL_ERROR' });
    const outcome = await runReconcile(syncDeps(), ws);
    expect(outcome).toMatchObject({ status: 'error' });
    const view = await getSync(ws);
    expect(view.reconciliation).toMatchObject({ watermark: before, failures: 1, runs: 0 });
    expect(view.reconciliation.lastError).toMatchObject({ kind: 'transient' });
  });

  it('is queued every run for workspaces whose import finished, and waits for the import otherwise', async () => {
    const ws = await importedWorkspace('reconcile-schedule');
    const pending = await hubspotWorkspace(t, 'reconcile-pending', 'shadow');
    expect(await runReconcile(syncDeps(), pending)).toMatchObject({ status: 'skipped' });
    await scheduleSyncJobs(t.db);
    const jobs = await t.db.selectFrom('graphile_worker.jobs' as any).select('key').where('task_identifier', '=', 'sync-reconcile').execute() as Array<{ key: string }>;
    expect(jobs.map((j) => j.key)).toContain(`sync-reconcile:${ws}`);
    expect(jobs.map((j) => j.key)).not.toContain(`sync-reconcile:${pending}`);
  });
});
