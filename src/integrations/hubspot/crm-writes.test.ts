import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { hubspotConnectionConfig } from '../../crm/connection-config.ts';
import { CrmError } from '../../crm/errors.ts';
import { startSlowServer } from '../../crm/test-support/faulty-server.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { HubspotCrmClient } from './crm-client.ts';

const api = 'https://api.hubapi.com';
const rateHeaders = {
  'x-hubspot-ratelimit-max': '190',
  'x-hubspot-ratelimit-remaining': '187',
  'x-hubspot-ratelimit-interval-milliseconds': '10000',
  'x-hubspot-ratelimit-daily': '625000',
  'x-hubspot-ratelimit-daily-remaining': '624000',
};

function client(overrides: Record<string, unknown> = {}, fetchTimeoutMs = 2_000): HubspotCrmClient {
  const config = hubspotConnectionConfig.parse({
    provider: 'hubspot',
    auth: { type: 'private_app', accessToken: 'pat-na1-test' },
    probabilityProperty: 'hs_forecast_probability',
    ...overrides,
  });
  return new HubspotCrmClient(config, { tokenStore: new InMemoryTokenStore(), fetchTimeoutMs });
}

async function rejection(promise: Promise<unknown>): Promise<CrmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CrmError);
  return error as CrmError;
}

describe('HubSpot deal batch update', () => {
  it('sends pipeline and dealstage together with close date and probability, and reads the rate-limit headers', async () => {
    let sentBody: unknown;
    const scope = nock(api, { reqheaders: { authorization: 'Bearer pat-na1-test' } })
      .post('/crm/v3/objects/deals/batch/update', (body) => {
        sentBody = body;
        return true;
      })
      .reply(
        200,
        {
          status: 'COMPLETE',
          results: [
            { id: '1001', properties: { dealstage: 'qualifiedtobuy' }, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-05-01T00:00:00Z', archived: false },
            { id: '1002', properties: { closedate: '2024-06-30T00:00:00Z' }, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-05-01T00:00:00Z', archived: false },
          ],
          startedAt: '2024-05-01T00:00:00Z',
          completedAt: '2024-05-01T00:00:01Z',
        },
        rateHeaders,
      );

    const result = await client().updateDeals([
      { key: 'k-1', dealId: '1001', fields: { stage: { pipelineId: '7412', stageId: '81234' }, probability: 0.4 } },
      { key: 'k-2', dealId: '1002', fields: { closeDate: '2024-06-30' } },
    ]);

    expect(sentBody).toEqual({
      inputs: [
        { id: '1001', objectWriteTraceId: 'k-1', properties: { pipeline: '7412', dealstage: '81234', hs_forecast_probability: '0.4' } },
        { id: '1002', objectWriteTraceId: 'k-2', properties: { closedate: '2024-06-30T00:00:00.000Z' } },
      ],
    });
    expect(result.items).toEqual([
      { key: 'k-1', outcome: 'ok', crmId: '1001' },
      { key: 'k-2', outcome: 'ok', crmId: '1002' },
    ]);
    expect(result.rateLimit).toEqual({ max: 190, remaining: 187, intervalMs: 10000, dailyLimit: 625000, dailyUsed: 1000 });
    expect(scope.isDone()).toBe(true);
  });

  it('does not call HubSpot for a probability alone when no probability property is configured', async () => {
    const result = await client({ probabilityProperty: undefined }).updateDeals([{ key: 'k-1', dealId: '1001', fields: { probability: 0.5 } }]);
    expect(result.items).toEqual([{ key: 'k-1', outcome: 'ok' }]);
  });

  it('marks a deal HubSpot could not find as failed and the others as ok', async () => {
    nock(api)
      .post('/crm/v3/objects/deals/batch/update')
      .reply(207, {
        status: 'COMPLETE',
        results: [{ id: '1001', properties: {} }],
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid.',
            context: { ids: ['999'] },
          },
        ],
      });
    const result = await client().updateDeals([
      { key: 'k-1', dealId: '1001', fields: { closeDate: '2024-06-30' } },
      { key: 'k-2', dealId: '999', fields: { closeDate: '2024-06-30' } },
    ]);
    expect(result.items[0]).toEqual({ key: 'k-1', outcome: 'ok', crmId: '1001' });
    expect(result.items[1]?.outcome).toBe('failed');
    expect(result.items[1]?.error?.kind).toBe('permanent');
    expect(result.items[1]?.error?.code).toBe('OBJECT_NOT_FOUND');
  });

  it('refuses a batch larger than 100 or one that updates a deal twice', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ key: `k-${i}`, dealId: String(i), fields: { closeDate: '2024-06-30' } }));
    await expect(client().updateDeals(many)).rejects.toThrow(TypeError);
    await expect(
      client().updateDeals([
        { key: 'a', dealId: '1', fields: { closeDate: '2024-06-30' } },
        { key: 'b', dealId: '1', fields: { closeDate: '2024-07-30' } },
      ]),
    ).rejects.toThrow(/twice/);
  });
});

