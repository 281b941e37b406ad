import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { markerKeysIn } from '../../../src/crm/task-marker.ts';

/** What the fake CRM can do to a call instead of answering it normally. */
export type CrmFault = 'rate_limited' | 'server_error' | 'slow' | 'reset' | 'applied_lost';
export const crmFaults: readonly CrmFault[] = ['rate_limited', 'server_error', 'slow', 'reset', 'applied_lost'];

export interface FaultSettings {
  /** Share of calls (0..1) that get one of `kinds`. */
  rate: number;
  /**
   * `random` (the default) draws each call's fate; `steady` spoils the first call and then every
   * (1 / rate)th, cycling through `kinds`, so a short run with few calls still meets every fault.
   */
  pattern?: 'random' | 'steady';
  kinds: readonly CrmFault[];
  /** How long a `slow` answer takes: past the client's timeout. */
  slowMs: number;
}

export interface CreatedRecord {
  id: string;
  kind: 'task' | 'note';
  dealId: string;
  key: string | undefined;
  token: string;
}

export interface FakeCrm {
  url: string;
  /** Registers a private-app token (one per workspace); calls with other tokens get 401. */
  addAccount(token: string): void;
  setFaults(settings: FaultSettings | undefined): void;
  records: CreatedRecord[];
  /** Every deal update applied, in order, with its idempotency key and whether it changed anything. */
  dealWrites: { token: string; dealId: string; key: string; changed: boolean; at: number }[];
  /** A deal's properties as the CRM holds them now. */
  dealState(token: string, dealId: string): Record<string, string> | undefined;
  /** Arrival time of every request, per token (what the rate limit is judged on). */
  arrivals: Map<string, number[]>;
  /** 429s the fake gave because the window was really full (not injected). */
  realRateLimited: number;
  injected: Record<CrmFault, number>;
  requests: number;
  /** The largest number of requests of one token seen in any `windowMs`. */
  maxInWindow(): number;
  /** Calls `fn` right after the next write is applied, before its answer leaves (which then waits a moment). */
  onNextWrite(fn: () => void): void;
  close(): Promise<void>;
}

/**
 * A local HubSpot CRM API (the endpoints Momentum calls) with memory: deals, tasks, notes and a task
 * search that finds the `[momentum:<key>]` marker. It enforces HubSpot's rolling burst limit per
 * token and, when told, spoils a share of calls: 429 with Retry-After, 5xx, answers slower than the
 * client's timeout (applied anyway), dropped connections, and writes applied whose answer is lost.
 */
