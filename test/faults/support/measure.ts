import { sql } from 'kysely';
import type { Database } from '../../../src/platform/db.ts';
import type { DealFieldUpdate } from '../../../src/crm/types.ts';
import { hubspotDealProperties } from '../../../src/integrations/hubspot/crm-deals.ts';
import { PROBABILITY_PROPERTY } from './environment.ts';
import type { FakeCrm } from './fake-crm.ts';
import type { FaultWorkspace } from './environment.ts';
import type { TrafficLog } from './traffic.ts';

/** What is still to do: when every number is 0 the pipeline has caught up. */
export interface Backlog {
  unpumpedSignals: number;
  jobs: number;
  lockedJobs: number;
  outboxOpen: number;
}

export async function backlog(db: Database): Promise<Backlog> {
  const result = await sql<Backlog>`
    select
      (select count(*)::int from signals where pumped_at is null) as "unpumpedSignals",
      (select count(*)::int from graphile_worker.jobs where task_identifier in ('evaluate-deal', 'flush-outbox')) as jobs,
      (select count(*)::int from graphile_worker.jobs where locked_by is not null) as "lockedJobs",
      (select count(*)::int from outbox where status in ('pending', 'sending', 'failed')) as "outboxOpen"
  `.execute(db);
  return result.rows[0]!;
}

const isDrained = (b: Backlog) => b.unpumpedSignals === 0 && b.jobs === 0 && b.lockedJobs === 0 && b.outboxOpen === 0;

/** Polls until nothing is left to do; resolves with the instant it happened, or undefined after `timeoutMs`. */
export async function waitForDrain(db: Database, timeoutMs: number): Promise<{ at: number | undefined; last: Backlog }> {
  const deadline = Date.now() + timeoutMs;
  let last = await backlog(db).catch(() => ({ unpumpedSignals: -1, jobs: -1, lockedJobs: -1, outboxOpen: -1 }));
  while (!isDrained(last)) {
    if (Date.now() > deadline) return { at: undefined, last };
    await new Promise((resolve) => setTimeout(resolve, 500));
    last = await backlog(db).catch(() => last);
  }
  return { at: Date.now(), last };
}

export interface Outcome {
  attempts: number;
  acknowledged: number;
  /** Acknowledged requests with no stored delivery: must be 0. */
  lostAcknowledged: number;
  abandoned: number;
  deliveriesStored: number;
  outbox: Record<string, number>;
  /** CRM writes the outbox recorded as sent (tasks, notes, deal updates). */
  effectsExpected: number;
  /** Of those, found in the fake CRM. */
  effectsReceived: number;
  /** Sent per our records but not in the CRM. */
  effectsMissing: number;
  missingByKind: Record<string, number>;
  /** Tasks or notes created more than once (a deal left with older values counts as missing). */
  duplicateEffects: number;
  /** Records in the CRM that no outbox row accounts for. */
  unexpectedRecords: number;
  /** Writes marked dead (a note whose outcome was unknown waits for a person): landed / not landed. */
  deadLanded: number;
  deadMissing: number;
  /** Deal updates the CRM applied again under the same key (plain "set" replays, harmless). */
  idempotentResends: number;
  crmRequests: number;
  crmMaxInWindow: number;
  crmRealRateLimited: number;
  crmInjected: Record<string, number>;
  /** The first few things that went wrong, in words. */
  problems: string[];
}

