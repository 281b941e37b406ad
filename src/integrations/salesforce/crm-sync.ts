import { isCrmError } from '../../crm/errors.ts';
import type {
  CrmActivity,
  CrmDealPage,
  CrmDealRecord,
  ModifiedDealsQuery,
  OpenDealsQuery,
  RateLimitSnapshot,
  RemovedDeal,
  RemovedDealsQuery,
} from '../../crm/types.ts';
import type { SalesforceApi, SalesforceRequest, SalesforceResponse } from './crm-api.ts';
import { assertSalesforceId } from './crm-ids.ts';
import { salesforceDealSnapshot } from './crm-reads.ts';
import { asQueryPage, queryPath } from './crm-soql.ts';

/**
 * Reading opportunities in bulk. One SOQL query carries each opportunity's contact roles, its
 * recent stage history (when it entered its stage) and, when asked, its tasks and events, so a
 * page is one call. Pages follow the query locator (nextRecordsUrl); the cursor also keeps the
 * last id, because a locator expires after about 15 idle minutes: a resumed import that finds
 * its locator gone starts a fresh query after that id instead of from the top.
 */

interface Cursor {
  /** nextRecordsUrl of the running query. */
  locator: string | null;
  /** Last opportunity id handed out (open deals are ordered by Id). */
  lastId: string | null;
}

type Call = (request: SalesforceRequest) => Promise<SalesforceResponse>;

function caller(api: SalesforceApi, beforeCall: (() => Promise<void>) | undefined, seen: { rateLimit?: RateLimitSnapshot }): Call {
  return async (request) => {
    await beforeCall?.();
    const response = await api.send(request);
    if (response.rateLimit) seen.rateLimit = response.rateLimit;
    return response;
  };
}

