import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { salesforceConnectionConfig } from '../../crm/connection-config.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { SalesforceCrmClient } from './crm-client.ts';

const instance = 'https://acme.my.salesforce.com';
const base = '/services/data/v62.0';

function client(overrides: Record<string, unknown> = {}): SalesforceCrmClient {
  const config = salesforceConnectionConfig.parse({
    provider: 'salesforce',
    auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 'cs', refreshToken: 'r1', instanceUrl: instance },
    ...overrides,
  });
  const store = new InMemoryTokenStore({ accessToken: 'tok', expiresAt: null, refreshToken: 'r1', instanceUrl: instance });
  return new SalesforceCrmClient(config, { tokenStore: store, fetchTimeoutMs: 2_000 });
}

/** Intercepts a query and hands its SOQL to `check`. */
function expectQuery(endpoint: 'query' | 'queryAll', check: (soql: string) => boolean, body: unknown) {
  return nock(instance)
    .get(`${base}/${endpoint}`)
    .query((query) => typeof query.q === 'string' && check(query.q))
    .reply(200, body, { 'sforce-limit-info': 'api-usage=25/15000' });
}

describe('Salesforce stages', () => {
  it('lists active OpportunityStage rows as one default pipeline with fractional probabilities', async () => {
    expectQuery('query', (soql) => soql.includes('FROM OpportunityStage WHERE IsActive = true ORDER BY SortOrder'), {
      totalSize: 3,
      done: true,
      records: [
        { attributes: { type: 'OpportunityStage' }, ApiName: 'Prospecting', MasterLabel: 'Prospecting', DefaultProbability: 10, IsClosed: false, IsWon: false, SortOrder: 1 },
        { attributes: { type: 'OpportunityStage' }, ApiName: 'Closed Won', MasterLabel: 'Closed Won', DefaultProbability: 100, IsClosed: true, IsWon: true, SortOrder: 9 },
        { attributes: { type: 'OpportunityStage' }, ApiName: 'Closed Lost', MasterLabel: 'Closed Lost', DefaultProbability: 0, IsClosed: true, IsWon: false, SortOrder: 10 },
      ],
    });
    expect(await client().listPipelines()).toEqual([
      {
        id: 'default',
        label: 'Opportunity stages',
        stages: [
          { id: 'Prospecting', label: 'Prospecting', probability: 0.1, isClosed: false, isWon: false },
          { id: 'Closed Won', label: 'Closed Won', probability: 1, isClosed: true, isWon: true },
          { id: 'Closed Lost', label: 'Closed Lost', probability: 0, isClosed: true, isWon: false },
        ],
      },
    ]);
  });
});

describe('Salesforce readDeal', () => {
  it('reads the opportunity with its contact roles in one SOQL query', async () => {
    expectQuery('query', (soql) => soql.includes('FROM OpportunityContactRoles') && soql.endsWith("WHERE Id = '006000000000001AAA' LIMIT 1"), {
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: { type: 'Opportunity', url: `${base}/sobjects/Opportunity/006000000000001AAA` },
          Id: '006000000000001AAA',
          Name: 'Acme renewal',
          StageName: 'Negotiation/Review',
          Amount: 48000,
          CloseDate: '2024-09-30',
          OwnerId: '005000000000001AAA',
          Probability: 90,
          IsClosed: false,
          IsWon: false,
          OpportunityContactRoles: {
            totalSize: 3,
            done: true,
            records: [
              { attributes: { type: 'OpportunityContactRole' }, ContactId: '003000000000001AAA', Role: 'Economic Buyer', IsPrimary: true },
              { attributes: { type: 'OpportunityContactRole' }, ContactId: '003000000000001AAA', Role: 'Decision Maker', IsPrimary: false },
              { attributes: { type: 'OpportunityContactRole' }, ContactId: '003000000000002AAA', Role: null, IsPrimary: false },
            ],
          },
        },
      ],
    });
    expect(await client().readDeal('006000000000001AAA')).toEqual({
      id: '006000000000001AAA',
      name: 'Acme renewal',
      pipelineId: 'default',
      stageId: 'Negotiation/Review',
      amount: 48000,
      closeDate: '2024-09-30',
      ownerId: '005000000000001AAA',
      probability: 0.9,
      isClosed: false,
      isWon: false,
      contacts: [
        { contactId: '003000000000001AAA', roles: ['Economic Buyer', 'Decision Maker'], isPrimary: true },
        { contactId: '003000000000002AAA', roles: [], isPrimary: false },
      ],
    });
  });

  it('returns null when no opportunity matches, and for something that is not an id', async () => {
    expectQuery('query', () => true, { totalSize: 0, done: true, records: [] });
    expect(await client().readDeal('006000000000009AAA')).toBeNull();
    expect(await client().readDeal("x' OR Name != '")).toBeNull();
  });
});