/** Compares what vendors were told, what the database holds and what the fake CRM received. */
export async function measureOutcome(db: Database, crm: FakeCrm, workspaces: FaultWorkspace[], traffic: TrafficLog): Promise<Outcome> {
  const acked = traffic.attempts.filter((a) => typeof a.status === 'number' && a.status >= 200 && a.status < 300);
  const stored = await sql<{ request_id: string | null }>`select headers->>'x-request-id' as request_id from deliveries`.execute(db);
  const storedIds = new Set(stored.rows.map((r) => r.request_id));
  const rows = await sql<{ id: string; workspace_id: string; deal_id: string; kind: string; idempotency_key: string; status: string; payload: { fields?: DealFieldUpdate } }>`
    select id, workspace_id, deal_id, kind, idempotency_key, status, payload from outbox order by id
  `.execute(db);
  const outbox: Record<string, number> = {};
  for (const row of rows.rows) outbox[row.status] = (outbox[row.status] ?? 0) + 1;

  const tokenOf = new Map(workspaces.map((w) => [w.id, w.crmToken]));
  const recordCount = new Map<string, number>();
  for (const r of crm.records) if (r.key) recordCount.set(`${r.token}|${r.key}`, (recordCount.get(`${r.token}|${r.key}`) ?? 0) + 1);
  const dealApplied = new Map<string, number>();
  for (const w of crm.dealWrites) dealApplied.set(`${w.token}|${w.key}`, (dealApplied.get(`${w.token}|${w.key}`) ?? 0) + 1);

  let expected = 0;
  let received = 0;
  let deadLanded = 0;
  let deadMissing = 0;
  const missingByKind: Record<string, number> = {};
  const problems: string[] = [];
  const accounted = new Set<string>();
  // Deal updates are coalesced per deal and sent under the newest row's key: what must hold is that
  // the deal ends with the values of the newest sent row for each field.
  const finalDeal = new Map<string, { token: string; dealId: string; properties: Record<string, string> }>();
  for (const row of rows.rows) {
    const token = tokenOf.get(row.workspace_id)!;
    const id = `${token}|${row.idempotency_key}`;
    accounted.add(id);
    if (row.kind === 'deal_update') {
      if (row.status !== 'sent') continue;
      expected += 1;
      const deal = finalDeal.get(`${token}|${row.deal_id}`) ?? { token, dealId: row.deal_id, properties: {} };
      Object.assign(deal.properties, hubspotDealProperties({ key: row.idempotency_key, dealId: row.deal_id, fields: row.payload.fields ?? {} }, PROBABILITY_PROPERTY));
      finalDeal.set(`${token}|${row.deal_id}`, deal);
      continue;
    }
    const landed = (recordCount.get(id) ?? 0) > 0;
    if (row.status === 'sent') {
      expected += 1;
      if (landed) received += 1;
      else {
        missingByKind[row.kind] = (missingByKind[row.kind] ?? 0) + 1;
        problems.push(`${row.kind} ${row.idempotency_key} sent but not in the CRM`);
      }
    } else if (row.status === 'dead') {
      if (landed) deadLanded += 1;
      else deadMissing += 1;
    }
  }
  const dealRows = rows.rows.filter((r) => r.kind === 'deal_update' && r.status === 'sent');
  for (const deal of finalDeal.values()) {
    const state = crm.dealState(deal.token, deal.dealId) ?? {};
    const wrong = Object.entries(deal.properties).filter(([k, v]) => state[k] !== v);
    const rowsOfDeal = dealRows.filter((r) => r.deal_id === deal.dealId && tokenOf.get(r.workspace_id) === deal.token).length;
    if (wrong.length === 0) received += rowsOfDeal;
    else {
      missingByKind.deal_update = (missingByKind.deal_update ?? 0) + rowsOfDeal;
      problems.push(`deal ${deal.dealId}: ${wrong.map(([k, v]) => `${k} is ${JSON.stringify(state[k])}, last sent ${JSON.stringify(v)}`).join('; ')}`);
    }
  }
  const duplicateKeys = [...recordCount.entries()].filter(([, n]) => n > 1);
  for (const [key, n] of duplicateKeys) problems.push(`${crm.records.find((r) => `${r.token}|${r.key}` === key)?.kind} ${key.split('|')[1]} created ${n} times`);
  const unexpected = [...recordCount.keys()].filter((k) => !accounted.has(k)).length;
  const resends = [...dealApplied.values()].reduce((sum, n) => sum + n - 1, 0);

  return {
    attempts: traffic.attempts.length,
    acknowledged: acked.length,
    lostAcknowledged: acked.filter((a) => !storedIds.has(a.requestId)).length,
    abandoned: traffic.abandoned,
    deliveriesStored: stored.rows.length,
    outbox,
    effectsExpected: expected,
    effectsReceived: received,
    effectsMissing: expected - received,
    missingByKind,
    duplicateEffects: duplicateKeys.length,
    unexpectedRecords: unexpected,
    deadLanded,
    deadMissing,
    idempotentResends: resends,
    crmRequests: crm.requests,
    crmMaxInWindow: crm.maxInWindow(),
    crmRealRateLimited: crm.realRateLimited,
    crmInjected: { ...crm.injected },
    problems: problems.slice(0, 20),
  };
}
