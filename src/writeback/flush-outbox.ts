import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { CrmError, isCrmError } from '../crm/errors.ts';
import type { BatchResult, CrmClient, DealFieldUpdate } from '../crm/types.ts';
import { acquireCall, finishCall, pauseBucket, recordDailyUsage, type Acquired, type RateLimits } from './rate-limiter.ts';
import { claimDueRows, settleRows, type OutboxRow, type RowSettlement } from './outbox-store.ts';
import { sendableCompletions } from './flush-completions.ts';
import { retryDelayMs, MAX_ATTEMPTS, UNCERTAIN_RETRY_MIN_MS } from './retry-policy.ts';

export interface CrmTarget {
  client: CrmClient;
  /** The rate-limit bucket every process shares for this CRM account. */
  bucket: string;
  limits: RateLimits;
}

export interface FlushDeps {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  crmFor(workspaceId: string): Promise<CrmTarget | undefined>;
  /** How long a claimed row may stay in `sending` before another worker treats it as abandoned. */
  leaseMs?: number;
  /**
   * No call starts later than this after the claim, so that a live flush settles its rows before
   * their lease runs out and another flush takes them over (set with a short lease).
   */
  callWindowMs?: number;
  /**
   * A limiter refusal that clears within this long is waited out holding the claimed rows, instead
   * of releasing them all and claiming them again for the next slot (default 0: return at once).
   */
  maxInPlaceWaitMs?: number;
  /** CRM calls in flight at once for this flush (default 1: one after another). */
  parallelCalls?: number;
  random?: () => number;
}

export interface FlushResult {
  calls: number;
  sent: number;
  failed: number;
  dead: number;
  /** The CRM (or our shared limiter) asked us to wait until then. */
  deferredUntil?: Date;
  /** Due rows are left; flush again right away. */
  more: boolean;
  /** The workspace has no CRM connection: nothing can be sent until one is set. */
  unconnected?: true;
}

const CLAIM_LIMIT = 1000;
/**
 * Keys per lookup call: one HubSpot search request (5 keys each, 5 requests a second), so a
 * refusal midway loses only its own request instead of every answer received before it.
 */
const LOOKUP_BATCH_SIZE = 5;

/** One API call's worth of rows and what to send for them. */
interface Call {
  kind: 'deal_update' | 'task' | 'note' | 'find_tasks' | 'complete_task';
  rows: OutboxRow[][];
}

/** What the calls need besides their rows. */
interface SendContext {
  /** The newest value of every deal field among the claimed deals' live updates. */
  latest: Map<string, DealFieldUpdate>;
  /** The CRM id of the task each sendable completion row completes. */
  taskIds: Map<string, string>;
}

/**
 * Sends a workspace's due outbox rows to its CRM: coalesced per deal, batched to the CRM's batch
 * size, each call admitted by the shared rate limiter, each row settled from the per-record result.
 * A 429 pauses the whole CRM account for every process; nothing spins.
 */
