import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import { json } from '../platform/db.ts';
import { initialDealState } from '../engine/state.ts';
import type { Provider } from '../engine/types.ts';
import type { MirrorView, SyncSignal } from './deal-signals.ts';

/** Storage of the sync: its state row, the mirror it compares with, and the signals it adds. */

export const SYNC_IMPORT_TASK = 'sync-import';
export const SYNC_RECONCILE_TASK = 'sync-reconcile';
export const importJobKey = (workspaceId: string) => `sync-import:${workspaceId}`;
export const reconcileJobKey = (workspaceId: string) => `sync-reconcile:${workspaceId}`;

/** How long a run owns an import without committing a page before another may take over. */
export const IMPORT_LEASE_MS = 5 * 60_000;

export async function loadSyncState(db: Database | Tx, workspaceId: string) {
  return db.selectFrom('sync_state').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
}

export type SyncStateRow = NonNullable<Awaited<ReturnType<typeof loadSyncState>>>;

/**
 * Asks for an import: a fresh one (counters and cursor reset) unless one is already under way,
 * which then simply continues. The job is queued in the same transaction as the state change;
 * `runAt` lets a new connection settle (a playbook published right after it) before reading.
 */
export async function requestImport(
  db: Database,
  workspaceId: string,
  options: { reason: string; activityDays?: number; runAt?: Date; restart?: boolean },
): Promise<SyncStateRow> {
  return db.transaction().execute(async (tx) => {
    await tx.insertInto('sync_state').values({ workspace_id: workspaceId }).onConflict((oc) => oc.doNothing()).execute();
    const current = await tx.selectFrom('sync_state').selectAll().where('workspace_id', '=', workspaceId).forUpdate().executeTakeFirstOrThrow();
    const underWay = current.import_status === 'queued' || current.import_status === 'running' || current.import_status === 'waiting';
    if (!underWay || options.restart) {
      await tx
        .updateTable('sync_state')
        .set({
          import_status: 'queued',
          import_reason: options.reason,
          import_activity_days: options.activityDays ?? current.import_activity_days,
          import_requested_at: new Date(),
          import_started_at: null,
          import_finished_at: null,
          import_run_id: null,
          import_lease_until: null,
          import_cursor: null,
          import_pages: 0,
          import_deals: 0,
          import_activities: 0,
          import_signals: 0,
          import_total: null,
          import_error: null,
          updated_at: new Date(),
        })
        .where('workspace_id', '=', workspaceId)
        .execute();
    }
    await queueJob(tx, SYNC_IMPORT_TASK, workspaceId, importJobKey(workspaceId), options.runAt ?? new Date());
    return tx.selectFrom('sync_state').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
  });
}

export async function queueJob(db: Database | Tx, task: string, workspaceId: string, jobKey: string, runAt: Date): Promise<void> {
  await sql`
    select graphile_worker.add_job(${task}, json_build_object('workspaceId', ${workspaceId}::text), job_key => ${jobKey}, run_at => ${runAt}, max_attempts => 25)
  `.execute(db);
}

/**
 * Takes the import for this run if nobody holds it: queued, waiting, or running under a lease that
 * expired (its worker died). Returns null when there is nothing to do or another run is live.
 */
