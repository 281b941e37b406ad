import nock from 'nock';

/**
 * A HubSpot portal behind nock, answering the read endpoints the sync uses in HubSpot's documented
 * shapes (CRM search, v4 association batch reads, object batch reads). Replies are computed from
 * the request bodies, so paging, filters and sorting behave like the real API.
 */

export const hubspotApi = 'https://api.hubapi.com';

export interface FakeDeal {
  id: string;
  name: string;
  stage: string;
  pipeline: string;
  amount: string | null;
  closedate: string | null;
  owner: string | null;
  createdate: string;
  modified: string;
  stageEntered: string;
  closed: boolean;
  contacts: Array<{ id: string; label?: string }>;
  mergedIds?: string[];
}

export interface FakeActivity {
  type: 'emails' | 'calls' | 'meetings' | 'tasks';
  id: string;
  dealIds: string[];
  properties: Record<string, string>;
}

export interface FakeHubspot {
  deals: Map<string, FakeDeal>;
  activities: FakeActivity[];
  /** Every search body received, in order. */
  searches: any[];
  /** Answers the next `n` deal searches with this status instead (e.g. 429 or 500). */
  failSearches(n: number, status: number, body?: object, headers?: Record<string, string>): void;
  /** Requests that were not reads (a sync must never write). */
  writes: string[];
  stop(): void;
}

export function makeDeal(id: number, overrides: Partial<FakeDeal> = {}): FakeDeal {
  return {
    id: String(id),
    name: `Deal ${id}`,
    stage: 'appointmentscheduled',
    pipeline: 'default',
    amount: '12000',
    closedate: '2027-03-31T00:00:00Z',
    owner: '77',
    createdate: '2026-01-05T09:00:00.000Z',
    modified: '2026-01-20T09:00:00.000Z',
    stageEntered: '2026-01-10T09:00:00.000Z',
    closed: false,
    contacts: [],
    ...overrides,
  };
}

const stages = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'];

function dealJson(deal: FakeDeal) {
  return {
    id: deal.id,
    properties: {
      dealname: deal.name,
      dealstage: deal.stage,
      pipeline: deal.pipeline,
      amount: deal.amount,
      closedate: deal.closedate,
      hubspot_owner_id: deal.owner,
      hs_is_closed: String(deal.closed),
      hs_is_closed_won: String(deal.stage === 'closedwon'),
      hs_deal_stage_probability: '0.2',
      createdate: deal.createdate,
      hs_lastmodifieddate: deal.modified,
      hs_object_id: deal.id,
      [`hs_v2_date_entered_${deal.stage}`]: deal.stageEntered,
      ...(deal.mergedIds ? { hs_merged_object_ids: deal.mergedIds.join(';') } : {}),
    },
    createdAt: deal.createdate,
    updatedAt: deal.modified,
    archived: false,
  };
}

function filterValue(body: any, property: string): any {
  return body.filterGroups?.[0]?.filters?.find((f: any) => f.propertyName === property);
}

function search(fake: FakeHubspot, body: any) {
  let deals = [...fake.deals.values()];
  const idFilter = filterValue(body, 'hs_object_id');
  if (idFilter) deals = deals.filter((d) => Number(d.id) > Number(idFilter.value));
  const closedFilter = filterValue(body, 'hs_is_closed');
  if (closedFilter) deals = deals.filter((d) => String(d.closed) === closedFilter.value);
  const pipelineFilter = filterValue(body, 'pipeline');
  if (pipelineFilter) deals = deals.filter((d) => pipelineFilter.values.includes(d.pipeline));
  const modifiedFilter = filterValue(body, 'hs_lastmodifieddate');
  if (modifiedFilter) deals = deals.filter((d) => Date.parse(d.modified) >= Number(modifiedFilter.value));
  const sort = body.sorts?.[0]?.propertyName;
  deals.sort((a, b) => (sort === 'hs_lastmodifieddate' ? Date.parse(a.modified) - Date.parse(b.modified) : 0) || Number(a.id) - Number(b.id));
  const start = Number(body.after ?? 0);
  const slice = deals.slice(start, start + body.limit);
  const more = start + body.limit < deals.length;
  return {
    total: deals.length,
    results: slice.map(dealJson),
    ...(more ? { paging: { next: { after: String(start + body.limit), link: '?after=' } } } : {}),
  };
}