export async function flushOutbox(deps: FlushDeps, workspaceId: string, options: { maxCalls?: number } = {}): Promise<FlushResult> {
  const result: FlushResult = { calls: 0, sent: 0, failed: 0, dead: 0, more: false };
  const target = await deps.crmFor(workspaceId);
  if (!target) return { ...result, unconnected: true };
  const maxCalls = options.maxCalls ?? 50;
  const random = deps.random ?? Math.random;
  const log = deps.logger.child({ workspaceId, component: 'outbox' });

  const rows = await claimDueRows(deps.db, workspaceId, { limit: CLAIM_LIMIT, leaseMs: deps.leaseMs ?? 120_000 });
  if (rows.length === 0) return result;
  const lastCallStart = Date.now() + (deps.callWindowMs ?? Number.POSITIVE_INFINITY);
  const settlements: RowSettlement[] = [];
  // A row whose earlier write may have landed stays marked uncertain until the CRM answers for it:
  // a failed, rate-limited or postponed lookup must not turn the next attempt into a blind create.
  const uncertainIds = new Set(rows.filter((row) => row.uncertain).map((row) => row.id));
  const settle = (s: RowSettlement) => {
    if (uncertainIds.has(s.id) && (s.status === 'pending' || s.status === 'failed') && s.error?.kind !== 'uncertain') {
      s = { ...s, error: { ...(s.error ?? { message: 'An earlier attempt may have reached the CRM; it is looked up before anything is sent again.' }), kind: 'uncertain' } };
    }
    settlements.push(s);
    if (s.status === 'sent' || s.status === 'superseded') result.sent += 1;
    else if (s.status === 'dead') result.dead += 1;
    else if (s.status === 'failed') result.failed += 1;
  };
  const failLater = (row: OutboxRow, error: CrmError | Error) => {
    const json = isCrmError(error) ? error.toJSON() : { kind: 'transient', message: error.message };
    const permanent = isCrmError(error) && !error.retryable && error.kind !== 'auth';
    if (permanent || row.attempts >= MAX_ATTEMPTS) settle({ id: row.id, status: 'dead', error: json });
    else {
      const delay = retryDelayMs(row.attempts, random);
      const wait = json.kind === 'uncertain' ? Math.max(delay, UNCERTAIN_RETRY_MIN_MS) : delay;
      settle({ id: row.id, status: 'failed', error: json, nextAttemptAt: new Date(Date.now() + wait) });
    }
  };

  const taskIds = await sendableCompletions(deps.db, workspaceId, rows, new Set(rows.map((row) => row.id)), settle);
  const calls = planCalls(rows, target.client.maxBatchSize, settle, taskIds);
  const context: SendContext = { latest: await latestDealFields(deps.db, workspaceId, rows), taskIds };
  const deferUntil = (until: Date) => {
    if (!result.deferredUntil || until > result.deferredUntil) result.deferredUntil = until;
  };
  /** Sends one admitted call and settles its rows; false when the CRM said to stop (a 429). */
  const sendCall = async (call: Call, admitted: Extract<Acquired, { granted: true }>): Promise<boolean> => {
    const flatRows = call.rows.flat();
    try {
      // Never let the bookkeeping (here and below) turn a write the CRM applied into a failure, and
      // so into a resend.
      const answer = await send(target.client, call, context).finally(() =>
        finishCall(deps.db, target.bucket, admitted.stamp).catch((error: unknown) => log.warn({ err: error }, 'could not record when a CRM call ended; its stamp keeps the margin')),
      );
      deps.metrics.crmCalls.labels(target.client.provider, call.kind, 'ok').inc();
      await noteRateLimit(deps.db, target.bucket, answer).catch((error: unknown) => log.warn({ err: error }, 'could not record the CRM\'s daily usage'));
      if (call.kind === 'find_tasks') {
        settleFoundTasks(call, answer as FoundTasks, settle, queue);
        return true;
      }
      const batch = answer as BatchResult;
      call.rows.forEach((group, i) => {
        const item = batch.items[i];
        for (const row of group) {
          if (item?.outcome === 'ok') settle({ id: row.id, status: 'sent', crmId: item.crmId ?? null });
          else if (item?.outcome === 'uncertain') failLater(row, item.error ?? new CrmError({ kind: 'uncertain', provider: target.client.provider, message: 'outcome unknown' }));
          else failLater(row, item?.error ?? new Error('the CRM returned no result for this record'));
        }
      });
      return true;
    } catch (error) {
      const crmError = isCrmError(error) ? error : new CrmError({ kind: 'transient', provider: target.client.provider, message: (error as Error).message });
      deps.metrics.crmCalls.labels(target.client.provider, call.kind, crmError.kind).inc();
      log.warn({ err: crmError.toJSON(), rows: flatRows.length }, 'CRM call failed');
      if (crmError.kind === 'rate_limited') {
        const until = new Date(Date.now() + (crmError.retryAfterMs ?? 10_000));
        await pauseBucket(deps.db, target.bucket, until);
        deferUntil(until);
        for (const row of flatRows) settle({ id: row.id, status: 'pending', nextAttemptAt: until, refundAttempt: true });
        return false;
      }
      for (const row of flatRows) failLater(row, crmError);
      return true;
    }
  };

  // A few calls in flight at once (`parallelCalls`): each deal's rows are in one call, and a task
  // lookup queues its follow-up create behind it, so calls never depend on one another.
  const queue = [...calls];
  const unsent: Call[] = [];
  let stopped = false;
  const lane = async () => {
    for (let call = queue.shift(); call; call = queue.shift()) {
      if (stopped || result.calls >= maxCalls || Date.now() >= lastCallStart) {
        unsent.push(call);
        continue;
      }
      const admitted = await admitCall(deps, target, lastCallStart);
      if (!admitted.granted) {
        deferUntil(new Date(Date.now() + admitted.retryAfterMs));
        stopped = true;
        unsent.push(call);
        continue;
      }
      result.calls += 1;
      if (!(await sendCall(call, admitted))) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.parallelCalls ?? 1) }, lane));

  // Rows of calls not made go back untouched, due when the limiter said a slot opens, less the time
  // a flush waits in place: the next one can claim them ahead and be ready when the slot opens.
  const releaseAt = result.deferredUntil ? new Date(result.deferredUntil.getTime() - (deps.maxInPlaceWaitMs ?? 0)) : new Date();
  for (const call of unsent) {
    for (const row of call.rows.flat()) settle({ id: row.id, status: 'pending', nextAttemptAt: releaseAt, refundAttempt: true });
    result.more = result.deferredUntil === undefined;
  }
  await settleRows(deps.db, workspaceId, dedupeSettlements(settlements));
  if (rows.length >= CLAIM_LIMIT && !result.deferredUntil) result.more = true;
  return result;
}

