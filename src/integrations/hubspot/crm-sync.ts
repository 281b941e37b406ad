import type { HubspotConnectionConfig } from '../../crm/connection-config.ts';
import type {
  CrmActivity,
  CrmActivityKind,
  CrmContactRole,
  CrmDealPage,
  CrmDealRecord,
  CrmPipeline,
  ModifiedDealsQuery,
  OpenDealsQuery,
  RateLimitSnapshot,
  RemovedDeal,
  RemovedDealsQuery,
} from '../../crm/types.ts';
import { dealReadProperties, hubspotDealSnapshot } from './crm-deals.ts';
import { arrayField, expectObject, type HubspotHttp, type HubspotRequest, type HubspotResponse } from './crm-http.ts';

/**
 * Reading deals in bulk for the initial import and reconciliation. Open deals are paged by id
 * (`hs_object_id > last id`) rather than with search's `after`, which stops at 10,000 results;
 * every page then reads contacts and activities through v4 association batch reads and object
 * batch reads of 100, so a page costs a bounded number of calls whatever the portal's size.
 */

export const hubspotSyncPageSize = 100;
const batchReadSize = 100;
/** Search refuses `after` beyond 10,000; restart from the last timestamp before reaching it. */
const searchAfterCeiling = 9_900;

export interface HubspotSyncContext {
  http: HubspotHttp;
  config: HubspotConnectionConfig;
  /** Stage ids of every pipeline (for the stage-entry properties), read once per client. */
  pipelines: (beforeCall: (() => Promise<void>) | undefined) => Promise<CrmPipeline[]>;
}

type Call = (request: HubspotRequest) => Promise<HubspotResponse>;

function caller(ctx: HubspotSyncContext, beforeCall: (() => Promise<void>) | undefined, seen: { rateLimit?: RateLimitSnapshot }): Call {
  return async (request) => {
    await beforeCall?.();
    const response = await ctx.http.send(request);
    if (response.rateLimit) seen.rateLimit = response.rateLimit;
    return response;
  };
}

/** `hs_v2_date_entered_<stage>` is current; older portals still fill `hs_date_entered_<stage>`. */
function stageEntryProperties(stageId: string): string[] {
  return [`hs_v2_date_entered_${stageId}`, `hs_date_entered_${stageId}`];
}

async function dealProperties(ctx: HubspotSyncContext, beforeCall: (() => Promise<void>) | undefined): Promise<string[]> {
  const stages = (await ctx.pipelines(beforeCall)).flatMap((pipeline) => pipeline.stages.map((stage) => stage.id));
  return [
    ...dealReadProperties,
    'createdate',
    'hs_lastmodifieddate',
    ...(ctx.config.probabilityProperty ? [ctx.config.probabilityProperty] : []),
    ...[...new Set(stages)].flatMap(stageEntryProperties),
  ];
}

