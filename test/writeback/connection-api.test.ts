import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { defaultPlaybookText } from '../../src/engine/playbook/default-playbook.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { hubspotApi, hubspotDefaultPipelines } from './support.ts';

const token = 'pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const sfSecrets = { clientSecret: 'sf-client-secret-7D3F9A', refreshToken: '5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrSbHgiDyEEy' };
const deals = { results: [{ id: '1001', properties: { dealname: 'Acme' } }], paging: { next: { after: '1002' } } };

/**
 * The CRM connection through the admin API: secrets go in and never come out, are stored sealed,
 * survive edits that leave them out; the test button and playbook publishing ask the CRM itself.
 */
describe('the CRM connection API', async () => {
  const t = await createTestApp();
  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object | string, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/api/workspaces/${url}`, headers: { ...t.auth, ...headers }, ...(payload === undefined ? {} : { payload }) });
  const storedRow = (ws: string) => t.db.selectFrom('connections').selectAll().where('workspace_id', '=', ws).executeTakeFirstOrThrow();

  beforeAll(async () => {
    for (const ws of ['conn-hs', 'conn-sf', 'conn-pb']) expect((await call('PUT', ws, { name: ws, mode: 'live' })).statusCode).toBe(201);
  });

  it('accepts a HubSpot private-app token, never returns it, and stores it sealed', async () => {
    const put = await call('PUT', 'conn-hs/connection', { provider: 'hubspot', auth: { type: 'private_app', accessToken: token }, appId: '54321' });
    expect(put.statusCode).toBe(200);
    expect(put.body).not.toContain(token);
    expect(put.json()).toMatchObject({ provider: 'hubspot', config: { auth: { type: 'private_app', accessToken: { set: true } }, appId: '54321' }, lastTest: null });

    const get = await call('GET', 'conn-hs/connection');
    expect(get.statusCode).toBe(200);
    expect(get.body).not.toContain(token);
    expect(get.json().config.auth).toEqual({ type: 'private_app', accessToken: { set: true } });

    const row = await storedRow('conn-hs');
    expect(JSON.stringify(row.config)).not.toContain(token);
    expect(row.secrets).not.toContain(token);
    expect(row.secrets).not.toContain('accessToken');
    expect(t.deps.secretBox.open(row.secrets)).toEqual({ 'auth.accessToken': token });
  });

  it('keeps an omitted secret when only settings change, so the CRM still gets the original token', async () => {
    const put = await call('PUT', 'conn-hs/connection', { provider: 'hubspot', auth: { type: 'private_app' }, appId: '54321', tier: 'professional' });
    expect(put.statusCode).toBe(200);
    expect(put.json().config).toMatchObject({ tier: 'professional', auth: { accessToken: { set: true } } });

    const scope = nock(hubspotApi, { reqheaders: { authorization: `Bearer ${token}` } })
      .get('/crm/v3/objects/deals').query({ limit: '1' }).reply(200, deals)
      .get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines)
      .get('/crm/v3/objects/tasks').query({ limit: '1' }).reply(200, { results: [] });
    const test = await call('POST', 'conn-hs/connection/test');
    expect(scope.isDone()).toBe(true);
    expect(test.json()).toEqual({
      ok: true,
      checks: [
        { name: 'credentials', ok: true, message: 'HubSpot accepted the credentials.' },
        { name: 'pipelines', ok: true, message: 'Found 1 deal pipeline(s).' },
        { name: 'tasks', ok: true, message: 'Tasks can be read, so created tasks can be found again.' },
      ],
    });
    // The result is kept for the admin screen.
    const get = (await call('GET', 'conn-hs/connection')).json();
    expect(get.lastTest).toMatchObject({ ok: true });
    expect(Date.parse(get.lastTestedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('requires the secrets again when the auth type changes', async () => {
    const put = await call('PUT', 'conn-hs/connection', { provider: 'hubspot', auth: { type: 'oauth', clientId: 'a1b2c3' } });
    expect(put.statusCode).toBe(400);
    expect(put.json().error.code).toBe('invalid_connection');
    expect(put.json().error.details.map((d: any) => d.path)).toEqual(expect.arrayContaining(['body.auth.clientSecret', 'body.auth.refreshToken']));
    expect(put.body).not.toContain(token);
  });

  it('rejects an invalid body with every problem and its path, without echoing secrets', async () => {
    const put = await call('PUT', 'conn-hs/connection', {
      provider: 'hubspot',
      auth: { type: 'private_app', accessToken: token },
      apiBaseUrl: 'ftp://api.hubapi.com',
      appId: 'my-app',
      tier: 'platinum',
    });
    expect(put.statusCode).toBe(400);
    const { error } = put.json();
    expect(error.code).toBe('invalid_connection');
    expect(error.details.map((d: any) => d.path).sort()).toEqual(['body.apiBaseUrl', 'body.appId', 'body.tier']);
    expect(error.message).toMatch(/^body\.\w+: /);
    expect(put.body).not.toContain(token);
    expect((await call('PUT', 'conn-hs/connection', { provider: 'pipedrive' })).statusCode).toBe(400);
    // The stored connection is untouched.
    expect((await call('GET', 'conn-hs/connection')).json().config.tier).toBe('professional');
  });

  it('reports in plain words what fails when HubSpot refuses', async () => {
    nock(hubspotApi)
      .get('/crm/v3/objects/deals').query(true)
      .reply(200, deals)
      .get('/crm/v3/pipelines/deals')
      .reply(200, hubspotDefaultPipelines)
      .get('/crm/v3/objects/tasks').query(true)
      .reply(403, {
        status: 'error',
        message: 'This app hasn\'t been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.',
        correlationId: '4f0e3b8a-9c1d-4e2f-8a7b-6c5d4e3f2a1b',
        errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.contacts.read'] } }],
        category: 'MISSING_SCOPES',
      });
    const partly = (await call('POST', 'conn-hs/connection/test')).json();
    expect(partly.ok).toBe(false);
    expect(partly.checks.find((c: any) => c.name === 'tasks')).toEqual({
      name: 'tasks',
      ok: false,
      message: expect.stringMatching(/^The app is missing a permission \(scope\): This app hasn't been granted/),
    });

    nock(hubspotApi).get('/crm/v3/objects/deals').query(true).reply(401, {
      status: 'error',
      message: 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      correlationId: '9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d',
      category: 'INVALID_AUTHENTICATION',
    });
    const refused = await call('POST', 'conn-hs/connection/test');
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toEqual({
      ok: false,
      checks: [{ name: 'credentials', ok: false, message: expect.stringMatching(/^HubSpot rejected the credentials: Authentication credentials not found/) }],
    });
    expect(refused.body).not.toContain(token);
  });

  it('accepts a Salesforce connection with refresh-token auth, hiding its secrets', async () => {
    const body = {
      provider: 'salesforce',
      auth: { type: 'refresh_token', clientId: '3MVG9_client_id', ...sfSecrets, instanceUrl: 'https://acme.my.salesforce.com' },
      integrationUserId: '005000000000001AAA',
      taskExternalIdField: 'Momentum_Key__c',
    };
    const put = await call('PUT', 'conn-sf/connection', body);
    expect(put.statusCode).toBe(200);
    expect(put.json().config).toEqual({
      provider: 'salesforce',
      auth: { type: 'refresh_token', clientId: '3MVG9_client_id', clientSecret: { set: true }, refreshToken: { set: true }, instanceUrl: 'https://acme.my.salesforce.com' },
      integrationUserId: '005000000000001AAA',
      taskExternalIdField: 'Momentum_Key__c',
    });
    const row = await storedRow('conn-sf');
    for (const secret of Object.values(sfSecrets)) {
      expect(put.body).not.toContain(secret);
      expect((await call('GET', 'conn-sf/connection')).body).not.toContain(secret);
      expect(row.secrets).not.toContain(secret);
      expect(JSON.stringify(row.config)).not.toContain(secret);
    }

    const insecure = await call('PUT', 'conn-sf/connection', { ...body, auth: { ...body.auth, instanceUrl: 'http://acme.my.salesforce.com' }, taskExternalIdField: 'Key; DROP' });
    expect(insecure.statusCode).toBe(400);
    expect(insecure.json().error.details.map((d: any) => d.path).sort()).toEqual(['body.auth.instanceUrl', 'body.taskExternalIdField']);
  });

  it('keeps another workspace\'s token away from this connection', async () => {
    const { token: scoped } = await createAdminToken(t.db, { name: 'other team', workspaceId: 'conn-sf' });
    const get = await t.app.inject({ url: '/api/workspaces/conn-hs/connection', headers: { authorization: `Bearer ${scoped}` } });
    expect(get.statusCode).toBe(404);
    const put = await t.app.inject({ method: 'PUT', url: '/api/workspaces/conn-hs/connection', headers: { authorization: `Bearer ${scoped}` }, payload: { provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-na1-hijack' } } });
    expect(put.statusCode).toBe(404);
    expect(JSON.stringify(t.deps.secretBox.open((await storedRow('conn-hs')).secrets))).toContain(token);
  });

  describe('publishing a playbook checks its stage mapping against the CRM', () => {
    beforeAll(async () => {
      expect((await call('PUT', 'conn-pb/connection', { provider: 'hubspot', auth: { type: 'private_app', accessToken: token } })).statusCode).toBe(200);
    });
    const publish = (text: string) => call('PUT', 'conn-pb/playbook', text, { 'content-type': 'application/yaml' });

    it('refuses a stage id HubSpot does not have, naming where it is', async () => {
      const scope = nock(hubspotApi, { reqheaders: { authorization: `Bearer ${token}` } }).get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines);
      const typo = defaultPlaybookText().replace('hubspot: [qualifiedtobuy]', 'hubspot: [qualifiedtobuyy]');
      expect(typo).not.toBe(defaultPlaybookText());

      const published = await publish(typo);

      expect(scope.isDone()).toBe(true);
      expect(published.statusCode).toBe(400);
      const { error } = published.json();
      expect(error.code).toBe('unknown_crm_stage');
      expect(error.details).toEqual([{ path: 'stages[2].crmStageIds.hubspot[0]', message: expect.stringContaining('"qualifiedtobuyy"') }]);
      expect(error.message).toContain('stages[2].crmStageIds.hubspot[0]');
      expect((await call('GET', 'conn-pb/playbook/versions')).json().items.map((v: any) => v.createdBy)).toEqual(['momentum default']);
    });

    it('publishes when every stage and pipeline is known', async () => {
      nock(hubspotApi).get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines);
      const published = await publish(defaultPlaybookText());
      expect(published.statusCode).toBe(201);
      expect(published.json().warnings).toBeUndefined();
      expect(published.json().version).toBe(2);
    });

    it('refuses a pipeline HubSpot does not have', async () => {
      nock(hubspotApi).get('/crm/v3/pipelines/deals').reply(200, hubspotDefaultPipelines);
      const published = await publish(defaultPlaybookText().replace('hubspot: [default]', 'hubspot: [enterprise]'));
      expect(published.statusCode).toBe(400);
      expect(published.json().error.details).toEqual([{ path: 'pipelines.hubspot[0]', message: expect.stringContaining('"enterprise"') }]);
    });

    it('publishes with a warning when HubSpot cannot be asked', async () => {
      nock(hubspotApi).get('/crm/v3/pipelines/deals').reply(503, { status: 'error', message: 'Service Unavailable', category: 'SERVICE_UNAVAILABLE' });
      const published = await publish(defaultPlaybookText());
      expect(published.statusCode).toBe(201);
      expect(published.json().warnings).toEqual([expect.stringContaining('could not be checked against the CRM')]);
    });
  });
});