/** A slot from the shared limiter, waiting in place for one that opens soon enough. */
async function admitCall(deps: FlushDeps, target: CrmTarget, lastCallStart: number): Promise<Acquired> {
  for (;;) {
    const admitted = await acquireCall(deps.db, target.bucket, target.limits);
    if (admitted.granted) return admitted;
    const wakeAt = Date.now() + admitted.retryAfterMs;
    if (admitted.reason === 'daily' || admitted.retryAfterMs > (deps.maxInPlaceWaitMs ?? 0) || wakeAt >= lastCallStart) return admitted;
    await new Promise((resolve) => setTimeout(resolve, admitted.retryAfterMs));
  }
}

interface FoundTasks {
  found: Map<string, string>;
  rateLimit?: undefined;
}

async function send(client: CrmClient, call: Call, context: SendContext): Promise<BatchResult | FoundTasks> {
  const leaders = call.rows.map((group) => group.at(-1)!);
  switch (call.kind) {
    case 'deal_update':
      return client.updateDeals(call.rows.map((group) => ({ key: group.at(-1)!.idempotencyKey, dealId: group[0]!.dealId, fields: newestValues(mergeFields(group), context.latest.get(group[0]!.dealId)) })));
    case 'task':
      return client.createTasks(leaders.map((row) => ({ key: row.idempotencyKey, dealId: row.dealId, ...(row.payload as any) })));
    case 'note':
      return client.createNotes(leaders.map((row) => ({ key: row.idempotencyKey, dealId: row.dealId, ...(row.payload as any) })));
    case 'find_tasks':
      return { found: await client.findTasksByKeys(leaders.map((row) => ({ key: row.idempotencyKey, dealId: row.dealId }))) };
    case 'complete_task':
      return client.completeTasks(leaders.map((row) => ({ key: row.idempotencyKey, crmTaskId: context.taskIds.get(row.id)! })));
  }
}

/**
 * The newest value of every deal field among the deal's live updates (claimed here or not). A retried
 * older update must not undo a newer one another flush already sent.
 */
async function latestDealFields(db: Database, workspaceId: string, rows: OutboxRow[]): Promise<Map<string, DealFieldUpdate>> {
  const updates = rows.filter((row) => row.kind === 'deal_update');
  const latest = new Map<string, DealFieldUpdate>();
  if (updates.length === 0) return latest;
  const newer = await sql<{ deal_id: string; payload: { fields: DealFieldUpdate } }>`
    select deal_id, payload from outbox
    where workspace_id = ${workspaceId} and kind = 'deal_update' and status in ('sent', 'sending', 'pending', 'failed')
      and deal_id = any(${[...new Set(updates.map((row) => row.dealId))]}::text[])
      and id >= ${Math.min(...updates.map((row) => Number(row.id)))}
    order by id
  `.execute(db);
  for (const row of newer.rows) latest.set(row.deal_id, { ...latest.get(row.deal_id), ...row.payload.fields });
  return latest;
}

/** The fields this update sets, each with the deal's newest value for it. */
function newestValues(fields: DealFieldUpdate, latest: DealFieldUpdate | undefined): DealFieldUpdate {
  if (!latest) return fields;
  return Object.fromEntries(Object.keys(fields).map((key) => [key, key in latest ? latest[key as keyof DealFieldUpdate] : fields[key as keyof DealFieldUpdate]])) as DealFieldUpdate;
}

/** Later writes win field by field: a newer stage replaces an older unsent one. */
function mergeFields(group: OutboxRow[]): DealFieldUpdate {
  const merged: DealFieldUpdate = Object.assign({}, ...group.map((row) => (row.payload as { fields: DealFieldUpdate }).fields));
  // Custom fields merge one level deeper: two workflow updates of different fields both land.
  const custom = group.map((row) => (row.payload as { fields: DealFieldUpdate }).fields.custom).filter((c) => c !== undefined);
  if (custom.length > 1) merged.custom = Object.assign({}, ...custom);
  return merged;
}

