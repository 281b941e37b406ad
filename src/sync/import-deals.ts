import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { isCrmError } from '../crm/errors.ts';
import type { CrmDealPage, CrmProvider } from '../crm/types.ts';
import type { CrmTarget } from '../writeback/flush-outbox.ts';
import { currentPlaybook } from '../progression/playbook-store.ts';
import { createCallGate, SyncDeferred } from './call-gate.ts';
import { activitySignal, dealSignals, type SyncSignal } from './deal-signals.ts';
import { readWithRetries } from './page-retry.ts';
import { claimImport, IMPORT_LEASE_MS, importJobKey, loadMirror, queueJob, storeSignals, SYNC_IMPORT_TASK } from './sync-store.ts';

export interface SyncDeps {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  crmFor(workspaceId: string): Promise<CrmTarget | undefined>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Rate-limit waits up to this long happen in place; longer ones reschedule the job. */
  maxInlineWaitMs?: number;
  /** First delay of the in-place retries after a 5xx or network error. */
  retryDelayMs?: number;
}

export interface ImportProgress {
  pages: number;
  deals: number;
  activities: number;
  signals: number;
  /** Open deals the CRM reported at the start; null when it did not say. */
  total: number | null;
}

export type ImportOutcome =
  | { status: 'completed'; progress: ImportProgress }
  | { status: 'deferred'; until: Date; progress: ImportProgress }
  | { status: 'failed'; error: string }
  | { status: 'not_claimed' };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The CRM pipelines the playbook maps; HubSpot deals outside them are not imported. */
export async function mappedPipelines(db: Database, workspaceId: string, provider: CrmProvider): Promise<string[] | null> {
  if (provider !== 'hubspot') return null;
  const playbook = await currentPlaybook(db, workspaceId);
  const pipelines = playbook.playbook.pipelines?.hubspot;
  return pipelines && pipelines.length > 0 ? pipelines : null;
}

/** Signals for one page: each deal's history or its differences from the mirror, and its activities. */
export async function pageSignals(db: Database, workspaceId: string, page: CrmDealPage, options: { origin: 'imported' | 'reconciled'; now: Date }): Promise<SyncSignal[]> {
  const mirror = await loadMirror(db, workspaceId, page.deals.map((deal) => deal.id));
  const signals = page.deals.flatMap((deal) => dealSignals(deal, mirror.get(deal.id) ?? null, options));
  for (const activity of page.activities) {
    const s = activitySignal(activity, options);
    if (s) signals.push(s);
  }
  return signals;
}

/**
 * Imports every open deal of the mapped pipelines, one page at a time: read a page (through the
 * shared rate limiter), turn it into `imported` signals, and commit them together with the cursor
 * of the next page. A crash loses at most the page in flight; the next run continues from the
 * stored cursor, and stable signal keys make a re-read page add nothing. Memory stays flat: only
 * one page is held at a time.
 */
