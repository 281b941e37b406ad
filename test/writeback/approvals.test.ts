import { playbookWithApprovalRule } from '../support/playbooks.ts';
import nock from 'nock';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import { approvalTaskCompletionKey, approvalTaskKey } from '../../src/writeback/approval-task.ts';
import { createdAll, hubspotApi, hubspotToken, outboxRows, isTaskCompletion, recorder, updatedAll, watchUnmatched, hubspotDealRead, hubspotDefaultPipelines } from './support.ts';

const playbookWithApproval = playbookWithApprovalRule();

/**
 * Mocks HubSpot for the whole pipeline: deal reads (hydration of unseen deals) answer with the
 * stage given, and every batch write is recorded and accepted.
 */
function mockHubspot(stageId: string) {
  const writes = { deals: recorder(), tasks: recorder(), notes: recorder(), completions: recorder(isTaskCompletion) };
  nock(hubspotApi)
    .persist()
    .get(/^\/crm\/v3\/objects\/deals\/\d+/)
    .query(true)
    // nock 15 hands a reply function the request itself.
    .reply(200, (request: { url: string }) => hubspotDealRead(new URL(request.url).pathname.split('/').at(-1)!, { name: 'Acme platform', stage: stageId }))
    .post('/crm/v3/objects/deals/batch/update', writes.deals.match)
    .reply(200, updatedAll())
    .post('/crm/v3/objects/tasks/batch/create', writes.tasks.match)
    .reply(201, createdAll('task'))
    .post('/crm/v3/objects/notes/batch/create', writes.notes.match)
    .reply(201, createdAll('note'))
    .post('/crm/v3/objects/tasks/batch/update', writes.completions.match)
    .reply(200, updatedAll());
  const stagesWritten = (dealId: string) =>
    writes.deals.bodies.flatMap((b) => b.inputs).filter((i: any) => i.id === dealId && i.properties.dealstage).map((i: any) => i.properties.dealstage);
  return { writes, stagesWritten };
}

/**
 * Approvals on the real pipeline: a rule in `approve` mode waits for a person; approving writes the
 * stage to HubSpot through the outbox, rejecting writes nothing, and closed or expired requests
 * cannot be decided again. A shadow workspace records everything and writes nothing.
 */
