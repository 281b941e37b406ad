import type { BatchItemResult } from './types.ts';
import { assertValidKey } from './task-marker.ts';
import { CrmError } from './errors.ts';
import type { CrmProvider } from './types.ts';

/**
 * Checks a batch before anything is sent. These are caller bugs (the outbox must split batches and
 * coalesce per record), so they throw TypeError rather than becoming per-item failures.
 */
export function assertBatch(
  items: ReadonlyArray<{ key: string; dealId: string }>,
  options: { maxBatchSize: number; uniqueDeals: boolean },
): void {
  if (items.length > options.maxBatchSize) {
    throw new TypeError(`A batch holds at most ${options.maxBatchSize} records; got ${items.length}`);
  }
  const keys = new Set<string>();
  const deals = new Set<string>();
  for (const item of items) {
    assertValidKey(item.key);
    if (keys.has(item.key)) throw new TypeError(`Idempotency key ${item.key} appears twice in one batch`);
    keys.add(item.key);
    if (item.dealId.length === 0) throw new TypeError(`Record ${item.key} has an empty deal id`);
    if (options.uniqueDeals) {
      if (deals.has(item.dealId)) throw new TypeError(`Deal ${item.dealId} is updated twice in one batch; coalesce first`);
      deals.add(item.dealId);
    }
  }
}

/** The same checks for a batch of task completions, which name tasks rather than deals. */
export function assertCompletionBatch(items: ReadonlyArray<{ key: string; crmTaskId: string }>, options: { maxBatchSize: number }): void {
  if (items.length > options.maxBatchSize) {
    throw new TypeError(`A batch holds at most ${options.maxBatchSize} records; got ${items.length}`);
  }
  const keys = new Set<string>();
  const tasks = new Set<string>();
  for (const item of items) {
    assertValidKey(item.key);
    if (keys.has(item.key)) throw new TypeError(`Idempotency key ${item.key} appears twice in one batch`);
    keys.add(item.key);
    if (item.crmTaskId.length === 0) throw new TypeError(`Completion ${item.key} has an empty task id`);
    // Each closed approval completes its own task, so a task named twice is a caller bug.
    if (tasks.has(item.crmTaskId)) throw new TypeError(`Task ${item.crmTaskId} is completed twice in one batch`);
    tasks.add(item.crmTaskId);
  }
}

/** The per-item result for a record the CRM's answer did not account for. */
export function unaccountedItem(provider: CrmProvider, key: string): BatchItemResult {
  return {
    key,
    outcome: 'uncertain',
    error: new CrmError({ provider, kind: 'uncertain', message: 'The CRM answered the batch without a result for this record' }),
  };
}

/** `YYYY-MM-DD` → midnight UTC as ISO-8601; throws on anything else. */
export function dateToIsoMidnight(date: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw new TypeError(`Expected a date as YYYY-MM-DD, got ${JSON.stringify(date)}`);
  }
  return `${date}T00:00:00.000Z`;
}

/** Any ISO-8601 date or date-time → canonical ISO date-time; throws when unparseable. */
export function toIsoDateTime(value: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new TypeError(`Expected an ISO-8601 date or date-time, got ${JSON.stringify(value)}`);
  return new Date(time).toISOString();
}
