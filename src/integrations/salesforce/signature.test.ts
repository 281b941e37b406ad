import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RawWebhookRequest } from '../webhook-source.ts';
import {
  opportunityNotification,
  outboundMessageXml,
  salesforceOutboundRequest,
  salesforceTestConfig,
  salesforceTestOrgId,
  signedSalesforceFlowRequest,
} from './fixtures.ts';
import { verifySalesforceRequest } from './signature.ts';

const xml = outboundMessageXml({ notifications: [opportunityNotification()] });
const flowBody = {
  organizationId: salesforceTestOrgId,
  events: [{ id: 'evt-1', object: 'Opportunity', fields: { Id: '0065e00000OppOneAAA', StageName: 'Closed Won' }, occurredAt: '2026-03-02T09:58:00Z' }],
};

describe('Salesforce outbound message verification', () => {
  it('accepts the right token from the right org', () => {
    expect(verifySalesforceRequest(salesforceOutboundRequest({ xml }), salesforceTestConfig())).toEqual({ ok: true, keyIndex: 0 });
  });

  it('compares the org on its first 15 characters', () => {
    const config = salesforceTestConfig({ organizationId: salesforceTestOrgId.slice(0, 15) });
    expect(verifySalesforceRequest(salesforceOutboundRequest({ xml }), config).ok).toBe(true);
  });

  it('rejects a wrong or missing token', () => {
    expect(verifySalesforceRequest(salesforceOutboundRequest({ xml, token: 'om-token-0123456789abcdeX' }), salesforceTestConfig()))
      .toEqual({ ok: false, reason: 'token does not match any active secret' });
    const req = salesforceOutboundRequest({ xml });
    expect(verifySalesforceRequest({ ...req, query: {} }, salesforceTestConfig())).toEqual({ ok: false, reason: 'missing token query parameter' });
  });

  it('fails cleanly on a token of the wrong length', () => {
    for (const token of ['', 'x', 'om-token-0123456789abcdef-and-more']) {
      expect(verifySalesforceRequest(salesforceOutboundRequest({ xml, token }), salesforceTestConfig()).ok).toBe(false);
    }
  });

  it('accepts the second token during a rotation', () => {
    const config = salesforceTestConfig({ urlToken: ['old-token-0123456789', 'new-token-0123456789'] });
    expect(verifySalesforceRequest(salesforceOutboundRequest({ xml, token: 'new-token-0123456789' }), config)).toEqual({ ok: true, keyIndex: 1 });
  });

  it("rejects a message from another org even with the right token", () => {
    const foreign = outboundMessageXml({ organizationId: '00D000000000999AAA', notifications: [opportunityNotification()] });
    expect(verifySalesforceRequest(salesforceOutboundRequest({ xml: foreign }), salesforceTestConfig())).toEqual({
      ok: false,
      reason: "OrganizationId is not this workspace's Salesforce org",
    });
  });

  it('leaves an unreadable body to the parser once the token matched', () => {
    expect(verifySalesforceRequest(salesforceOutboundRequest({ xml: '<not-xml' }), salesforceTestConfig()).ok).toBe(true);
  });

  it('never throws and never accepts a mutated token', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), (token, bytes) => {
        fc.pre(token !== 'om-token-0123456789abcdef');
        const req: RawWebhookRequest = { ...salesforceOutboundRequest({ xml, token }), rawBody: Buffer.from(bytes) };
        expect(verifySalesforceRequest(req, salesforceTestConfig()).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Salesforce JSON callout verification', () => {
  it('accepts a body signed with the callout secret', () => {
    expect(verifySalesforceRequest(signedSalesforceFlowRequest({ body: flowBody }), salesforceTestConfig()).ok).toBe(true);
  });

  it('accepts the second callout secret during a rotation', () => {
    const config = salesforceTestConfig({ flowCalloutSecret: ['old-secret-0123456789', 'new-secret-0123456789'] });
    const req = signedSalesforceFlowRequest({ body: flowBody, secret: 'new-secret-0123456789' });
    expect(verifySalesforceRequest(req, config)).toEqual({ ok: true, keyIndex: 1 });
  });

  it('rejects a wrong, short or missing signature, and callouts when none is configured', () => {
    const req = signedSalesforceFlowRequest({ body: flowBody, secret: 'another-secret-0123456789' });
    expect(verifySalesforceRequest(req, salesforceTestConfig()).ok).toBe(false);
    expect(verifySalesforceRequest({ ...req, headers: { ...req.headers, 'x-momentum-signature': 'abc' } }, salesforceTestConfig()).ok).toBe(false);
    expect(verifySalesforceRequest({ ...req, headers: { 'content-type': 'application/json' } }, salesforceTestConfig()).ok).toBe(false);
    const good = signedSalesforceFlowRequest({ body: flowBody });
    expect(verifySalesforceRequest(good, salesforceTestConfig({ flowCalloutSecret: undefined }))).toEqual({
      ok: false,
      reason: 'JSON callouts are not enabled for this source (no flowCalloutSecret)',
    });
  });

  it('rejects a signed callout for another org', () => {
    const req = signedSalesforceFlowRequest({ body: { ...flowBody, organizationId: '00D000000000999' } });
    expect(verifySalesforceRequest(req, salesforceTestConfig()).ok).toBe(false);
  });

  it('never accepts a mutated signature', () => {
    const req = signedSalesforceFlowRequest({ body: flowBody });
    const valid = req.headers['x-momentum-signature'] ?? '';
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.constantFrom(...'0123456789abcdefABCDEF'), (index, char) => {
        const mutated = valid.slice(0, index) + char + valid.slice(index + 1);
        fc.pre(mutated !== valid);
        expect(verifySalesforceRequest({ ...req, headers: { ...req.headers, 'x-momentum-signature': mutated } }, salesforceTestConfig()).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