describe('approvals', async () => {
  const t = await createTestApp();
  const portals: Record<string, number> = { 'approve-co': 62515, 'shadow-co': 62516 };
  const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object | string, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/api/workspaces/${url}`, headers: { ...t.auth, ...headers }, ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    for (const [ws, portalId] of Object.entries(portals)) {
      expect((await api('PUT', ws, { name: ws, mode: ws === 'shadow-co' ? 'shadow' : 'live' })).statusCode).toBe(201);
      expect((await api('PUT', `${ws}/sources/hubspot`, { clientSecrets: [hubspotTestSecret], appId: 54321, portalId })).statusCode).toBe(200);
      expect((await api('PUT', `${ws}/sources/docusign`, { hmacKeys: [docusignTestKey] })).statusCode).toBe(200);
      expect((await api('PUT', `${ws}/connection`, { provider: 'hubspot', auth: { type: 'private_app', accessToken: hubspotToken }, appId: '54321' })).statusCode).toBe(200);
      nock(hubspotApi).get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines);
      const published = await api('PUT', `${ws}/playbook`, playbookWithApproval, { 'content-type': 'application/yaml' });
      expect(published.statusCode).toBe(201);
      expect(published.json().warnings).toBeUndefined();
    }
  });

  /** A rep has the deal in a stage in HubSpot; then an e-signature event arrives for it. */
  async function dealEvents(ws: string, dealId: string, hubspotStage: string, esignEvent: 'envelope-sent' | 'envelope-completed') {
    const now = Date.now();
    const rep = await injectWebhook(t.app, signedHubspotRequest({
      url: `https://momentum.example.com/webhooks/${ws}/hubspot`,
      body: [hubspotEvent({ portalId: portals[ws], objectId: Number(dealId), propertyName: 'dealstage', propertyValue: hubspotStage, occurredAt: now - 60_000 })],
      timestamp: now,
    }));
    expect(rep.statusCode).toBe(200);
    const esign = await injectWebhook(t.app, signedDocusignRequest({
      body: docusignMessage({ event: esignEvent, customFields: { hubspot_deal_id: dealId }, generatedDateTime: new Date(now - 1_000).toISOString() }),
      url: `https://momentum.example.com/webhooks/${ws}/docusign`,
    }));
    expect(esign.statusCode).toBe(200);
  }

  async function approvalFor(ws: string, dealId: string, status = 'pending') {
    const listed = await api('GET', `${ws}/approvals?status=${status}`);
    expect(listed.statusCode).toBe(200);
    return listed.json().items.find((a: any) => a.dealId === dealId);
  }

  /** The writes of the approved change: the decision's outbox rows other than the approver's task and its completion. */
  const changesOf = (ws: string, approval: { id: string; decisionId: string }) =>
    t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', ws).where('decision_id', '=', approval.decisionId)
      .where('idempotency_key', 'not in', [approvalTaskKey(approval.id), approvalTaskCompletionKey(approval.id)]).orderBy('id').execute();

  const decide = (ws: string, id: string, verdict: 'approve' | 'reject') =>
    api('POST', `${ws}/approvals/${id}/${verdict}`, { by: 'manager@seller.example', reason: 'checked with the rep' });

  it('asks a manager instead of writing, listing the proposed move and the gates not met', async () => {
    const hubspot = mockHubspot('appointmentscheduled');
    await dealEvents('approve-co', '401', 'appointmentscheduled', 'envelope-sent');
    await drainQueue(t);

    const approval = await approvalFor('approve-co', '401');
    expect(approval).toMatchObject({
      status: 'pending',
      ruleId: 'approve-early-contract',
      proposed: { type: 'advance_stage', fromStage: 'discovery', toStage: 'qualified', crmStage: 'qualifiedtobuy' },
      decidedBy: null,
    });
    expect(approval.missingGates.map((g: any) => `${g.stage}.${g.gateId}`)).toEqual(expect.arrayContaining(['discovery.budget', 'discovery.next_step']));
    expect(approval.signalIds.length).toBeGreaterThan(0);
    expect(Date.parse(approval.expiresAt)).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);

    // Nothing moved: not in Momentum's mirror, not in HubSpot (though the deal's other writes went out).
    expect((await api('GET', 'approve-co/deals/401')).json().stage).toBe('discovery');
    expect(hubspot.stagesWritten('401')).toEqual([]);
    const sentFor401 = await t.db.selectFrom('outbox').select(['kind', 'status']).where('workspace_id', '=', 'approve-co').where('deal_id', '=', '401').execute();
    expect(sentFor401.length).toBeGreaterThan(0);
    expect(sentFor401.every((r) => r.status === 'sent')).toBe(true);
    // The decision's only write so far is the task asking the deal owner (no manager on record) to decide.
    const rows = await t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', 'approve-co').where('decision_id', '=', approval.decisionId).execute();
    expect(rows.map((r) => [r.kind, r.idempotency_key, (r.payload as { ownerId?: string }).ownerId])).toEqual([['task', approvalTaskKey(approval.id), '77']]);
  });

  it('writes nothing when the request is rejected, and a rejected request cannot be approved', async () => {
    const hubspot = mockHubspot('appointmentscheduled');
    const approval = await approvalFor('approve-co', '401');

    const rejected = await decide('approve-co', approval.id, 'reject');
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json()).toEqual({ id: approval.id, status: 'rejected', writes: 0 });
    await drainQueue(t);

    expect(hubspot.stagesWritten('401')).toEqual([]);
    expect(await changesOf('approve-co', approval)).toEqual([]);
    // The task that asked for the decision had gone out: it is completed in HubSpot.
    expect(hubspot.writes.completions.bodies.flatMap((b) => b.inputs).map((i: any) => [i.id, i.properties.hs_task_status])).toEqual([[`task-${approvalTaskKey(approval.id)}`, 'COMPLETED']]);
    expect(await approvalFor('approve-co', '401', 'rejected')).toMatchObject({ decidedBy: 'manager@seller.example', decidedReason: 'checked with the rep' });
    const late = await decide('approve-co', approval.id, 'approve');
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('approval_closed');
  });

  it('queues the stage when approved and the flush writes it to HubSpot once; approving twice is a conflict', async () => {
    const hubspot = mockHubspot('appointmentscheduled');
    await dealEvents('approve-co', '402', 'appointmentscheduled', 'envelope-sent');
    await drainQueue(t);
    const approval = await approvalFor('approve-co', '402');

    const approved = await decide('approve-co', approval.id, 'approve');
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toEqual({ id: approval.id, status: 'approved', writes: 2 });
    const queued = await changesOf('approve-co', approval);
    expect(queued.map((r) => [r.kind, r.status])).toEqual([['deal_update', 'pending'], ['note', 'pending']]);

    await drainQueue(t);

    expect(hubspot.stagesWritten('402')).toEqual(['qualifiedtobuy']);
    const stageInput = hubspot.writes.deals.bodies.flatMap((b) => b.inputs).find((i: any) => i.id === '402' && i.properties.dealstage);
    expect(stageInput.properties.pipeline).toBe('default');
    const note = hubspot.writes.notes.bodies.flatMap((b) => b.inputs).find((i: any) => i.objectWriteTraceId === queued[1]!.idempotency_key);
    expect(note.properties.hs_note_body).toContain('approve-early-contract');
    const sent = await changesOf('approve-co', approval);
    expect(sent.map((r) => r.status)).toEqual(['sent', 'sent']);

    const twice = await decide('approve-co', approval.id, 'approve');
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('approval_closed');
    await drainQueue(t);
    expect(hubspot.stagesWritten('402')).toEqual(['qualifiedtobuy']);
  });

  it('lists an expired request as expired and refuses to approve it', async () => {
    const hubspot = mockHubspot('appointmentscheduled');
    await dealEvents('approve-co', '403', 'appointmentscheduled', 'envelope-sent');
    await drainQueue(t);
    const approval = await approvalFor('approve-co', '403');
    await sql`update approvals set expires_at = now() - interval '1 hour' where workspace_id = 'approve-co' and id = ${approval.id}`.execute(t.db);

    // Decided before anyone listed it: refused because it expired.
    const first = await decide('approve-co', approval.id, 'approve');
    expect(first.statusCode).toBe(409);
    expect(first.json().error.code).toBe('approval_expired');

    expect(await approvalFor('approve-co', '403')).toBeUndefined();
    expect(await approvalFor('approve-co', '403', 'expired')).toMatchObject({ id: approval.id, status: 'expired', decidedReason: expect.stringContaining('expired') });
    const again = await decide('approve-co', approval.id, 'approve');
    expect(again.statusCode).toBe(409);
    expect(await changesOf('approve-co', approval)).toEqual([]);
    // The listing that recorded the expiry asked for a flush: the task that had gone out is completed.
    await drainQueue(t);
    expect(hubspot.writes.completions.bodies.flatMap((b) => b.inputs).map((i: any) => i.id)).toEqual([`task-${approvalTaskKey(approval.id)}`]);
  });

  it('in a shadow workspace records every write as shadow and sends nothing, approved or not', async () => {
    const hubspot = mockHubspot('contractsent');
    const unexpected = watchUnmatched();
    await dealEvents('shadow-co', '501', 'contractsent', 'envelope-completed');
    await drainQueue(t);

    // The contract was signed: the deal is won in Momentum's mirror, with its writes recorded.
    expect((await api('GET', 'shadow-co/deals/501')).json().stage).toBe('closed_won');
    const rows = await outboxRows(t, 'shadow-co');
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['shadow']));
    expect(rows.some((r) => r.kind === 'deal_update' && JSON.stringify(r.payload).includes('closedwon'))).toBe(true);

    // An approved change in shadow mode is recorded the same way.
    await dealEvents('shadow-co', '502', 'appointmentscheduled', 'envelope-sent');
    await drainQueue(t);
    const approval = await approvalFor('shadow-co', '502');
    expect((await decide('shadow-co', approval.id, 'approve')).json()).toMatchObject({ status: 'approved', writes: 2 });
    await drainQueue(t);
    unexpected.stop();

    const approvedRows = await t.db.selectFrom('outbox').selectAll().where('workspace_id', '=', 'shadow-co').where('decision_id', '=', approval.decisionId).orderBy('id').execute();
    // The approver's task, its completion, then the approved change: all recorded, none sent.
    expect(approvedRows.map((r) => [r.kind, r.status])).toEqual([['task', 'shadow'], ['complete_task', 'shadow'], ['deal_update', 'shadow'], ['note', 'shadow']]);
    expect(hubspot.writes.deals.bodies).toEqual([]);
    expect(hubspot.writes.tasks.bodies).toEqual([]);
    expect(hubspot.writes.notes.bodies).toEqual([]);
    expect(unexpected.urls).toEqual([]);
  });
});
