import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { hubspotConnectionConfig } from '../../crm/connection-config.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { HubspotCrmClient } from './crm-client.ts';

const api = 'https://api.hubapi.com';

function client(overrides: Record<string, unknown> = {}): HubspotCrmClient {
  const config = hubspotConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-x' }, ...overrides });
  return new HubspotCrmClient(config, { tokenStore: new InMemoryTokenStore(), fetchTimeoutMs: 2_000 });
}

describe('HubSpot pipelines', () => {
  it('turns string metadata into numbers and booleans, in display order, without archived stages', async () => {
    nock(api)
      .get('/crm/v3/pipelines/deals')
      .reply(200, {
        results: [
          {
            id: 'default',
            label: 'Sales Pipeline',
            displayOrder: 0,
            archived: false,
            stages: [
              { id: 'closedwon', label: 'Closed Won', displayOrder: 5, archived: false, metadata: { isClosed: 'true', probability: '1.0' } },
              { id: 'appointmentscheduled', label: 'Appointment Scheduled', displayOrder: 0, archived: false, metadata: { isClosed: 'false', probability: '0.2' } },
              { id: 'closedlost', label: 'Closed Lost', displayOrder: 6, archived: false, metadata: { isClosed: 'true', probability: '0.0' } },
              { id: 'old', label: 'Old stage', displayOrder: 1, archived: true, metadata: { isClosed: 'false', probability: '0.1' } },
            ],
          },
        ],
      });
    expect(await client().listPipelines()).toEqual([
      {
        id: 'default',
        label: 'Sales Pipeline',
        stages: [
          { id: 'appointmentscheduled', label: 'Appointment Scheduled', probability: 0.2, isClosed: false },
          { id: 'closedwon', label: 'Closed Won', probability: 1, isClosed: true, isWon: true },
          { id: 'closedlost', label: 'Closed Lost', probability: 0, isClosed: true, isWon: false },
        ],
      },
    ]);
  });
});

describe('HubSpot readDeal', () => {
  it('reads stage, amount, close date, owner, probability and labelled contacts', async () => {
    nock(api)
      .get('/crm/v3/objects/deals/1001')
      .query((query) => query.associations === 'contacts' && String(query.properties).split(',').includes('hs_forecast_probability'))
      .reply(200, {
        id: '1001',
        properties: {
          dealname: 'Acme renewal',
          dealstage: 'qualifiedtobuy',
          pipeline: 'default',
          amount: '12000.50',
          closedate: '2024-06-30T00:00:00Z',
          hubspot_owner_id: '77',
          hs_deal_stage_probability: '0.4',
          hs_forecast_probability: '0.55',
          hs_is_closed: 'false',
          hs_is_closed_won: 'false',
        },
        associations: {
          contacts: {
            results: [
              { id: '201', type: 'deal_to_contact' },
              { id: '201', type: 'champion' },
              { id: '202', type: 'deal_to_contact' },
            ],
          },
        },
        createdAt: '2024-01-01T00:00:00Z',
        updatedAt: '2024-05-01T00:00:00Z',
        archived: false,
      });
    expect(await client({ probabilityProperty: 'hs_forecast_probability' }).readDeal('1001')).toEqual({
      id: '1001',
      name: 'Acme renewal',
      pipelineId: 'default',
      stageId: 'qualifiedtobuy',
      amount: 12000.5,
      closeDate: '2024-06-30',
      ownerId: '77',
      probability: 0.55,
      isClosed: false,
      isWon: false,
      contacts: [
        { contactId: '201', roles: ['champion'] },
        { contactId: '202', roles: [] },
      ],
    });
  });

  it('returns null for a deal HubSpot does not know', async () => {
    nock(api).get('/crm/v3/objects/deals/404').query(true).reply(404, { status: 'error', message: 'Object not found.', category: 'OBJECT_NOT_FOUND' });
    expect(await client().readDeal('404')).toBeNull();
  });
});

describe('HubSpot findTasksByKeys', () => {
  it('searches the task body for the key and keeps only exact marker matches', async () => {
    let searched: { filterGroups: unknown[] } | undefined;
    nock(api)
      .post('/crm/v3/objects/tasks/search', (body) => {
        searched = body as { filterGroups: unknown[] };
        return true;
      })
      .reply(200, {
        total: 2,
        results: [
          { id: '9001', properties: { hs_task_body: '<p>Schedule demo</p><p>[momentum:abc123]</p>' } },
          // A body that merely mentions a similar key is not ours.
          { id: '9002', properties: { hs_task_body: 'see [momentum:abc1234]' } },
        ],
      });
    const found = await client().findTasksByKeys([
      { key: 'abc123', dealId: '1001' },
      { key: 'zzz999', dealId: '1001' },
    ]);
    expect(found).toEqual(new Map([['abc123', '9001']]));
    expect(searched?.filterGroups).toEqual([
      { filters: [{ propertyName: 'hs_task_body', operator: 'CONTAINS_TOKEN', value: 'abc123' }] },
      { filters: [{ propertyName: 'hs_task_body', operator: 'CONTAINS_TOKEN', value: 'zzz999' }] },
    ]);
  });

  it('splits marker searches into groups of five keys', async () => {
    const scope = nock(api).post('/crm/v3/objects/tasks/search').times(2).reply(200, { total: 0, results: [] });
    const refs = Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, dealId: '1' }));
    await client().findTasksByKeys(refs);
    expect(scope.isDone()).toBe(true);
  });

  it('matches exactly on a configured task key property', async () => {
    let searched: unknown;
    nock(api)
      .post('/crm/v3/objects/tasks/search', (body) => {
        searched = body;
        return true;
      })
      .reply(200, { total: 1, results: [{ id: '9100', properties: { momentum_key: 'k1', hs_task_body: 'x' } }] });
    const found = await client({ taskKeyProperty: 'momentum_key' }).findTasksByKeys([
      { key: 'k1', dealId: '1' },
      { key: 'k2', dealId: '1' },
    ]);
    expect(found).toEqual(new Map([['k1', '9100']]));
    expect(searched).toMatchObject({ filterGroups: [{ filters: [{ propertyName: 'momentum_key', operator: 'IN', values: ['k1', 'k2'] }] }] });
  });
});

describe('HubSpot testConnection', () => {
  it('reports each check in plain words and never throws', async () => {
    nock(api).get('/crm/v3/objects/deals').query({ limit: '1' }).reply(200, { results: [] });
    nock(api).get('/crm/v3/pipelines/deals').reply(200, { results: [{ id: 'default', label: 'Sales', stages: [] }] });
    nock(api).get('/crm/v3/objects/tasks').query({ limit: '1' }).reply(403, {
      status: 'error',
      message: 'This app hasn\'t been granted all required scopes to make this call.',
      category: 'MISSING_SCOPES',
    });
    const result = await client().testConnection();
    expect(result.ok).toBe(false);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['credentials', true],
      ['pipelines', true],
      ['tasks', false],
    ]);
    expect(result.checks[2]?.message).toMatch(/missing a permission/);
  });

  it('stops after failed credentials', async () => {
    nock(api).get('/crm/v3/objects/deals').query(true).reply(401, { status: 'error', message: 'Authentication credentials not found.' });
    const result = await client().testConnection();
    expect(result).toEqual({
      ok: false,
      checks: [{ name: 'credentials', ok: false, message: 'HubSpot rejected the credentials: Authentication credentials not found.' }],
    });
  });
});