export async function startFakeCrm(options: { perWindow: number; windowMs: number; random?: () => number }): Promise<FakeCrm> {
  const random = options.random ?? Math.random;
  const tokens = new Set<string>();
  const deals = new Map<string, Record<string, string>>();
  let faults: FaultSettings | undefined;
  let nextId = 1_000;
  const sockets = new Set<Socket>();
  let nextWriteHook: (() => void) | undefined;
  let faultableCalls = 0;
  let steadyFaults = 0;
  const pickFault = (settings: FaultSettings): CrmFault | undefined => {
    if (settings.pattern !== 'steady') {
      return random() < settings.rate ? settings.kinds[Math.floor(random() * settings.kinds.length)] : undefined;
    }
    const every = Math.max(1, Math.round(1 / settings.rate));
    faultableCalls += 1;
    if ((faultableCalls - 1) % every !== 0) return undefined;
    steadyFaults += 1;
    return settings.kinds[(steadyFaults - 1) % settings.kinds.length];
  };

  const crm: FakeCrm = {
    url: '',
    addAccount: (token) => void tokens.add(token),
    setFaults: (settings) => {
      faults = settings;
    },
    records: [],
    dealWrites: [],
    dealState: (token, dealId) => deals.get(`${token}|${dealId}`),
    arrivals: new Map(),
    realRateLimited: 0,
    injected: { rate_limited: 0, server_error: 0, slow: 0, reset: 0, applied_lost: 0 },
    requests: 0,
    maxInWindow() {
      let max = 0;
      for (const times of crm.arrivals.values()) {
        let start = 0;
        for (let end = 0; end < times.length; end += 1) {
          while (times[end]! - times[start]! >= options.windowMs) start += 1;
          max = Math.max(max, end - start + 1);
        }
      }
      return max;
    },
    onNextWrite: (fn) => {
      nextWriteHook = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
    res.end(payload);
  };

  /** Applies a call's effect; returns the answer to give (unless a fault swallows it). */
  function apply(token: string, method: string, path: string, body: any): { status: number; body: unknown } {
    const at = new Date().toISOString();
    const inputs: any[] = Array.isArray(body?.inputs) ? body.inputs : [];
    if (method === 'POST' && path === '/crm/v3/objects/deals/batch/update') {
      const results = inputs.map((input) => {
        const id = String(input.id);
        const before = deals.get(`${token}|${id}`) ?? {};
        const properties = (input.properties ?? {}) as Record<string, string>;
        const changed = Object.entries(properties).some(([k, v]) => before[k] !== v);
        deals.set(`${token}|${id}`, { ...before, ...properties });
        crm.dealWrites.push({ token, dealId: id, key: String(input.objectWriteTraceId ?? ''), changed, at: Date.now() });
        return { id, objectWriteTraceId: input.objectWriteTraceId, properties: deals.get(`${token}|${id}`), createdAt: at, updatedAt: at, archived: false };
      });
      return { status: 200, body: { status: 'COMPLETE', results, startedAt: at, completedAt: at } };
    }
    const create = /^\/crm\/v3\/objects\/(tasks|notes)\/batch\/create$/.exec(path);
    if (method === 'POST' && create) {
      const kind = create[1] === 'tasks' ? 'task' : 'note';
      const results = inputs.map((input) => {
        const id = String(nextId++);
        const text = String(input.properties?.hs_task_body ?? input.properties?.hs_note_body ?? '');
        crm.records.push({ id, kind, dealId: String(input.associations?.[0]?.to?.id ?? ''), key: markerKeysIn(text)[0], token });
        return { id, objectWriteTraceId: input.objectWriteTraceId, properties: input.properties ?? {}, createdAt: at, updatedAt: at, archived: false };
      });
      return { status: 201, body: { status: 'COMPLETE', results, startedAt: at, completedAt: at } };
    }
    if (method === 'POST' && path === '/crm/v3/objects/tasks/search') {
      const wanted: string[] = (body?.filterGroups ?? []).flatMap((group: any) => (group.filters ?? []).map((f: any) => String(f.value ?? '')));
      const hits = crm.records.filter((r) => r.kind === 'task' && r.token === token && r.key !== undefined && wanted.includes(r.key));
      return { status: 200, body: { total: hits.length, results: hits.map((r) => ({ id: r.id, properties: { hs_task_body: `[momentum:${r.key}]` }, archived: false })) } };
    }
    const read = /^\/crm\/v3\/objects\/deals\/(\d+)$/.exec(path);
    if (method === 'GET' && read) {
      const props = deals.get(`${token}|${read[1]!}`) ?? {};
      return {
        status: 200,
        body: {
          id: read[1],
          properties: { dealname: `Deal ${read[1]}`, dealstage: props.dealstage ?? 'appointmentscheduled', pipeline: 'default', amount: '25000', closedate: '2027-01-31T00:00:00.000Z', hubspot_owner_id: '7301455' },
          associations: { contacts: { results: [] } },
          createdAt: at,
          updatedAt: at,
          archived: false,
        },
      };
    }
    return { status: 404, body: { status: 'error', message: `No route for ${method} ${path}`, category: 'OBJECT_NOT_FOUND' } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      crm.requests += 1;
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!tokens.has(token)) return json(res, 401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' });
      const times = crm.arrivals.get(token) ?? [];
      crm.arrivals.set(token, times);
      times.push(now);
      const inWindow = times.filter((t) => t > now - options.windowMs).length;
      if (inWindow > options.perWindow) {
        crm.realRateLimited += 1;
        return json(res, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
      }
      let body: unknown = {};
      try {
        if (chunks.length > 0) body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return json(res, 400, { status: 'error', message: 'Invalid JSON', category: 'VALIDATION_ERROR' });
      }
      const path = (req.url ?? '').split('?')[0]!;
      const limitHeaders = { 'x-hubspot-ratelimit-max': String(options.perWindow), 'x-hubspot-ratelimit-remaining': String(Math.max(0, options.perWindow - inWindow)), 'x-hubspot-ratelimit-interval-milliseconds': String(options.windowMs) };
      const fault = faults ? pickFault(faults) : undefined;
      if (fault) crm.injected[fault] += 1;
      switch (fault) {
        case 'rate_limited':
          return json(res, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': '1' });
        case 'server_error':
          return json(res, random() < 0.5 ? 500 : 503, { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' });
        case 'reset':
          // The connection drops before anything is done.
          return req.socket.destroy();
        case 'applied_lost':
          apply(token, req.method ?? 'GET', path, body);
          return req.socket.destroy();
        case 'slow': {
          const answer = apply(token, req.method ?? 'GET', path, body);
          setTimeout(() => json(res, answer.status, answer.body, limitHeaders), faults!.slowMs).unref();
          return;
        }
        default: {
          const answer = apply(token, req.method ?? 'GET', path, body);
          const hook = req.method === 'POST' && path.includes('/batch/') ? nextWriteHook : undefined;
          if (hook) {
            nextWriteHook = undefined;
            hook();
            setTimeout(() => json(res, answer.status, answer.body, limitHeaders), 500).unref();
            return;
          }
          return json(res, answer.status, answer.body, limitHeaders);
        }
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  crm.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return crm;
}
