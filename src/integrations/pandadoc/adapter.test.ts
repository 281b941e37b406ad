import { describe, expect, it } from 'vitest';
import { pandadocAdapter } from './adapter.ts';
import { pandadocEvent, pandadocTestConfig, signedPandadocRequest } from './fixtures.ts';

const now = new Date('2026-03-02T10:00:00Z');

describe('pandadocAdapter', () => {
  it('verifies, parses and normalizes a signed delivery end to end', async () => {
    const req = signedPandadocRequest({ body: [pandadocEvent('document_state_changed')], eventId: 'wh-1' });
    expect(await pandadocAdapter.verify(req, pandadocTestConfig(), now)).toEqual({ ok: true, keyIndex: 0 });
    const { events } = pandadocAdapter.normalize(pandadocAdapter.parse(req), pandadocTestConfig(), { workspaceId: 'ws_1', receivedAt: now });
    expect(events.map((event) => [event.vendorEventId, event.signals[0]?.type])).toEqual([['wh-1:0', 'proposal.viewed']]);
  });

  it('defaults the metadata keys', () => {
    expect(pandadocAdapter.configSchema.parse({ sharedKeys: ['k'] })).toEqual({
      sharedKeys: ['k'],
      dealIdMetadataKeys: ['deal_id', 'hubspot_deal_id', 'salesforce_opportunity_id'],
    });
  });
});