export async function runImport(deps: SyncDeps, workspaceId: string, options: { onProgress?: (progress: ImportProgress) => void } = {}): Promise<ImportOutcome> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? defaultSleep;
  const log = deps.logger.child({ workspaceId, component: 'sync-import' });
  const claimed = await claimImport(deps.db, workspaceId);
  if (!claimed) return { status: 'not_claimed' };
  const runId = claimed.import_run_id!;
  const progress: ImportProgress = {
    pages: claimed.import_pages,
    deals: claimed.import_deals,
    activities: claimed.import_activities,
    signals: claimed.import_signals,
    total: claimed.import_total,
  };

  const target = await deps.crmFor(workspaceId);
  if (!target) return fail(deps, workspaceId, runId, 'The workspace has no CRM connection.');
  const provider = target.client.provider;
  const gate = createCallGate({ db: deps.db, bucket: target.bucket, limits: target.limits, sleep, now, ...(deps.maxInlineWaitMs === undefined ? {} : { maxInlineWaitMs: deps.maxInlineWaitMs }) });
  const pipelineIds = await mappedPipelines(deps.db, workspaceId, provider);
  const activityDays = claimed.import_activity_days;
  const activitiesSince = activityDays > 0 ? new Date(now().getTime() - activityDays * 86_400_000) : null;
  let cursor = claimed.import_cursor;
  log.info({ resumeAt: cursor, pages: progress.pages }, cursor ? 'resuming CRM import' : 'starting CRM import');

  try {
    for (;;) {
      const page = await readWithRetries(
        gate,
        () => target.client.listOpenDeals({ cursor, activitiesSince, pipelineIds, beforeCall: () => gate.beforeCall() }),
        { sleep, now, ...(deps.retryDelayMs === undefined ? {} : { baseDelayMs: deps.retryDelayMs }) },
      );
      await gate.noteRateLimit(page.rateLimit);
      const signals = await pageSignals(deps.db, workspaceId, page, { origin: 'imported', now: now() });
      const dealIds = page.deals.map((deal) => deal.id);
      const stored = await deps.db.transaction().execute(async (tx) => {
        const inserted = await storeSignals(tx, { workspaceId, provider, signals, newDealIds: dealIds, evaluate: dealIds });
        const updated = await tx
          .updateTable('sync_state')
          .set({
            import_cursor: page.next,
            import_pages: sql<number>`import_pages + 1`,
            import_deals: sql<number>`import_deals + ${page.deals.length}`,
            import_activities: sql<number>`import_activities + ${page.activities.length}`,
            import_signals: sql<number>`import_signals + ${inserted}`,
            import_total: page.total ?? sql<number | null>`import_total`,
            import_lease_until: sql<Date>`now() + make_interval(secs => ${IMPORT_LEASE_MS / 1000})`,
            updated_at: new Date(),
          })
          .where('workspace_id', '=', workspaceId)
          .where('import_run_id', '=', runId)
          .executeTakeFirst();
        // Another run took over (this one stalled past its lease): leave the page to it.
        if (Number(updated.numUpdatedRows) !== 1) throw new Error('the import was taken over by another run');
        return inserted;
      });
      progress.pages += 1;
      progress.deals += page.deals.length;
      progress.activities += page.activities.length;
      progress.signals += stored;
      if (page.total !== undefined) progress.total = page.total;
      deps.metrics.syncRecords.labels('import', 'deal').inc(page.deals.length);
      deps.metrics.syncRecords.labels('import', 'activity').inc(page.activities.length);
      options.onProgress?.({ ...progress });
      if (page.next === null) break;
      cursor = page.next;
    }
  } catch (error) {
    return stopped(deps, workspaceId, runId, error, progress, log);
  }

  // Reconciliation picks up from when the import began: changes made meanwhile are compared too.
  await deps.db
    .updateTable('sync_state')
    .set({
      import_status: 'completed',
      import_finished_at: now(),
      import_lease_until: null,
      import_error: null,
      watermark: sql<Date>`coalesce(watermark, import_started_at)`,
      updated_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .where('import_run_id', '=', runId)
    .execute();
  log.info({ ...progress }, 'CRM import completed');
  return { status: 'completed', progress };
}

async function fail(deps: SyncDeps, workspaceId: string, runId: string, message: string, detail: Record<string, unknown> = {}): Promise<ImportOutcome> {
  await deps.db
    .updateTable('sync_state')
    .set({ import_status: 'failed', import_lease_until: null, import_error: json({ message, ...detail }), updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('import_run_id', '=', runId)
    .execute();
  return { status: 'failed', error: message };
}

/**
 * Why the run stopped decides what happens next: a long rate-limit wait reschedules the job; a
 * refusal a retry cannot fix (credentials, permissions) fails the import for a person to look
 * at; anything else is left for the queue's retry, resuming from the last committed page.
 */
async function stopped(deps: SyncDeps, workspaceId: string, runId: string, error: unknown, progress: ImportProgress, log: Logger): Promise<ImportOutcome> {
  const kind = error instanceof SyncDeferred ? 'deferred' : isCrmError(error) ? error.kind : 'internal';
  deps.metrics.syncErrors.labels('import', kind).inc();
  if (error instanceof SyncDeferred) {
    await deps.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('sync_state')
        .set({ import_status: 'waiting', import_lease_until: null, import_error: json({ message: error.message, retryAt: error.until.toISOString() }), updated_at: new Date() })
        .where('workspace_id', '=', workspaceId)
        .where('import_run_id', '=', runId)
        .execute();
      await queueJob(tx, SYNC_IMPORT_TASK, workspaceId, importJobKey(workspaceId), error.until);
    });
    log.warn({ until: error.until }, 'CRM import paused by rate limits');
    return { status: 'deferred', until: error.until, progress };
  }
  if (isCrmError(error) && (error.kind === 'auth' || error.kind === 'permanent')) {
    log.warn({ err: error.toJSON() }, 'CRM import failed');
    return fail(deps, workspaceId, runId, error.message, { kind: error.kind, ...(error.status === undefined ? {} : { status: error.status }) });
  }
  const message = isCrmError(error) ? error.message : error instanceof Error ? error.message : String(error);
  await deps.db
    .updateTable('sync_state')
    .set({ import_status: 'waiting', import_lease_until: null, import_error: json({ message, kind }), updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('import_run_id', '=', runId)
    .execute();
  log.warn({ err: isCrmError(error) ? error.toJSON() : error }, 'CRM import interrupted; it resumes from the last stored page');
  throw error;
}
