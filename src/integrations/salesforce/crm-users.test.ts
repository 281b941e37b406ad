import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { salesforceConnectionConfig } from '../../crm/connection-config.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { SalesforceCrmClient } from './crm-client.ts';

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

/** A User row as the REST query resource returns it. */
function user(id: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    attributes: { type: 'User', url: `${base}/sobjects/User/${id}` },
    Id: id,
    Name: name,
    Email: `${name.split(' ')[0]!.toLowerCase()}@acme.example`,
    ManagerId: '005000000000009AAA',
    TimeZoneSidKey: 'America/Los_Angeles',
    IsActive: true,
    ...extra,
  };
}

describe('Salesforce users', () => {
  it('reads standard users with manager, time zone and active flag, and follows the query locator', async () => {
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
        records: [user('005000000000001AAA', 'Ana Rep'), user('005000000000002AAA', 'Ben Gone', { IsActive: false, ManagerId: null })],
      });
    nock(instance)
      .get(`${base}/query/01gD0000002HU6KIAW-2000`)
      .reply(200, { totalSize: 3, done: true, records: [user('005000000000009AAA', 'Vera Boss', { ManagerId: null, TimeZoneSidKey: 'Europe/Paris' })] });

    let calls = 0;
    const beforeCall = async () => void (calls += 1);
    const first = await client().listPeople({ cursor: null, beforeCall });
    expect(soql).toBe("SELECT Id, Name, Email, ManagerId, TimeZoneSidKey, IsActive FROM User WHERE UserType = 'Standard' ORDER BY Id");
    expect(first.people).toEqual([
      { id: '005000000000001AAA', name: 'Ana Rep', email: 'ana@acme.example', managerId: '005000000000009AAA', timeZone: 'America/Los_Angeles', active: true },
      { id: '005000000000002AAA', name: 'Ben Gone', email: 'ben@acme.example', managerId: null, timeZone: 'America/Los_Angeles', active: false },
    ]);
    expect(JSON.parse(first.next!)).toEqual({ locator: `${base}/query/01gD0000002HU6KIAW-2000`, lastId: '005000000000002AAA' });

    const second = await client().listPeople({ cursor: first.next, beforeCall });
    expect(second.people).toEqual([{ id: '005000000000009AAA', name: 'Vera Boss', email: 'vera@acme.example', managerId: null, timeZone: 'Europe/Paris', active: true }]);
    expect(second.next).toBeNull();
    expect(calls).toBe(2);
  });

  it('restarts after the last id when the query locator expired', async () => {
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
      .reply(200, { totalSize: 1, done: true, records: [user('005000000000003AAA', 'Cleo New')] });
    const page = await client().listPeople({ cursor: JSON.stringify({ locator: `${base}/query/01gD0000002HU6KIAW-2000`, lastId: '005000000000002AAA' }) });
    expect(soql).toMatch(/WHERE UserType = 'Standard' AND Id > '005000000000002AAA' ORDER BY Id$/);
    expect(page.people.map((p) => p.id)).toEqual(['005000000000003AAA']);
  });

  it('turns REQUEST_LIMIT_EXCEEDED into a daily rate limit', async () => {
    nock(instance)
      .get(`${base}/query`)
      .query(true)
      .reply(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], { 'sforce-limit-info': 'api-usage=100012/100000' });
    const error = await client().listPeople({ cursor: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', policy: 'daily', code: 'REQUEST_LIMIT_EXCEEDED' });
  });
});