function isoInstant(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** A search hit as a deal record. Probability only when the connection names a rep-set property. */
export function hubspotDealRecord(raw: Record<string, unknown>, probabilityProperty: string | undefined): CrmDealRecord {
  const snapshot = hubspotDealSnapshot({ ...raw, associations: undefined }, probabilityProperty);
  const properties = (raw.properties ?? {}) as Record<string, unknown>;
  const stage = snapshot.stageId;
  const entered = stage === null ? null : (isoInstant(properties[`hs_v2_date_entered_${stage}`]) ?? isoInstant(properties[`hs_date_entered_${stage}`]));
  const probability = probabilityProperty ? snapshot.probability : null;
  return {
    ...snapshot,
    probability,
    stageEnteredAt: entered,
    createdAt: isoInstant(properties.createdate) ?? isoInstant(raw.createdAt),
    modifiedAt: isoInstant(properties.hs_lastmodifieddate) ?? isoInstant(raw.updatedAt),
  };
}

function searchBody(filters: unknown[], sortProperty: string, properties: string[], after?: string): Record<string, unknown> {
  return {
    filterGroups: [{ filters }],
    sorts: [{ propertyName: sortProperty, direction: 'ASCENDING' }],
    properties,
    limit: hubspotSyncPageSize,
    ...(after === undefined ? {} : { after }),
  };
}

export async function listHubspotOpenDeals(ctx: HubspotSyncContext, query: OpenDealsQuery): Promise<CrmDealPage> {
  const seen: { rateLimit?: RateLimitSnapshot } = {};
  const call = caller(ctx, query.beforeCall, seen);
  const properties = await dealProperties(ctx, query.beforeCall);
  const filters: unknown[] = [
    { propertyName: 'hs_object_id', operator: 'GT', value: query.cursor ?? '0' },
    { propertyName: 'hs_is_closed', operator: 'EQ', value: 'false' },
    ...(query.pipelineIds && query.pipelineIds.length > 0 ? [{ propertyName: 'pipeline', operator: 'IN', values: query.pipelineIds }] : []),
  ];
  const response = await call({ method: 'POST', path: '/crm/v3/objects/deals/search', body: searchBody(filters, 'hs_object_id', properties), write: false });
  const body = expectObject(response.body, 'a deal search', false);
  const deals = (arrayField(body, 'results') as Array<Record<string, unknown>>).map((raw) => hubspotDealRecord(raw, ctx.config.probabilityProperty));
  const last = deals.at(-1);
  const full = deals.length >= hubspotSyncPageSize;
  const page = await completePage(call, deals, query.activitiesSince);
  // Each page's search counts only what lies after its cursor: the first one counts everything.
  const total = query.cursor === null && typeof body.total === 'number' ? body.total : undefined;
  return withExtras({ ...page, next: full && last ? last.id : null }, total, seen.rateLimit);
}

interface ModifiedCursor {
  since: string;
  after?: string;
}

export async function listHubspotModifiedDeals(ctx: HubspotSyncContext, query: ModifiedDealsQuery): Promise<CrmDealPage> {
  const seen: { rateLimit?: RateLimitSnapshot } = {};
  const call = caller(ctx, query.beforeCall, seen);
  const properties = await dealProperties(ctx, query.beforeCall);
  const position: ModifiedCursor = query.cursor ? (JSON.parse(query.cursor) as ModifiedCursor) : { since: String(query.since.getTime()) };
  const filters = [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: position.since }];
  const response = await call({
    method: 'POST',
    path: '/crm/v3/objects/deals/search',
    body: searchBody(filters, 'hs_lastmodifieddate', properties, position.after),
    write: false,
  });
  const body = expectObject(response.body, 'a deal search', false);
  const deals = (arrayField(body, 'results') as Array<Record<string, unknown>>).map((raw) => hubspotDealRecord(raw, ctx.config.probabilityProperty));
  const after = (body.paging as { next?: { after?: unknown } } | undefined)?.next?.after;
  let next: ModifiedCursor | null = null;
  if (typeof after === 'string' && deals.length > 0) {
    const lastModified = deals.at(-1)!.modifiedAt;
    // Near search's ceiling: start a fresh search at the last timestamp seen (re-reading a few is harmless).
    next = Number(after) >= searchAfterCeiling && lastModified ? { since: String(Date.parse(lastModified)) } : { since: position.since, after };
  }
  const page = await completePage(call, deals, query.activitiesSince);
  const total = typeof body.total === 'number' ? body.total : undefined;
  return withExtras({ ...page, next: next ? JSON.stringify(next) : null }, total, seen.rateLimit);
}

/**
 * Checks candidates by id with one batch read per 100. A missing id was deleted (archived); an id
 * answered by another record (listed in its `hs_merged_object_ids`) was merged into that record.
 */
