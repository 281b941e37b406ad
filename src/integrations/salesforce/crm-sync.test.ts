import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { salesforceConnectionConfig } from '../../crm/connection-config.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { SalesforceCrmClient } from './crm-client.ts';
import { stageEnteredAt } from './crm-sync.ts';

const instance = 'https://acme.my.salesforce.com';
const base = '/services/data/v62.0';

function client(): SalesforceCrmClient {
  const config = salesforceConnectionConfig.parse({
    provider: 'salesforce',
    auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 'cs', refreshToken: 'r1', instanceUrl: instance },
  });
  const store = new InMemoryTokenStore({ accessToken: 'tok', expiresAt: null, refreshToken: 'r1', instanceUrl: instance });
  return new SalesforceCrmClient(config, { tokenStore: store, fetchTimeoutMs: 2_000 });
}

function opportunity(id: string, extra: Record<string, unknown> = {}) {
  return {
    attributes: { type: 'Opportunity' },
    Id: id,
    Name: `Opp ${id}`,
    StageName: 'Qualification',
    Amount: 25000,
    CloseDate: '2027-01-31',
    OwnerId: '005000000000001AAA',
    Probability: 20,
    IsClosed: false,
    IsWon: false,
    CreatedDate: '2026-09-01T10:00:00.000+0000',
    SystemModstamp: '2026-11-01T10:00:00.000+0000',
    OpportunityContactRoles: { totalSize: 1, done: true, records: [{ ContactId: '003000000000001AAA', Role: 'Economic Buyer', IsPrimary: true }] },
    OpportunityHistories: {
      totalSize: 3,
      done: true,
      records: [
        { StageName: 'Qualification', CreatedDate: '2026-10-20T08:00:00.000+0000' },
        { StageName: 'Qualification', CreatedDate: '2026-10-15T08:00:00.000+0000' },
        { StageName: 'Prospecting', CreatedDate: '2026-09-01T10:00:00.000+0000' },
      ],
    },
    ...extra,
  };
}

