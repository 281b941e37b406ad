import type { Database } from '../platform/db.ts';
import type { CrmConnectionConfig } from '../crm/connection-config.ts';
import { readBucket } from './rate-limiter.ts';
import { bucketFor, limitsFor } from './crm-limits.ts';

export interface ConnectionUsage {
  /** Calls Momentum made today (UTC) through the shared limiter. */
  today: number;
  /** The CRM's own count and ceiling where it reports them (Salesforce's Sforce-Limit-Info). */
  dailyUsed: number | null;
  dailyLimit: number | null;
  pausedUntil: string | null;
  /** Momentum's own daily ceiling for this account, when the CRM publishes one per tier. */
  ownDailyLimit: number | null;
}

/** Today's CRM API usage of a workspace's connection, for the admin API and the console. */
export async function connectionUsage(db: Database, workspaceId: string, config: CrmConnectionConfig, now: Date): Promise<ConnectionUsage> {
  const bucket = await readBucket(db, bucketFor(workspaceId, config));
  const today = bucket && bucket.day === now.toISOString().slice(0, 10) ? bucket.day_count : 0;
  return {
    today,
    dailyUsed: bucket?.daily_used ?? null,
    dailyLimit: bucket?.daily_limit ?? null,
    pausedUntil: bucket?.paused_until?.toISOString() ?? null,
    ownDailyLimit: limitsFor(config).perDay ?? null,
  };
}
