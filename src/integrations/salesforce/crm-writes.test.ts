import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { salesforceConnectionConfig } from '../../crm/connection-config.ts';
import { CrmError } from '../../crm/errors.ts';
import { startDroppingServer, startSlowServer } from '../../crm/test-support/faulty-server.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { SalesforceCrmClient } from './crm-client.ts';

const instance = 'https://acme.my.salesforce.com';
const base = '/services/data/v62.0';
const limitInfo = { 'sforce-limit-info': 'api-usage=10018/100000; api-bursts=1/750' };

function client(overrides: Record<string, unknown> = {}, fetchTimeoutMs = 2_000, tokenInstanceUrl = instance): SalesforceCrmClient {
  const config = salesforceConnectionConfig.parse({
    provider: 'salesforce',
    auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 'csecret', refreshToken: 'r1', instanceUrl: instance },
    ...overrides,
  });
  // The stored token names its instance; tests point it at a local misbehaving server when needed.
  const store = new InMemoryTokenStore({ accessToken: '00Dxx!token', expiresAt: null, refreshToken: 'r1', instanceUrl: tokenInstanceUrl });
  return new SalesforceCrmClient(config, { tokenStore: store, fetchTimeoutMs });
}

async function rejection(promise: Promise<unknown>): Promise<CrmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CrmError);
  return error as CrmError;
}

