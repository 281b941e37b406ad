import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { salesforceConnectionConfig } from '../../crm/connection-config.ts';
import { CrmError } from '../../crm/errors.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import { SalesforceCrmClient } from './crm-client.ts';

const login = 'https://login.salesforce.com';
const instance = 'https://acme.my.salesforce.com';
const stagesPath = /\/services\/data\/v62\.0\/query\?q=SELECT/;
const noRows = { totalSize: 0, done: true, records: [] };
const expiredSession = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];

function refreshTokenClient(store: InMemoryTokenStore): SalesforceCrmClient {
  const config = salesforceConnectionConfig.parse({
    provider: 'salesforce',
    auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 'csecret', refreshToken: 'r1', instanceUrl: instance },
  });
  return new SalesforceCrmClient(config, { tokenStore: store, fetchTimeoutMs: 2_000 });
}

describe('Salesforce refresh-token flow', () => {
  it('refreshes on a 401, keeps the instance URL and replays the call', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'old', expiresAt: null, refreshToken: 'r1', instanceUrl: instance });
    nock(instance, { reqheaders: { authorization: 'Bearer old' } }).get(stagesPath).reply(401, expiredSession);
    // An answer without `id` or `instance_url` would break jsforce's own refresh; ours keeps the instance.
    const token = nock(login)
      .post('/services/oauth2/token', { grant_type: 'refresh_token', client_id: 'cid', client_secret: 'csecret', refresh_token: 'r1' })
      .reply(200, { access_token: 'new', token_type: 'Bearer', issued_at: '1714564800000', signature: 'sig' });
    const replay = nock(instance, { reqheaders: { authorization: 'Bearer new' } }).get(stagesPath).reply(200, noRows);

    await refreshTokenClient(store).listPipelines();

    expect(token.isDone()).toBe(true);
    expect(replay.isDone()).toBe(true);
    expect(await store.load()).toEqual({ accessToken: 'new', expiresAt: null, refreshToken: 'r1', instanceUrl: instance });
  });

  it('follows the instance URL the token endpoint names', async () => {
    const moved = 'https://acme2.my.salesforce.com';
    const store = new InMemoryTokenStore();
    nock(login).post('/services/oauth2/token').reply(200, { access_token: 'a1', instance_url: moved, id: `${login}/id/00D000000000001AAA/005000000000001AAA` });
    const call = nock(moved).get(stagesPath).reply(200, noRows);
    await refreshTokenClient(store).listPipelines();
    expect(call.isDone()).toBe(true);
  });

  it('stops after one refresh when the API keeps answering 401', async () => {
    const store = new InMemoryTokenStore({ accessToken: 'old', expiresAt: null, refreshToken: 'r1', instanceUrl: instance });
    // Persisted interceptors: if the loop were unbounded these would be hit again and again.
    const api = nock(instance).get(stagesPath).reply(401, expiredSession).persist();
    let tokenCalls = 0;
    nock(login)
      .post('/services/oauth2/token')
      .reply(() => {
        tokenCalls += 1;
        return [200, { access_token: `fresh-${tokenCalls}`, instance_url: instance }];
      })
      .persist();
    const salesforce = refreshTokenClient(store);

    const error = await salesforce.listPipelines().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'INVALID_SESSION_ID' });
    expect(tokenCalls).toBe(1);

    // The next call within the backoff does not even ask for a token.
    await salesforce.listPipelines().catch(() => undefined);
    expect(tokenCalls).toBe(1);
    api.persist(false);
  });

  it('reports a revoked refresh token as auth', async () => {
    nock(login).post('/services/oauth2/token').reply(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
    const error = await refreshTokenClient(new InMemoryTokenStore()).listPipelines().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', code: 'invalid_grant', message: 'Salesforce refused to issue an access token: expired access/refresh token' });
  });
});

describe('Salesforce JWT bearer flow', () => {
  it('signs an RS256 assertion with iss, sub, aud and a short exp, and re-mints when the session expires', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const config = salesforceConnectionConfig.parse({
      provider: 'salesforce',
      auth: { type: 'jwt', consumerKey: '3MVG9consumer', username: 'momentum@acme.com', privateKey: privatePem, loginUrl: 'https://test.salesforce.com' },
    });
    const assertions: string[] = [];
    nock('https://test.salesforce.com')
      .post('/services/oauth2/token', (body: Record<string, string>) => {
        if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || typeof body.assertion !== 'string') return false;
        assertions.push(body.assertion);
        return true;
      })
      .reply(200, { access_token: 'jwt-token-2', instance_url: instance, token_type: 'Bearer' });
    nock(instance, { reqheaders: { authorization: 'Bearer jwt-token-1' } }).get(stagesPath).reply(401, expiredSession);
    nock(instance, { reqheaders: { authorization: 'Bearer jwt-token-2' } }).get(stagesPath).reply(200, noRows);

    // A session minted earlier has expired; there is no refresh token, so a new assertion is signed.
    const store = new InMemoryTokenStore({ accessToken: 'jwt-token-1', expiresAt: null, refreshToken: null, instanceUrl: instance });
    await new SalesforceCrmClient(config, { tokenStore: store, fetchTimeoutMs: 2_000 }).listPipelines();

    expect(assertions).toHaveLength(1);
    const assertion = assertions[0] as string;
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256' });
    const { payload } = await jwtVerify(assertion, await importSPKI(publicPem, 'RS256'), {
      issuer: '3MVG9consumer',
      subject: 'momentum@acme.com',
      audience: 'https://test.salesforce.com',
    });
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(300);
    expect(await store.load()).toEqual({ accessToken: 'jwt-token-2', expiresAt: null, refreshToken: null, instanceUrl: instance });
  });
});

describe('Salesforce JWT bearer with a PKCS#1 key', () => {
  it('accepts a "BEGIN RSA PRIVATE KEY" PEM and takes the instance from the token answer', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const config = salesforceConnectionConfig.parse({
      provider: 'salesforce',
      auth: { type: 'jwt', consumerKey: 'ck', username: 'bot@acme.com', privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() },
    });
    nock(login).post('/services/oauth2/token').reply(200, { access_token: 't', instance_url: instance });
    const call = nock(instance).get(stagesPath).reply(200, noRows);
    await new SalesforceCrmClient(config, { tokenStore: new InMemoryTokenStore(), fetchTimeoutMs: 2_000 }).listPipelines();
    expect(call.isDone()).toBe(true);
  });
});
