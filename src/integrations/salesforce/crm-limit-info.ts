import type { RateLimitSnapshot } from '../../crm/types.ts';

/**
 * Parses `Sforce-Limit-Info: api-usage=18/15000; api-bursts=1/750` (the bursts part only on newer
 * releases). api-usage is the org's rolling 24-hour request count against its daily allowance.
 */
export function parseSforceLimitInfo(header: string | null | undefined): RateLimitSnapshot | undefined {
  if (!header) return undefined;
  const usage = /api-usage=(\d+)\/(\d+)/.exec(header);
  if (!usage?.[1] || !usage[2]) return undefined;
  return { dailyUsed: Number(usage[1]), dailyLimit: Number(usage[2]) };
}
