import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db.ts';
import type { OutboxStatus } from '../platform/schema.ts';
import type { PlannedWrite } from './plan-actions.ts';

export const FLUSH_OUTBOX_TASK = 'flush-outbox';
export const flushJobKey = (workspaceId: string) => `flush:${workspaceId}`;
/**
 * Flushes of one workspace run one at a time (a graphile-worker named queue): two flushes sending
 * updates of the same deal at once could land out of order and leave the CRM with the older value.
 */
export const flushQueueName = (workspaceId: string) => `flush:${workspaceId}`;

export interface OutboxRow {
  id: string;
  dealId: string;
  kind: PlannedWrite['kind'];
  idempotencyKey: string;
  payload: Record<string, unknown>;
  attempts: number;
  /** The previous attempt may have reached the CRM (a dropped answer, or a worker that died mid-call). */
  uncertain: boolean;
}

/**
 * Queues writes for a deal, all in one statement. A repeated decision finds its rows by
 * idempotency key and adds nothing. In shadow mode the rows are recorded as `shadow`: what would
 * have been sent.
 */
export async function enqueueWrites(
  tx: Tx,
  input: { workspaceId: string; dealId: string; decisionId: string | null; writes: PlannedWrite[]; shadow: boolean },
): Promise<number> {
  const queued = await enqueueDecisionWrites(
    tx,
    input.writes.map((write) => ({ workspaceId: input.workspaceId, dealId: input.dealId, decisionId: input.decisionId, write, shadow: input.shadow })),
  );
  return queued.get(`${input.workspaceId}:${input.dealId}`) ?? 0;
}

/** Rows per insert: 7 columns a row stays far below Postgres's 65,535 bind parameters. */
const ENQUEUE_CHUNK = 5_000;

/**
 * The same for the writes of many decisions and deals at once (a batch of evaluations). Returns
 * how many rows were new, per `workspaceId:dealId`.
 */
export async function enqueueDecisionWrites(
  tx: Tx,
  writes: ReadonlyArray<{ workspaceId: string; dealId: string; decisionId: string | null; write: PlannedWrite; shadow: boolean }>,
): Promise<Map<string, number>> {
  const queued = new Map<string, number>();
  for (let i = 0; i < writes.length; i += ENQUEUE_CHUNK) {
    const rows = await tx
      .insertInto('outbox')
      .values(
        writes.slice(i, i + ENQUEUE_CHUNK).map(({ workspaceId, dealId, decisionId, write, shadow }) => ({
          workspace_id: workspaceId,
          deal_id: dealId,
          decision_id: decisionId,
          kind: write.kind,
          idempotency_key: write.idempotencyKey,
          payload: JSON.stringify(write.payload),
          status: (shadow ? 'shadow' : 'pending') satisfies OutboxStatus,
        })),
      )
      .onConflict((oc) => oc.columns(['workspace_id', 'idempotency_key']).doNothing())
      .returning(['workspace_id', 'deal_id'])
      .execute();
    for (const row of rows) {
      const key = `${row.workspace_id}:${row.deal_id}`;
      queued.set(key, (queued.get(key) ?? 0) + 1);
    }
  }
  return queued;
}

/** Asks for a flush of the workspace's outbox (at `runAt`, or now), replacing any waiting one. */
export async function scheduleFlush(tx: Tx | Database, workspaceId: string, runAt?: Date): Promise<void> {
  await sql`select graphile_worker.add_job(
    ${FLUSH_OUTBOX_TASK}, json_build_object('workspaceId', ${workspaceId}::text),
    run_at := ${runAt ?? null}::timestamptz, job_key := ${flushJobKey(workspaceId)}, max_attempts := 10,
    queue_name := ${flushQueueName(workspaceId)}
  )`.execute(tx);
}

/**
 * Asks for a flush now unless one is already waiting to run soon. It reads before it writes, so
 * callers that find a flush waiting never touch (and never queue on) the flush job's row. A flush
 * booked further out (a failed row's backoff, a long rate-limit pause) is brought forward: new
 * writes should not wait out an older row's retry, and a flush that finds the limiter closed books
 * itself again. Pauses within a rate-limit window are left alone. A flush that started meanwhile
 * re-checks for due rows when it ends, and the periodic outbox check catches anything left. Call it
 * after the writes are committed (see worker/job-nudger.ts).
 */
export async function ensureFlushScheduled(db: Database | Tx, workspaceId: string): Promise<void> {
  await sql`
    select graphile_worker.add_job(${FLUSH_OUTBOX_TASK}, json_build_object('workspaceId', ${workspaceId}::text),
                                   job_key := ${flushJobKey(workspaceId)}, max_attempts := 10, queue_name := ${flushQueueName(workspaceId)})
    where not exists (
      select 1 from graphile_worker.jobs
      where key = ${flushJobKey(workspaceId)} and locked_at is null and run_at <= now() + make_interval(secs => ${SOON_MS / 1000})
    )
  `.execute(db);
}

