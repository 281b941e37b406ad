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

function pipelines() {
  nock(api)
    .get('/crm/v3/pipelines/deals')
    .reply(200, { results: [{ id: 'default', label: 'Sales', displayOrder: 0, stages: [{ id: 'qualifiedtobuy', label: 'Qualified', displayOrder: 0, metadata: { isClosed: 'false', probability: '0.4' } }] }] });
}

function capture() {
  const bodies: any[] = [];
  return {
    bodies,
    match: (body: any) => {
      bodies.push(body);
      return true;
    },
  };
}

describe('HubSpot modified deals', () => {
  it('searches by last-modified date with after paging, and restarts from the last timestamp before the 10,000-result ceiling', async () => {
    pipelines();
    const search = capture();
    nock(api)
      .post('/crm/v3/objects/deals/search', search.match)
      .reply(200, {
        total: 20_000,
        results: [{ id: '9', properties: { dealstage: 'qualifiedtobuy', pipeline: 'default', hs_lastmodifieddate: '2026-11-25T10:00:00.000Z', hs_v2_date_entered_qualifiedtobuy: '2026-11-20T08:00:00.000Z', hs_forecast_probability: '0.35' } }],
        paging: { next: { after: '9900' } },
      });
    nock(api).post('/crm/v4/associations/deals/contacts/batch/read').reply(200, { status: 'COMPLETE', results: [] });
    const page = await client({ probabilityProperty: 'hs_forecast_probability' }).listModifiedDeals({
      since: new Date('2026-11-25T09:00:00.000Z'),
      cursor: JSON.stringify({ since: '1795597200000', after: '9800' }),
      activitiesSince: null,
    });
    expect(search.bodies[0]).toMatchObject({
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: '1795597200000' }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
      after: '9800',
      limit: 100,
    });
    expect(search.bodies[0].properties).toEqual(expect.arrayContaining(['hs_forecast_probability', 'hs_v2_date_entered_qualifiedtobuy', 'hs_date_entered_qualifiedtobuy']));
    expect(JSON.parse(page.next!)).toEqual({ since: String(Date.parse('2026-11-25T10:00:00.000Z')) });
    expect(page.deals[0]).toMatchObject({ id: '9', probability: 0.35, stageEnteredAt: '2026-11-20T08:00:00.000Z', modifiedAt: '2026-11-25T10:00:00.000Z' });
  });
});

describe('HubSpot activities of a page', () => {
  it('reads association ids per deal, then the records in batch reads of at most 100, keeping only recent ones', async () => {
    pipelines();
    nock(api).post('/crm/v3/objects/deals/search').reply(200, { total: 1, results: [{ id: '1', properties: { dealstage: 'qualifiedtobuy', pipeline: 'default' } }] });
    const assoc = capture();
    nock(api).post('/crm/v4/associations/deals/contacts/batch/read', assoc.match).reply(200, { status: 'COMPLETE', results: [] });
    const calls = Array.from({ length: 150 }, (_, i) => ({ toObjectId: 5000 + i, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 206, label: null }] }));
    nock(api).post('/crm/v4/associations/deals/calls/batch/read').reply(200, { status: 'COMPLETE', results: [{ from: { id: '1' }, to: calls }] });
    for (const type of ['emails', 'meetings', 'tasks']) nock(api).post(`/crm/v4/associations/deals/${type}/batch/read`).reply(200, { status: 'COMPLETE', results: [] });
    const reads = capture();
    nock(api)
      .post('/crm/v3/objects/calls/batch/read', reads.match)
      .times(2)
      .reply(200, () => ({
        status: 'COMPLETE',
        results: reads.bodies.at(-1).inputs.map((input: { id: string }) => ({
          id: input.id,
          properties: { hs_timestamp: input.id === '5000' ? '2026-11-20T10:00:00.000Z' : '2025-01-01T00:00:00.000Z', hs_call_duration: '600000', hs_call_status: 'COMPLETED' },
        })),
      }));
    const page = await client().listOpenDeals({ cursor: null, activitiesSince: new Date('2026-08-27T00:00:00Z'), pipelineIds: ['default'] });
    expect(assoc.bodies[0]).toEqual({ inputs: [{ id: '1' }] });
    expect(reads.bodies.map((b) => b.inputs.length)).toEqual([100, 50]);
    expect(reads.bodies[0].properties).toEqual(['hs_timestamp', 'hs_call_duration', 'hs_call_direction', 'hs_call_status', 'hs_call_title']);
    expect(page.activities).toEqual([{ kind: 'call', id: '5000', dealId: '1', occurredAt: '2026-11-20T10:00:00.000Z', durationMinutes: 10, completed: true }]);
    expect(page.next).toBeNull();
  });
});
