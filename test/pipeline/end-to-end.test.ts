import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';

const hubspotApi = 'https://api.hubapi.com';

/**
 * The core promise, end to end on real Postgres: a signed webhook is stored, becomes signals, the
 * engine decides under the default playbook, and the decision is written back to HubSpot, once.
 */
describe('webhook → signals → engine → HubSpot write-back', async () => {
  const t = await createTestApp();
  const ws = 'live-co';
  const dealId = '300';

  beforeAll(async () => {
    const put = (url: string, payload: object) => t.app.inject({ method: 'PUT', url, headers: t.auth, payload });
    expect((await put(`/api/workspaces/${ws}`, { name: 'Live Co', mode: 'live' })).statusCode).toBe(201);
    expect((await put(`/api/workspaces/${ws}/sources/hubspot`, { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 })).statusCode).toBe(200);
    expect((await put(`/api/workspaces/${ws}/sources/docusign`, { hmacKeys: [docusignTestKey] })).statusCode).toBe(200);
    const connection = await put(`/api/workspaces/${ws}/connection`, { provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-na1-e2e-secret' }, appId: '54321' });
    expect(connection.statusCode).toBe(200);
    expect(connection.body).not.toContain('pat-na1-e2e-secret');
  });

  it('closes the deal won when the contract is signed, writing stage, note and tasks exactly once', async () => {
    const now = Date.now();
    const rep = await injectWebhook(t.app, signedHubspotRequest({
      body: [hubspotEvent({ eventId: 1, objectId: Number(dealId), propertyName: 'dealstage', propertyValue: 'contractsent', occurredAt: now - 60_000 })],
      timestamp: now,
    }));
    expect(rep.statusCode).toBe(200);
    const signed = await injectWebhook(t.app, signedDocusignRequest({
      body: docusignMessage({ event: 'envelope-completed', customFields: { hubspot_deal_id: dealId }, generatedDateTime: new Date(now - 1000).toISOString() }),
      url: `https://momentum.example.com/webhooks/${ws}/docusign`,
    }));
    expect(signed.statusCode).toBe(200);

    // HubSpot echoes each input back as a result. Each body is captured by the reply that answers it
    // (a body matcher also sees requests meant for other paths, and calls may be in flight together).
    const sentToHubspot: { path: string; body: any }[] = [];
    const answer = (path: string, status: number, result: (input: any, n: number) => object) => async (request: Request) => {
      const body = (await request.json()) as { inputs: any[] };
      sentToHubspot.push({ path, body });
      return [status, { status: 'COMPLETE', results: body.inputs.map(result) }];
    };
    // The deal is new to Momentum: it is read from HubSpot first (owner, amount, champion).
    nock(hubspotApi)
      .get(`/crm/v3/objects/deals/${dealId}`)
      .query(true)
      .reply(200, {
        id: dealId,
        properties: { dealname: 'Acme platform', dealstage: 'contractsent', pipeline: 'default', amount: '48000', closedate: '2026-12-31T00:00:00Z', hubspot_owner_id: '77' },
        associations: { contacts: { results: [{ id: '501', type: 'deal_to_contact' }, { id: '501', type: 'champion' }] } },
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-11-01T00:00:00Z',
        archived: false,
      });
    nock(hubspotApi)
      .post('/crm/v3/objects/deals/batch/update')
      .reply(answer('deals', 200, (i) => ({ id: i.id, properties: i.properties })))
      .post('/crm/v3/objects/tasks/batch/create')
      .reply(answer('tasks', 201, (i, n) => ({ id: `t${n}`, objectWriteTraceId: i.objectWriteTraceId, properties: {} })))
      .post('/crm/v3/objects/notes/batch/create')
      .reply(answer('notes', 201, (i, n) => ({ id: `n${n}`, objectWriteTraceId: i.objectWriteTraceId, properties: {} })));

    await drainQueue(t);

    const deal = await t.app.inject({ url: `/api/workspaces/${ws}/deals/${dealId}`, headers: t.auth });
    expect(deal.statusCode).toBe(200);
    const view = deal.json();
    expect(view.stage).toBe('closed_won');
    expect(view.ownerId).toBe('77');
    expect(view.timeline.filter((e: any) => e.kind === 'signal' && e.origin === 'imported').map((e: any) => e.type)).toEqual(['crm.deal_created', 'stakeholder.added']);
    const won = view.timeline.find((e: any) => e.kind === 'decision' && e.type === 'advance_stage');
    expect(won).toMatchObject({ ruleId: 'adv-esign-completed', playbookVersion: 1, status: 'queued' });
    expect(won.signalIds.length).toBeGreaterThan(0);

    const stageWrite = sentToHubspot.find((c) => c.path === 'deals')!;
    expect(stageWrite.body.inputs).toEqual([
      expect.objectContaining({ id: dealId, properties: expect.objectContaining({ pipeline: 'default', dealstage: 'closedwon' }) }),
    ]);
    const note = sentToHubspot.find((c) => c.path === 'notes')!;
    expect(note.body.inputs[0].properties.hs_note_body).toContain('adv-esign-completed');
    const tasks = sentToHubspot.find((c) => c.path === 'tasks')!;
    expect(tasks.body.inputs.length).toBeGreaterThan(0);
    expect(tasks.body.inputs[0].properties.hubspot_owner_id).toBe('77');

    const outbox = (await t.app.inject({ url: `/api/workspaces/${ws}/outbox`, headers: t.auth })).json();
    expect(outbox.items.length).toBeGreaterThan(0);
    expect(outbox.items.map((row: any) => row.status)).toEqual(outbox.items.map(() => 'sent'));

    // Everything again: redelivered webhooks and re-run jobs must not write anything twice.
    const callsBefore = sentToHubspot.length;
    await injectWebhook(t.app, signedDocusignRequest({
      body: docusignMessage({ event: 'envelope-completed', customFields: { hubspot_deal_id: dealId }, generatedDateTime: new Date(now - 1000).toISOString() }),
      url: `https://momentum.example.com/webhooks/${ws}/docusign`,
    }));
    await drainQueue(t);
    expect(sentToHubspot.length).toBe(callsBefore);
  });
});
