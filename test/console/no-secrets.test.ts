import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { docusignMessage, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';

/**
 * Secrets go in and never come out: after every kind of secret is stored through the console's own
 * forms (and one form is refused with a secret in it), no console page's HTML contains any of them.
 */
describe('console pages never render a stored secret', async () => {
  const t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const ws = 'vault';

  const secrets = {
    hubspotClientSecret: 'hs-client-secret-0a1b2c3d4e5f',
    salesforceUrlToken: 'sf-url-token-9z8y7x6w5v4u3t',
    salesforceFlowSecret: 'sf-flow-secret-1q2w3e4r5t6y7u',
    docusignKey: 'docusign-connect-key-h7j8k9l0',
    pandadocKey: 'pandadoc-shared-key-m1n2b3v4',
    gongToken: 'gong-url-token-p0o9i8u7y6t5',
    hubspotAccessToken: 'pat-na1-aaaabbbb-cccc-dddd-eeee-ffff00001111',
    refusedSecret: 'refused-secret-zzzz-yyyy-xxxx',
    refusedAccessToken: 'pat-na1-refused-0000-1111-2222',
  };

  let cookie = '';
  let csrf = '';
  const get = async (path: string) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
    return { status: response.status, text: await response.text() };
  };
  const post = async (path: string, form: Record<string, string>) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...form }).toString(),
    });
    return { status: response.status, text: await response.text() };
  };
  const expectNoSecret = (path: string, text: string) => {
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${path} shows ${name}`).toBe(false);
    expect(text.includes(t.token), `${path} shows the admin token`).toBe(false);
  };

  it('signs in with a plain form post', async () => {
    const login = await fetch(`${baseUrl}/console/login`);
    const loginCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
    const loginToken = /name="_login" value="([^"]+)"/.exec(await login.text())![1]!;
    const signedIn = await fetch(`${baseUrl}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _login: loginToken, token: t.token, next: '/console/workspaces' }).toString(),
    });
    expect(signedIn.status).toBe(303);
    cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]!).filter((c) => c.startsWith('momentum_console=')).join('; ');
    expect(cookie).toMatch(/^momentum_console=/);
    const page = await get('/console/workspaces');
    csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    expect((await post('/console/workspaces', { id: ws, name: 'Vault' })).status).toBe(303);
  });

  it('stores every kind of secret through the forms, and refuses bad forms without echoing their secrets', async () => {
    const saved = [
      await post(`/console/w/${ws}/sources/hubspot`, { settings: '{"appId": "54321", "portalId": "62599"}', 'secret.clientSecrets': secrets.hubspotClientSecret }),
      await post(`/console/w/${ws}/sources/salesforce`, { settings: '{"organizationId": "00D5e000000AbCd"}', 'secret.urlToken': secrets.salesforceUrlToken, 'secret.flowCalloutSecret': secrets.salesforceFlowSecret }),
      await post(`/console/w/${ws}/sources/docusign`, { settings: '{}', 'secret.hmacKeys': secrets.docusignKey }),
      await post(`/console/w/${ws}/sources/pandadoc`, { settings: '{}', 'secret.sharedKeys': secrets.pandadocKey }),
      await post(`/console/w/${ws}/sources/gong`, { settings: '{"mode": "url_token"}', 'secret.urlToken': secrets.gongToken }),
      await post(`/console/w/${ws}/connection`, { kind: 'hubspot-private_app', 'auth.accessToken': secrets.hubspotAccessToken, 'setting.appId': '54321', 'setting.tier': 'professional' }),
    ];
    expect(saved.map((r) => r.status)).toEqual([303, 303, 303, 303, 303, 303]);

    const refusedSource = await post(`/console/w/${ws}/sources/pandadoc`, { settings: '{"dealIdMetadataKeys": []}', 'secret.sharedKeys': secrets.refusedSecret });
    expect(refusedSource.status).toBe(400);
    expectNoSecret('refused source form', refusedSource.text);
    const shortToken = await post(`/console/w/${ws}/sources/gong`, { settings: '{"mode": "url_token"}', 'secret.urlToken': 'short' });
    expect(shortToken.status).toBe(400);
    expect(shortToken.text).not.toContain('value="short"');
    const refusedConnection = await post(`/console/w/${ws}/connection`, { kind: 'hubspot-private_app', 'auth.accessToken': secrets.refusedAccessToken, 'setting.appId': 'not-a-number' });
    expect(refusedConnection.status).toBe(400);
    expect(refusedConnection.text).toContain('appId');
    expectNoSecret('refused connection form', refusedConnection.text);

    // The stored secrets work: a delivery signed with the DocuSign key is accepted.
    const body = docusignMessage({ customFields: { hubspot_deal_id: '7007' } });
    const delivered = await injectWebhook(t.app, signedDocusignRequest({ url: `https://momentum.example.com/webhooks/${ws}/docusign`, body, keys: [secrets.docusignKey] }));
    expect(delivered.statusCode).toBe(200);
  });

  it('renders no secret on any page', async () => {
    const paths = [
      '/console/login', '/console/workspaces', `/console/w/${ws}`, `/console/w/${ws}?confirm=live`, `/console/w/${ws}/connection`,
      `/console/w/${ws}/sources`, `/console/w/${ws}/sources?status=accepted`, `/console/w/${ws}/playbook`, `/console/w/${ws}/playbook/versions/1`,
      `/console/w/${ws}/approvals`, `/console/w/${ws}/approvals?status=approved`, `/console/w/${ws}/deals`, `/console/w/${ws}/deals/7007`,
      `/console/w/${ws}/rules`, `/console/w/${ws}/outbox`,
    ];
    for (const path of paths) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expectNoSecret(path, page.text);
    }
    const sources = await get(`/console/w/${ws}/sources`);
    expect(sources.text.match(/class="status good">set</g)).toHaveLength(6);
    const connection = await get(`/console/w/${ws}/connection`);
    expect(connection.text).toContain('Set. Leave empty to keep the stored value');
  });
});