/** The field names a deal update sets, custom fields by their own names. */
function fieldNames(fields: DealFieldUpdate): string[] {
  const { custom, ...standard } = fields;
  return [...Object.keys(standard), ...Object.keys(custom ?? {}).map((name) => `custom:${name}`)];
}

/**
 * Groups rows into calls. Deal updates for one deal become one record; tasks whose last attempt
 * may have landed are looked up before anything is created again; notes with an unknown outcome
 * are not resent automatically (a note cannot be looked up), so they wait for a person. Task
 * completions go out when their task has a CRM id (`taskIds`, see flush-completions.ts; the others
 * are settled there). Completing is idempotent (setting a status the task already has changes
 * nothing), so one whose outcome is unknown is simply sent again, with no lookup first.
 */
function planCalls(rows: OutboxRow[], batchSize: number, settle: (s: RowSettlement) => void, taskIds: Map<string, string>): Call[] {
  const byDeal = new Map<string, OutboxRow[]>();
  const tasks: OutboxRow[] = [];
  const uncertainTasks: OutboxRow[] = [];
  const notes: OutboxRow[] = [];
  const completions: OutboxRow[] = [];
  for (const row of rows) {
    if (row.kind === 'complete_task') {
      if (taskIds.has(row.id)) completions.push(row);
    } else if (row.kind === 'deal_update') byDeal.set(row.dealId, [...(byDeal.get(row.dealId) ?? []), row]);
    else if (row.kind === 'task') (row.uncertain ? uncertainTasks : tasks).push(row);
    else if (row.uncertain) {
      settle({ id: row.id, status: 'dead', error: { kind: 'uncertain', message: 'The CRM may already have this note; it was not sent again to avoid a duplicate. Retry by hand if it is missing.' } });
    } else notes.push(row);
  }
  const groups = [...byDeal.values()].map((group) => supersede(group, settle));
  const chunk = <T>(items: T[], size = batchSize): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  return [
    ...chunk(uncertainTasks, Math.min(LOOKUP_BATCH_SIZE, batchSize)).map((c) => ({ kind: 'find_tasks' as const, rows: c.map((r) => [r]) })),
    ...chunk(groups).map((c) => ({ kind: 'deal_update' as const, rows: c })),
    ...chunk(tasks).map((c) => ({ kind: 'task' as const, rows: c.map((r) => [r]) })),
    ...chunk(notes).map((c) => ({ kind: 'note' as const, rows: c.map((r) => [r]) })),
    ...chunk(completions).map((c) => ({ kind: 'complete_task' as const, rows: c.map((r) => [r]) })),
  ];
}

/** An older update whose every field a newer one sets again is superseded, not sent. */
function supersede(group: OutboxRow[], settle: (s: RowSettlement) => void): OutboxRow[] {
  const kept: OutboxRow[] = [];
  const later = new Set<string>();
  for (const row of [...group].reverse()) {
    const fields = fieldNames((row.payload as { fields: DealFieldUpdate }).fields);
    if (kept.length > 0 && fields.every((f) => later.has(f))) {
      settle({ id: row.id, status: 'superseded' });
      continue;
    }
    fields.forEach((f) => later.add(f));
    kept.unshift(row);
  }
  return kept;
}

/** Tasks found in the CRM are done; the rest are created in a later call of this same flush. */
function settleFoundTasks(call: Call, answer: FoundTasks, settle: (s: RowSettlement) => void, calls: Call[]): void {
  const missing: OutboxRow[] = [];
  for (const [row] of call.rows) {
    const crmId = answer.found.get(row!.idempotencyKey);
    if (crmId) settle({ id: row!.id, status: 'sent', crmId });
    else missing.push({ ...row!, uncertain: false });
  }
  if (missing.length > 0) calls.push({ kind: 'task', rows: missing.map((r) => [r]) });
}

async function noteRateLimit(db: Database, bucket: string, answer: BatchResult | FoundTasks): Promise<void> {
  const limit = answer.rateLimit;
  if (limit?.dailyUsed !== undefined && limit.dailyLimit !== undefined) await recordDailyUsage(db, bucket, limit.dailyUsed, limit.dailyLimit);
}

/** Superseded rows are settled once even if a later step also touched them. */
function dedupeSettlements(settlements: RowSettlement[]): RowSettlement[] {
  const byId = new Map<string, RowSettlement>();
  for (const s of settlements) if (!byId.has(s.id) || byId.get(s.id)!.status === 'pending') byId.set(s.id, s);
  return [...byId.values()];
}
