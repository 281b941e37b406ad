import { unaccountedItem } from '../../crm/batch-input.ts';
import type { BatchItemResult } from '../../crm/types.ts';
import { markerKeysIn } from '../../crm/task-marker.ts';
import { arrayField } from './crm-http.ts';
import { hubspotRecordError } from './crm-errors.ts';

export interface SentRecord {
  /** Idempotency key, also sent as `objectWriteTraceId`. */
  key: string;
  /** For updates: the record id, which HubSpot echoes in results and in OBJECT_NOT_FOUND context. */
  recordId?: string;
}

export interface MapOptions {
  /** For creates: the body property carrying the marker, a fallback when results lack trace ids. */
  markerProperty?: string;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function traceIdOf(entry: Record<string, unknown>): string | undefined {
  if (typeof entry.objectWriteTraceId === 'string') return entry.objectWriteTraceId;
  // Error entries have been seen with the trace id inside `context` as a one-element list.
  const fromContext = asRecord(entry.context).objectWriteTraceId;
  if (Array.isArray(fromContext) && typeof fromContext[0] === 'string') return fromContext[0];
  return undefined;
}

function contextIds(entry: Record<string, unknown>): string[] {
  const ids = asRecord(entry.context).ids;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/**
 * Maps a HubSpot batch answer (200/201 all done, 207 partial) back to the inputs by
 * `objectWriteTraceId`, then by record id (updates) or body marker (creates). A record the answer
 * does not account for is 'uncertain': it may or may not have been written.
 */
export function mapHubspotBatchResults(sent: SentRecord[], body: Record<string, unknown>, options: MapOptions = {}): BatchItemResult[] {
  const keys = new Set(sent.map((record) => record.key));
  const keyByRecordId = new Map(sent.filter((r) => r.recordId !== undefined).map((r) => [r.recordId as string, r.key]));
  const outcomes = new Map<string, BatchItemResult>();

  for (const raw of arrayField(body, 'results')) {
    const result = asRecord(raw);
    const crmId = typeof result.id === 'string' ? result.id : undefined;
    const key = findKey(result, keys, keyByRecordId, crmId, options);
    if (key !== undefined && !outcomes.has(key)) outcomes.set(key, { key, outcome: 'ok', ...(crmId === undefined ? {} : { crmId }) });
  }

  const unmatchedErrors: Record<string, unknown>[] = [];
  for (const raw of arrayField(body, 'errors')) {
    const entry = asRecord(raw);
    const traceKey = traceIdOf(entry);
    const matched = traceKey !== undefined && keys.has(traceKey)
      ? [traceKey]
      : contextIds(entry).flatMap((id) => keyByRecordId.get(id) ?? []);
    if (matched.length === 0) unmatchedErrors.push(entry);
    for (const key of matched) outcomes.set(key, { key, outcome: 'failed', error: hubspotRecordError(entry) });
  }

  const unresolved = sent.filter((record) => !outcomes.has(record.key));
  // One error nobody claimed and one record without a result: they belong together.
  if (unresolved.length === 1 && unmatchedErrors.length === 1 && unresolved[0]) {
    const only = unresolved[0];
    outcomes.set(only.key, { key: only.key, outcome: 'failed', error: hubspotRecordError(unmatchedErrors[0]) });
  }
  return sent.map((record) => outcomes.get(record.key) ?? unaccountedItem('hubspot', record.key));
}

function findKey(
  result: Record<string, unknown>,
  keys: Set<string>,
  keyByRecordId: Map<string, string>,
  crmId: string | undefined,
  options: MapOptions,
): string | undefined {
  const traceKey = traceIdOf(result);
  if (traceKey !== undefined && keys.has(traceKey)) return traceKey;
  if (crmId !== undefined && keyByRecordId.has(crmId)) return keyByRecordId.get(crmId);
  if (options.markerProperty) {
    const text = asRecord(result.properties)[options.markerProperty];
    return markerKeysIn(typeof text === 'string' ? text : undefined).find((key) => keys.has(key));
  }
  return undefined;
}
