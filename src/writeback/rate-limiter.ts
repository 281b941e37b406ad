import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';

export interface RateLimits {
  /** Calls allowed in any rolling window of `windowMs`. */
  perWindow: number;
  windowMs: number;
  /** Calls allowed per UTC day (our own count), if the CRM has such a budget. */
  perDay?: number;
}

/** A granted call carries its stamp in the window, which `finishCall` moves to when it ended. */
export type Acquired = { granted: true; stamp: string } | { granted: false; retryAfterMs: number; reason: 'window' | 'daily' | 'paused' };

/**
 * How far ahead of its grant a call is stamped until it is known to have ended: the CRM counts a
 * call when it arrives, which is after we send it, so a stamp at the grant could let the next
 * window open early by the time the call spent in our event loop and on the network.
 */
export const UNFINISHED_CALL_MARGIN_MS = 250;

/**
 * A rate limiter whose state lives in Postgres, so every worker process shares one budget. The
 * window is exact: the row keeps a stamp for each call within it, and one UPDATE checks and
 * records a call atomically (the row lock serializes concurrent callers).
 *
 * A call is stamped a margin after its grant, then, through `finishCall`, at the moment its answer
 * (or failure) came back. The CRM received it before we received its answer, so that stamp is
 * never earlier than the CRM's own, whatever the network and the event loop did; a call whose end
 * is never recorded (a crash mid-call) keeps the margin.
 */
export async function acquireCall(db: Database, bucket: string, limits: RateLimits): Promise<Acquired> {
  // A refusal is returned only when something stands in the way (a pause, the daily budget, a full
  // window). Otherwise (the account's first call, whose row is created then, or a slot that opened
  // or a row another caller created between the two statements) the call is asked for again.
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const outcome = await tryAcquireCall(db, bucket, limits);
    if (outcome !== 'ask again') return outcome;
  }
  return { granted: false, retryAfterMs: 10, reason: 'window' };
}

async function tryAcquireCall(db: Database, bucket: string, limits: RateLimits): Promise<Acquired | 'ask again'> {
  const windowSql = sql`make_interval(secs => ${limits.windowMs / 1000})`;
  const perDay = limits.perDay ?? 2_147_483_647;
  const granted = await sql<{ stamp: string }>`
    update crm_rate_limits set
      recent = array_append(
        array(select t from unnest(recent) t where t > clock_timestamp() - ${windowSql}),
        clock_timestamp() + make_interval(secs => ${UNFINISHED_CALL_MARGIN_MS / 1000})
      ),
      day_count = case when day = current_date then day_count + 1 else 1 end,
      day = current_date,
      updated_at = now()
    where bucket = ${bucket}
      and (paused_until is null or paused_until <= clock_timestamp())
      and (select count(*) from unnest(recent) t where t > clock_timestamp() - ${windowSql}) < ${limits.perWindow}
      and (day <> current_date or day_count < ${perDay})
      and (daily_limit is null or daily_used is null or daily_used < daily_limit)
    returning recent[cardinality(recent)]::text as stamp
  `.execute(db);
  if (granted.rows.length > 0) return { granted: true, stamp: granted.rows[0]!.stamp };

  // Refused: say how long until a slot opens, so the caller can sleep instead of spinning.
  const state = await sql<{ paused_ms: number | null; window_ms: number | null; in_window: number; daily: boolean }>`
    select
      extract(epoch from (paused_until - clock_timestamp())) * 1000 as paused_ms,
      extract(epoch from ((select min(t) from unnest(recent) t where t > clock_timestamp() - ${windowSql}) + ${windowSql} - clock_timestamp())) * 1000 as window_ms,
      (select count(*)::int from unnest(recent) t where t > clock_timestamp() - ${windowSql}) as in_window,
      ((day = current_date and day_count >= ${perDay}) or (daily_limit is not null and daily_used >= daily_limit)) as daily
    from crm_rate_limits where bucket = ${bucket}
  `.execute(db);
  const row = state.rows[0];
  if (row?.paused_ms != null && row.paused_ms > 0) return { granted: false, retryAfterMs: Math.ceil(row.paused_ms), reason: 'paused' };
  if (row?.daily) return { granted: false, retryAfterMs: msUntilNextUtcDay(), reason: 'daily' };
  if (row && row.in_window >= limits.perWindow) return { granted: false, retryAfterMs: Math.max(10, Math.ceil(row.window_ms ?? 100)), reason: 'window' };
  if (!row) await db.insertInto('crm_rate_limits').values({ bucket }).onConflict((oc) => oc.doNothing()).execute();
  return 'ask again';
}

/**
 * Records that a granted call has ended (answered, failed or timed out): its stamp becomes now. If
 * the window has dropped the stamp meanwhile (a call slower than the window), the end is added.
 */
export async function finishCall(db: Database, bucket: string, stamp: string): Promise<void> {
  await sql`
    update crm_rate_limits set
      recent = case when ${stamp}::timestamptz = any(recent)
                    then array_replace(recent, ${stamp}::timestamptz, clock_timestamp())
                    else array_append(recent, clock_timestamp()) end
    where bucket = ${bucket}
  `.execute(db);
}

/** After a 429 (or a daily-limit answer): nobody calls this CRM account again before `until`. */
export async function pauseBucket(db: Database, bucket: string, until: Date): Promise<void> {
  await db.insertInto('crm_rate_limits').values({ bucket }).onConflict((oc) => oc.doNothing()).execute();
  await sql`
    update crm_rate_limits set paused_until = greatest(coalesce(paused_until, ${until}), ${until}), updated_at = now()
    where bucket = ${bucket}
  `.execute(db);
}

/** Records the CRM's own view of the daily budget (Salesforce's Sforce-Limit-Info). */
export async function recordDailyUsage(db: Database, bucket: string, used: number, limit: number): Promise<void> {
  await db.updateTable('crm_rate_limits').set({ daily_used: used, daily_limit: limit, updated_at: new Date() }).where('bucket', '=', bucket).execute();
}

export async function readBucket(db: Database, bucket: string) {
  return db.selectFrom('crm_rate_limits').selectAll().where('bucket', '=', bucket).executeTakeFirst();
}

function msUntilNextUtcDay(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime();
}
