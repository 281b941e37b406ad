import { playbookWithApprovalRule } from '../support/playbooks.ts';
import nock from 'nock';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import { enqueueEvaluation } from '../../src/progression/evaluate-deal.ts';
import { approvalTaskKey } from '../../src/writeback/approval-task.ts';
import { notifyApprover } from '../../src/writeback/notify-approver.ts';
import { flushOutbox } from '../../src/writeback/flush-outbox.ts';
import { createdAll, flushDeps, hubspotApi, hubspotToken, recorder, updatedAll, watchUnmatched, hubspotDealRead, hubspotDefaultPipelines, mockSalesforceLogin } from './support.ts';

/** Who owns which deal in the mocked HubSpot portal. */
const hubspotOwners: Record<string, string> = { '601': '77', '602': '79', '603': '77', '604': '77', '605': '77', '611': '77', '612': '77', '621': '77' };

/**
 * HubSpot for the whole pipeline: deal reads (hydration) answer with Discovery, the owner above and
 * the name "Acme <id>"; deal updates and notes are accepted; task creates answer as `taskReply` says.
 */
function mockHubspot(taskReply: 'created' | 'server_error' = 'created') {
  const writes = { deals: recorder(), tasks: recorder(), notes: recorder() };
  const scope = nock(hubspotApi)
    .persist()
    .get(/^\/crm\/v3\/objects\/deals\/\d+/)
    .query(true)
    // nock 15 hands a reply function the request itself.
    .reply(200, (request: { url: string }) => {
      const id = new URL(request.url).pathname.split('/').at(-1)!;
      return hubspotDealRead(id, { ownerId: hubspotOwners[id] ?? '77' });
    })
    .post('/crm/v3/objects/deals/batch/update', writes.deals.match)
    .reply(200, updatedAll())
    .post('/crm/v3/objects/notes/batch/create', writes.notes.match)
    .reply(201, createdAll('note'));
  if (taskReply === 'created') scope.post('/crm/v3/objects/tasks/batch/create', writes.tasks.match).reply(201, createdAll('task'));
  else scope.post('/crm/v3/objects/tasks/batch/create', writes.tasks.match).reply(500, { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' });
  /** Task inputs HubSpot received carrying this idempotency key. */
  const tasksWith = (key: string) => writes.tasks.bodies.flatMap((b) => b.inputs ?? []).filter((i: any) => i.objectWriteTraceId === key);
  return { writes, tasksWith };
}

describe('the approver hears of an approval through a CRM task', async () => {
  const t = await createTestApp();
  const portals: Record<string, number> = { 'tasks-co': 62601, 'desk-co': 62602, 'shadow-tasks': 62603 };
  const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object | string, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/api/workspaces/${url}`, headers: { ...t.auth, ...headers }, ...(payload === undefined ? {} : { payload }) });
  const publish = async (ws: string, text: string) => {
    nock(hubspotApi).get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines);
    const published = await api('PUT', `${ws}/playbook`, text, { 'content-type': 'application/yaml' });
    expect(published.statusCode).toBe(201);
  };

  beforeAll(async () => {
    for (const [ws, portalId] of Object.entries(portals)) {
      expect((await api('PUT', ws, { name: ws, mode: ws === 'shadow-tasks' ? 'shadow' : 'live' })).statusCode).toBe(201);
      expect((await api('PUT', `${ws}/sources/hubspot`, { clientSecrets: [hubspotTestSecret], appId: 54321, portalId })).statusCode).toBe(200);
      expect((await api('PUT', `${ws}/sources/docusign`, { hmacKeys: [docusignTestKey] })).statusCode).toBe(200);
      expect((await api('PUT', `${ws}/connection`, { provider: 'hubspot', auth: { type: 'private_app', accessToken: hubspotToken }, appId: '54321' })).statusCode).toBe(200);
      await publish(ws, ws === 'desk-co' ? playbookWithApprovalRule('  approver: { ownerId: "31400001" }\n') : playbookWithApprovalRule());
    }
    // Rae (77) reports to Max (78); owner 79 has no manager on record.
    expect((await api('PUT', 'tasks-co/people/77', { name: 'Rae Rep', managerId: '78' })).statusCode).toBe(200);
    expect((await api('PUT', 'tasks-co/people/78', { name: 'Max Manager', timeZone: 'Europe/Berlin' })).statusCode).toBe(200);
    expect((await api('PUT', 'tasks-co/people/79', { name: 'Lee Solo' })).statusCode).toBe(200);
    expect((await api('PUT', 'shadow-tasks/people/77', { name: 'Rae Rep', managerId: '78' })).statusCode).toBe(200);
  });

  /** The rep has the deal in Discovery in HubSpot; then a contract goes out for it. */
  async function contractSentEarly(ws: string, dealId: string) {
    const now = Date.now();
    const rep = await injectWebhook(t.app, signedHubspotRequest({
      url: `https://momentum.example.com/webhooks/${ws}/hubspot`,
      body: [hubspotEvent({ portalId: portals[ws], objectId: Number(dealId), propertyName: 'dealstage', propertyValue: 'appointmentscheduled', occurredAt: now - 60_000 })],
      timestamp: now,
    }));
    expect(rep.statusCode).toBe(200);
    const esign = await injectWebhook(t.app, signedDocusignRequest({
      body: docusignMessage({ event: 'envelope-sent', customFields: { hubspot_deal_id: dealId }, generatedDateTime: new Date(now - 1_000).toISOString() }),
      url: `https://momentum.example.com/webhooks/${ws}/docusign`,
    }));
    expect(esign.statusCode).toBe(200);
    await drainQueue(t);
    const listed = await api('GET', `${ws}/approvals`);
    const approval = listed.json().items.find((a: any) => a.dealId === dealId && a.proposed.type === 'advance_stage');
    expect(approval).toBeDefined();
    return approval as { id: string; decisionId: string; createdAt: string };
  }

  const taskRows = (ws: string, approvalId: string) =>
    t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', ws).where('idempotency_key', '=', approvalTaskKey(approvalId)).execute();

  it("asks the deal owner's manager with a high-priority task on the deal, sent to HubSpot once", async () => {
    const hubspot = mockHubspot();
    const approval = await contractSentEarly('tasks-co', '601');

    const [row, ...others] = await taskRows('tasks-co', approval.id);
    expect(others).toEqual([]);
    expect(row).toMatchObject({ kind: 'task', status: 'sent', deal_id: '601', decision_id: approval.decisionId, crm_id: `task-${approvalTaskKey(approval.id)}` });

    const [input, ...again] = hubspot.tasksWith(approvalTaskKey(approval.id));
    expect(again).toEqual([]);
    expect(input.associations).toEqual([{ to: { id: '601' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 216 }] }]);
    expect(input.properties).toMatchObject({
      hs_task_subject: 'Approve: move Acme 601 to Qualified',
      hubspot_owner_id: '78',
      hs_task_priority: 'HIGH',
      hs_task_status: 'NOT_STARTED',
    });
    const body: string = input.properties.hs_task_body;
    expect(body).toContain('Why: Contract sent while the deal is still in discovery');
    expect(body).toContain('Proposed: Discovery → Qualified.');
    expect(body).toContain('Budget confirmed or estimated');
    expect(body).toContain('You are the manager of the deal owner, Rae Rep.');
    expect(body).toContain(`https://momentum.example.com/console/w/tasks-co/approvals`);
    expect(body).toContain(`POST https://momentum.example.com/api/workspaces/tasks-co/approvals/${approval.id}/approve`);
    expect(body).toContain(`[momentum:${approvalTaskKey(approval.id)}]`);
    // Due one of Max's working days (Monday to Friday in Berlin) after the approval opened.
    const due = new Date(input.properties.hs_timestamp);
    const opened = Date.parse(approval.createdAt);
    expect(due.getTime() - opened).toBeGreaterThan(23 * 3600_000);
    expect(due.getTime() - opened).toBeLessThan(3 * 24 * 3600_000 + 3600_000);
    expect([0, 6]).not.toContain(new Date(due.getTime() + 3600_000).getUTCDay());
  });

  it('adds nothing when the deal is evaluated again or the notice job runs again', async () => {
    const hubspot = mockHubspot();
    const approval = (await api('GET', 'tasks-co/approvals')).json().items.find((a: any) => a.dealId === '601');
    await enqueueEvaluation(t.db, 'tasks-co', ['601'], 'signals');
    await drainQueue(t);
    const repeated = await notifyApprover({ db: t.db, publicBaseUrl: t.config.publicBaseUrl }, { workspaceId: 'tasks-co', approvalId: approval.id }, new Date());
    expect(repeated).toMatchObject({ outcome: 'queued', approverId: '78', added: 0 });
    await drainQueue(t);

    const approvals = await t.db.selectFrom('approvals').select('id').where('workspace_id', '=', 'tasks-co').where('deal_id', '=', '601').execute();
    expect(approvals).toHaveLength(1);
    expect(await taskRows('tasks-co', approval.id)).toHaveLength(1);
    expect(hubspot.writes.tasks.bodies).toEqual([]);
  });

  it('asks the deal owner when no manager is on record', async () => {
    const hubspot = mockHubspot();
    const approval = await contractSentEarly('tasks-co', '602');
    const [input] = hubspot.tasksWith(approvalTaskKey(approval.id));
    expect(input.properties.hubspot_owner_id).toBe('79');
    expect(input.properties.hs_task_body).toContain('no manager is on record for you');
  });

  it('asks the fixed approver the playbook names, and nobody when the playbook says notify: none', async () => {
    const hubspot = mockHubspot();
    const fixed = await contractSentEarly('desk-co', '611');
    expect(hubspot.tasksWith(approvalTaskKey(fixed.id)).map((i: any) => i.properties.hubspot_owner_id)).toEqual(['31400001']);

    await publish('desk-co', playbookWithApprovalRule('  approver: { ownerId: "31400001" }\n  notify: none\n'));
    const quiet = await contractSentEarly('desk-co', '612');
    expect(await taskRows('desk-co', quiet.id)).toEqual([]);
    expect(hubspot.tasksWith(approvalTaskKey(quiet.id))).toEqual([]);
  });

  it('records the task as shadow in a shadow workspace and sends nothing', async () => {
    const hubspot = mockHubspot();
    const unexpected = watchUnmatched();
    const approval = await contractSentEarly('shadow-tasks', '621');
    unexpected.stop();
    const rows = await taskRows('shadow-tasks', approval.id);
    expect(rows.map((r) => [r.status, (r.payload as any).ownerId])).toEqual([['shadow', '78']]);
    expect(hubspot.writes.tasks.bodies).toEqual([]);
    expect(unexpected.urls).toEqual([]);
  });

  it('creates the task in Salesforce as a Task on the opportunity (WhatId), owned by the approver', async () => {
    const instance = 'https://acme.my.salesforce.com';
    const base = '/services/data/v62.0';
    const opportunity = '0065e00000OppApAAA';
    const [rep, manager] = ['0055e000000OwnrAAA', '0055e000000MngrAAA'];
    expect((await api('PUT', 'sf-co', { name: 'sf-co', mode: 'live' })).statusCode).toBe(201);
    expect((await api('PUT', 'sf-co/playbook', playbookWithApprovalRule(), { 'content-type': 'application/yaml' })).statusCode).toBe(201);
    const connection = { provider: 'salesforce', auth: { type: 'refresh_token', clientId: '3MVG9_client', clientSecret: 'sf-client-secret', refreshToken: 'sf-refresh-token', instanceUrl: instance } };
    expect((await api('PUT', 'sf-co/connection', connection)).statusCode).toBe(200);
    expect((await api('PUT', `sf-co/people/${rep}`, { name: 'Sam Seller', managerId: manager })).statusCode).toBe(200);

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
          ? [{ attributes: { type: 'Opportunity' }, Id: opportunity, Name: 'Globex expansion', StageName: 'Qualification', Amount: 52000, CloseDate: '2026-09-30', OwnerId: rep, Probability: 20, IsClosed: false, IsWon: false, OpportunityContactRoles: null }]
          : [];
        return { totalSize: records.length, done: true, records };
      })
      .post(`${base}/composite/sobjects`, created.match)
      .reply(200, () => created.last().records.map((_: unknown, i: number) => ({ id: `00T5e00000Tsk${String(i).padStart(2, '0')}AAA`, success: true, errors: [] })))
      .patch(`${base}/composite/sobjects`, updated.match)
      .reply(200, () => updated.last().records.map((r: { id: string }) => ({ id: r.id, success: true, errors: [] })));

    const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
    const signals = await api('POST', `sf-co/deals/${opportunity}/signals`, { signals: [
      { id: 'sf-stage', type: 'crm.stage_changed', occurredAt: at(60), payload: { stage: 'Qualification' } },
      { id: 'sf-owner', type: 'crm.owner_changed', occurredAt: at(60), payload: { ownerId: rep } },
      { id: 'sf-esign', type: 'esign.sent', occurredAt: at(1), payload: { documentId: 'env-sf-1' } },
    ] });
    expect(signals.statusCode).toBe(202);
    await drainQueue(t);

    const approval = (await api('GET', 'sf-co/approvals')).json().items.find((a: any) => a.dealId === opportunity && a.proposed.type === 'advance_stage');
    expect(approval).toBeDefined();
    const [row] = await taskRows('sf-co', approval.id);
    expect(row).toMatchObject({ status: 'sent', crm_id: expect.stringMatching(/^00T5e00000Tsk/) });
    const tasks = created.bodies.flatMap((b) => b.records ?? []).filter((r: any) => String(r.Description).includes(`[momentum:${approvalTaskKey(approval.id)}]`));
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      attributes: { type: 'Task' },
      WhatId: opportunity,
      OwnerId: manager,
      Subject: 'Approve: move Globex expansion to Qualified',
      Priority: 'High',
      Status: 'Not Started',
      ActivityDate: (row!.payload as { dueDate: string }).dueDate.slice(0, 10),
    });
    expect(created.bodies.every((b) => b.allOrNone === false)).toBe(true);
    expect(tasks[0].Description).toContain('You are the manager of the deal owner, Sam Seller.');
  });

  it('withdraws a task that has not gone out when the approval is decided, replaced or expires', async () => {
    const hubspot = mockHubspot('server_error');
    const rejected = await contractSentEarly('tasks-co', '603');
    const expiring = await contractSentEarly('tasks-co', '604');
    const replaced = await contractSentEarly('tasks-co', '605');
    // HubSpot failed the creates: the tasks wait for a retry.
    for (const approval of [rejected, expiring, replaced]) expect((await taskRows('tasks-co', approval.id)).map((r) => r.status)).toEqual(['failed']);
    const attempts = () => [rejected, expiring, replaced].flatMap((a) => hubspot.tasksWith(approvalTaskKey(a.id))).length;
    const attemptsBefore = attempts();

    const decided = await api('POST', `tasks-co/approvals/${rejected.id}/reject`, { by: 'max@seller.example', reason: 'not before the budget is confirmed' });
    expect(decided.statusCode).toBe(200);
    expect((await taskRows('tasks-co', rejected.id)).map((r) => r.status)).toEqual(['superseded']);

    await sql`update approvals set expires_at = now() - interval '1 minute' where workspace_id = 'tasks-co' and id = ${expiring.id}`.execute(t.db);
    expect((await api('GET', 'tasks-co/approvals?status=expired')).json().items.map((a: any) => a.id)).toContain(expiring.id);
    expect((await taskRows('tasks-co', expiring.id)).map((r) => r.status)).toEqual(['superseded']);

    // The rep moves the deal on in HubSpot themselves: the waiting stage approval is obsolete.
    const now = Date.now();
    const moved = await injectWebhook(t.app, signedHubspotRequest({
      url: 'https://momentum.example.com/webhooks/tasks-co/hubspot',
      body: [hubspotEvent({ portalId: portals['tasks-co'], objectId: 605, propertyName: 'dealstage', propertyValue: 'presentationscheduled', occurredAt: now - 500 })],
      timestamp: now,
    }));
    expect(moved.statusCode).toBe(200);
    await drainQueue(t);
    expect((await api('GET', 'tasks-co/approvals?status=obsolete')).json().items.map((a: any) => a.id)).toContain(replaced.id);
    expect((await taskRows('tasks-co', replaced.id)).map((r) => r.status)).toEqual(['superseded']);

    // A flush finds nothing of theirs to send.
    await sql`update outbox set next_attempt_at = now() where workspace_id = 'tasks-co' and status = 'failed'`.execute(t.db);
    await flushOutbox(flushDeps(t), 'tasks-co');
    expect(attempts()).toBe(attemptsBefore);
    for (const approval of [rejected, expiring, replaced]) expect((await taskRows('tasks-co', approval.id)).map((r) => r.status)).toEqual(['superseded']);
  });
});
