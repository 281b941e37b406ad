import { describe, expect, it } from 'vitest';
import { hubspotAdapter } from './adapter.ts';
import { hubspotEvent, hubspotTestConfig, signedHubspotRequest } from './fixtures.ts';

const now = new Date('2026-03-02T10:00:00Z');
const ctx = { workspaceId: 'ws_1', receivedAt: now };

describe('hubspotAdapter', () => {
  it('verifies, parses and normalizes a signed delivery end to end', async () => {
    const config = hubspotTestConfig();
    const req = signedHubspotRequest({ body: [hubspotEvent(), hubspotEvent({ subscriptionType: 'deal.creation' })], timestamp: now.getTime() });
    expect(await hubspotAdapter.verify(req, config, now)).toEqual({ ok: true, keyIndex: 0 });
    const normalized = hubspotAdapter.normalize(hubspotAdapter.parse(req), config, ctx);
    expect(normalized.events.map((event) => event.signals[0]?.type)).toEqual(['crm.stage_changed', 'crm.deal_created']);
  });

  it('declares its config, secret fields and content type', () => {
    expect(hubspotAdapter.secretFields).toEqual(['clientSecrets']);
    expect(hubspotAdapter.acceptedContentTypes).toEqual(['application/json']);
    const parsed = hubspotAdapter.configSchema.parse({ clientSecrets: ['s'], appId: 54321, portalId: '62515' });
    expect(parsed).toEqual({ clientSecrets: ['s'], appId: '54321', portalId: '62515', allowLegacySignatures: false });
    expect(hubspotAdapter.configSchema.safeParse({ clientSecrets: [], appId: '1', portalId: '2' }).success).toBe(false);
  });
});
