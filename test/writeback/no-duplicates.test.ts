import nock from 'nock';
import { sql } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { flushOutbox } from '../../src/writeback/flush-outbox.ts';
import { claimDueRows } from '../../src/writeback/outbox-store.ts';
import { pauseBucket } from '../../src/writeback/rate-limiter.ts';
import {
  createdAll,
  flushDeps,
  hubspotApi,
  hubspotWorkspace,
  noteWrite,
  outboxRows,
  queueWrites,
  recorder,
  stageWrite,
  taskWrite,
  updatedAll,
  watchUnmatched,
} from './support.ts';

const leaseMs = 200;

/** The search the client must make for tasks whose create may have landed (no task key property). */
const markerSearch = (keys: string[]) => ({
  filterGroups: keys.map((key) => ({ filters: [{ propertyName: 'hs_task_body', operator: 'CONTAINS_TOKEN', value: key }] })),
  properties: ['hs_task_body'],
  limit: 200,
});

/** HubSpot's search answer listing tasks that carry these keys' markers (bodies come back as HTML). */
const searchHits = (keys: string[]) => ({
  total: keys.length,
  results: keys.map((key, i) => ({
    id: `9${i}`,
    properties: { hs_task_body: `<p>Send a recap and a next step.</p><p>[momentum:${key}]</p>`, hs_createdate: '2026-03-02T10:00:00.000Z', hs_object_id: `9${i}` },
    createdAt: '2026-03-02T10:00:00.000Z',
    updatedAt: '2026-03-02T10:00:00.000Z',
    archived: false,
  })),
});

const socketDropped = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/**
 * DESIGN.md's promise: no CRM task is created twice, even when a worker dies mid-write or the CRM's
 * answer is lost. The flush must look before it creates again.
 */
