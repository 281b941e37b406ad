import nock from 'nock';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { drainQueue } from '../support/worker.ts';
import { flushOutbox } from '../../src/writeback/flush-outbox.ts';
import { pauseBucket, readBucket } from '../../src/writeback/rate-limiter.ts';
import { FLUSH_OUTBOX_TASK, scheduleFlush } from '../../src/writeback/outbox-store.ts';
import { buildTaskList } from '../../src/worker/tasks.ts';
import { MAX_ATTEMPTS } from '../../src/writeback/retry-policy.ts';
import { claimDueRows } from '../../src/writeback/outbox-store.ts';
import {
  closeDateWrite,
  createdAll,
  flushDeps,
  hubspotApi,
  hubspotToken,
  hubspotWorkspace,
  outboxRows,
  queueWrites,
  recorder,
  stageWrite,
  taskWrite,
  updatedAll,
  watchUnmatched,
} from './support.ts';

const validationError = {
  status: 'error',
  message: 'Property values were not valid: [{"isValid":false,"message":"Stage \\"qualifiedtobuyy\\" does not exist","error":"INVALID_OPTION","name":"dealstage"}]',
  correlationId: '3d5a4c1e-7f0b-4a55-9d1e-2f9d0a7e8b11',
  category: 'VALIDATION_ERROR',
};
const serverError = { status: 'error', message: 'internal error', correlationId: '0b1c2d3e-4f50-4a55-9d1e-2f9d0a7e8b11', category: 'INTERNAL_ERROR' };

/**
 * The outbox flush against a HubSpot private-app connection on real Postgres: what is sent, in how
 * many calls, and how every CRM answer settles each row.
 */
