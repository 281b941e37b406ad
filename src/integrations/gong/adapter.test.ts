import { describe, expect, it } from 'vitest';
import { gongAdapter } from './adapter.ts';
import { gongCallBody, gongJwtConfig, gongTestKeyPair, signedGongJwtRequest } from './fixtures.ts';

const now = new Date('2026-03-02T10:00:00Z');

describe('gongAdapter', () => {
  it('verifies, parses and normalizes a JWT-signed delivery end to end', async () => {
    const { privateKey, publicKeyPem } = gongTestKeyPair();
    const config = gongJwtConfig([publicKeyPem]);
    const req = await signedGongJwtRequest({ body: gongCallBody(), privateKey, now });
    expect(await gongAdapter.verify(req, config, now)).toEqual({ ok: true, keyIndex: 0 });
    const { events } = gongAdapter.normalize(gongAdapter.parse(req), config, { workspaceId: 'ws_1', receivedAt: now });
    expect(events[0]?.signals[0]?.type).toBe('call.completed');
  });

  it('validates both authentication modes in its config', () => {
    expect(gongAdapter.configSchema.parse({ mode: 'url_token', urlToken: 'a-long-enough-token' })).toEqual({ mode: 'url_token', urlToken: ['a-long-enough-token'], trackerSignals: {} });
    expect(gongAdapter.configSchema.safeParse({ mode: 'url_token' }).success).toBe(false);
    expect(gongAdapter.configSchema.safeParse({ mode: 'hmac', urlToken: 'a-long-enough-token' }).success).toBe(false);
    expect(gongAdapter.configSchema.safeParse({ mode: 'url_token', urlToken: 'a-long-enough-token', trackerSignals: { X: 'crm.stage_changed' } }).success).toBe(false);
  });
});