export async function claimImport(db: Database, workspaceId: string): Promise<SyncStateRow | null> {
  const runId = randomUUID();
  const row = await db
    .updateTable('sync_state')
    .set({
      import_status: 'running',
      import_run_id: runId,
      import_lease_until: sql<Date>`now() + make_interval(secs => ${IMPORT_LEASE_MS / 1000})`,
      import_started_at: sql<Date>`coalesce(import_started_at, now())`,
      updated_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      eb.or([
        eb('import_status', 'in', ['queued', 'waiting']),
        eb.and([eb('import_status', '=', 'running'), eb.or([eb('import_lease_until', 'is', null), eb('import_lease_until', '<', sql<Date>`now()`)])]),
      ]),
    )
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export interface PageCommit {
  workspaceId: string;
  runId: string;
  provider: Provider;
  signals: SyncSignal[];
  /** Deals to create empty mirror rows for, so their evaluation does not read the CRM again. */
  newDealIds: string[];
  /** Deals whose evaluation should be queued. */
  evaluate: string[];
}

/**
 * Stores one page in one transaction: its signals (existing keys are skipped), mirror rows for new
 * deals and the evaluation jobs. Returns how many signals were new. Nothing here talks to the CRM.
 */
export async function storeSignals(tx: Tx, commit: Omit<PageCommit, 'runId'>): Promise<number> {
  let inserted = 0;
  if (commit.signals.length > 0) {
    const rows = await tx
      .insertInto('signals')
      .values(
        commit.signals.map((s) => ({
          workspace_id: commit.workspaceId,
          deal_id: s.dealId,
          type: s.type,
          source: 'crm_sync',
          origin: s.origin,
          occurred_at: s.occurredAt,
          payload: JSON.stringify(s.payload),
          dedupe_key: s.dedupeKey,
          // The evaluation jobs are queued right here, so the pump has nothing to do for these.
          pumped_at: new Date(),
        })),
      )
      .onConflict((oc) => oc.columns(['workspace_id', 'dedupe_key']).doNothing())
      .returning('id')
      .execute();
    inserted = rows.length;
  }
  if (commit.newDealIds.length > 0) {
    await tx
      .insertInto('deals')
      .values(commit.newDealIds.map((dealId) => ({ workspace_id: commit.workspaceId, deal_id: dealId, provider: commit.provider, state: json(initialDealState(dealId, commit.provider)) })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if (commit.evaluate.length > 0) {
    await sql`
      select graphile_worker.add_jobs(array(
        select row('evaluate-deal', json_build_object('workspaceId', ${commit.workspaceId}::text, 'dealId', d, 'trigger', 'signals'), null, now(), 10,
                   'evaluate:' || ${commit.workspaceId}::text || ':' || d, null, null)::graphile_worker.job_spec
        from unnest(${commit.evaluate}::text[]) d
      ))
    `.execute(tx);
  }
  return inserted;
}

/** The mirror as the sync compares with it, for a page of deals (evaluated deals only). */
export async function loadMirror(db: Database | Tx, workspaceId: string, dealIds: string[]): Promise<Map<string, MirrorView>> {
  if (dealIds.length === 0) return new Map();
  const rows = await sql<{
    deal_id: string;
    crm_stage: string | null;
    amount: number | null;
    close_date: string | null;
    owner_id: string | null;
    probability: number | null;
    deleted: boolean | null;
    contact_ids: string[] | null;
  }>`
    select deal_id,
           state->>'crmStage' as crm_stage,
           (state->>'amount')::float8 as amount,
           state->>'closeDate' as close_date,
           state->>'ownerId' as owner_id,
           (state->>'probability')::float8 as probability,
           (state->>'deleted')::boolean as deleted,
           array(select jsonb_array_elements(coalesce(state->'stakeholders', '[]'::jsonb))->>'contactId') as contact_ids
    from deals
    where workspace_id = ${workspaceId} and deal_id = any(${dealIds}::text[])
      -- A row no evaluation has filled yet mirrors nothing: its deal still counts as new.
      and evaluated_at is not null
  `.execute(db);
  return new Map(
    rows.rows.map((row) => [
      row.deal_id,
      {
        crmStage: row.crm_stage,
        amount: row.amount,
        closeDate: row.close_date,
        ownerId: row.owner_id,
        probability: row.probability,
        deleted: row.deleted === true,
        contactIds: new Set(row.contact_ids ?? []),
      },
    ]),
  );
}

/** A new connection settles for this long (a playbook with the stage mapping usually follows it) before the import reads. */
export const IMPORT_AFTER_CONNECTION_DELAY_MS = 2 * 60_000;

/**
 * Called when a connection is set: queues the initial import unless one is under way or already
 * done (a later one is on demand). A failed import is tried again: new credentials may fix it.
 */
export async function queueImportForConnection(db: Database, workspaceId: string, now: Date): Promise<boolean> {
  const state = await loadSyncState(db, workspaceId);
  const runAt = new Date(now.getTime() + IMPORT_AFTER_CONNECTION_DELAY_MS);
  // Still waiting from an earlier PUT: the settling time starts again from this one.
  if (state?.import_status === 'queued' && state.import_reason === 'connection' && !state.import_started_at) {
    await queueJob(db, SYNC_IMPORT_TASK, workspaceId, importJobKey(workspaceId), runAt);
    return true;
  }
  if (state && state.import_status !== 'idle' && state.import_status !== 'failed') return false;
  await requestImport(db, workspaceId, { reason: 'connection', runAt });
  return true;
}