describe('Salesforce open deals', () => {
  it('reads opportunities with contact roles, stage history and recent activity in one query, then follows the query locator', async () => {
    let soql = '';
    nock(instance)
      .get(`${base}/query`)
      .query((q) => {
        soql = String(q.q);
        return true;
      })
      .reply(200, {
        totalSize: 3,
        done: false,
        nextRecordsUrl: `${base}/query/01gD0000002HU6KIAW-2000`,
        records: [
          opportunity('006000000000001AAA', {
            Tasks: {
              totalSize: 3,
              done: true,
              records: [
                { Id: '00T000000000001AAA', TaskSubtype: 'Email', Subject: 'Proposal', CreatedDate: '2026-11-10T09:00:00.000+0000' },
                { Id: '00T000000000002AAA', TaskSubtype: 'Call', CallDurationInSeconds: 1800, CallType: 'Outbound', CreatedDate: '2026-11-11T09:00:00.000+0000' },
                { Id: '00T000000000003AAA', TaskSubtype: 'Task', Subject: 'Send NDA', Status: 'Completed', IsClosed: true, CompletedDateTime: '2026-11-12T09:00:00.000+0000' },
              ],
            },
            Events: { totalSize: 1, done: true, records: [{ Id: '00U000000000001AAA', Subject: 'Product demo', StartDateTime: '2026-11-13T15:00:00.000+0000', DurationInMinutes: 45 }] },
          }),
          opportunity('006000000000002AAA'),
        ],
      }, { 'sforce-limit-info': 'api-usage=120/15000' });
    nock(instance)
      .get(`${base}/query/01gD0000002HU6KIAW-2000`)
      .reply(200, { totalSize: 3, done: true, records: [opportunity('006000000000003AAA')] });

    const since = new Date('2026-08-27T00:00:00Z');
    const first = await client().listOpenDeals({ cursor: null, activitiesSince: since, pipelineIds: null });
    expect(soql).toBe(
      'SELECT Id, Name, StageName, Amount, CloseDate, OwnerId, Probability, IsClosed, IsWon, CreatedDate, SystemModstamp, ' +
        '(SELECT ContactId, Role, IsPrimary FROM OpportunityContactRoles), ' +
        '(SELECT StageName, CreatedDate FROM OpportunityHistories ORDER BY CreatedDate DESC LIMIT 20), ' +
        '(SELECT Id, Subject, TaskSubtype, Status, IsClosed, CallDurationInSeconds, CallType, CompletedDateTime, CreatedDate FROM Tasks WHERE CreatedDate >= 2026-08-27T00:00:00Z), ' +
        '(SELECT Id, Subject, StartDateTime, DurationInMinutes FROM Events WHERE StartDateTime >= 2026-08-27T00:00:00Z) ' +
        'FROM Opportunity WHERE IsClosed = false ORDER BY Id',
    );
    expect(first.total).toBe(3);
    expect(first.rateLimit).toEqual({ dailyUsed: 120, dailyLimit: 15000 });
    expect(first.deals[0]).toMatchObject({
      id: '006000000000001AAA',
      stageId: 'Qualification',
      amount: 25000,
      probability: 0.2,
      stageEnteredAt: '2026-10-15T08:00:00.000Z',
      createdAt: '2026-09-01T10:00:00.000Z',
      modifiedAt: '2026-11-01T10:00:00.000Z',
      contacts: [{ contactId: '003000000000001AAA', roles: ['Economic Buyer'], isPrimary: true }],
    });
    expect(first.activities).toEqual([
      { kind: 'email', id: '00T000000000001AAA', dealId: '006000000000001AAA', occurredAt: '2026-11-10T09:00:00.000Z', direction: 'outbound', completed: true },
      { kind: 'call', id: '00T000000000002AAA', dealId: '006000000000001AAA', occurredAt: '2026-11-11T09:00:00.000Z', durationMinutes: 30, direction: 'outbound', completed: true },
      { kind: 'task', id: '00T000000000003AAA', dealId: '006000000000001AAA', occurredAt: '2026-11-12T09:00:00.000Z', subject: 'Send NDA', completed: true },
      { kind: 'meeting', id: '00U000000000001AAA', dealId: '006000000000001AAA', occurredAt: '2026-11-13T15:00:00.000Z', durationMinutes: 45, subject: 'Product demo', completed: true },
    ]);
    expect(JSON.parse(first.next!)).toEqual({ locator: `${base}/query/01gD0000002HU6KIAW-2000`, lastId: '006000000000002AAA' });

    const second = await client().listOpenDeals({ cursor: first.next, activitiesSince: since, pipelineIds: null });
    expect(second.deals.map((d) => d.id)).toEqual(['006000000000003AAA']);
    expect(second.next).toBeNull();
    expect(second.total).toBeUndefined();
  });

  it('restarts after the last id when a resumed import finds its query locator expired', async () => {
    nock(instance)
      .get(`${base}/query/01gD0000002HU6KIAW-2000`)
      .reply(400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
    let soql = '';
    nock(instance)
      .get(`${base}/query`)
      .query((q) => {
        soql = String(q.q);
        return true;
      })
      .reply(200, { totalSize: 1, done: true, records: [opportunity('006000000000003AAA')] });
    const cursor = JSON.stringify({ locator: `${base}/query/01gD0000002HU6KIAW-2000`, lastId: '006000000000002AAA' });
    const page = await client().listOpenDeals({ cursor, activitiesSince: null, pipelineIds: null });
    expect(soql).toMatch(/FROM Opportunity WHERE IsClosed = false AND Id > '006000000000002AAA' ORDER BY Id$/);
    expect(soql).not.toContain('FROM Tasks');
    expect(page.deals.map((d) => d.id)).toEqual(['006000000000003AAA']);
  });

  it('calls the shared limiter before every request', async () => {
    nock(instance).get(`${base}/query`).query(true).reply(200, { totalSize: 0, done: true, records: [] });
    let calls = 0;
    await client().listOpenDeals({ cursor: null, activitiesSince: null, pipelineIds: null, beforeCall: async () => void (calls += 1) });
    expect(calls).toBe(1);
  });
});

describe('Salesforce modified and deleted deals', () => {
  it('asks for opportunities by SystemModstamp, open or closed', async () => {
    let soql = '';
    nock(instance)
      .get(`${base}/query`)
      .query((q) => {
        soql = String(q.q);
        return true;
      })
      .reply(200, { totalSize: 1, done: true, records: [opportunity('006000000000001AAA', { StageName: 'Closed Won', IsClosed: true, IsWon: true })] });
    const page = await client().listModifiedDeals({ since: new Date('2026-11-25T10:00:00.000Z'), cursor: null, activitiesSince: null });
    expect(soql).toMatch(/FROM Opportunity WHERE SystemModstamp >= 2026-11-25T10:00:00Z ORDER BY SystemModstamp, Id$/);
    expect(page.deals[0]).toMatchObject({ stageId: 'Closed Won', isClosed: true, isWon: true });
  });

  it('lists deletions from the replication API', async () => {
    nock(instance)
      .get(`${base}/sobjects/Opportunity/deleted/`)
      .query((q) => typeof q.start === 'string' && typeof q.end === 'string' && q.start.endsWith('Z'))
      .reply(200, {
        deletedRecords: [{ id: '006000000000004AAA', deletedDate: '2026-11-25T10:05:00.000+0000' }],
        earliestDateAvailable: '2026-11-01T00:00:00.000+0000',
        latestDateCovered: '2026-11-25T10:10:00.000+0000',
      });
    const removed = await client().listRemovedDeals({ candidates: [], since: new Date(Date.now() - 3_600_000) });
    expect(removed).toEqual([{ dealId: '006000000000004AAA' }]);
  });
});

describe('stageEnteredAt', () => {
  it('takes the oldest row of the newest run in the current stage', () => {
    const rows = [
      { StageName: 'Negotiation', CreatedDate: '2026-05-03T00:00:00Z' },
      { StageName: 'Negotiation', CreatedDate: '2026-05-01T00:00:00Z' },
      { StageName: 'Proposal', CreatedDate: '2026-04-01T00:00:00Z' },
      { StageName: 'Negotiation', CreatedDate: '2026-03-01T00:00:00Z' },
    ];
    expect(stageEnteredAt('Negotiation', rows)).toBe('2026-05-01T00:00:00.000Z');
    expect(stageEnteredAt('Closed Won', rows)).toBeNull();
  });
});