export async function listHubspotRemovedDeals(ctx: HubspotSyncContext, query: RemovedDealsQuery): Promise<RemovedDeal[]> {
  const call = caller(ctx, query.beforeCall, {});
  const removed: RemovedDeal[] = [];
  for (const chunk of chunks([...new Set(query.candidates)], batchReadSize)) {
    const response = await call({
      method: 'POST',
      path: '/crm/v3/objects/deals/batch/read',
      body: { inputs: chunk.map((id) => ({ id })), properties: ['hs_merged_object_ids'] },
      write: false,
      acceptStatuses: [207, 404],
    });
    const results = arrayField(expectObject(response.body, 'a deal batch read', false), 'results') as Array<{ id?: unknown; properties?: Record<string, unknown> }>;
    const present = new Set<string>();
    const mergedInto = new Map<string, string>();
    for (const result of results) {
      const id = String(result.id);
      present.add(id);
      const merged = result.properties?.hs_merged_object_ids;
      if (typeof merged === 'string') for (const old of merged.split(';')) if (old.trim()) mergedInto.set(old.trim(), id);
    }
    for (const id of chunk) {
      if (present.has(id)) continue;
      const into = mergedInto.get(id);
      removed.push(into === undefined ? { dealId: id } : { dealId: id, mergedInto: into });
    }
  }
  return removed;
}

/** Contacts (with association labels as roles) and recent activities for a page of deals. */
async function completePage(call: Call, deals: CrmDealRecord[], activitiesSince: Date | null): Promise<Pick<CrmDealPage, 'deals' | 'activities'>> {
  if (deals.length === 0) return { deals, activities: [] };
  const ids = deals.map((deal) => deal.id);
  const contacts = await associations(call, 'contacts', ids);
  for (const deal of deals) deal.contacts = contactRoles(contacts.get(deal.id) ?? []);
  const activities: CrmActivity[] = [];
  if (activitiesSince) {
    for (const kind of activityKinds) activities.push(...(await readActivities(call, kind, ids, activitiesSince)));
  }
  return { deals, activities };
}

interface AssociatedRecord {
  toObjectId: string;
  labels: string[];
}

/** deal id → associated records, from v4 association batch reads (100 deals per call). */
async function associations(call: Call, toObjectType: string, dealIds: string[]): Promise<Map<string, AssociatedRecord[]>> {
  const byDeal = new Map<string, AssociatedRecord[]>();
  for (const chunk of chunks(dealIds, batchReadSize)) {
    const response = await call({
      method: 'POST',
      path: `/crm/v4/associations/deals/${toObjectType}/batch/read`,
      body: { inputs: chunk.map((id) => ({ id })) },
      write: false,
      acceptStatuses: [207],
    });
    const results = arrayField(expectObject(response.body, 'an association read', false), 'results') as Array<{ from?: { id?: unknown }; to?: unknown }>;
    for (const result of results) {
      const dealId = String(result.from?.id);
      const to = (Array.isArray(result.to) ? result.to : []) as Array<{ toObjectId?: unknown; associationTypes?: Array<{ label?: unknown }> }>;
      const list = byDeal.get(dealId) ?? [];
      for (const entry of to) {
        if (entry.toObjectId === undefined || entry.toObjectId === null) continue;
        const labels = (entry.associationTypes ?? []).flatMap((type) => (typeof type.label === 'string' && type.label.length > 0 ? [type.label] : []));
        list.push({ toObjectId: String(entry.toObjectId), labels });
      }
      byDeal.set(dealId, list);
    }
  }
  return byDeal;
}

function contactRoles(records: AssociatedRecord[]): CrmContactRole[] {
  const byContact = new Map<string, Set<string>>();
  for (const record of records) {
    const roles = byContact.get(record.toObjectId) ?? new Set<string>();
    for (const label of record.labels) roles.add(label);
    byContact.set(record.toObjectId, roles);
  }
  return [...byContact].map(([contactId, roles]) => ({ contactId, roles: [...roles] }));
}

