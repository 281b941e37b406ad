import { describe, expect, it } from 'vitest';
import { connectionSecretPaths, crmConnectionConfig, redactConnectionConfig } from './connection-config.ts';

describe('connection config', () => {
  it('accepts both HubSpot auth shapes and both Salesforce auth shapes', () => {
    expect(crmConnectionConfig.safeParse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat' } }).success).toBe(true);
    expect(
      crmConnectionConfig.safeParse({
        provider: 'salesforce',
        auth: { type: 'jwt', consumerKey: 'ck', username: 'bot@acme.com', privateKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' },
        taskExternalIdField: 'Momentum_Key__c',
      }).success,
    ).toBe(true);
  });

  it('reports every problem with its path', () => {
    const result = crmConnectionConfig.safeParse({
      provider: 'salesforce',
      auth: { type: 'refresh_token', clientId: 'c', clientSecret: '', refreshToken: 'r', instanceUrl: 'http://acme.my.salesforce.com' },
      taskExternalIdField: 'bad field; DROP',
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['auth.clientSecret', 'auth.instanceUrl', 'taskExternalIdField']));
  });

  it('replaces every secret with { set: true } and leaves the rest alone', () => {
    const config = crmConnectionConfig.parse({
      provider: 'salesforce',
      auth: { type: 'refresh_token', clientId: 'cid', clientSecret: 's3cret', refreshToken: 'r3fresh', instanceUrl: 'https://acme.my.salesforce.com' },
    });
    const redacted = redactConnectionConfig(config);
    expect(redacted).toEqual({
      provider: 'salesforce',
      auth: { type: 'refresh_token', clientId: 'cid', clientSecret: { set: true }, refreshToken: { set: true }, instanceUrl: 'https://acme.my.salesforce.com' },
    });
    expect(JSON.stringify(redacted)).not.toMatch(/s3cret|r3fresh/);
    expect(config.auth).toMatchObject({ clientSecret: 's3cret' });
    expect(connectionSecretPaths).toContain('auth.privateKey');
  });
});
