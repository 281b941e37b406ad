import { describe, expect, it } from 'vitest';
import { crmConnectionConfig } from './connection-config.ts';
import { createCrmClient } from './create-crm-client.ts';
import { defaultQuota } from './rate-limit-defaults.ts';
import { InMemoryTokenStore } from './token-store.ts';

describe('createCrmClient', () => {
  it('builds the client for the configured provider with its batch size', () => {
    const tokenStore = new InMemoryTokenStore();
    const hubspot = createCrmClient(crmConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat' } }), { tokenStore });
    const salesforce = createCrmClient(
      crmConnectionConfig.parse({
        provider: 'salesforce',
        auth: { type: 'refresh_token', clientId: 'c', clientSecret: 's', refreshToken: 'r', instanceUrl: 'https://acme.my.salesforce.com' },
      }),
      { tokenStore },
    );
    expect([hubspot.provider, hubspot.maxBatchSize]).toEqual(['hubspot', 100]);
    expect([salesforce.provider, salesforce.maxBatchSize]).toEqual(['salesforce', 200]);
  });
});

describe('defaultQuota', () => {
  it('starts HubSpot at its tier budget and Salesforce without a burst budget', () => {
    const professional = crmConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'p' }, tier: 'professional' });
    expect(defaultQuota(professional)).toEqual({ burst: { requests: 190, intervalMs: 10_000 }, daily: 625_000 });
    const oauth = crmConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'oauth', clientId: 'c', clientSecret: 's', refreshToken: 'r' } });
    expect(defaultQuota(oauth)).toEqual({ burst: { requests: 110, intervalMs: 10_000 } });
  });
});