describe('HubSpot task batch create', () => {
  const tasks = [
    { key: 'task-a', dealId: '1001', subject: 'Schedule demo', body: 'Within 5 business days', dueDate: '2024-05-08T09:00:00Z', ownerId: '77', priority: 'high' as const },
    { key: 'task-b', dealId: '1002', subject: 'Send proposal', body: 'Use the new template', dueDate: '2024-05-09T09:00:00Z', priority: 'normal' as const },
  ];

  it('associates each task with its deal (216) and maps a 207 partial failure back by objectWriteTraceId', async () => {
    let sentBody: { inputs: unknown[] } | undefined;
    nock(api)
      .post('/crm/v3/objects/tasks/batch/create', (body) => {
        sentBody = body as { inputs: unknown[] };
        return true;
      })
      .reply(207, {
        status: 'COMPLETE',
        // The failure is listed first and the success carries only its trace id: order must not matter.
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'VALIDATION_ERROR',
            message: 'Property values were not valid: [{"isValid":false,"message":"77 is not a valid owner id","name":"hubspot_owner_id"}]',
            context: {},
            objectWriteTraceId: 'task-a',
          },
        ],
        results: [{ id: '5551', properties: { hs_task_subject: 'Send proposal' }, objectWriteTraceId: 'task-b' }],
      });

    const result = await client().createTasks(tasks);

    expect(sentBody?.inputs[0]).toEqual({
      objectWriteTraceId: 'task-a',
      properties: {
        hs_timestamp: '2024-05-08T09:00:00.000Z',
        hs_task_subject: 'Schedule demo',
        hs_task_body: 'Within 5 business days\n\n[momentum:task-a]',
        hs_task_status: 'NOT_STARTED',
        hs_task_priority: 'HIGH',
        hs_task_type: 'TODO',
        hubspot_owner_id: '77',
      },
      associations: [{ to: { id: '1001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 216 }] }],
    });
    expect(result.items).toHaveLength(2);
    expect(result.items[0]).toMatchObject({ key: 'task-a', outcome: 'failed' });
    expect(result.items[0]?.error?.kind).toBe('permanent');
    expect(result.items[0]?.error?.message).toMatch(/not a valid owner id/);
    expect(result.items[1]).toEqual({ key: 'task-b', outcome: 'ok', crmId: '5551' });
  });

  it('falls back to the body marker when results carry no trace id', async () => {
    nock(api)
      .post('/crm/v3/objects/tasks/batch/create')
      .reply(201, {
        status: 'COMPLETE',
        results: [
          { id: '2', properties: { hs_task_body: 'Use the new template\n\n[momentum:task-b]' } },
          { id: '1', properties: { hs_task_body: 'Within 5 business days\n\n[momentum:task-a]' } },
        ],
      });
    const result = await client().createTasks(tasks);
    expect(result.items.map((i) => [i.key, i.outcome, i.crmId])).toEqual([
      ['task-a', 'ok', '1'],
      ['task-b', 'ok', '2'],
    ]);
  });

  it('reports a record the answer does not mention as uncertain', async () => {
    nock(api).post('/crm/v3/objects/tasks/batch/create').reply(201, { status: 'COMPLETE', results: [{ id: '1', objectWriteTraceId: 'task-a' }] });
    const result = await client().createTasks(tasks);
    expect(result.items[1]).toMatchObject({ key: 'task-b', outcome: 'uncertain' });
  });

  it('creates notes associated with the deal (214)', async () => {
    let sentBody: unknown;
    nock(api)
      .post('/crm/v3/objects/notes/batch/create', (body) => {
        sentBody = body;
        return true;
      })
      .reply(201, { status: 'COMPLETE', results: [{ id: '9', objectWriteTraceId: 'note-1', properties: {} }] });
    const result = await client().createNotes([{ key: 'note-1', dealId: '1001', body: 'Champion left', timestamp: '2024-05-01T10:00:00Z' }]);
    expect(sentBody).toEqual({
      inputs: [
        {
          objectWriteTraceId: 'note-1',
          properties: { hs_timestamp: '2024-05-01T10:00:00.000Z', hs_note_body: 'Champion left\n\n[momentum:note-1]' },
          associations: [{ to: { id: '1001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 214 }] }],
        },
      ],
    });
    expect(result.items).toEqual([{ key: 'note-1', outcome: 'ok', crmId: '9' }]);
  });
});

/** A socket-level failure as Node reports it (nock needs an Error with a code for fetch). */
function socketError(code: string): Error {
  return Object.assign(new Error(code === 'ECONNRESET' ? 'socket hang up' : `connect ${code}`), { code });
}

const oneTask = { key: 't', dealId: '1', subject: 's', body: 'b', dueDate: '2024-05-08', priority: 'low' as const };

describe('HubSpot failures of a whole call', () => {
  const update = [{ key: 'k-1', dealId: '1001', fields: { closeDate: '2024-06-30' } }];

  it('turns a TEN_SECONDLY_ROLLING 429 into a burst rate limit with the interval as wait', async () => {
    nock(api)
      .post('/crm/v3/objects/deals/batch/update')
      .reply(
        429,
        {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: 'c0ffee',
          policyName: 'TEN_SECONDLY_ROLLING',
        },
        { 'x-hubspot-ratelimit-max': '190', 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      );
    const error = await rejection(client().updateDeals(update));
    expect(error).toMatchObject({ kind: 'rate_limited', policy: 'burst', retryAfterMs: 10_000, status: 429, code: 'TEN_SECONDLY_ROLLING' });
    expect(error.retryable).toBe(true);
    expect(error.rateLimit?.remaining).toBe(0);
  });

  it('turns a DAILY 429 into a daily rate limit', async () => {
    nock(api).post('/crm/v3/objects/deals/batch/update').reply(429, {
      status: 'error',
      message: 'You have reached your daily limit.',
      errorType: 'RATE_LIMIT',
      correlationId: 'c0ffee',
      policyName: 'DAILY',
    });
    const error = await rejection(client().updateDeals(update));
    expect(error).toMatchObject({ kind: 'rate_limited', policy: 'daily', status: 429 });
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(60 * 60_000);
  });

  it('treats a 5xx as transient and does not retry by itself', async () => {
    const scope = nock(api)
      .post('/crm/v3/objects/deals/batch/update')
      .once()
      .reply(503, { status: 'error', message: 'Service Unavailable', category: 'SERVICE_UNAVAILABLE' });
    const error = await rejection(client().updateDeals(update));
    expect(error).toMatchObject({ kind: 'transient', status: 503 });
    expect(scope.isDone()).toBe(true);
  });

  it('treats a dropped socket on a write as uncertain', async () => {
    nock(api).post('/crm/v3/objects/tasks/batch/create').replyWithError(socketError('ECONNRESET'));
    const error = await rejection(client().createTasks([oneTask]));
    expect(error).toMatchObject({ kind: 'uncertain', code: 'ECONNRESET' });
    expect(error.retryable).toBe(true);
  });

  it('treats a refused connection as transient even for a write: nothing was sent', async () => {
    nock(api).post('/crm/v3/objects/tasks/batch/create').replyWithError(socketError('ECONNREFUSED'));
    const error = await rejection(client().createTasks([oneTask]));
    expect(error).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
  });

  it('treats a write that outlives the timeout as uncertain', async () => {
    const slow = await startSlowServer(1_000, { status: 'COMPLETE', results: [] });
    try {
      const error = await rejection(client({ apiBaseUrl: slow.url }, 50).updateDeals(update));
      expect(error).toMatchObject({ kind: 'uncertain', code: 'TIMEOUT' });
    } finally {
      await slow.close();
    }
  });

  it('treats a read that outlives the timeout as transient', async () => {
    const slow = await startSlowServer(1_000, { results: [] });
    try {
      const error = await rejection(client({ apiBaseUrl: slow.url }, 50).listPipelines());
      expect(error).toMatchObject({ kind: 'transient', code: 'TIMEOUT' });
    } finally {
      await slow.close();
    }
  });

  it('treats a 400 as permanent with HubSpot\'s message', async () => {
    nock(api).post('/crm/v3/objects/deals/batch/update').reply(400, {
      status: 'error',
      message: 'Property values were not valid: [{"isValid":false,"message":"unknown stage","name":"dealstage"}]',
      correlationId: 'x',
      category: 'VALIDATION_ERROR',
    });
    const error = await rejection(client().updateDeals(update));
    expect(error).toMatchObject({ kind: 'permanent', status: 400, code: 'VALIDATION_ERROR' });
    expect(error.retryable).toBe(false);
    expect(JSON.stringify(error.toJSON())).not.toContain('pat-na1-test');
  });
});