describe('flushing the outbox to HubSpot', async () => {
  const t = await createTestApp();
  let n = 0;
  // One workspace per test: each has its own rate-limit bucket and outbox.
  const workspace = () => hubspotWorkspace(t, `flush-${(n += 1)}`);
  const flush = (ws: string) => flushOutbox(flushDeps(t, { random: () => 0 }), ws);

  it('coalesces updates of one deal into one record, superseding the older stage', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '501', [stageWrite('d501-first', 'qualifiedtobuy')]);
    await queueWrites(t, ws, '501', [stageWrite('d501-second', 'presentationscheduled'), closeDateWrite('d501-second', '2026-04-30')]);
    await queueWrites(t, ws, '502', [closeDateWrite('d502', '2026-05-15')]);
    const seen = recorder();
    const scope = nock(hubspotApi, { reqheaders: { authorization: `Bearer ${hubspotToken}` } })
      .post('/crm/v3/objects/deals/batch/update', seen.match)
      .reply(200, updatedAll());

    const result = await flush(ws);

    expect(scope.isDone()).toBe(true);
    expect(seen.bodies).toHaveLength(1);
    expect(seen.last().inputs).toEqual([
      { id: '501', objectWriteTraceId: expect.any(String), properties: { pipeline: 'default', dealstage: 'presentationscheduled', closedate: '2026-04-30T00:00:00.000Z' } },
      { id: '502', objectWriteTraceId: expect.any(String), properties: { closedate: '2026-05-15T00:00:00.000Z' } },
    ]);
    expect(result).toMatchObject({ calls: 1, sent: 4, failed: 0, dead: 0 });
    const rows = await outboxRows(t, ws);
    expect(rows.map((r) => [r.deal_id, r.status, r.crm_id])).toEqual([
      ['501', 'superseded', null],
      ['501', 'sent', '501'],
      ['501', 'sent', '501'],
      ['502', 'sent', '502'],
    ]);
  });

  it('sends 150 tasks in two batch calls of 100 and 50, each task matched to its own HubSpot id', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '600', Array.from({ length: 150 }, (_, i) => taskWrite(`batch-${i}`)));
    const seen = recorder();
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/create', seen.match).times(2).reply(201, createdAll('task'));

    const result = await flush(ws);

    expect(seen.bodies.map((b) => b.inputs.length)).toEqual([100, 50]);
    const first = seen.bodies[0].inputs[0];
    expect(first.associations).toEqual([{ to: { id: '600' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 216 }] }]);
    expect(first.properties.hs_task_body).toContain(`[momentum:${first.objectWriteTraceId}]`);
    expect(result).toMatchObject({ calls: 2, sent: 150, more: false });
    const rows = await outboxRows(t, ws);
    expect(rows.every((r) => r.status === 'sent' && r.crm_id === `task-${r.idempotency_key}` && r.sent_at !== null)).toBe(true);
  });

  it('settles a 207 answer record by record: the invalid task is dead with HubSpot\'s message, the rest are sent', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '700', [taskWrite('p-1'), taskWrite('p-2'), taskWrite('p-3')]);
    const seen = recorder();
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/batch/create', seen.match)
      .reply(207, () => {
        const [ok1, bad, ok2] = seen.last().inputs;
        return {
          status: 'COMPLETE',
          numErrors: 1,
          errors: [{
            status: 'error',
            category: 'VALIDATION_ERROR',
            message: 'Property values were not valid: [{"isValid":false,"message":"88 is not a valid owner id","name":"hubspot_owner_id"}]',
            context: {},
            objectWriteTraceId: bad.objectWriteTraceId,
          }],
          results: [ok1, ok2].map((input, i) => ({ id: `77${i}`, objectWriteTraceId: input.objectWriteTraceId, properties: {} })),
        };
      });

    const result = await flush(ws);

    expect(result).toMatchObject({ calls: 1, sent: 2, dead: 1 });
    const rows = await outboxRows(t, ws);
    expect(rows.map((r) => r.status)).toEqual(['sent', 'dead', 'sent']);
    expect(rows.map((r) => r.crm_id)).toEqual(['770', null, '771']);
    expect(rows[1]!.last_error).toMatchObject({ kind: 'permanent', code: 'VALIDATION_ERROR', message: expect.stringContaining('88 is not a valid owner id') });
  });

  it('on a 429 puts the rows back, pauses the account for every process, and the next flush waits without calling', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '800', [stageWrite('d800', 'contractsent')]);
    nock(hubspotApi)
      .post('/crm/v3/objects/deals/batch/update')
      .reply(
        429,
        { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: 'c0ffee', policyName: 'TEN_SECONDLY_ROLLING', groupName: 'TEN_SECONDLY_ROLLING:app:54321' },
        { 'retry-after': '3', 'x-hubspot-ratelimit-max': '100', 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      );

    const before = Date.now();
    const first = await flush(ws);

    expect(first.calls).toBe(1);
    expect(first.deferredUntil!.getTime()).toBeGreaterThanOrEqual(before + 2_900);
    const [row] = await outboxRows(t, ws);
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });
    expect(row!.next_attempt_at.getTime()).toBeGreaterThanOrEqual(before + 2_900);
    const bucket = await readBucket(t.db, `hubspot:${ws}`);
    expect(bucket!.paused_until!.getTime()).toBeGreaterThan(Date.now() + 2_000);

    // A write due now must wait for the pause too: no interceptor is left, so a call would fail it.
    await queueWrites(t, ws, '801', [closeDateWrite('d801', '2026-06-01')]);
    const unexpected = watchUnmatched();
    const second = await flush(ws).finally(unexpected.stop);
    expect(second.calls).toBe(0);
    expect(second.deferredUntil!.getTime()).toBeGreaterThan(Date.now() + 2_000);
    expect(Math.abs(second.deferredUntil!.getTime() - bucket!.paused_until!.getTime())).toBeLessThan(1_000);
    expect(unexpected.urls).toEqual([]);
    const rows = await outboxRows(t, ws);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([['pending', 0], ['pending', 0]]);
    expect(rows[1]!.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 2_000);
  });

  it('on a 5xx marks the rows failed with a backoff, and after the last attempt dead', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '900', [closeDateWrite('d900', '2026-07-01')]);
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update').reply(500, serverError);

    const before = Date.now();
    const result = await flush(ws);

    expect(result).toMatchObject({ calls: 1, failed: 1, dead: 0 });
    let [row] = await outboxRows(t, ws);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.objectContaining({ kind: 'transient', status: 500 }) });
    // The first retry waits 1–2 s (here exactly 1 s: the jitter is pinned).
    expect(row!.next_attempt_at.getTime()).toBeGreaterThanOrEqual(before + 1_000);

    // Not due yet: a flush now leaves it alone.
    expect((await flush(ws)).calls).toBe(0);

    // One attempt before the last: still failed. The last: dead, with the CRM's answer kept.
    await sql`update outbox set attempts = ${MAX_ATTEMPTS - 2}, next_attempt_at = now() where workspace_id = ${ws}`.execute(t.db);
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update').times(2).reply(500, serverError);
    expect(await flush(ws)).toMatchObject({ failed: 1, dead: 0 });
    [row] = await outboxRows(t, ws);
    expect(row).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS - 1 });
    await sql`update outbox set next_attempt_at = now() where workspace_id = ${ws}`.execute(t.db);
    expect(await flush(ws)).toMatchObject({ failed: 0, dead: 1 });
    [row] = await outboxRows(t, ws);
    expect(row).toMatchObject({ status: 'dead', attempts: MAX_ATTEMPTS, last_error: expect.objectContaining({ status: 500, message: 'internal error' }) });
  });

  it('dead-letters a validation error at once, lists it with HubSpot\'s error, and a hand retry sends it', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '950', [stageWrite('d950', 'qualifiedtobuyy')]);
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update').reply(400, validationError);

    expect(await flush(ws)).toMatchObject({ calls: 1, dead: 1, failed: 0 });

    const listed = await t.app.inject({ url: `/api/workspaces/${ws}/outbox?status=dead`, headers: t.auth });
    expect(listed.statusCode).toBe(200);
    const [item] = listed.json().items;
    expect(item).toMatchObject({
      dealId: '950',
      kind: 'deal_update',
      status: 'dead',
      attempts: 1,
      lastError: { kind: 'permanent', status: 400, code: 'VALIDATION_ERROR', retryable: false, message: validationError.message },
    });
    expect(listed.body).not.toContain(hubspotToken);
    expect((await t.app.inject({ url: `/api/workspaces/${ws}/outbox?status=sent`, headers: t.auth })).json().items).toEqual([]);

    // Someone fixed the stage in HubSpot; retrying by hand queues a flush job that sends it.
    const retried = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/outbox/${item.id}/retry`, headers: t.auth });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toEqual({ id: item.id, status: 'pending' });
    const [pending] = await outboxRows(t, ws);
    expect(pending).toMatchObject({ status: 'pending', attempts: 0, last_error: null });

    const seen = recorder();
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update', seen.match).reply(200, updatedAll());
    await drainQueue(t, 1);
    expect(seen.bodies).toHaveLength(1);
    const [sent] = await outboxRows(t, ws);
    expect(sent).toMatchObject({ status: 'sent', crm_id: '950', last_error: null });

    // Only dead or failed writes can be retried; unknown ids are 404.
    const again = await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/outbox/${item.id}/retry`, headers: t.auth });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('not_retryable');
    expect((await t.app.inject({ method: 'POST', url: `/api/workspaces/${ws}/outbox/999999/retry`, headers: t.auth })).statusCode).toBe(404);
  });
});

