import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubspotStats {
  /** Every request that reached the server, answered or refused. */
  requests: number;
  /** Requests answered 429 (the rolling window was full). */
  rateLimited: number;
  dealBatchCalls: number;
  dealRecords: number;
  taskRecords: number;
  noteRecords: number;
  /** Arrival time (performance.now()) of every accepted call. */
  acceptedAt: number[];
  /** Arrival time of each deal record update, by deal id (the last one). */
  dealUpdatedAt: Map<string, number>;
  /** Requests by method and path (query string and ids left out), 429s included. */
  byRoute: Record<string, number>;
  /** Arrival times of every record written, with its deal id. */
  writes: { dealId: string; at: number; kind: 'deal' | 'task' | 'note' }[];
}

export interface FakeHubspot {
  url: string;
  stats: FakeHubspotStats;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for HubSpot's CRM API: batch deal updates, task and note batch creates, task
 * search, deal reads, and — for the import — the pipeline list, the open-deal search (a portal of
 * `openDeals` computed deals) and deal→contact association reads. It enforces HubSpot's burst limit the way HubSpot does — a rolling window of
 * `perWindow` requests per `windowMs` — and answers beyond it with 429 and the
 * TEN_SECONDLY_ROLLING policy body, so the client's limiter is tested against a strict server.
 */
export async function startFakeHubspot(options: { perWindow?: number; windowMs?: number; latencyMs?: number; openDeals?: number } = {}): Promise<FakeHubspot> {
  const perWindow = options.perWindow ?? 100;
  const windowMs = options.windowMs ?? 10_000;
  const latencyMs = options.latencyMs ?? 0;
  const fresh = (): FakeHubspotStats => ({ requests: 0, rateLimited: 0, dealBatchCalls: 0, dealRecords: 0, taskRecords: 0, noteRecords: 0, acceptedAt: [], dealUpdatedAt: new Map(), byRoute: {}, writes: [] });
  const stats = fresh();
  let recent: number[] = [];
  let nextId = 1;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const payload = JSON.stringify(body);
    const reply = () => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
      res.end(payload);
    };
    if (latencyMs > 0) setTimeout(reply, latencyMs);
    else reply();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      stats.requests += 1;
      const route = `${req.method} ${(req.url ?? '').split('?')[0]!.replace(/\/\d+(?=\/|$)/g, '/{id}')}`;
      stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
      recent = recent.filter((t) => t > now - windowMs);
      if (recent.length >= perWindow) {
        stats.rateLimited += 1;
        send(res, 429, {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: 'bench',
          policyName: 'TEN_SECONDLY_ROLLING',
        });
        return;
      }
      recent.push(now);
      stats.acceptedAt.push(now);
      const remaining = String(perWindow - recent.length);
      const limitHeaders = { 'x-hubspot-ratelimit-max': String(perWindow), 'x-hubspot-ratelimit-remaining': remaining, 'x-hubspot-ratelimit-interval-milliseconds': String(windowMs) };
      let body: any;
      try {
        body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        send(res, 400, { status: 'error', message: 'Invalid JSON', category: 'VALIDATION_ERROR' });
        return;
      }
      const inputs: any[] = Array.isArray(body?.inputs) ? body.inputs : [];
      const path = (req.url ?? '').split('?')[0];
      const at = new Date().toISOString();
      if (req.method === 'POST' && path === '/crm/v3/objects/deals/batch/update') {
        stats.dealBatchCalls += 1;
        stats.dealRecords += inputs.length;
        for (const input of inputs) {
          stats.dealUpdatedAt.set(String(input.id), now);
          stats.writes.push({ dealId: String(input.id), at: now, kind: 'deal' });
        }
        send(res, 200, {
          status: 'COMPLETE',
          results: inputs.map((i) => ({ id: String(i.id), properties: i.properties ?? {}, createdAt: at, updatedAt: at, archived: false })),
          startedAt: at,
          completedAt: at,
        }, limitHeaders);
        return;
      }
      const create = /^\/crm\/v3\/objects\/(tasks|notes)\/batch\/create$/.exec(path ?? '');
      if (req.method === 'POST' && create) {
        const kind = create[1] === 'tasks' ? 'task' : 'note';
        if (kind === 'task') stats.taskRecords += inputs.length;
        else stats.noteRecords += inputs.length;
        for (const input of inputs) {
          const dealId = String(input.associations?.[0]?.to?.id ?? '');
          stats.writes.push({ dealId, at: now, kind });
        }
        send(res, 201, {
          status: 'COMPLETE',
          results: inputs.map((i) => ({ id: String(nextId++), objectWriteTraceId: i.objectWriteTraceId, properties: i.properties ?? {}, createdAt: at, updatedAt: at, archived: false })),
          startedAt: at,
          completedAt: at,
        }, limitHeaders);
        return;
      }
      const read = /^\/crm\/v3\/objects\/deals\/(\d+)$/.exec(path ?? '');
      if (req.method === 'GET' && read) {
        send(res, 200, {
          id: read[1],
          properties: { dealname: `Deal ${read[1]}`, dealstage: 'appointmentscheduled', pipeline: 'default', amount: '25000', closedate: '2026-12-31T00:00:00.000Z', hubspot_owner_id: '111' },
          associations: { contacts: { results: [] } },
          createdAt: at,
          updatedAt: at,
          archived: false,
        }, limitHeaders);
        return;
      }
      if (req.method === 'GET' && path === '/crm/v3/pipelines/deals') {
        send(res, 200, { results: [portalPipeline] }, limitHeaders);
        return;
      }
      if (req.method === 'POST' && path === '/crm/v3/objects/deals/search') {
        try {
          send(res, 200, searchOpenDeals(body, options.openDeals ?? 0), limitHeaders);
        } catch (error) {
          send(res, 400, { status: 'error', message: (error as Error).message, category: 'VALIDATION_ERROR' });
        }
        return;
      }
      if (req.method === 'POST' && path === '/crm/v4/associations/deals/contacts/batch/read') {
        send(res, 207, {
          status: 'COMPLETE',
          results: inputs.map((i) => ({ from: { id: String(i.id) }, to: dealContacts(Number(i.id)) })),
          numErrors: 0,
          errors: [],
          startedAt: at,
          completedAt: at,
        }, limitHeaders);
        return;
      }
      if (req.method === 'POST' && path === '/crm/v3/objects/tasks/search') {
        send(res, 200, { total: 0, results: [] }, limitHeaders);
        return;
      }
      send(res, 404, { status: 'error', message: `No route for ${req.method} ${path}`, category: 'OBJECT_NOT_FOUND' });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    reset() {
      Object.assign(stats, fresh());
      recent = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const pipelineStages = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'];

/** HubSpot's default sales pipeline, shaped like GET /crm/v3/pipelines/deals. */
const portalPipeline = {
  id: 'default',
  label: 'Sales Pipeline',
  displayOrder: 0,
  archived: false,
  stages: pipelineStages.map((id, i) => ({
    id,
    label: id,
    displayOrder: i,
    archived: false,
    metadata: { isClosed: String(id.startsWith('closed')), probability: id === 'closedwon' ? '1.0' : id === 'closedlost' ? '0.0' : String((i + 1) / 10) },
  })),
};

const dayMs = 86_400_000;

/**
 * Open deal `n` of the portal (ids 1…count), computed rather than stored so a portal of any size
 * costs no memory: an open stage, an amount, a close date, an owner and the stage-entry date.
 */
function openDeal(n: number, properties: string[]): Record<string, unknown> {
  const stage = pipelineStages[n % 5]!;
  const created = Date.UTC(2026, 0, 1) + (n % 200) * dayMs;
  const entered = created + (n % 30) * dayMs;
  const values: Record<string, string | null> = {
    dealname: `Bench deal ${n}`,
    dealstage: stage,
    pipeline: 'default',
    amount: String(5_000 + (n % 50) * 1_000),
    closedate: new Date(Date.UTC(2027, 0, 1) + (n % 120) * dayMs).toISOString(),
    hubspot_owner_id: String(100 + (n % 25)),
    hs_deal_stage_probability: String(((n % 5) + 1) / 10),
    hs_is_closed: 'false',
    hs_is_closed_won: 'false',
    createdate: new Date(created).toISOString(),
    hs_lastmodifieddate: new Date(entered + dayMs).toISOString(),
    [`hs_v2_date_entered_${stage}`]: new Date(entered).toISOString(),
  };
  const props: Record<string, string | null> = { hs_object_id: String(n) };
  for (const name of properties) props[name] = values[name] ?? null;
  return { id: String(n), properties: props, createdAt: values.createdate, updatedAt: values.hs_lastmodifieddate, archived: false };
}

/** Two contacts per deal, one labelled as the decision maker. */
function dealContacts(n: number): unknown[] {
  return [
    { toObjectId: 1_000_000 + n * 2, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }, { category: 'USER_DEFINED', typeId: 7, label: 'Decision Maker' }] },
    { toObjectId: 1_000_001 + n * 2, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }] },
  ];
}