describe('Salesforce opportunity updates (sObject Collections)', () => {
  it('sends one PATCH with allOrNone false, maps per-record errors in order and reads Sforce-Limit-Info', async () => {
    let sent: unknown;
    nock(instance, {
      reqheaders: { authorization: 'Bearer 00Dxx!token', 'sforce-call-options': 'client=momentum' },
    })
      .patch(`${base}/composite/sobjects`, (body) => {
        sent = body;
        return true;
      })
      .reply(
        200,
        [
          { id: '006000000000001AAA', success: true, errors: [] },
          {
            id: '006000000000002AAA',
            success: false,
            errors: [{ statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Close date cannot be in the past', fields: ['CloseDate'] }],
          },
        ],
        limitInfo,
      );

    const result = await client().updateDeals([
      { key: 'u1', dealId: '006000000000001', fields: { stage: { pipelineId: 'default', stageId: 'Negotiation/Review' }, probability: 0.6 } },
      { key: 'u2', dealId: '006000000000002AAA', fields: { closeDate: '2020-01-01' } },
    ]);

    expect(sent).toEqual({
      allOrNone: false,
      records: [
        { attributes: { type: 'Opportunity' }, id: '006000000000001', StageName: 'Negotiation/Review', Probability: 60 },
        { attributes: { type: 'Opportunity' }, id: '006000000000002AAA', CloseDate: '2020-01-01' },
      ],
    });
    // The 15-character id we sent matches the 18-character id Salesforce answered with.
    expect(result.items[0]).toEqual({ key: 'u1', outcome: 'ok', crmId: '006000000000001AAA' });
    expect(result.items[1]).toMatchObject({ key: 'u2', outcome: 'failed' });
    expect(result.items[1]?.error).toMatchObject({ kind: 'permanent', code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION' });
    expect(result.items[1]?.error?.message).toBe('Close date cannot be in the past (CloseDate)');
    expect(result.rateLimit).toEqual({ dailyUsed: 10018, dailyLimit: 100000 });
  });

  it('treats a locked row as a transient per-record failure', async () => {
    nock(instance)
      .patch(`${base}/composite/sobjects`)
      .reply(200, [{ id: '006000000000001AAA', success: false, errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record', fields: [] }] }]);
    const result = await client().updateDeals([{ key: 'u1', dealId: '006000000000001', fields: { closeDate: '2024-09-30' } }]);
    expect(result.items[0]?.error).toMatchObject({ kind: 'transient', code: 'UNABLE_TO_LOCK_ROW' });
  });

  it('turns REQUEST_LIMIT_EXCEEDED into a daily rate limit', async () => {
    nock(instance)
      .patch(`${base}/composite/sobjects`)
      .reply(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], {
        'sforce-limit-info': 'api-usage=100012/100000',
      });
    const error = await rejection(client().updateDeals([{ key: 'u1', dealId: '006000000000001', fields: { closeDate: '2024-09-30' } }]));
    expect(error).toMatchObject({ kind: 'rate_limited', policy: 'daily', status: 403, code: 'REQUEST_LIMIT_EXCEEDED' });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.rateLimit).toEqual({ dailyUsed: 100012, dailyLimit: 100000 });
  });

  it('treats a dropped PATCH as uncertain: Salesforce may have applied it', async () => {
    const server = await startDroppingServer();
    try {
      const error = await rejection(
        client({}, 2_000, server.url).updateDeals([{ key: 'u1', dealId: '006000000000001', fields: { closeDate: '2024-09-30' } }]),
      );
      expect(error.kind).toBe('uncertain');
    } finally {
      await server.close();
    }
  });

  it('treats a dropped query as transient: reads change nothing', async () => {
    const server = await startDroppingServer();
    try {
      const error = await rejection(client({}, 2_000, server.url).listPipelines());
      expect(error.kind).toBe('transient');
    } finally {
      await server.close();
    }
  });

  it('treats a 503 as transient', async () => {
    nock(instance).patch(`${base}/composite/sobjects`).reply(503, [{ message: 'Server unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);
    const error = await rejection(client().updateDeals([{ key: 'u1', dealId: '006000000000001', fields: { closeDate: '2024-09-30' } }]));
    expect(error).toMatchObject({ kind: 'transient', status: 503 });
  });
});

describe('Salesforce task creation', () => {
  const task = {
    key: 'task-1',
    dealId: '006000000000001AAA',
    subject: 'Schedule demo',
    body: 'Within 5 business days',
    dueDate: '2024-05-08T09:00:00Z',
    ownerId: '005000000000001',
    priority: 'high' as const,
  };

  it('inserts Tasks on the opportunity with the marker in the description', async () => {
    let sent: unknown;
    nock(instance)
      .post(`${base}/composite/sobjects`, (body) => {
        sent = body;
        return true;
      })
      .reply(200, [{ id: '00T000000000001AAA', success: true, errors: [] }], limitInfo);
    const result = await client().createTasks([task]);
    expect(sent).toEqual({
      allOrNone: false,
      records: [
        {
          attributes: { type: 'Task' },
          WhatId: '006000000000001AAA',
          Subject: 'Schedule demo',
          Description: 'Within 5 business days\n\n[momentum:task-1]',
          ActivityDate: '2024-05-08',
          Priority: 'High',
          Status: 'Not Started',
          OwnerId: '005000000000001',
        },
      ],
    });
    expect(result.items).toEqual([{ key: 'task-1', outcome: 'ok', crmId: '00T000000000001AAA' }]);
  });

  it('upserts on the external-id field when one is configured, without touching Status', async () => {
    let sent: { records: Array<Record<string, unknown>> } | undefined;
    nock(instance)
      .patch(`${base}/composite/sobjects/Task/Momentum_Key__c`, (body) => {
        sent = body as typeof sent;
        return true;
      })
      .reply(200, [{ id: '00T000000000001AAA', success: true, errors: [], created: false }]);
    const result = await client({ taskExternalIdField: 'Momentum_Key__c' }).createTasks([task]);
    expect(sent?.records[0]).toMatchObject({ Momentum_Key__c: 'task-1', WhatId: '006000000000001AAA' });
    expect(sent?.records[0]).not.toHaveProperty('Status');
    expect(result.items[0]).toMatchObject({ outcome: 'ok', crmId: '00T000000000001AAA' });
  });

  it('writes notes as completed tasks', async () => {
    let sent: { records: Array<Record<string, unknown>> } | undefined;
    nock(instance)
      .post(`${base}/composite/sobjects`, (body) => {
        sent = body as typeof sent;
        return true;
      })
      .reply(200, [{ id: '00T000000000002AAA', success: true, errors: [] }]);
    await client().createNotes([{ key: 'n1', dealId: '006000000000001', body: 'Champion left\nMaria moved to another company', timestamp: '2024-05-01T10:00:00Z' }]);
    expect(sent?.records[0]).toMatchObject({ Subject: 'Champion left', Status: 'Completed', ActivityDate: '2024-05-01', TaskSubtype: 'Task' });
  });

  it('treats a create that outlives the timeout as uncertain', async () => {
    const server = await startSlowServer(1_000, []);
    try {
      const error = await rejection(client({}, 50, server.url).createTasks([task]));
      expect(error).toMatchObject({ kind: 'uncertain', code: 'TIMEOUT' });
    } finally {
      await server.close();
    }
  });
});
