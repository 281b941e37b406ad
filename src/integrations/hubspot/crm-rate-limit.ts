import type { RateLimitSnapshot } from '../../crm/types.ts';

function intHeader(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Reads HubSpot's X-HubSpot-RateLimit-* headers. The daily pair is only sent for private-app calls,
 * and CRM search responses carry none, so every field is optional; undefined means "not told".
 */
export function readHubspotRateLimit(headers: Headers): RateLimitSnapshot | undefined {
  const snapshot: RateLimitSnapshot = {};
  const remaining = intHeader(headers, 'x-hubspot-ratelimit-remaining');
  const max = intHeader(headers, 'x-hubspot-ratelimit-max');
  const intervalMs = intHeader(headers, 'x-hubspot-ratelimit-interval-milliseconds');
  const daily = intHeader(headers, 'x-hubspot-ratelimit-daily');
  const dailyRemaining = intHeader(headers, 'x-hubspot-ratelimit-daily-remaining');
  if (remaining !== undefined) snapshot.remaining = remaining;
  if (max !== undefined) snapshot.max = max;
  if (intervalMs !== undefined) snapshot.intervalMs = intervalMs;
  if (daily !== undefined) {
    snapshot.dailyLimit = daily;
    if (dailyRemaining !== undefined) snapshot.dailyUsed = Math.max(daily - dailyRemaining, 0);
  }
  return Object.keys(snapshot).length === 0 ? undefined : snapshot;
}
