import type { SyncStateRow } from './sync-store.ts';

/** What GET /sync shows: where the import stands (with an estimated finish) and how reconciliation is doing. */
export interface SyncView {
  import: {
    status: 'idle' | 'queued' | 'running' | 'waiting' | 'completed' | 'failed';
    reason: string | null;
    activityDays: number;
    requestedAt: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    pages: number;
    deals: number;
    activities: number;
    signals: number;
    totalDeals: number | null;
    estimatedFinishAt: string | null;
    error: Record<string, unknown> | null;
  };
  reconciliation: {
    watermark: string | null;
    lastStartedAt: string | null;
    lastFinishedAt: string | null;
    runs: number;
    dealsCompared: number;
    missedChanges: number;
    lastRunMissedChanges: number;
    closedDeals: number;
    failures: number;
    lastError: Record<string, unknown> | null;
    lastErrorAt: string | null;
  };
}

const iso = (value: Date | null) => value?.toISOString() ?? null;

/**
 * Linear estimate from the pace so far: pages are of equal size, so deals per second holds up
 * well once a few pages are done. Null until there is a pace and a total to extrapolate to.
 */
export function estimateFinish(row: Pick<SyncStateRow, 'import_status' | 'import_started_at' | 'import_deals' | 'import_total'>, now: Date): Date | null {
  if (row.import_status !== 'running' && row.import_status !== 'waiting') return null;
  if (!row.import_started_at || !row.import_total || row.import_deals === 0) return null;
  const elapsed = now.getTime() - row.import_started_at.getTime();
  const remaining = Math.max(row.import_total - row.import_deals, 0);
  return new Date(now.getTime() + (elapsed / row.import_deals) * remaining);
}

export function syncView(row: SyncStateRow | undefined, now: Date): SyncView {
  return {
    import: {
      status: row?.import_status ?? 'idle',
      reason: row?.import_reason ?? null,
      activityDays: row?.import_activity_days ?? 90,
      requestedAt: iso(row?.import_requested_at ?? null),
      startedAt: iso(row?.import_started_at ?? null),
      finishedAt: iso(row?.import_finished_at ?? null),
      pages: row?.import_pages ?? 0,
      deals: row?.import_deals ?? 0,
      activities: row?.import_activities ?? 0,
      signals: row?.import_signals ?? 0,
      totalDeals: row?.import_total ?? null,
      estimatedFinishAt: row ? iso(estimateFinish(row, now)) : null,
      error: row?.import_error ?? null,
    },
    reconciliation: {
      watermark: iso(row?.watermark ?? null),
      lastStartedAt: iso(row?.reconcile_started_at ?? null),
      lastFinishedAt: iso(row?.reconcile_finished_at ?? null),
      runs: row?.reconcile_runs ?? 0,
      dealsCompared: row?.reconcile_deals ?? 0,
      missedChanges: row?.reconcile_missed ?? 0,
      lastRunMissedChanges: row?.reconcile_last_missed ?? 0,
      closedDeals: row?.reconcile_closed ?? 0,
      failures: row?.reconcile_failures ?? 0,
      lastError: row?.reconcile_error ?? null,
      lastErrorAt: iso(row?.reconcile_error_at ?? null),
    },
  };
}
