import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { hubspotConnectionConfig } from '../../crm/connection-config.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { HubspotCrmClient } from './crm-client.ts';

const api = 'https://api.hubapi.com';

function client(): HubspotCrmClient {
  const config = hubspotConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-na1-test' } });
  return new HubspotCrmClient(config, { tokenStore: new InMemoryTokenStore(), fetchTimeoutMs: 2_000 });
}

/** A task as HubSpot returns it from a batch update. */
const updatedTask = (id: string) => ({
  id,
  properties: { hs_task_status: 'COMPLETED', hs_lastmodifieddate: '2026-03-05T10:00:00.000Z' },
  createdAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-05T10:00:00.000Z',
  archived: false,
});

describe('HubSpot task completion (tasks batch update)', () => {
  it('sets hs_task_status to COMPLETED on each task by id, in one call, and maps the results back', async () => {
    let sentBody: unknown;
    const scope = nock(api, { reqheaders: { authorization: 'Bearer pat-na1-test' } })
      .post('/crm/v3/objects/tasks/batch/update', (body) => {
        sentBody = body;
        return true;
      })
      .reply(
        200,
        // Results come back in no particular order and without trace ids: matched by record id.
        { status: 'COMPLETE', results: [updatedTask('5552'), updatedTask('5551')], startedAt: '2026-03-05T10:00:00.000Z', completedAt: '2026-03-05T10:00:00.050Z' },
        { 'x-hubspot-ratelimit-max': '190', 'x-hubspot-ratelimit-remaining': '180', 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      );

    const result = await client().completeTasks([
      { key: 'done-a', crmTaskId: '5551' },
      { key: 'done-b', crmTaskId: '5552' },
    ]);

    expect(sentBody).toEqual({
      inputs: [
        { id: '5551', objectWriteTraceId: 'done-a', properties: { hs_task_status: 'COMPLETED' } },
        { id: '5552', objectWriteTraceId: 'done-b', properties: { hs_task_status: 'COMPLETED' } },
      ],
    });
    expect(result.items).toEqual([
      { key: 'done-a', outcome: 'ok', crmId: '5551' },
      { key: 'done-b', outcome: 'ok', crmId: '5552' },
    ]);
    expect(result.rateLimit).toMatchObject({ max: 190, remaining: 180 });
    expect(scope.isDone()).toBe(true);
  });

  it('fails only the task HubSpot no longer has (207), with its message; the others are completed', async () => {
    nock(api)
      .post('/crm/v3/objects/tasks/batch/update')
      .reply(207, {
        status: 'COMPLETE',
        results: [updatedTask('5551')],
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'Could not get some TASK objects, they may be deleted or not exist. Check that ids are valid.',
            context: { ids: ['5559'] },
          },
        ],
        startedAt: '2026-03-05T10:00:00.000Z',
        completedAt: '2026-03-05T10:00:00.050Z',
      });

    const result = await client().completeTasks([
      { key: 'done-a', crmTaskId: '5551' },
      { key: 'done-gone', crmTaskId: '5559' },
    ]);

    expect(result.items[0]).toEqual({ key: 'done-a', outcome: 'ok', crmId: '5551' });
    expect(result.items[1]).toMatchObject({ key: 'done-gone', outcome: 'failed' });
    expect(result.items[1]?.error).toMatchObject({ kind: 'permanent', code: 'OBJECT_NOT_FOUND' });
    expect(result.items[1]?.error?.message).toMatch(/Could not get some TASK objects/);
  });

  it('treats a gateway timeout as uncertain: the completion may have landed and is simply sent again', async () => {
    nock(api).post('/crm/v3/objects/tasks/batch/update').reply(504, 'Gateway Timeout');
    const error = await client().completeTasks([{ key: 'done-a', crmTaskId: '5551' }]).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ kind: 'uncertain', status: 504 });
  });

  it('calls nothing for an empty batch and refuses more than 100 completions or one task twice', async () => {
    expect(await client().completeTasks([])).toEqual({ items: [] });
    const many = Array.from({ length: 101 }, (_, i) => ({ key: `done-${i}`, crmTaskId: String(6000 + i) }));
    await expect(client().completeTasks(many)).rejects.toThrow(TypeError);
    await expect(client().completeTasks([{ key: 'a', crmTaskId: '1' }, { key: 'b', crmTaskId: '1' }])).rejects.toThrow(/twice/);
  });
});
