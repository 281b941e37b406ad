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
    auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 'csecret', refreshToken: 'r1', instanceUrl: instance },
  });
  const store = new InMemoryTokenStore({ accessToken: '00Dxx!token', expiresAt: null, refreshToken: 'r1', instanceUrl: instance });
  return new SalesforceCrmClient(config, { tokenStore: store, fetchTimeoutMs: 2_000 });
}

describe('Salesforce task completion (sObject Collections update)', () => {
  it('sets Status to Completed on each Task by id in one PATCH; a deleted task fails alone with its message', async () => {
    let sent: unknown;
    nock(instance, { reqheaders: { authorization: 'Bearer 00Dxx!token', 'sforce-call-options': 'client=momentum' } })
      .patch(`${base}/composite/sobjects`, (body) => {
        sent = body;
        return true;
      })
      .reply(
        200,
        [
          { id: '00T5e00000Tsk01AAA', success: true, errors: [] },
          { success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] },
          { id: '00T5e00000Tsk03AAA', success: true, errors: [] },
        ],
        { 'sforce-limit-info': 'api-usage=20018/100000' },
      );

    const result = await client().completeTasks([
      { key: 'done-a', crmTaskId: '00T5e00000Tsk01AAA' },
      { key: 'done-gone', crmTaskId: '00T5e00000Tsk02AAA' },
      // A 15-character id is the same record as the 18-character one Salesforce answers with.
      { key: 'done-c', crmTaskId: '00T5e00000Tsk03' },
    ]);

    expect(sent).toEqual({
      allOrNone: false,
      records: [
        { attributes: { type: 'Task' }, id: '00T5e00000Tsk01AAA', Status: 'Completed' },
        { attributes: { type: 'Task' }, id: '00T5e00000Tsk02AAA', Status: 'Completed' },
        { attributes: { type: 'Task' }, id: '00T5e00000Tsk03', Status: 'Completed' },
      ],
    });
    expect(result.items[0]).toEqual({ key: 'done-a', outcome: 'ok', crmId: '00T5e00000Tsk01AAA' });
    expect(result.items[1]).toMatchObject({ key: 'done-gone', outcome: 'failed' });
    expect(result.items[1]?.error).toMatchObject({ kind: 'permanent', code: 'ENTITY_IS_DELETED', message: 'entity is deleted' });
    expect(result.items[2]).toEqual({ key: 'done-c', outcome: 'ok', crmId: '00T5e00000Tsk03AAA' });
    expect(result.rateLimit).toEqual({ dailyUsed: 20018, dailyLimit: 100000 });
  });

  it('reports a result that names another record as uncertain rather than guessing', async () => {
    nock(instance).patch(`${base}/composite/sobjects`).reply(200, [{ id: '00T5e00000Tsk99AAA', success: true, errors: [] }]);
    const result = await client().completeTasks([{ key: 'done-a', crmTaskId: '00T5e00000Tsk01AAA' }]);
    expect(result.items[0]).toMatchObject({ key: 'done-a', outcome: 'uncertain' });
  });

  it('calls nothing for an empty batch and refuses more than 200 completions or an id that is not a Salesforce id', async () => {
    expect(await client().completeTasks([])).toEqual({ items: [] });
    const many = Array.from({ length: 201 }, (_, i) => ({ key: `done-${i}`, crmTaskId: `00T5e00000T${String(i).padStart(4, '0')}AAA` }));
    await expect(client().completeTasks(many)).rejects.toThrow(TypeError);
    await expect(client().completeTasks([{ key: 'done-a', crmTaskId: "00T' OR Id != '" }])).rejects.toThrow(/not a Salesforce id/);
  });
});