interface ActivityKindSpec {
  kind: CrmActivityKind;
  objectType: string;
  properties: string[];
  read(properties: Record<string, unknown>): Omit<CrmActivity, 'id' | 'dealId' | 'kind'> | null;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

const activityKinds: ActivityKindSpec[] = [
  {
    kind: 'email',
    objectType: 'emails',
    properties: ['hs_timestamp', 'hs_email_direction', 'hs_email_subject'],
    read: (p) => {
      const at = isoInstant(p.hs_timestamp);
      if (!at) return null;
      const subject = text(p.hs_email_subject);
      return { occurredAt: at, direction: p.hs_email_direction === 'INCOMING_EMAIL' ? 'inbound' : 'outbound', completed: true, ...(subject ? { subject } : {}) };
    },
  },
  {
    kind: 'call',
    objectType: 'calls',
    properties: ['hs_timestamp', 'hs_call_duration', 'hs_call_direction', 'hs_call_status', 'hs_call_title'],
    read: (p) => {
      const at = isoInstant(p.hs_timestamp);
      const ms = Number(text(p.hs_call_duration) ?? Number.NaN);
      if (!at || !Number.isFinite(ms) || ms < 0) return null;
      const direction = p.hs_call_direction === 'INBOUND' ? 'inbound' : p.hs_call_direction === 'OUTBOUND' ? 'outbound' : undefined;
      const status = text(p.hs_call_status);
      return { occurredAt: at, durationMinutes: Math.round((ms / 60_000) * 100) / 100, completed: status === undefined || status === 'COMPLETED', ...(direction ? { direction } : {}) };
    },
  },
  {
    kind: 'meeting',
    objectType: 'meetings',
    properties: ['hs_timestamp', 'hs_meeting_title', 'hs_meeting_start_time', 'hs_meeting_end_time', 'hs_meeting_outcome'],
    read: (p) => {
      const start = isoInstant(p.hs_meeting_start_time) ?? isoInstant(p.hs_timestamp);
      if (!start) return null;
      const end = isoInstant(p.hs_meeting_end_time);
      const minutes = end ? Math.round((Date.parse(end) - Date.parse(start)) / 60_000) : undefined;
      const subject = text(p.hs_meeting_title);
      const outcome = text(p.hs_meeting_outcome);
      return {
        occurredAt: start,
        completed: outcome !== 'CANCELED' && outcome !== 'NO_SHOW',
        ...(minutes !== undefined && minutes >= 0 ? { durationMinutes: minutes } : {}),
        ...(subject ? { subject } : {}),
      };
    },
  },
  {
    kind: 'task',
    objectType: 'tasks',
    properties: ['hs_timestamp', 'hs_task_subject', 'hs_task_status', 'hs_task_completion_date'],
    read: (p) => {
      const at = isoInstant(p.hs_task_completion_date) ?? isoInstant(p.hs_timestamp);
      if (!at) return null;
      const subject = text(p.hs_task_subject);
      return { occurredAt: at, completed: p.hs_task_status === 'COMPLETED', ...(subject ? { subject } : {}) };
    },
  },
];

/**
 * A kind's activities on these deals since a moment: association ids first, then the records in
 * batch reads of 100. Batch reads cannot filter by date, so older records are dropped here.
 */
async function readActivities(call: Call, spec: ActivityKindSpec, dealIds: string[], since: Date): Promise<CrmActivity[]> {
  const linked = await associations(call, spec.objectType, dealIds);
  const dealsOf = new Map<string, string[]>();
  for (const [dealId, records] of linked) {
    for (const record of records) dealsOf.set(record.toObjectId, [...(dealsOf.get(record.toObjectId) ?? []), dealId]);
  }
  const activities: CrmActivity[] = [];
  for (const chunk of chunks([...dealsOf.keys()], batchReadSize)) {
    const response = await call({
      method: 'POST',
      path: `/crm/v3/objects/${spec.objectType}/batch/read`,
      body: { inputs: chunk.map((id) => ({ id })), properties: spec.properties },
      write: false,
      acceptStatuses: [207],
    });
    const results = arrayField(expectObject(response.body, `a ${spec.objectType} batch read`, false), 'results') as Array<{ id?: unknown; properties?: Record<string, unknown> }>;
    for (const result of results) {
      const read = spec.read(result.properties ?? {});
      if (!read || Date.parse(read.occurredAt) < since.getTime()) continue;
      const id = String(result.id);
      for (const dealId of dealsOf.get(id) ?? []) activities.push({ kind: spec.kind, id, dealId, ...read });
    }
  }
  return activities;
}

function withExtras(page: CrmDealPage, total: number | undefined, rateLimit: RateLimitSnapshot | undefined): CrmDealPage {
  return { ...page, ...(total === undefined ? {} : { total }), ...(rateLimit === undefined ? {} : { rateLimit }) };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
