import { CrmError } from '../../crm/errors.ts';
import type { RateLimitSnapshot } from '../../crm/types.ts';

/**
 * The org's daily allowance is a rolling 24 hours, so capacity comes back gradually; re-probe
 * every 15 minutes rather than waiting a whole day.
 */
export const dailyRetryAfterMs = 15 * 60_000;

/** Record-level codes that mean "try again shortly": the row or org was busy, not the data wrong. */
const transientCodes = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG', 'QUERY_TIMEOUT']);

export interface SalesforceFailure {
  status: number;
  errorCode: string | undefined;
  message: string;
  write: boolean;
  rateLimit: RateLimitSnapshot | undefined;
}

/** Turns a non-2xx Salesforce answer into a CrmError in our retry vocabulary. */
export function classifySalesforceFailure(failure: SalesforceFailure): CrmError {
  const base = {
    provider: 'salesforce' as const,
    message: failure.message,
    status: failure.status,
    ...(failure.errorCode === undefined ? {} : { code: failure.errorCode }),
    ...(failure.rateLimit === undefined ? {} : { rateLimit: failure.rateLimit }),
  };
  if (failure.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    // Also used for the concurrent long-running request limit, which clears in seconds.
    const concurrent = /concurrent/i.test(failure.message);
    return new CrmError({
      ...base,
      kind: 'rate_limited',
      policy: concurrent ? 'burst' : 'daily',
      retryAfterMs: concurrent ? 10_000 : dailyRetryAfterMs,
    });
  }
  if (failure.status === 429) return new CrmError({ ...base, kind: 'rate_limited', policy: 'burst', retryAfterMs: 10_000 });
  if (failure.status === 401) return new CrmError({ ...base, kind: 'auth' });
  if (failure.errorCode !== undefined && transientCodes.has(failure.errorCode)) return new CrmError({ ...base, kind: 'transient' });
  if (failure.write && (failure.status === 502 || failure.status === 504)) return new CrmError({ ...base, kind: 'uncertain' });
  if (failure.status >= 500) return new CrmError({ ...base, kind: 'transient' });
  return new CrmError({ ...base, kind: 'permanent' });
}

interface SaveError {
  statusCode?: unknown;
  errorCode?: unknown;
  message?: unknown;
  fields?: unknown;
}

/** One SaveResult error (sObject Collections answer 200 with per-record `success: false`). */
export function salesforceRecordError(errors: unknown): CrmError {
  const list = Array.isArray(errors) ? (errors as SaveError[]) : [];
  const first = list[0] ?? {};
  const code = typeof first.statusCode === 'string' ? first.statusCode : typeof first.errorCode === 'string' ? first.errorCode : undefined;
  const message = list
    .map((error) => {
      const fields = Array.isArray(error.fields) && error.fields.length > 0 ? ` (${error.fields.join(', ')})` : '';
      return `${typeof error.message === 'string' ? error.message : 'Salesforce rejected this record'}${fields}`;
    })
    .join('; ');
  const kind = code === 'REQUEST_LIMIT_EXCEEDED' ? 'rate_limited' : code !== undefined && transientCodes.has(code) ? 'transient' : 'permanent';
  return new CrmError({
    provider: 'salesforce',
    kind,
    message: message || 'Salesforce rejected this record',
    ...(code === undefined ? {} : { code }),
    ...(kind === 'rate_limited' ? { policy: 'daily' as const, retryAfterMs: dailyRetryAfterMs } : {}),
  });
}