describe('Salesforce findTasksByKeys', () => {
  it('reads recent tasks of the deals (deleted ones too) and matches the marker and the deal', async () => {
    let soqlSeen = '';
    expectQuery(
      'queryAll',
      (soql) => {
        soqlSeen = soql;
        return true;
      },
      {
        totalSize: 3,
        done: false,
        nextRecordsUrl: `${base}/query/01gxx0000000001-2000`,
        records: [
          { Id: '00T000000000001AAA', WhatId: '006000000000001AAA', Description: 'Call back\n\n[momentum:task-1]' },
          // Right key on another deal is not our task.
          { Id: '00T000000000002AAA', WhatId: '006000000000003AAA', Description: '[momentum:task-2]' },
        ],
      },
    );
    nock(instance)
      .get(`${base}/query/01gxx0000000001-2000`)
      .reply(200, { totalSize: 3, done: true, records: [{ Id: '00T000000000004AAA', WhatId: '006000000000002', Description: 'x [momentum:task-3]' }] });

    const found = await client({ integrationUserId: '005000000000009' }).findTasksByKeys([
      { key: 'task-1', dealId: '006000000000001' },
      { key: 'task-2', dealId: '006000000000002AAA' },
      { key: 'task-3', dealId: '006000000000002AAA' },
    ]);
    expect(found).toEqual(
      new Map([
        ['task-1', '00T000000000001AAA'],
        ['task-3', '00T000000000004AAA'],
      ]),
    );
    expect(soqlSeen).toBe(
      "SELECT Id, WhatId, Description FROM Task WHERE WhatId IN ('006000000000001', '006000000000002AAA') " +
        "AND CreatedById = '005000000000009' AND CreatedDate = LAST_N_DAYS:30 ORDER BY CreatedDate DESC",
    );
  });

  it('looks keys up exactly on the external-id field when configured', async () => {
    expectQuery('queryAll', (soql) => soql === "SELECT Id, Momentum_Key__c FROM Task WHERE Momentum_Key__c IN ('k1', 'k2')", {
      totalSize: 1,
      done: true,
      records: [{ Id: '00T000000000007AAA', Momentum_Key__c: 'k2' }],
    });
    const found = await client({ taskExternalIdField: 'Momentum_Key__c' }).findTasksByKeys([
      { key: 'k1', dealId: '006000000000001' },
      { key: 'k2', dealId: '006000000000001' },
    ]);
    expect(found).toEqual(new Map([['k2', '00T000000000007AAA']]));
  });
});

describe('Salesforce testConnection', () => {
  it('checks credentials, reads and the external-id field, in plain words', async () => {
    nock(instance).get(`${base}/limits`).reply(200, { DailyApiRequests: { Max: 15000, Remaining: 14000 } });
    expectQuery('queryAll', (soql) => soql.includes('FROM Opportunity LIMIT 1'), { totalSize: 0, done: true, records: [] });
    expectQuery('query', (soql) => soql.includes('FROM OpportunityStage'), { totalSize: 0, done: true, records: [] });
    expectQuery('queryAll', (soql) => soql.includes('FROM Task LIMIT 1'), { totalSize: 0, done: true, records: [] });
    nock(instance).get(`${base}/sobjects/Task/describe`).reply(200, { fields: [{ name: 'Momentum_Key__c', externalId: false }] });
    const result = await client({ taskExternalIdField: 'Momentum_Key__c' }).testConnection();
    expect(result.ok).toBe(false);
    expect(result.checks).toEqual([
      { name: 'credentials', ok: true, message: 'Salesforce accepted the credentials. 1000 of 15000 daily API requests used.' },
      { name: 'opportunities', ok: true, message: 'Opportunities can be read.' },
      { name: 'stages', ok: true, message: 'Found 0 active opportunity stage(s).' },
      { name: 'tasks', ok: true, message: 'Tasks can be read, so created tasks can be found again.' },
      { name: 'task external id field', ok: false, message: 'Task.Momentum_Key__c exists but is not marked as an External ID.' },
    ]);
  });
});