describe('no duplicate CRM writes', async () => {
  const t = await createTestApp();
  let n = 0;
  const workspace = () => hubspotWorkspace(t, `dup-${(n += 1)}`);
  const flush = (ws: string) => flushOutbox(flushDeps(t, { leaseMs, random: () => 0 }), ws);
  /** A worker claims the rows and dies before recording anything (HubSpot may have created them). */
  const dieMidFlush = (ws: string) => claimDueRows(t.db, ws, { limit: 1000, leaseMs });
  const makeDue = (ws: string) => sql`update outbox set next_attempt_at = now() where workspace_id = ${ws}`.execute(t.db);
  /** The next flush looks the task up, finds it, and creates nothing. */
  const expectSearchedNotCreated = async (ws: string, key: string) => {
    await makeDue(ws);
    const created = recorder();
    const search = nock(hubspotApi)
      .post('/crm/v3/objects/tasks/search', markerSearch([key]))
      .reply(200, searchHits([key]));
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/create', created.match).reply(201, createdAll('dup'));
    await flush(ws);
    expect(search.isDone()).toBe(true);
    expect(created.bodies).toEqual([]);
    expect((await outboxRows(t, ws))[0]).toMatchObject({ status: 'sent', crm_id: '90' });
  };

  it('after a worker died mid-flush, finds the tasks HubSpot already has and does not create them again', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '100', [taskWrite('k-1'), taskWrite('k-2'), taskWrite('k-3')]);
    const claimed = await dieMidFlush(ws);
    const keys = claimed.map((row) => row.idempotencyKey);
    expect(claimed).toHaveLength(3);

    // Within the lease the rows still belong to the dead worker: nobody touches them.
    const early = watchUnmatched();
    expect(await flush(ws).finally(early.stop)).toMatchObject({ calls: 0 });
    expect(early.urls).toEqual([]);

    await sleep(leaseMs + 100);
    const searched = recorder();
    const created = recorder();
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/search', searched.match)
      .reply(200, searchHits(keys))
      .post('/crm/v3/objects/tasks/batch/create', created.match)
      .reply(201, createdAll('dup'));

    const result = await flush(ws);

    expect(searched.bodies).toEqual([markerSearch(keys)]);
    expect(created.bodies).toEqual([]);
    expect(result).toMatchObject({ calls: 1, sent: 3 });
    const rows = await outboxRows(t, ws);
    expect(rows.map((r) => [r.status, r.crm_id])).toEqual([['sent', '90'], ['sent', '91'], ['sent', '92']]);
  });

  it('creates only the tasks the search did not find, once', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '110', [taskWrite('m-1'), taskWrite('m-2'), taskWrite('m-3')]);
    const keys = (await dieMidFlush(ws)).map((row) => row.idempotencyKey);
    await sleep(leaseMs + 100);
    const created = recorder();
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/search', markerSearch(keys))
      .reply(200, searchHits([keys[0]!, keys[2]!]))
      .post('/crm/v3/objects/tasks/batch/create', created.match)
      .reply(201, createdAll('new'));

    await flush(ws);

    expect(created.bodies.map((b) => b.inputs.map((i: any) => i.objectWriteTraceId))).toEqual([[keys[1]]]);
    const rows = await outboxRows(t, ws);
    expect(rows.map((r) => [r.status, r.crm_id])).toEqual([['sent', '90'], ['sent', `new-${keys[1]}`], ['sent', '91']]);
  });

  it('searches before creating again when the socket dropped during a task create, then creates once', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '120', [taskWrite('s-1')]);
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/create').replyWithError(socketDropped());

    const before = Date.now();
    expect(await flush(ws)).toMatchObject({ calls: 1, failed: 1 });
    const [uncertain] = await outboxRows(t, ws);
    expect(uncertain).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.objectContaining({ kind: 'uncertain', code: 'ECONNRESET' }) });
    // HubSpot's search shows a new task only after a few seconds: looking too soon could miss it.
    expect(uncertain!.next_attempt_at.getTime()).toBeGreaterThanOrEqual(before + 5_000);

    await makeDue(ws);
    const created = recorder();
    const scope = nock(hubspotApi)
      .post('/crm/v3/objects/tasks/search', markerSearch([uncertain!.idempotency_key]))
      .reply(200, { total: 0, results: [] })
      .post('/crm/v3/objects/tasks/batch/create', created.match)
      .reply(201, createdAll('once'));
    const unexpected = watchUnmatched();
    await flush(ws).finally(unexpected.stop);

    expect(scope.isDone()).toBe(true);
    expect(unexpected.urls).toEqual([]);
    expect(created.bodies).toHaveLength(1);
    const [row] = await outboxRows(t, ws);
    expect(row).toMatchObject({ status: 'sent', crm_id: `once-${row!.idempotency_key}` });
  });

  it('keeps searching first when the reconciling search itself fails', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '130', [taskWrite('f-1')]);
    const [claimed] = await dieMidFlush(ws);
    await sleep(leaseMs + 100);
    nock(hubspotApi).post('/crm/v3/objects/tasks/search').reply(503, { status: 'error', message: 'Service Unavailable', category: 'SERVICE_UNAVAILABLE' });
    expect(await flush(ws)).toMatchObject({ calls: 1, failed: 1 });

    // The task may still exist: the next attempt must look again, not create blindly.
    await expectSearchedNotCreated(ws, claimed!.idempotencyKey);
  });

  it('keeps searching first when HubSpot rate limited the search', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '140', [taskWrite('r-1')]);
    const [claimed] = await dieMidFlush(ws);
    await sleep(leaseMs + 100);
    // HubSpot's search allows 5 requests a second per account.
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/search')
      .reply(429, { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', correlationId: 'c0ffee' }, { 'retry-after': '0' });
    expect(await flush(ws)).toMatchObject({ calls: 1 });
    expect((await outboxRows(t, ws))[0]).toMatchObject({ status: 'pending', last_error: expect.objectContaining({ kind: 'uncertain' }) });

    await expectSearchedNotCreated(ws, claimed!.idempotencyKey);
  });

  it('keeps searching first when our own limiter held the search back', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '145', [taskWrite('l-1')]);
    const [claimed] = await dieMidFlush(ws);
    await sleep(leaseMs + 100);
    await pauseBucket(t.db, `hubspot:${ws}`, new Date(Date.now() + 300));
    expect(await flush(ws)).toMatchObject({ calls: 0 });
    await sleep(350);

    await expectSearchedNotCreated(ws, claimed!.idempotencyKey);
  });

  it('makes progress reconciling many tasks although HubSpot\'s search allows only 5 requests a second', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '170', Array.from({ length: 30 }, (_, i) => taskWrite(`many-${i}`)));
    const keys = (await dieMidFlush(ws)).map((row) => row.idempotencyKey);
    await sleep(leaseMs + 100);
    // Five keys per search request: the sixth request within the second is refused.
    const searched = recorder();
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/search', searched.match)
      .times(5)
      .reply(200, () => searchHits(searched.last().filterGroups.map((g: any) => g.filters[0].value)))
      .post('/crm/v3/objects/tasks/search', searched.match)
      .reply(429, { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', correlationId: 'c0ffee' });
    const created = recorder();
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/create', created.match).reply(201, createdAll('dup'));

    await flush(ws);

    expect(created.bodies).toEqual([]);
    const rows = await outboxRows(t, ws);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(25);
    // The five still unknown are looked up next time, and only they.
    const left = rows.filter((r) => r.status !== 'sent');
    expect(left.map((r) => r.idempotency_key)).toEqual(keys.slice(25));
    expect(left.every((r) => r.status === 'pending' && (r.last_error as { kind?: string }).kind === 'uncertain')).toBe(true);
  });

  it('never resends a note whose create may have landed: it is dead with an explanation', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '150', [noteWrite('n-dropped')]);
    nock(hubspotApi).post('/crm/v3/objects/notes/batch/create').replyWithError(socketDropped());
    expect(await flush(ws)).toMatchObject({ failed: 1 });

    await makeDue(ws);
    const unexpected = watchUnmatched();
    expect(await flush(ws).finally(unexpected.stop)).toMatchObject({ calls: 0, dead: 1 });
    expect(unexpected.urls).toEqual([]);
    const [row] = await outboxRows(t, ws);
    expect(row!.status).toBe('dead');
    expect(row!.last_error).toMatchObject({ kind: 'uncertain', message: expect.stringMatching(/may already have this note.*Retry by hand/) });
  });

  it('treats a note left behind by a dead worker the same way, and resends its deal update (a plain set)', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '160', [stageWrite('d160', 'contractsent'), noteWrite('d160')]);
    await dieMidFlush(ws);
    await sleep(leaseMs + 100);
    const updated = recorder();
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update', updated.match).reply(200, updatedAll());
    const unexpected = watchUnmatched();
    await flush(ws).finally(unexpected.stop);

    expect(unexpected.urls).toEqual([]);
    expect(updated.bodies.map((b) => b.inputs.map((i: any) => i.properties.dealstage))).toEqual([['contractsent']]);
    const rows = await outboxRows(t, ws);
    expect(rows.map((r) => [r.kind, r.status])).toEqual([['deal_update', 'sent'], ['note', 'dead']]);
  });
});
