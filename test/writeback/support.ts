import nock from 'nock';
import { expect } from 'vitest';
import type { TestApp } from '../support/app.ts';
import type { FlushDeps } from '../../src/writeback/flush-outbox.ts';
import { crmTargetFor } from '../../src/writeback/crm-target.ts';
import { enqueueWrites } from '../../src/writeback/outbox-store.ts';
import { outboxKey, type PlannedWrite } from '../../src/writeback/plan-actions.ts';

export const hubspotApi = 'https://api.hubapi.com';
export const hubspotToken = 'pat-na1-11111111-2222-3333-4444-555555555555';

/** A workspace with a HubSpot private-app connection, configured through the admin API. */
export async function hubspotWorkspace(t: TestApp, id: string, mode: 'live' | 'shadow' = 'live'): Promise<string> {
  const put = (url: string, payload: object) => t.app.inject({ method: 'PUT', url, headers: t.auth, payload });
  expect((await put(`/api/workspaces/${id}`, { name: id, mode })).statusCode).toBe(201);
  const connection = await put(`/api/workspaces/${id}/connection`, { provider: 'hubspot', auth: { type: 'private_app', accessToken: hubspotToken } });
  expect(connection.statusCode).toBe(200);
  return id;
}

/** What the flush worker is given, with the real CRM target lookup. */
export function flushDeps(t: TestApp, extra: Partial<FlushDeps> = {}): FlushDeps {
  const { db, logger, metrics, secretBox } = t.deps;
  return { db, logger, metrics, crmFor: (ws) => crmTargetFor({ db, secretBox, logger, config: t.config }, ws), ...extra };
}

/** Queues writes for a deal the way the evaluate job does: in a transaction, keyed. */
export async function queueWrites(t: TestApp, workspaceId: string, dealId: string, writes: PlannedWrite[]): Promise<number> {
  return t.db.transaction().execute((tx) => enqueueWrites(tx, { workspaceId, dealId, decisionId: null, writes, shadow: false }));
}

export function stageWrite(role: string, stageId: string): PlannedWrite {
  return { kind: 'deal_update', idempotencyKey: outboxKey(role, 'stage'), payload: { fields: { stage: { pipelineId: 'default', stageId } } } };
}

export function closeDateWrite(role: string, closeDate: string): PlannedWrite {
  return { kind: 'deal_update', idempotencyKey: outboxKey(role, 'close_date'), payload: { fields: { closeDate } } };
}

export function taskWrite(role: string, subject = `Follow up ${role}`): PlannedWrite {
  return {
    kind: 'task',
    idempotencyKey: outboxKey(role, 'task'),
    payload: { subject, body: 'Send a recap and a next step.', dueDate: '2026-03-10T09:00:00.000Z', priority: 'high' },
  };
}

export function noteWrite(role: string): PlannedWrite {
  return { kind: 'note', idempotencyKey: outboxKey(role, 'note'), payload: { body: 'Momentum moved this deal.', timestamp: '2026-03-02T10:00:00.000Z' } };
}

export async function outboxRows(t: TestApp, workspaceId: string) {
  return t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', workspaceId).orderBy('id').execute();
}

/**
 * Captures request bodies as nock matches them. With nock 15 and fetch, the body a reply
 * function receives is not usable, so replies read what the predicate saw. nock 15 also runs the
 * body predicate of every interceptor with the request's method, whatever its path, so a recorder
 * that must hold only its own endpoint's bodies says which bodies are its own (`accept`).
 */
export function recorder(accept: (body: any) => boolean = () => true) {
  const bodies: any[] = [];
  return {
    bodies,
    match: (body: any) => {
      if (!accept(body)) return false;
      bodies.push(body);
      return true;
    },
    last: (): any => bodies.at(-1),
  };
}

/** The body a reply function is answering (nock hands it the request). */
async function inputsOf(request: Request): Promise<any[]> {
  return ((await request.json()) as { inputs: any[] }).inputs;
}

/**
 * HubSpot's answer to a batch create: every input created, results carrying their trace ids. Built
 * from the request being answered, since calls in flight together may answer in any order.
 */
export function createdAll(idPrefix: string) {
  return async (request: Request) => ({
    status: 'COMPLETE',
    results: (await inputsOf(request)).map((input: any) => ({
      id: `${idPrefix}-${input.objectWriteTraceId}`,
      objectWriteTraceId: input.objectWriteTraceId,
      properties: input.properties,
      createdAt: '2026-03-02T10:00:00.000Z',
      updatedAt: '2026-03-02T10:00:00.000Z',
      archived: false,
    })),
    startedAt: '2026-03-02T10:00:00.000Z',
    completedAt: '2026-03-02T10:00:00.100Z',
  });
}

/** HubSpot's answer to a deal batch update: every input updated. */
export function updatedAll() {
  return async (request: Request) => ({
    status: 'COMPLETE',
    results: (await inputsOf(request)).map((input: any) => ({ id: input.id, properties: input.properties, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-03-02T10:00:00.000Z', archived: false })),
    startedAt: '2026-03-02T10:00:00.000Z',
    completedAt: '2026-03-02T10:00:00.100Z',
  });
}

/** A HubSpot tasks batch update that completes tasks (what `completeTasks` sends). */
export const isTaskCompletion = (body: any): boolean =>
  Array.isArray(body?.inputs) && body.inputs.length > 0 && body.inputs.every((input: any) => typeof input.id === 'string' && input.properties?.hs_task_status === 'COMPLETED');

/** Every request no interceptor matched (nock refuses them; this makes them visible to asserts). */
export function watchUnmatched() {
  const urls: string[] = [];
  const onNoMatch = (req: { url?: string; path?: string }) => urls.push(req.url ?? req.path ?? '?');
  nock.emitter.on('no match', onNoMatch);
  return { urls, stop: () => nock.emitter.off('no match', onNoMatch) };
}

/** A HubSpot `GET /crm/v3/objects/deals/{id}` answer for a deal owned by `ownerId`, in `stage`. */
export function hubspotDealRead(id: string, options: { name?: string; stage?: string; ownerId?: string } = {}) {
  return {
    id,
    properties: { dealname: options.name ?? `Acme ${id}`, dealstage: options.stage ?? 'appointmentscheduled', pipeline: 'default', amount: '48000', hubspot_owner_id: options.ownerId ?? '77' },
    associations: { contacts: { results: [] } },
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-03-01T00:00:00Z',
    archived: false,
  };
}

/** HubSpot's `GET /crm/v3/pipelines/deals` answer for a portal with only the default deal pipeline. */
export const hubspotDefaultPipelines = {
  results: [{
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    archived: false,
    stages: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'].map((id, i) => ({
      id,
      label: id,
      displayOrder: i,
      archived: false,
      metadata: { isClosed: String(id.startsWith('closed')), probability: id === 'closedwon' ? '1.0' : id === 'closedlost' ? '0.0' : '0.2' },
    })),
  }],
};

/** Salesforce's OAuth token endpoint answering every refresh-token exchange for `instanceUrl`. */
export function mockSalesforceLogin(instanceUrl: string) {
  nock('https://login.salesforce.com').persist().post('/services/oauth2/token').reply(200, {
    access_token: '00D5e000000AbCd!sf-access', instance_url: instanceUrl, id: 'https://login.salesforce.com/id/00D5e000000AbCdEAF/0055e000001IntGRAT',
    token_type: 'Bearer', issued_at: String(Date.now()), signature: 'c2lnbmF0dXJl',
  });
}
