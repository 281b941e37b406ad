import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for one process. A registry per instance (not the library's global one) so
 * tests can build several apps side by side.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'momentum_http_request_duration_seconds',
      help: 'HTTP request latency by route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'momentum_webhooks_total',
      help: 'Webhook deliveries by source and outcome (accepted, duplicate, ignored, unattributed, rejected, unauthorized, invalid)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'momentum_queue_jobs',
      help: 'Jobs waiting in the queue by task (sampled at scrape time)',
      labelNames: ['task'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'momentum_job_duration_seconds',
      help: 'Job run time by task and outcome',
      labelNames: ['task', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    crmCalls: new Counter({
      name: 'momentum_crm_calls_total',
      help: 'CRM API calls by provider, operation and outcome',
      labelNames: ['provider', 'operation', 'outcome'] as const,
      registers: [registry],
    }),
    syncRecords: new Counter({
      name: 'momentum_sync_records_total',
      help: 'CRM records read by the sync, by phase (import, reconcile) and kind (deal, activity)',
      labelNames: ['phase', 'kind'] as const,
      registers: [registry],
    }),
    syncMissedChanges: new Counter({
      name: 'momentum_sync_missed_changes_total',
      help: 'Changes reconciliation found in the CRM that no webhook had delivered, by provider',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    syncErrors: new Counter({
      name: 'momentum_sync_errors_total',
      help: 'Sync runs that stopped on an error, by phase and error kind',
      labelNames: ['phase', 'kind'] as const,
      registers: [registry],
    }),
    syncWatermark: new Gauge({
      name: 'momentum_sync_watermark_timestamp_seconds',
      help: 'Reconciliation watermark per workspace: CRM changes before it have been compared with the mirror',
      labelNames: ['workspace'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
