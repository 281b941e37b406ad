import type { CrmConnectionConfig } from './connection-config.ts';

/**
 * Starting quotas for the shared rate limiter before the CRM's headers say otherwise. HubSpot's
 * numbers come from its usage guidelines; without a tier we assume the smallest. Salesforce has
 * no per-second request quota for REST (only concurrency and the daily allowance, which every
 * answer reports in Sforce-Limit-Info), so it starts without a burst budget.
 */
export interface CrmQuota {
  burst?: { requests: number; intervalMs: number };
  /** Requests per day for the whole account, shared with every other app in it. */
  daily?: number;
}

const hubspotTiers = {
  starter: { burst: { requests: 100, intervalMs: 10_000 }, daily: 250_000 },
  professional: { burst: { requests: 190, intervalMs: 10_000 }, daily: 625_000 },
  enterprise: { burst: { requests: 190, intervalMs: 10_000 }, daily: 1_000_000 },
  // Public OAuth apps: 110 per 10 s per installing account; HubSpot sends no daily headers for them.
  oauth_app: { burst: { requests: 110, intervalMs: 10_000 } },
} satisfies Record<string, CrmQuota>;

export function defaultQuota(config: CrmConnectionConfig): CrmQuota {
  if (config.provider === 'salesforce') return {};
  return hubspotTiers[config.tier ?? (config.auth.type === 'oauth' ? 'oauth_app' : 'starter')];
}
