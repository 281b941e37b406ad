import { describe, expect, it } from 'vitest';
import { docusignAdapter } from './adapter.ts';
import { docusignMessage, docusignTestConfig, signedDocusignRequest } from './fixtures.ts';

const now = new Date('2026-03-02T10:00:00Z');

describe('docusignAdapter', () => {
  it('verifies, parses and normalizes a signed Connect message end to end', async () => {
    const req = signedDocusignRequest({ body: docusignMessage() });
    expect(await docusignAdapter.verify(req, docusignTestConfig(), now)).toEqual({ ok: true, keyIndex: 0 });
    const { events } = docusignAdapter.normalize(docusignAdapter.parse(req), docusignTestConfig(), { workspaceId: 'ws_1', receivedAt: now });
    expect(events.map((event) => event.signals[0]?.type)).toEqual(['esign.completed']);
  });

  it('defaults the deal id field names', () => {
    expect(docusignAdapter.configSchema.parse({ hmacKeys: ['k'] })).toEqual({ hmacKeys: ['k'], dealIdFields: ['dealId', 'opportunityId', 'hubspot_deal_id'] });
    expect(docusignAdapter.secretFields).toEqual(['hmacKeys']);
  });
});
