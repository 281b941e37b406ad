import { CrmError } from '../../crm/errors.ts';
import { stringField } from '../../crm/fetch-with-timeout.ts';
import type { RateLimitSnapshot } from '../../crm/types.ts';

const burstFallbackMs = 10_000;
/**
 * HubSpot does not say when a daily quota resets (midnight in the account's time zone), so a
 * daily refusal is re-probed hourly: one failed request an hour is cheap, guessing the zone is not.
 */
export const dailyRetryAfterMs = 60 * 60_000;

function retryAfterHeaderMs(headers: Headers): number | undefined {
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function messageOf(body: unknown, status: number): string {
  return stringField(body, 'message') ?? (typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : `HTTP ${status}`);
}

/** Turns a non-2xx HubSpot answer into a CrmError in our retry vocabulary. */
export function classifyHubspotResponse(
  status: number,
  body: unknown,
  headers: Headers,
  options: { write: boolean; rateLimit: RateLimitSnapshot | undefined },
): CrmError {
  const message = messageOf(body, status);
  const code = stringField(body, 'category') ?? stringField(body, 'errorType');
  const base = {
    provider: 'hubspot' as const,
    message,
    status,
    ...(code === undefined ? {} : { code }),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
  };
  if (status === 429) {
    const policyName = stringField(body, 'policyName');
    if (policyName === 'DAILY') {
      return new CrmError({ ...base, kind: 'rate_limited', policy: 'daily', code: 'DAILY', retryAfterMs: dailyRetryAfterMs });
    }
    // TEN_SECONDLY_ROLLING, the older "secondly" limit, and anything unnamed are burst limits.
    const secondly = /secondly limit/i.test(message);
    const retryAfterMs =
      retryAfterHeaderMs(headers) ?? (secondly ? 1_000 : (options.rateLimit?.intervalMs ?? burstFallbackMs));
    return new CrmError({ ...base, kind: 'rate_limited', policy: 'burst', code: policyName ?? code ?? 'RATE_LIMIT', retryAfterMs });
  }
  if (status === 401) return new CrmError({ ...base, kind: 'auth' });
  // A gateway that lost the upstream answer cannot tell whether a write was applied.
  if (options.write && (status === 502 || status === 504)) return new CrmError({ ...base, kind: 'uncertain' });
  if (status >= 500) return new CrmError({ ...base, kind: 'transient' });
  return new CrmError({ ...base, kind: 'permanent' });
}

/** One entry of a batch response's `errors` array, as a per-record CrmError. */
export function hubspotRecordError(error: unknown): CrmError {
  const category = stringField(error, 'category');
  const message = stringField(error, 'message') ?? 'HubSpot rejected this record';
  const kind = category === 'RATE_LIMITS' ? 'rate_limited' : category === 'INTERNAL_ERROR' ? 'transient' : 'permanent';
  return new CrmError({ provider: 'hubspot', kind, message, ...(category === undefined ? {} : { code: category }) });
}
