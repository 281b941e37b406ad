import type { Database } from '../platform/db.ts';
import { acquireCall, pauseBucket, recordDailyUsage, type RateLimits } from '../writeback/rate-limiter.ts';
import type { RateLimitSnapshot } from '../crm/types.ts';

/** The CRM or our shared budget asked for a wait longer than a job should sleep: come back then. */
export class SyncDeferred extends Error {
  override readonly name = 'SyncDeferred';
  readonly until: Date;
  readonly reason: string;

  constructor(until: Date, reason: string) {
    super(`CRM budget exhausted (${reason}); resuming at ${until.toISOString()}`);
    this.until = until;
    this.reason = reason;
  }
}

export interface CallGate {
  /** Resolves when the shared limiter admits one more call; throws SyncDeferred for long waits. */
  beforeCall(): Promise<void>;
  /** After a 429: nobody calls this CRM account before `until`, in any process. */
  pause(until: Date): Promise<void>;
  noteRateLimit(snapshot: RateLimitSnapshot | undefined): Promise<void>;
  /** Sleeps up to the inline limit, else throws SyncDeferred. */
  wait(until: Date, reason: string): Promise<void>;
}

export interface CallGateOptions {
  db: Database;
  bucket: string;
  limits: RateLimits;
  /** Waits up to this long in place; longer ones end the job and reschedule it. */
  maxInlineWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sync reads go through the same Postgres rate limiter as outbox writes, so an import never
 * starves write-back of more than its share and never pushes the account over its limits.
 */
export function createCallGate(options: CallGateOptions): CallGate {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? (() => new Date());
  const maxInline = options.maxInlineWaitMs ?? 60_000;
  const wait = async (until: Date, reason: string) => {
    const ms = until.getTime() - now().getTime();
    if (ms <= 0) return;
    if (ms > maxInline) throw new SyncDeferred(until, reason);
    await sleep(ms);
  };
  return {
    async beforeCall() {
      for (;;) {
        const admitted = await acquireCall(options.db, options.bucket, options.limits);
        if (admitted.granted) return;
        await wait(new Date(now().getTime() + admitted.retryAfterMs), admitted.reason);
      }
    },
    pause: (until) => pauseBucket(options.db, options.bucket, until),
    async noteRateLimit(snapshot) {
      if (snapshot?.dailyUsed !== undefined && snapshot.dailyLimit !== undefined) {
        await recordDailyUsage(options.db, options.bucket, snapshot.dailyUsed, snapshot.dailyLimit);
      }
    },
    wait,
  };
}
