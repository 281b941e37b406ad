import { playbookWithApprovalRule } from '../support/playbooks.ts';
import nock from 'nock';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { drainQueue } from '../support/worker.ts';
import { approvalTaskCompletionKey, approvalTaskKey } from '../../src/writeback/approval-task.ts';
import { evaluateDeals } from '../../src/progression/evaluate-deal.ts';
import { decideApproval } from '../../src/writeback/approvals.ts';
import { flushOutbox } from '../../src/writeback/flush-outbox.ts';
import { createdAll, flushDeps, hubspotApi, hubspotToken, isTaskCompletion, recorder, updatedAll, watchUnmatched, hubspotDealRead, hubspotDefaultPipelines, mockSalesforceLogin } from './support.ts';

const playbook = playbookWithApprovalRule();

/**
 * HubSpot: deal reads answer with Discovery and owner 77; deal updates, notes and task updates
 * (completions) are accepted; task creates answer as `taskCreate` says (502: the create may have
 * landed; 500: it did not).
 */
function mockHubspot(taskCreate: 'created' | 'bad_gateway' | 'server_error' = 'created') {
  const writes = { deals: recorder(), tasks: recorder(), notes: recorder(), completions: recorder(isTaskCompletion) };
  const scope = nock(hubspotApi)
    .persist()
    .get(/^\/crm\/v3\/objects\/deals\/\d+/)
    .query(true)
    .reply(200, (request: { url: string }) => {
      const id = new URL(request.url).pathname.split('/').at(-1)!;
      return hubspotDealRead(id);
    })
    .post('/crm/v3/objects/deals/batch/update', writes.deals.match)
    .reply(200, updatedAll())
    .post('/crm/v3/objects/notes/batch/create', writes.notes.match)
    .reply(201, createdAll('note'))
    .post('/crm/v3/objects/tasks/batch/update', writes.completions.match)
    .reply(200, updatedAll());
  const creates = scope.post('/crm/v3/objects/tasks/batch/create', writes.tasks.match);
  if (taskCreate === 'created') creates.reply(201, createdAll('task'));
  else if (taskCreate === 'bad_gateway') creates.reply(502, 'Bad Gateway');
  else creates.reply(500, { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' });
  /** Every completion HubSpot received, as [task id, status set]. */
  const completed = () => writes.completions.bodies.flatMap((b) => b.inputs).map((i: any) => [i.id, i.properties.hs_task_status]);
  /** Task creates HubSpot received carrying this idempotency key. */
  const tasksWith = (key: string) => writes.tasks.bodies.flatMap((b) => b.inputs ?? []).filter((i: any) => i.objectWriteTraceId === key);
  return { writes, completed, tasksWith };
}

describe("the approver's CRM task is completed when its approval closes", async () => {
  const t = await createTestApp();
  const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object | string, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/api/workspaces/${url}`, headers: { ...t.auth, ...headers }, ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    for (const ws of ['done-co', 'done-reject', 'done-wait', 'done-shadow']) {
      expect((await api('PUT', ws, { name: ws, mode: ws === 'done-shadow' ? 'shadow' : 'live' })).statusCode).toBe(201);
      expect((await api('PUT', `${ws}/connection`, { provider: 'hubspot', auth: { type: 'private_app', accessToken: hubspotToken } })).statusCode).toBe(200);
      nock(hubspotApi).get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines);
      expect((await api('PUT', `${ws}/playbook`, playbook, { 'content-type': 'application/yaml' })).statusCode).toBe(201);
    }
  });

  /** The deal is in Discovery and a contract goes out for it: an approval opens and its task is queued (and flushed). */
  async function openApproval(ws: string, dealId: string, stage = 'appointmentscheduled') {
    const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
    const stored = await api('POST', `${ws}/deals/${dealId}/signals`, { signals: [
      { id: `${dealId}-stage`, type: 'crm.stage_changed', occurredAt: at(60), payload: { stage } },
      { id: `${dealId}-esign`, type: 'esign.sent', occurredAt: at(1), payload: { documentId: `env-${dealId}` } },
    ] });
    expect(stored.statusCode).toBe(202);
    await drainQueue(t);
    const approval = (await api('GET', `${ws}/approvals`)).json().items.find((a: any) => a.dealId === dealId && a.proposed.type === 'advance_stage');
    expect(approval).toBeDefined();
    return approval as { id: string; decisionId: string };
  }

  const rowByKey = (ws: string, key: string) =>
    t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', ws).where('idempotency_key', '=', key).executeTakeFirst();
  const taskRow = (ws: string, approvalId: string) => rowByKey(ws, approvalTaskKey(approvalId));
  const completionRow = (ws: string, approvalId: string) => rowByKey(ws, approvalTaskCompletionKey(approvalId));
  const decide = (ws: string, id: string, verdict: 'approve' | 'reject') => api('POST', `${ws}/approvals/${id}/${verdict}`, { by: 'max@seller.example' });

  it('completes the sent task in HubSpot exactly once when the approval is approved, however often it is flushed or decided', async () => {
    const hubspot = mockHubspot();
    const approval = await openApproval('done-co', '701');
    const task = await taskRow('done-co', approval.id);
    expect(task).toMatchObject({ status: 'sent', crm_id: `task-${approvalTaskKey(approval.id)}` });
    expect(hubspot.completed()).toEqual([]);

    expect((await decide('done-co', approval.id, 'approve')).json()).toMatchObject({ status: 'approved', writes: 2 });
    await drainQueue(t);

    expect(hubspot.completed()).toEqual([[task!.crm_id, 'COMPLETED']]);
    expect(hubspot.writes.completions.bodies[0].inputs[0].objectWriteTraceId).toBe(approvalTaskCompletionKey(approval.id));
    expect(await completionRow('done-co', approval.id)).toMatchObject({
      kind: 'complete_task',
      status: 'sent',
      deal_id: '701',
      decision_id: approval.decisionId,
      crm_id: task!.crm_id,
      payload: { taskKey: approvalTaskKey(approval.id), approvalId: approval.id, approvalStatus: 'approved' },
    });
    // The approved change went out too.
    expect(hubspot.writes.deals.bodies.flatMap((b) => b.inputs).some((i: any) => i.id === '701' && i.properties.dealstage === 'qualifiedtobuy')).toBe(true);

    // Deciding again is refused; flushing again finds nothing due: still one completion.
    expect((await decide('done-co', approval.id, 'reject')).statusCode).toBe(409);
    await flushOutbox(flushDeps(t), 'done-co');
    await drainQueue(t);
    expect(hubspot.completed()).toEqual([[task!.crm_id, 'COMPLETED']]);
    expect((await t.db.selectFrom('outbox').select('id').where('workspace_id', '=', 'done-co').where('kind', '=', 'complete_task').execute())).toHaveLength(1);
  });

  it('withdraws a task rejected before it went out and completes nothing', async () => {
    const hubspot = mockHubspot('server_error');
    const approval = await openApproval('done-reject', '702');
    // HubSpot answered 500: the create was not applied, and the task waits for a retry.
    expect(await taskRow('done-reject', approval.id)).toMatchObject({ status: 'failed', last_error: expect.objectContaining({ kind: 'transient' }) });

    expect((await decide('done-reject', approval.id, 'reject')).statusCode).toBe(200);
    await sql`update outbox set next_attempt_at = now() where workspace_id = 'done-reject' and status = 'failed'`.execute(t.db);
    await flushOutbox(flushDeps(t), 'done-reject');
    await drainQueue(t);

    expect((await taskRow('done-reject', approval.id))?.status).toBe('superseded');
    expect(await completionRow('done-reject', approval.id)).toBeUndefined();
    expect(hubspot.writes.completions.bodies).toEqual([]);
    expect(hubspot.tasksWith(approvalTaskKey(approval.id))).toHaveLength(1);
  });

  it('waits while the task may still be on its way, and completes it once the task is known to be sent', async () => {
    const first = mockHubspot('bad_gateway');
    const approval = await openApproval('done-wait', '703');
    const attemptedKeys = first.writes.tasks.bodies.flatMap((b) => b.inputs ?? []).map((i: any) => i.objectWriteTraceId);
    expect(attemptedKeys).toContain(approvalTaskKey(approval.id));
    const uncertainTask = await taskRow('done-wait', approval.id);
    expect(uncertainTask).toMatchObject({ status: 'failed', last_error: expect.objectContaining({ kind: 'uncertain' }) });

    // Rejected while the create's outcome is unknown: the task stays, a completion is queued.
    expect((await decide('done-wait', approval.id, 'reject')).statusCode).toBe(200);
    expect((await taskRow('done-wait', approval.id))?.status).toBe('failed');
    expect(await completionRow('done-wait', approval.id)).toMatchObject({ kind: 'complete_task', status: 'pending' });

    // The flush the decision asked for finds the task still in flight: the completion waits for its retry.
    await drainQueue(t);
    expect(first.writes.completions.bodies).toEqual([]);
    const waiting = await completionRow('done-wait', approval.id);
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0 });
    expect(new Date(waiting!.next_attempt_at).getTime()).toBeGreaterThanOrEqual(new Date(uncertainTask!.next_attempt_at).getTime());
    nock.cleanAll();

    // The task's retry comes: HubSpot had created it after all (the lookup finds it by its marker).
    const hubspot = mockHubspot();
    const foundTaskId = '88001';
    nock(hubspotApi).persist().post('/crm/v3/objects/tasks/search').reply(200, {
      total: 1,
      results: [{ id: foundTaskId, properties: { hs_task_body: `Approve or reject…\n\n[momentum:${approvalTaskKey(approval.id)}]` }, archived: false }],
    });
    await sql`update outbox set next_attempt_at = now() where workspace_id = 'done-wait' and deal_id = '703' and status in ('pending', 'failed')`.execute(t.db);
    await flushOutbox(flushDeps(t), 'done-wait');
    expect(await taskRow('done-wait', approval.id)).toMatchObject({ status: 'sent', crm_id: foundTaskId });
    // Claimed with its task, the completion could not know the id yet: it is due again at once.
    expect(hubspot.writes.completions.bodies).toEqual([]);
    expect(await completionRow('done-wait', approval.id)).toMatchObject({ status: 'pending', attempts: 0 });

    await flushOutbox(flushDeps(t), 'done-wait');
    expect(hubspot.completed()).toEqual([[foundTaskId, 'COMPLETED']]);
    expect(await completionRow('done-wait', approval.id)).toMatchObject({ status: 'sent', crm_id: foundTaskId });
    expect(hubspot.tasksWith(approvalTaskKey(approval.id))).toEqual([]);
  });

  it('completes the task when the approval expires or a newer stage decision makes it obsolete', async () => {
    const hubspot = mockHubspot();
    const expiring = await openApproval('done-co', '704');
    const replaced = await openApproval('done-co', '705');
    const expiringTask = (await taskRow('done-co', expiring.id))!;
    const replacedTask = (await taskRow('done-co', replaced.id))!;
    expect([expiringTask.status, replacedTask.status]).toEqual(['sent', 'sent']);

    // Expiry is recorded when approvals are listed; the listing asks for the flush.
    await sql`update approvals set expires_at = now() - interval '1 minute' where workspace_id = 'done-co' and id = ${expiring.id}`.execute(t.db);
    expect((await api('GET', 'done-co/approvals?status=expired')).json().items.map((a: any) => a.id)).toContain(expiring.id);
    await drainQueue(t);
    expect(hubspot.completed()).toEqual([[expiringTask.crm_id, 'COMPLETED']]);
    expect(await completionRow('done-co', expiring.id)).toMatchObject({ status: 'sent', payload: expect.objectContaining({ approvalStatus: 'expired' }) });

    // The rep moves the deal on in HubSpot: the evaluation closes the stage approval, queues the
    // completion and counts it among the deal's writes, so the evaluation queue asks for a flush.
    const moved = await api('POST', 'done-co/deals/705/signals', { signals: [
      { id: '705-moved', type: 'crm.stage_changed', occurredAt: new Date().toISOString(), payload: { stage: 'presentationscheduled' } },
    ] });
    expect(moved.statusCode).toBe(202);
    const rowsOf705 = () => t.db.selectFrom('outbox').select(['kind', 'idempotency_key']).where('workspace_id', '=', 'done-co').where('deal_id', '=', '705').execute();
    const before = await rowsOf705();
    const [summary] = await evaluateDeals({ db: t.db, logger: t.deps.logger, now: () => new Date() }, [{ workspaceId: 'done-co', dealId: '705', trigger: 'signals' }]);
    const added = (await rowsOf705()).filter((row) => !before.some((b) => b.idempotency_key === row.idempotency_key));
    expect(added.map((row) => row.idempotency_key)).toContain(approvalTaskCompletionKey(replaced.id));
    expect(summary).toMatchObject({ writes: added.length, flushWanted: true });
    expect((await api('GET', 'done-co/approvals?status=obsolete')).json().items.map((a: any) => a.id)).toContain(replaced.id);
    await flushOutbox(flushDeps(t), 'done-co');
    await drainQueue(t);
    expect(hubspot.completed()).toEqual([[expiringTask.crm_id, 'COMPLETED'], [replacedTask.crm_id, 'COMPLETED']]);
    expect(await completionRow('done-co', replaced.id)).toMatchObject({ status: 'sent', payload: expect.objectContaining({ approvalStatus: 'obsolete' }) });
  });

  it('marks the completion dead with HubSpot\'s message when the task was deleted in the CRM', async () => {
    mockHubspot();
    const approval = await openApproval('done-co', '706');
    const task = (await taskRow('done-co', approval.id))!;
    nock.cleanAll();
    nock(hubspotApi).post('/crm/v3/objects/tasks/batch/update').reply(207, {
      status: 'COMPLETE',
      results: [],
      numErrors: 1,
      errors: [{
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        message: 'Could not get some TASK objects, they may be deleted or not exist. Check that ids are valid.',
        context: { ids: [task.crm_id] },
      }],
    });
    await decideApproval(t.db, { workspaceId: 'done-co', approvalId: approval.id, approve: false, by: 'max@seller.example', reason: undefined, now: new Date() });
    await flushOutbox(flushDeps(t), 'done-co');
    expect(await completionRow('done-co', approval.id)).toMatchObject({
      status: 'dead',
      last_error: expect.objectContaining({ kind: 'permanent', code: 'OBJECT_NOT_FOUND', message: expect.stringContaining('may be deleted') }),
    });
  });

  it('records the completion as shadow in a shadow workspace and sends nothing', async () => {
    const hubspot = mockHubspot();
    const unexpected = watchUnmatched();
    const approval = await openApproval('done-shadow', '721');
    expect((await taskRow('done-shadow', approval.id))?.status).toBe('shadow');
    expect((await decide('done-shadow', approval.id, 'approve')).statusCode).toBe(200);
    await drainQueue(t);
    unexpected.stop();

    expect(await completionRow('done-shadow', approval.id)).toMatchObject({ kind: 'complete_task', status: 'shadow' });
    expect(hubspot.writes.tasks.bodies).toEqual([]);
    expect(hubspot.writes.completions.bodies).toEqual([]);
    expect(unexpected.urls).toEqual([]);
  });

  it('completes the task in Salesforce with one sObject Collections update setting Status to Completed', async () => {
    const instance = 'https://acme.my.salesforce.com';
    const base = '/services/data/v62.0';
    const opportunity = '0065e00000OppCmAAA';
    expect((await api('PUT', 'done-sf', { name: 'done-sf', mode: 'live' })).statusCode).toBe(201);
    expect((await api('PUT', 'done-sf/playbook', playbook, { 'content-type': 'application/yaml' })).statusCode).toBe(201);
    const connection = { provider: 'salesforce', auth: { type: 'refresh_token', clientId: '3MVG9_client', clientSecret: 'sf-client-secret', refreshToken: 'sf-refresh-token', instanceUrl: instance } };
    expect((await api('PUT', 'done-sf/connection', connection)).statusCode).toBe(200);

    mockSalesforceLogin(instance);
    const created = recorder();
    const updated = recorder();
    nock(instance)
      .persist()
      .get(`${base}/query`)
      .query(true)
      .reply(200, (request: { url: string }) => {
        const soql = new URL(request.url).searchParams.get('q') ?? '';
        const records = soql.includes('FROM Opportunity WHERE Id')
          ? [{ attributes: { type: 'Opportunity' }, Id: opportunity, Name: 'Globex renewal', StageName: 'Qualification', Amount: 52000, CloseDate: '2026-09-30', OwnerId: '0055e000000OwnrAAA', Probability: 20, IsClosed: false, IsWon: false, OpportunityContactRoles: null }]
          : [];
        return { totalSize: records.length, done: true, records };
      })
      .post(`${base}/composite/sobjects`, created.match)
      .reply(200, () => created.last().records.map((_: unknown, i: number) => ({ id: `00T5e00000Cmp${String(i).padStart(2, '0')}AAA`, success: true, errors: [] })))
      .patch(`${base}/composite/sobjects`, updated.match)
      .reply(200, () => updated.last().records.map((r: { id: string }) => ({ id: r.id, success: true, errors: [] })));

    const approval = await openApproval('done-sf', opportunity, 'Qualification');
    const task = (await taskRow('done-sf', approval.id))!;
    expect(task).toMatchObject({ status: 'sent', crm_id: expect.stringMatching(/^00T5e00000Cmp/) });

    expect((await decide('done-sf', approval.id, 'reject')).statusCode).toBe(200);
    await drainQueue(t);
    await flushOutbox(flushDeps(t), 'done-sf');

    const taskUpdates = updated.bodies.flatMap((b) => b.records).filter((r: any) => r.attributes.type === 'Task');
    expect(taskUpdates).toEqual([{ attributes: { type: 'Task' }, id: task.crm_id, Status: 'Completed' }]);
    expect(updated.bodies.every((b) => b.allOrNone === false)).toBe(true);
    expect(await completionRow('done-sf', approval.id)).toMatchObject({ status: 'sent', crm_id: task.crm_id, payload: expect.objectContaining({ approvalStatus: 'rejected' }) });
  });
});
