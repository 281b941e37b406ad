import type { CrmConnectionConfig } from '../crm/connection-config.ts';
import { defaultQuota } from '../crm/rate-limit-defaults.ts';
import type { RateLimits } from './rate-limiter.ts';

/**
 * HubSpot counts its rolling window from when a call arrives. A call's stamp in our window is the
 * moment its answer came back (see rate-limiter.ts), never earlier than HubSpot's, so the window
 * needs only a small allowance for how HubSpot rounds the window's edges.
 */
const WINDOW_ALLOWANCE_MS = 50;

/** Salesforce meters calls per day (read back from Sforce-Limit-Info); the window only smooths bursts. */
const salesforceLimits: RateLimits = { perWindow: 25, windowMs: 1_000 };

/** The shared limiter's budget for a connection: the CRM's published quota for its tier. */
export function limitsFor(config: CrmConnectionConfig): RateLimits {
  const quota = defaultQuota(config);
  if (!quota.burst) return salesforceLimits;
  return {
    perWindow: quota.burst.requests,
    windowMs: quota.burst.intervalMs + WINDOW_ALLOWANCE_MS,
    ...(quota.daily ? { perDay: quota.daily } : {}),
  };
}

/** One budget per CRM account: every process writing for the workspace shares it. */
export function bucketFor(workspaceId: string, config: CrmConnectionConfig): string {
  return `${config.provider}:${workspaceId}`;
}
