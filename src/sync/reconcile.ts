import { sql } from 'kysely';
import { json } from '../platform/db.ts';
import { isCrmError } from '../crm/errors.ts';
import type { CrmDealPage } from '../crm/types.ts';
import { createCallGate, SyncDeferred } from './call-gate.ts';
import type { SyncSignal } from './deal-signals.ts';
import { mappedPipelines, pageSignals, type SyncDeps } from './import-deals.ts';
import { readWithRetries } from './page-retry.ts';
import { storeSignals } from './sync-store.ts';

/** Re-read a little before the watermark: CRM search indexes and clocks lag by seconds. */
export const WATERMARK_OVERLAP_MS = 2 * 60_000;
/** Activities are often logged after the fact; modified deals bring their last week's activity. */
const ACTIVITY_LOOKBACK_MS = 7 * 86_400_000;
/** Open mirror deals checked for deletion per run (HubSpot checks by id, so the list rotates). */
export const EXISTENCE_CHECKS_PER_RUN = 1_000;
/** A reconciliation that started this long ago and never finished is presumed dead. */
const STALE_RUN_MS = 10 * 60_000;

export type ReconcileOutcome =
  | { status: 'completed'; deals: number; missed: number; closed: number; watermark: Date }
  | { status: 'skipped'; reason: string }
  | { status: 'error'; message: string };

/**
 * Asks the CRM for deals changed since the watermark, compares them with the mirror and stores
 * what differs as `reconciled` signals, so a change whose webhook was lost reaches the engine on
 * the next run. Deals deleted or merged in the CRM get a `crm.deal_deleted` signal, which closes
 * them in the mirror. The watermark moves only when the whole run succeeded.
 */