function associations(fake: FakeHubspot, toType: string, body: any) {
  const results = body.inputs.map((input: { id: string }) => {
    const to =
      toType === 'contacts'
        ? (fake.deals.get(input.id)?.contacts ?? []).map((c) => ({
            toObjectId: Number(c.id),
            associationTypes: [
              { category: 'HUBSPOT_DEFINED', typeId: 3, label: null },
              ...(c.label ? [{ category: 'USER_DEFINED', typeId: 41, label: c.label }] : []),
            ],
          }))
        : fake.activities
            .filter((a) => a.type === toType && a.dealIds.includes(input.id))
            .map((a) => ({ toObjectId: Number(a.id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 214, label: null }] }));
    return { from: { id: input.id }, to };
  });
  return { status: 'COMPLETE', results: results.filter((r: any) => r.to.length > 0), startedAt: '2026-03-01T00:00:00Z', completedAt: '2026-03-01T00:00:01Z' };
}

function batchRead(fake: FakeHubspot, type: string, body: any): [number, object] {
  const ids: string[] = body.inputs.map((i: { id: string }) => i.id);
  if (type === 'deals') {
    const results: object[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const deal = fake.deals.get(id) ?? [...fake.deals.values()].find((d) => d.mergedIds?.includes(id));
      if (deal) results.push(dealJson(deal));
      else missing.push(id);
    }
    const errors = missing.length > 0 ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some DEAL objects', context: { ids: missing } }] : [];
    return [errors.length > 0 ? 207 : 200, { status: 'COMPLETE', results, ...(errors.length > 0 ? { errors, numErrors: errors.length } : {}) }];
  }
  const results = fake.activities
    .filter((a) => a.type === type && ids.includes(a.id))
    .map((a) => ({ id: a.id, properties: a.properties, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', archived: false }));
  return [200, { status: 'COMPLETE', results }];
}

/** nock hands reply functions the request (fetch) or its path (http), depending on the transport. */
function urlOf(req: unknown): string {
  return typeof req === 'string' ? req : String((req as { url?: unknown; path?: unknown }).url ?? (req as { path?: unknown }).path);
}

export function fakeHubspot(): FakeHubspot {
  const failures: Array<{ status: number; body: object; headers: Record<string, string> }> = [];
  const fake: FakeHubspot = {
    deals: new Map(),
    activities: [],
    searches: [],
    writes: [],
    failSearches(n, status, body = { status: 'error', message: 'Internal error', category: 'INTERNAL_ERROR' }, headers = {}) {
      for (let i = 0; i < n; i += 1) failures.push({ status, body, headers });
    },
    stop: () => nock.cleanAll(),
  };
  let lastBody: any;
  const capture = (body: any) => {
    lastBody = body;
    return true;
  };
  const scope = nock(hubspotApi).persist();
  scope.get('/crm/v3/pipelines/deals').reply(200, {
    results: [
      {
        id: 'default',
        label: 'Sales Pipeline',
        displayOrder: 0,
        archived: false,
        stages: stages.map((id, i) => ({ id, label: id, displayOrder: i, archived: false, metadata: { isClosed: String(id.startsWith('closed')), probability: id === 'closedwon' ? '1.0' : '0.2' } })),
      },
    ],
  });
  scope.post('/crm/v3/objects/deals/search', capture).reply(() => {
    fake.searches.push(lastBody);
    const failure = failures.shift();
    if (failure) return [failure.status, failure.body, failure.headers];
    return [200, search(fake, lastBody)];
  });
  scope.post(/\/crm\/v4\/associations\/deals\/(\w+)\/batch\/read/, capture).reply((req: unknown) => {
    const toType = /deals\/(\w+)\/batch/.exec(urlOf(req))![1]!;
    return [200, associations(fake, toType, lastBody)];
  });
  scope.post(/\/crm\/v3\/objects\/(\w+)\/batch\/read/, capture).reply((req: unknown) => {
    const type = /objects\/(\w+)\/batch/.exec(urlOf(req))![1]!;
    return batchRead(fake, type, lastBody);
  });
  // Anything that would change the CRM is recorded and refused, so a test can prove none was sent.
  scope.post(/\/batch\/(create|update|upsert)/).reply((req: unknown) => {
    fake.writes.push(urlOf(req));
    return [500, { message: 'writes are not expected here' }];
  });
  scope.patch(/.*/).reply((req: unknown) => {
    fake.writes.push(urlOf(req));
    return [500, { message: 'writes are not expected here' }];
  });
  return fake;
}
