import { isCrmError } from '../crm/errors.ts';
import type { CallGate } from './call-gate.ts';
import { SyncDeferred } from './call-gate.ts';

export interface RetryOptions {
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  /** Transient failures (5xx, network) retried in place before the job gives up for now. */
  transientRetries?: number;
  baseDelayMs?: number;
}

const maxRateLimitedRetries = 10;

/**
 * Reads one page, retrying in place what a retry can fix. A page is a read, so sending it again is
 * always safe. A 429 pauses the account for every process (the shared limiter), then waits.
 */
export async function readWithRetries<T>(gate: CallGate, read: () => Promise<T>, options: RetryOptions): Promise<T> {
  const transientRetries = options.transientRetries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  let transient = 0;
  let limited = 0;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!isCrmError(error)) throw error;
      if (error.kind === 'rate_limited') {
        const until = new Date(options.now().getTime() + (error.retryAfterMs ?? 10_000));
        await gate.pause(until);
        limited += 1;
        if (limited > maxRateLimitedRetries) throw new SyncDeferred(until, 'rate limited repeatedly');
        await gate.wait(until, error.policy === 'daily' ? 'daily' : 'rate limited');
        continue;
      }
      if (error.kind === 'transient' && transient < transientRetries) {
        await options.sleep(baseDelayMs * 2 ** transient);
        transient += 1;
        continue;
      }
      throw error;
    }
  }
}