describe('claiming due writes and holding them for the next slot', async () => {
  const t = await createTestApp();

  it('claims whole deals, so changes queued far apart for one deal are coalesced together', async () => {
    await t.app.inject({ method: 'PUT', url: '/api/workspaces/claims', headers: t.auth, payload: { name: 'Claims', mode: 'live' } });
    // Deal A's two stage changes are separated by writes for eleven other deals.
    await queueWrites(t, 'claims', 'A', [stageWrite('a-1', 'qualifiedtobuy')]);
    for (let i = 0; i < 11; i += 1) await queueWrites(t, 'claims', `other-${i}`, [stageWrite(`o-${i}`, 'qualifiedtobuy')]);
    await queueWrites(t, 'claims', 'A', [stageWrite('a-2', 'contractsent')]);

    const claimed = await claimDueRows(t.db, 'claims', { limit: 2, leaseMs: 60_000 });
    const deals = claimed.map((row) => row.dealId);
    expect(deals.filter((d) => d === 'A')).toHaveLength(2);
    expect(new Set(deals).size).toBe(2);
  });
  it('sends, in the same job, writes committed while its flush was busy', async () => {
    const ws = await hubspotWorkspace(t, 'same-job');
    await queueWrites(t, ws, '580', [stageWrite('d580', 'qualifiedtobuy')]);
    const first = recorder();
    const second = recorder();
    nock(hubspotApi)
      .post('/crm/v3/objects/deals/batch/update', first.match)
      .reply(200, async (request: Request) => {
        // An evaluation commits another deal's write while this call is out.
        await queueWrites(t, ws, '581', [stageWrite('d581', 'contractsent')]);
        return updatedAll()(request);
      });
    const later = nock(hubspotApi).post('/crm/v3/objects/deals/batch/update', second.match).reply(200, updatedAll());

    // The flush job itself, run once outside the queue: nothing else could send the second write.
    const { taskList } = buildTaskList({ db: t.db, logger: t.deps.logger, metrics: t.deps.metrics, secretBox: t.deps.secretBox, config: t.config });
    await taskList[FLUSH_OUTBOX_TASK]!({ workspaceId: ws }, {} as Parameters<NonNullable<(typeof taskList)[string]>>[1]);

    expect(later.isDone()).toBe(true);
    expect(second.last().inputs.map((input: any) => input.id)).toEqual(['581']);
    expect((await outboxRows(t, ws)).map((row) => row.status)).toEqual(['sent', 'sent']);
  });

  it('waits out a short rate-limit pause inside the flush job instead of booking a later one', async () => {
    const ws = await hubspotWorkspace(t, 'short-pause');
    await queueWrites(t, ws, '590', [stageWrite('d590', 'qualifiedtobuy')]);
    const seen = recorder();
    const scope = nock(hubspotApi).post('/crm/v3/objects/deals/batch/update', seen.match).reply(200, updatedAll());
    await pauseBucket(t.db, `hubspot:${ws}`, new Date(Date.now() + 700));
    await scheduleFlush(t.db, ws);

    // One round of the queue: a flush that booked itself for later would leave the row pending.
    await drainQueue(t, 1);

    expect(scope.isDone()).toBe(true);
    expect((await outboxRows(t, ws)).map((row) => row.status)).toEqual(['sent']);
  });

  let n = 0;
  const workspace = () => hubspotWorkspace(t, `window-${(n += 1)}`);
  /** The workspace's real HubSpot target with a window of one call per 400 ms. */
  const narrowWindow = (extra: Partial<Parameters<typeof flushDeps>[1]>) => {
    const base = flushDeps(t, { random: () => 0, ...extra });
    return { ...base, crmFor: async (w: string) => ({ ...(await base.crmFor(w))!, limits: { perWindow: 1, windowMs: 400 } }) };
  };

  it('holds its claim through a window slot that opens soon, and counts the window from when each call ended', async () => {
    const ws = await workspace();
    // A stage change and a task: two calls, so the second needs the next slot.
    await queueWrites(t, ws, '610', [stageWrite('hold-stage', 'qualifiedtobuy')]);
    await queueWrites(t, ws, '611', [taskWrite('hold-task')]);
    const arrivals: number[] = [];
    const arrived = (seen: ReturnType<typeof recorder>) => (body: unknown) => {
      arrivals.push(Date.now());
      return seen.match(body);
    };
    const updates = recorder();
    const tasks = recorder();
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update', arrived(updates)).delay(150).reply(200, updatedAll());
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/create', arrived(tasks)).delay(150).reply(201, createdAll('task'));

    const result = await flushOutbox(narrowWindow({ maxInPlaceWaitMs: 2_000 }), ws);

    expect(result).toMatchObject({ calls: 2, sent: 2, more: false });
    expect(result.deferredUntil).toBeUndefined();
    // The first call was answered 150 ms after it arrived; the window runs from that answer.
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(150 + 400 - 10);
    expect((await outboxRows(t, ws)).map((row) => row.status)).toEqual(['sent', 'sent']);
  });

  it('without room to wait in place, gives the unsent rows back with the time the slot opens', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '620', [stageWrite('give-stage', 'qualifiedtobuy')]);
    await queueWrites(t, ws, '621', [taskWrite('give-task')]);
    const updates = recorder();
    const tasks = recorder();
    nock(hubspotApi).post('/crm/v3/objects/deals/batch/update', updates.match).reply(200, updatedAll());
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/create', tasks.match).reply(201, createdAll('task'));

    const result = await flushOutbox(narrowWindow({}), ws);

    expect(result.calls).toBe(1);
    expect(result.deferredUntil!.getTime()).toBeGreaterThan(Date.now() + 200);
    expect((await outboxRows(t, ws)).map((row) => row.status).sort()).toEqual(['pending', 'sent']);
    nock.cleanAll();
  });

  it('keeps several calls in flight at once when told to, each batch settled from its own answer', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '630', Array.from({ length: 350 }, (_, i) => taskWrite(`lane-${i}`)));
    const arrivals: number[] = [];
    const tasks = recorder();
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/batch/create', (body) => {
        arrivals.push(Date.now());
        return tasks.match(body);
      })
      .times(4)
      .delay(1_000)
      .reply(201, createdAll('task'));

    const result = await flushOutbox(flushDeps(t, { random: () => 0, parallelCalls: 4 }), ws);

    expect(result).toMatchObject({ calls: 4, sent: 350, more: false });
    expect(tasks.bodies.map((b) => b.inputs.length).sort((a, b) => a - b)).toEqual([50, 100, 100, 100]);
    // One after another, the last call would start 3 s after the first; in flight together, within 1 s.
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(1_000);
    const rows = await outboxRows(t, ws);
    expect(rows.every((r) => r.status === 'sent' && r.crm_id === `task-${r.idempotency_key}`)).toBe(true);
  });

  it('stops starting calls after a 429 in one lane, and gives back everything not sent', async () => {
    const ws = await workspace();
    await queueWrites(t, ws, '640', Array.from({ length: 500 }, (_, i) => taskWrite(`stop-${i}`)));
    const tasks = recorder();
    let answered = 0;
    nock(hubspotApi)
      .post('/crm/v3/objects/tasks/batch/create', tasks.match)
      .times(2)
      .delay(100)
      .reply(async (request: Request) => {
        answered += 1;
        if (answered === 1) return [429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { 'Retry-After': '3' }];
        return [201, await createdAll('task')(request)];
      });

    const result = await flushOutbox(flushDeps(t, { random: () => 0, parallelCalls: 2 }), ws);

    expect(result.calls).toBe(2);
    expect(result.deferredUntil!.getTime()).toBeGreaterThan(Date.now() + 2_000);
    const statuses = (await outboxRows(t, ws)).map((r) => r.status);
    expect(statuses.filter((s) => s === 'sent')).toHaveLength(100);
    expect(statuses.filter((s) => s === 'pending')).toHaveLength(400);
    expect((await readBucket(t.db, `hubspot:${ws}`))!.paused_until!.getTime()).toBeGreaterThan(Date.now() + 2_000);
  });
});
