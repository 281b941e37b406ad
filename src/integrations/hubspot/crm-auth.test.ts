import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { hubspotConnectionConfig } from '../../crm/connection-config.ts';
import { CrmError } from '../../crm/errors.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { HubspotCrmClient } from './crm-client.ts';

const api = 'https://api.hubapi.com';
const config = hubspotConnectionConfig.parse({
  provider: 'hubspot',
  auth: { type: 'oauth', clientId: 'client-1', clientSecret: 'secret-1', refreshToken: 'refresh-1' },
});
const pipelines = { results: [] };
const now = Date.parse('2024-05-01T12:00:00Z');

function client(store: InMemoryTokenStore): HubspotCrmClient {
  return new HubspotCrmClient(config, { tokenStore: store, fetchTimeoutMs: 2_000, now: () => now });
}

function tokenEndpoint(expectedRefreshToken: string, answer: { access_token: string; refresh_token?: string }) {
  // The token call carries its credentials in the form, never in an Authorization header.
  return nock(api, { badheaders: ['authorization'] })
    .post('/oauth/v1/token', (body: Record<string, string>) =>
      body.grant_type === 'refresh_token' &&
      body.client_id === 'client-1' &&
      body.client_secret === 'secret-1' &&
      body.refresh_token === expectedRefreshToken,
    )
    .matchHeader('content-type', /application\/x-www-form-urlencoded/)
    .reply(200, { token_type: 'bearer', expires_in: 1800, refresh_token: 'refresh-1', ...answer });
}

describe('HubSpot OAuth', () => {
  it('refreshes on a 401, persists the new tokens and replays the call once', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'old-token', expiresAt: now + 600_000, refreshToken: 'refresh-1' });
    const api401 = nock(api, { reqheaders: { authorization: 'Bearer old-token' } })
      .get('/crm/v3/pipelines/deals')
      .reply(401, { status: 'error', message: 'The OAuth token used to make this call expired 2 minute(s) ago.', category: 'EXPIRED_AUTHENTICATION' });
    const refresh = tokenEndpoint('refresh-1', { access_token: 'new-token', refresh_token: 'refresh-2' });
    const apiOk = nock(api, { reqheaders: { authorization: 'Bearer new-token' } }).get('/crm/v3/pipelines/deals').reply(200, pipelines);

    await expect(client(store).listPipelines()).resolves.toEqual([]);

    expect([api401.isDone(), refresh.isDone(), apiOk.isDone()]).toEqual([true, true, true]);
    expect(await store.load()).toEqual({ accessToken: 'new-token', expiresAt: now + 1_800_000, refreshToken: 'refresh-2' });
  });

  it('gets a first token with the configured refresh token when the store is empty, then uses the rotated one', async () => {
    const store = new InMemoryTokenStore();
    tokenEndpoint('refresh-1', { access_token: 'a1', refresh_token: 'rotated' });
    nock(api, { reqheaders: { authorization: 'Bearer a1' } }).get('/crm/v3/pipelines/deals').reply(200, pipelines);
    const hubspot = client(store);
    await hubspot.listPipelines();

    // The next 401 must refresh with the rotated refresh token, not the configured one.
    nock(api).get('/crm/v3/pipelines/deals').reply(401, { status: 'error', message: 'expired' });
    tokenEndpoint('rotated', { access_token: 'a2', refresh_token: 'rotated' });
    nock(api, { reqheaders: { authorization: 'Bearer a2' } }).get('/crm/v3/pipelines/deals').reply(200, pipelines);
    await hubspot.listPipelines();
    expect((await store.load())?.accessToken).toBe('a2');
  });

  it('uses a token another process stored instead of refreshing again', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'shared', expiresAt: now + 600_000, refreshToken: 'refresh-1' });
    nock(api, { reqheaders: { authorization: 'Bearer shared' } }).get('/crm/v3/pipelines/deals').reply(200, pipelines);
    await client(store).listPipelines();
    expect(store.saveCount).toBe(0);
  });

  it('stops after one refresh when the new token is rejected too, and backs off for the next call', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'old-token', expiresAt: now + 600_000, refreshToken: 'refresh-1' });
    nock(api).get('/crm/v3/pipelines/deals').times(2).reply(401, { status: 'error', message: 'Authentication credentials not found.' });
    const refresh = tokenEndpoint('refresh-1', { access_token: 'new-token' });
    const hubspot = client(store);

    const error = await hubspot.listPipelines().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect(error).toMatchObject({ kind: 'auth', status: 401 });
    expect(refresh.isDone()).toBe(true);

    // The next call is refused locally: no token request, no API request.
    nock(api).get('/crm/v3/pipelines/deals').reply(401, { status: 'error', message: 'still no' });
    const second = await hubspot.listPipelines().catch((e: unknown) => e);
    expect(second).toMatchObject({ kind: 'auth' });
    expect(nock.pendingMocks()).toHaveLength(0);
  });

  it('reports a revoked refresh token as an auth error', async () => {
    nock(api).post('/oauth/v1/token').reply(400, { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token' });
    const error = await client(new InMemoryTokenStore()).listPipelines().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', code: 'BAD_REFRESH_TOKEN' });
    expect((error as CrmError).retryable).toBe(false);
  });

  it('renews a token that is about to expire before using it', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'expiring', expiresAt: now + 10_000, refreshToken: 'refresh-1' });
    tokenEndpoint('refresh-1', { access_token: 'fresh' });
    nock(api, { reqheaders: { authorization: 'Bearer fresh' } }).get('/crm/v3/pipelines/deals').reply(200, pipelines);
    await client(store).listPipelines();
    expect((await store.load())?.accessToken).toBe('fresh');
  });
});

describe('HubSpot private app', () => {
  it('fails with auth on a 401 without trying to refresh', async () => {
    const privateApp = hubspotConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-x' } });
    nock(api).get('/crm/v3/pipelines/deals').reply(401, { status: 'error', message: 'Authentication credentials not found.' });
    const error = await new HubspotCrmClient(privateApp, { tokenStore: new InMemoryTokenStore(), fetchTimeoutMs: 1_000 })
      .listPipelines()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth' });
    expect(JSON.stringify(error)).not.toContain('pat-x');
  });
});
