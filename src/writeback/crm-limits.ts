import type { CrmConnectionConfig } from '../crm/connection-config.ts';
import type { RateLimits } from './rate-limiter.ts';

/**
 * HubSpot's published ceilings per tier (calls per rolling 10 s, calls per day). The window is
 * counted a quarter second longer than HubSpot's: our clock stamps a call when it leaves, theirs
 * when it arrives, and network jitter must not turn a full window into a 429.
 */
const hubspotTiers: Record<NonNullable<Extract<CrmConnectionConfig, { provider: 'hubspot' }>['tier']>, RateLimits> = {
  starter: { perWindow: 100, windowMs: 10_250, perDay: 250_000 },
  professional: { perWindow: 190, windowMs: 10_250, perDay: 625_000 },
  enterprise: { perWindow: 190, windowMs: 10_250, perDay: 1_000_000 },
  oauth_app: { perWindow: 110, windowMs: 10_250 },
};

/** Salesforce meters calls per day (read back from Sforce-Limit-Info); the window only smooths bursts. */
const salesforceLimits: RateLimits = { perWindow: 25, windowMs: 1_000 };

export function limitsFor(config: CrmConnectionConfig): RateLimits {
  if (config.provider === 'salesforce') return salesforceLimits;
  return hubspotTiers[config.tier ?? 'starter'];
}

/** One budget per CRM account: every process writing for the workspace shares it. */
export function bucketFor(workspaceId: string, config: CrmConnectionConfig): string {
  return `${config.provider}:${workspaceId}`;
}