export async function runReconcile(deps: SyncDeps, workspaceId: string): Promise<ReconcileOutcome> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ workspaceId, component: 'sync-reconcile' });
  const startedAt = now();
  const claimed = await deps.db
    .updateTable('sync_state')
    .set({ reconcile_started_at: startedAt, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('watermark', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('reconcile_started_at', 'is', null),
        eb('reconcile_finished_at', '>=', eb.ref('reconcile_started_at')),
        eb('reconcile_started_at', '<', new Date(startedAt.getTime() - STALE_RUN_MS)),
      ]),
    )
    .returning(['watermark', 'existence_cursor'])
    .executeTakeFirst();
  if (!claimed) return { status: 'skipped', reason: 'no completed import yet, or a reconciliation is running' };
  const target = await deps.crmFor(workspaceId);
  if (!target) {
    await finishWithError(deps, workspaceId, startedAt, 'The workspace has no CRM connection.', 'config');
    return { status: 'skipped', reason: 'no CRM connection' };
  }
  const provider = target.client.provider;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const gate = createCallGate({ db: deps.db, bucket: target.bucket, limits: target.limits, sleep, now, ...(deps.maxInlineWaitMs === undefined ? {} : { maxInlineWaitMs: deps.maxInlineWaitMs }) });
  const retry = { sleep, now, ...(deps.retryDelayMs === undefined ? {} : { baseDelayMs: deps.retryDelayMs }) };
  const since = new Date(claimed.watermark!.getTime() - WATERMARK_OVERLAP_MS);
  const activitiesSince = new Date(since.getTime() - ACTIVITY_LOOKBACK_MS);
  const pipelines = await mappedPipelines(deps.db, workspaceId, provider);

  let deals = 0;
  let missed = 0;
  let closed = 0;
  let existenceCursor = claimed.existence_cursor;
  try {
    let cursor: string | null = null;
    do {
      const page: CrmDealPage = await readWithRetries(gate, () => target.client.listModifiedDeals({ since, cursor, activitiesSince, beforeCall: () => gate.beforeCall() }), retry);
      await gate.noteRateLimit(page.rateLimit);
      const relevant = await relevantDeals(deps, workspaceId, page, pipelines);
      const signals = await pageSignals(deps.db, workspaceId, relevant, { origin: 'reconciled', now: now() });
      const inserted = await store(deps, workspaceId, provider, signals, relevant.deals.map((d) => d.id));
      deals += page.deals.length;
      missed += inserted;
      deps.metrics.syncRecords.labels('reconcile', 'deal').inc(page.deals.length);
      deps.metrics.syncRecords.labels('reconcile', 'activity').inc(page.activities.length);
      cursor = page.next;
    } while (cursor !== null);

    const candidates = await openMirrorDeals(deps, workspaceId, existenceCursor);
    const removed = await readWithRetries(gate, () => target.client.listRemovedDeals({ candidates, since, beforeCall: () => gate.beforeCall() }), retry);
    const open = new Set(await openAmong(deps, workspaceId, removed.map((r) => r.dealId)));
    const deletions: SyncSignal[] = removed
      .filter((r) => open.has(r.dealId))
      .map((r) => ({ dedupeKey: `sync:deal:${r.dealId}:deleted`, dealId: r.dealId, type: 'crm.deal_deleted', occurredAt: now(), origin: 'reconciled', payload: {} }));
    const closedNow = await store(deps, workspaceId, provider, deletions, []);
    closed += closedNow;
    missed += closedNow;
    existenceCursor = candidates.length < EXISTENCE_CHECKS_PER_RUN ? null : candidates.at(-1)!;
  } catch (error) {
    const kind = error instanceof SyncDeferred ? 'deferred' : isCrmError(error) ? error.kind : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    deps.metrics.syncErrors.labels('reconcile', kind).inc();
    log.warn({ err: isCrmError(error) ? error.toJSON() : error }, 'reconciliation failed; the watermark stays where it was');
    await finishWithError(deps, workspaceId, startedAt, message, kind);
    return { status: 'error', message };
  }

  deps.metrics.syncMissedChanges.labels(provider).inc(missed);
  deps.metrics.syncWatermark.labels(workspaceId).set(startedAt.getTime() / 1000);
  await deps.db
    .updateTable('sync_state')
    .set({
      watermark: startedAt,
      reconcile_finished_at: now(),
      reconcile_runs: sql<number>`reconcile_runs + 1`,
      reconcile_deals: sql<number>`reconcile_deals + ${deals}`,
      reconcile_missed: sql<number>`reconcile_missed + ${missed}`,
      reconcile_last_missed: missed,
      reconcile_closed: sql<number>`reconcile_closed + ${closed}`,
      reconcile_error: null,
      existence_cursor: existenceCursor,
      updated_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .execute();
  if (missed > 0) log.info({ deals, missed, closed }, 'reconciliation found changes webhooks had missed');
  return { status: 'completed', deals, missed, closed, watermark: startedAt };
}

/**
 * Deals Momentum mirrors are always compared; a deal it has never seen is taken in only when it
 * is open and in a mapped pipeline (a closed deal created and lost in between is of no use).
 */
async function relevantDeals(deps: SyncDeps, workspaceId: string, page: CrmDealPage, pipelines: string[] | null): Promise<CrmDealPage> {
  const ids = page.deals.map((d) => d.id);
  if (ids.length === 0) return page;
  const known = new Set(
    (await deps.db.selectFrom('deals').select('deal_id').where('workspace_id', '=', workspaceId).where('deal_id', 'in', ids).execute()).map((r) => r.deal_id),
  );
  const deals = page.deals.filter(
    (d) => known.has(d.id) || (d.isClosed !== true && (pipelines === null || (d.pipelineId !== null && pipelines.includes(d.pipelineId)))),
  );
  const kept = new Set(deals.map((d) => d.id));
  return { ...page, deals, activities: page.activities.filter((a) => kept.has(a.dealId)) };
}

async function store(deps: SyncDeps, workspaceId: string, provider: 'hubspot' | 'salesforce', signals: SyncSignal[], dealIds: string[]): Promise<number> {
  if (signals.length === 0 && dealIds.length === 0) return 0;
  const touched = [...new Set(signals.map((s) => s.dealId))];
  return deps.db.transaction().execute((tx) => storeSignals(tx, { workspaceId, provider, signals, newDealIds: dealIds, evaluate: touched }));
}

/** The next slice of open mirror deals after `cursor`, in id order (the rotation of existence checks). */
async function openMirrorDeals(deps: SyncDeps, workspaceId: string, cursor: string | null): Promise<string[]> {
  let query = deps.db
    .selectFrom('deals')
    .select('deal_id')
    .where('workspace_id', '=', workspaceId)
    .where('is_closed', '=', false)
    .orderBy('deal_id')
    .limit(EXISTENCE_CHECKS_PER_RUN);
  if (cursor !== null) query = query.where('deal_id', '>', cursor);
  return (await query.execute()).map((r) => r.deal_id);
}

async function openAmong(deps: SyncDeps, workspaceId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await deps.db.selectFrom('deals').select('deal_id').where('workspace_id', '=', workspaceId).where('deal_id', 'in', ids).where('is_closed', '=', false).execute();
  return rows.map((r) => r.deal_id);
}

async function finishWithError(deps: SyncDeps, workspaceId: string, startedAt: Date, message: string, kind: string): Promise<void> {
  await deps.db
    .updateTable('sync_state')
    .set({
      reconcile_finished_at: new Date(Math.max(new Date().getTime(), startedAt.getTime())),
      reconcile_failures: sql<number>`reconcile_failures + 1`,
      reconcile_error: json({ message, kind }),
      reconcile_error_at: new Date(),
      updated_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .execute();
}