/** A waiting flush due within this long is soon enough for new writes (a HubSpot window is 10 s). */
const SOON_MS = 30_000;

/** Workspaces with writes due and no flush waiting: the periodic safety net after crashes and races. */
export async function scheduleDueFlushes(db: Database): Promise<number> {
  const result = await sql<{ n: number }>`
    with due as (
      select distinct workspace_id from outbox
      where status in ('pending', 'failed') and next_attempt_at <= now()
    )
    select count(graphile_worker.add_job(${FLUSH_OUTBOX_TASK}, json_build_object('workspaceId', workspace_id),
                                         job_key := 'flush:' || workspace_id, max_attempts := 10, queue_name := 'flush:' || workspace_id))::int as n
    from due
    where not exists (select 1 from graphile_worker.jobs j where j.key = 'flush:' || due.workspace_id)
      and exists (select 1 from connections c where c.workspace_id = due.workspace_id)
  `.execute(db);
  return result.rows[0]?.n ?? 0;
}

/**
 * Claims due rows for sending, whole deals at a time (the deals whose rows have been due longest),
 * so every pending change of a deal is in one claim and can be coalesced into one record. A row
 * left in `sending` longer than the lease belongs to a worker that died mid-call: it is claimed
 * again and marked uncertain, since its write may have landed.
 */
export async function claimDueRows(db: Database, workspaceId: string, options: { limit: number; leaseMs: number }): Promise<OutboxRow[]> {
  const lease = sql`make_interval(secs => ${options.leaseMs / 1000})`;
  const isDue = sql`((status in ('pending', 'failed') and next_attempt_at <= now()) or (status = 'sending' and updated_at < now() - ${lease}))`;
  const result = await sql<{
    id: string; deal_id: string; kind: PlannedWrite['kind']; idempotency_key: string; payload: Record<string, unknown>; attempts: number; uncertain: boolean;
  }>`
    with first_due as (
      -- The longest-due rows, straight from the outbox_due index in its order.
      select deal_id, id from outbox
      where workspace_id = ${workspaceId} and status in ('pending', 'failed', 'sending') and ${isDue}
      order by next_attempt_at, id
      limit ${options.limit * 4}
    ),
    due_deals as (
      select deal_id from first_due group by deal_id order by min(id) limit ${options.limit}
    ),
    -- Every due row of those deals, looked up deal by deal through outbox_by_deal: a plan that
    -- stays cheap even when the table's statistics lag behind a bulk of new rows.
    due as (
      select row.id, row.uncertain
      from due_deals d
      cross join lateral (
        select id, (status = 'sending' or coalesce(last_error->>'kind', '') = 'uncertain') as uncertain
        from outbox
        where workspace_id = ${workspaceId} and deal_id = d.deal_id and ${isDue}
        for update skip locked
      ) row
    )
    update outbox o set status = 'sending', attempts = o.attempts + 1, updated_at = now()
    from due
    where o.workspace_id = ${workspaceId} and o.id = due.id
    returning o.id, o.deal_id, o.kind, o.idempotency_key, o.payload, o.attempts, due.uncertain
  `.execute(db);
  return result.rows
    .map((r) => ({ id: String(r.id), dealId: r.deal_id, kind: r.kind, idempotencyKey: r.idempotency_key, payload: r.payload, attempts: r.attempts, uncertain: r.uncertain }))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

export interface RowSettlement {
  id: string;
  status: Extract<OutboxStatus, 'sent' | 'failed' | 'dead' | 'pending' | 'superseded'>;
  crmId?: string | null;
  error?: Record<string, unknown> | null;
  nextAttemptAt?: Date;
  /** Give the attempt back (the call never went out). */
  refundAttempt?: boolean;
}

/** Records the outcome of many rows in one statement. */
export async function settleRows(db: Database, workspaceId: string, settlements: RowSettlement[]): Promise<void> {
  if (settlements.length === 0) return;
  const rows = settlements.map((s) => ({
    id: s.id,
    status: s.status,
    crm_id: s.crmId ?? null,
    error: s.error ?? null,
    next_attempt_at: (s.nextAttemptAt ?? new Date()).toISOString(),
    refund: s.refundAttempt ?? false,
  }));
  await sql`
    update outbox o set
      status = v.status,
      crm_id = coalesce(v.crm_id, o.crm_id),
      last_error = v.error,
      next_attempt_at = v.next_attempt_at,
      attempts = case when v.refund then greatest(o.attempts - 1, 0) else o.attempts end,
      sent_at = case when v.status = 'sent' then now() else o.sent_at end,
      updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as v(id bigint, status text, crm_id text, error jsonb, next_attempt_at timestamptz, refund boolean)
    where o.workspace_id = ${workspaceId} and o.id = v.id
  `.execute(db);
}