/**
 * POST /crm/v3/objects/deals/search over the open deals, for the filters the import sends
 * (`hs_object_id GT`, `hs_is_closed EQ`, `pipeline IN`), sorted by id, with `total` counting every
 * match like HubSpot does. Other filters are refused so a changed request shows up as an error.
 */
function searchOpenDeals(body: any, count: number): Record<string, unknown> {
  const filters: Array<{ propertyName?: string; operator?: string; value?: string; values?: string[] }> = body?.filterGroups?.[0]?.filters ?? [];
  let after = 0;
  let empty = false;
  for (const filter of filters) {
    if (filter.propertyName === 'hs_object_id' && filter.operator === 'GT') after = Number(filter.value);
    else if (filter.propertyName === 'hs_is_closed' && filter.operator === 'EQ') empty ||= filter.value !== 'false';
    else if (filter.propertyName === 'pipeline' && filter.operator === 'IN') empty ||= !(filter.values ?? []).includes('default');
    else throw new Error(`fake HubSpot: unsupported search filter ${JSON.stringify(filter)}`);
  }
  const sort = body?.sorts?.[0]?.propertyName;
  if (sort !== undefined && sort !== 'hs_object_id') throw new Error(`fake HubSpot: unsupported sort ${String(sort)}`);
  const limit = Math.min(Number(body?.limit ?? 10), 200);
  const first = Math.max(1, Math.floor(after) + 1);
  const total = empty ? 0 : Math.max(0, count - first + 1);
  const properties: string[] = Array.isArray(body?.properties) ? body.properties : [];
  const results = [];
  for (let n = first; n < first + Math.min(limit, total); n += 1) results.push(openDeal(n, properties));
  const last = results.at(-1) as { id: string } | undefined;
  return { total, results, ...(results.length === limit && total > limit && last ? { paging: { next: { after: String(limit) } } } : {}) };
}