/** SOQL datetime literals are unquoted ISO instants. */
function soqlInstant(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function selectOpportunities(activitiesSince: Date | null): string {
  const activities = activitiesSince
    ? `, (SELECT Id, Subject, TaskSubtype, Status, IsClosed, CallDurationInSeconds, CallType, CompletedDateTime, CreatedDate FROM Tasks WHERE CreatedDate >= ${soqlInstant(activitiesSince)})` +
      `, (SELECT Id, Subject, StartDateTime, DurationInMinutes FROM Events WHERE StartDateTime >= ${soqlInstant(activitiesSince)})`
    : '';
  return (
    'SELECT Id, Name, StageName, Amount, CloseDate, OwnerId, Probability, IsClosed, IsWon, CreatedDate, SystemModstamp, ' +
    '(SELECT ContactId, Role, IsPrimary FROM OpportunityContactRoles), ' +
    '(SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate DESC LIMIT 20)' +
    activities +
    ' FROM Opportunity'
  );
}

export function openDealsSoql(activitiesSince: Date | null, afterId: string | null): string {
  const after = afterId === null ? '' : ` AND Id > '${assertSalesforceId(afterId)}'`;
  return `${selectOpportunities(activitiesSince)} WHERE IsClosed = false${after} ORDER BY Id`;
}

export function modifiedDealsSoql(activitiesSince: Date | null, since: Date): string {
  return `${selectOpportunities(activitiesSince)} WHERE SystemModstamp >= ${soqlInstant(since)} ORDER BY SystemModstamp, Id`;
}

interface Children<T> {
  records?: T[];
}

interface HistoryRow {
  StageName?: string | null;
  CreatedDate?: string | null;
}

interface TaskRow {
  Id: string;
  Subject?: string | null;
  TaskSubtype?: string | null;
  Status?: string | null;
  IsClosed?: boolean | null;
  CallDurationInSeconds?: number | null;
  CallType?: string | null;
  CompletedDateTime?: string | null;
  CreatedDate?: string | null;
}

interface EventRow {
  Id: string;
  Subject?: string | null;
  StartDateTime?: string | null;
  DurationInMinutes?: number | null;
}

type OpportunityRow = Parameters<typeof salesforceDealSnapshot>[0] & {
  CreatedDate?: string | null;
  SystemModstamp?: string | null;
  OpportunityHistories?: Children<HistoryRow> | null;
  Tasks?: Children<TaskRow> | null;
  Events?: Children<EventRow> | null;
};

function instant(value: string | null | undefined): string | null {
  if (!value) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/**
 * History rows newest first: the deal entered its current stage at the oldest row of the newest
 * unbroken run of rows in that stage (rows also record amount or date edits within a stage).
 */
export function stageEnteredAt(currentStage: string | null, histories: HistoryRow[]): string | null {
  if (currentStage === null) return null;
  let entered: string | null = null;
  for (const row of histories) {
    if (row.StageName !== currentStage) break;
    entered = instant(row.CreatedDate) ?? entered;
  }
  return entered;
}

export function salesforceDealRecord(row: OpportunityRow): CrmDealRecord {
  const snapshot = salesforceDealSnapshot(row);
  return {
    ...snapshot,
    stageEnteredAt: stageEnteredAt(snapshot.stageId, row.OpportunityHistories?.records ?? []),
    createdAt: instant(row.CreatedDate),
    modifiedAt: instant(row.SystemModstamp),
  };
}

export function salesforceActivities(row: OpportunityRow): CrmActivity[] {
  const activities: CrmActivity[] = [];
  for (const task of row.Tasks?.records ?? []) {
    const at = instant(task.CompletedDateTime) ?? instant(task.CreatedDate);
    if (!at) continue;
    const base = { id: task.Id, dealId: row.Id, occurredAt: at };
    if (task.TaskSubtype === 'Email') {
      // Logged email is sent mail (Send Email, Outlook/Gmail logging); received mail is not a task.
      activities.push({ ...base, kind: 'email', direction: 'outbound', completed: true });
    } else if (task.TaskSubtype === 'Call') {
      if (typeof task.CallDurationInSeconds !== 'number' || task.CallDurationInSeconds < 0) continue;
      const direction = task.CallType === 'Inbound' ? 'inbound' : task.CallType === 'Outbound' ? 'outbound' : undefined;
      activities.push({ ...base, kind: 'call', durationMinutes: Math.round((task.CallDurationInSeconds / 60) * 100) / 100, completed: true, ...(direction ? { direction } : {}) });
    } else {
      const completed = task.Status === 'Completed' || task.IsClosed === true;
      activities.push({ ...base, kind: 'task', completed, ...(task.Subject ? { subject: task.Subject } : {}) });
    }
  }
  for (const event of row.Events?.records ?? []) {
    const at = instant(event.StartDateTime);
    if (!at) continue;
    activities.push({
      kind: 'meeting',
      id: event.Id,
      dealId: row.Id,
      occurredAt: at,
      completed: true,
      ...(typeof event.DurationInMinutes === 'number' && event.DurationInMinutes >= 0 ? { durationMinutes: event.DurationInMinutes } : {}),
      ...(event.Subject ? { subject: event.Subject } : {}),
    });
  }
  return activities;
}

async function runPage(call: Call, cursor: Cursor, freshQuery: (afterId: string | null) => string): Promise<{ body: unknown }> {
  if (cursor.locator) {
    try {
      return await call({ method: 'GET', path: cursor.locator, write: false });
    } catch (error) {
      // An expired locator is INVALID_QUERY_LOCATOR (400); anything else is a real failure.
      if (!isCrmError(error) || error.code !== 'INVALID_QUERY_LOCATOR') throw error;
    }
  }
  return call({ method: 'GET', path: queryPath(freshQuery(cursor.lastId)), write: false });
}

function toPage(body: unknown, rateLimit: RateLimitSnapshot | undefined, ordered: boolean, fromStart: boolean): CrmDealPage {
  const result = asQueryPage<OpportunityRow>(body);
  const deals = result.records.map(salesforceDealRecord);
  const activities = result.records.flatMap(salesforceActivities);
  const next: Cursor | null = result.done ? null : { locator: result.nextRecordsUrl ?? null, lastId: ordered ? (deals.at(-1)?.id ?? null) : null };
  const totalSize = (body as { totalSize?: unknown } | undefined)?.totalSize;
  return {
    deals,
    activities,
    next: next ? JSON.stringify(next) : null,
    ...(fromStart && typeof totalSize === 'number' ? { total: totalSize } : {}),
    ...(rateLimit === undefined ? {} : { rateLimit }),
  };
}

function parseCursor(cursor: string | null): Cursor {
  return cursor ? (JSON.parse(cursor) as Cursor) : { locator: null, lastId: null };
}

export async function listSalesforceOpenDeals(api: SalesforceApi, query: OpenDealsQuery): Promise<CrmDealPage> {
  const seen: { rateLimit?: RateLimitSnapshot } = {};
  const cursor = parseCursor(query.cursor);
  const response = await runPage(caller(api, query.beforeCall, seen), cursor, (afterId) => openDealsSoql(query.activitiesSince, afterId));
  return toPage(response.body, seen.rateLimit, true, query.cursor === null);
}

export async function listSalesforceModifiedDeals(api: SalesforceApi, query: ModifiedDealsQuery): Promise<CrmDealPage> {
  const seen: { rateLimit?: RateLimitSnapshot } = {};
  const cursor = parseCursor(query.cursor);
  // Ordered by SystemModstamp, so an expired locator restarts at `since` (re-reading is harmless).
  const response = await runPage(caller(api, query.beforeCall, seen), { locator: cursor.locator, lastId: null }, () => modifiedDealsSoql(query.activitiesSince, query.since));
  return toPage(response.body, seen.rateLimit, false, query.cursor === null);
}

/** The org keeps deletions for 15 days and the call accepts at most 30 days back. */
const deletedWindowMs = 15 * 24 * 60 * 60_000;

/**
 * Deleted opportunities since a moment, from the replication API (`sobjects/Opportunity/deleted`).
 * Opportunities cannot be merged in Salesforce, so nothing here is a merge.
 */
export async function listSalesforceRemovedDeals(api: SalesforceApi, query: RemovedDealsQuery, now: Date): Promise<RemovedDeal[]> {
  const start = new Date(Math.max(query.since.getTime(), now.getTime() - deletedWindowMs));
  const params = new URLSearchParams({ start: soqlInstant(start), end: soqlInstant(now) });
  await query.beforeCall?.();
  const response = await api.send({ method: 'GET', path: `/sobjects/Opportunity/deleted/?${params.toString()}`, write: false });
  const records = ((response.body as { deletedRecords?: Array<{ id?: unknown }> } | undefined)?.deletedRecords ?? []);
  return records.flatMap((record) => (typeof record.id === 'string' ? [{ dealId: record.id }] : []));
}
