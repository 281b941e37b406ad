import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { hubspotConnectionConfig } from '../../crm/connection-config.ts';
import { InMemoryTokenStore } from '../../crm/token-store.ts';
import type { CrmPerson } from '../../crm/types.ts';
import { HubspotCrmClient } from './crm-client.ts';

const api = 'https://api.hubapi.com';

function client(): HubspotCrmClient {
  const config = hubspotConnectionConfig.parse({ provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-x' } });
  return new HubspotCrmClient(config, { tokenStore: new InMemoryTokenStore(), fetchTimeoutMs: 2_000 });
}

/** An owner as GET /crm/v3/owners documents it. */
function owner(id: string, firstName: string, lastName: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    email: `${firstName.toLowerCase()}@example.com`,
    type: 'PERSON',
    firstName,
    lastName,
    userId: Number(id) + 9_000_000,
    userIdIncludingInactive: Number(id) + 9_000_000,
    createdAt: '2019-10-30T03:30:17.883Z',
    updatedAt: '2019-12-07T16:50:06.678Z',
    archived: false,
    teams: [{ id: '178588', name: 'West Coast Sales', primary: true }],
    ...extra,
  };
}

async function readAll(crm: HubspotCrmClient, beforeCall?: () => Promise<void>): Promise<{ people: CrmPerson[]; pages: number }> {
  const people: CrmPerson[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await crm.listPeople({ cursor, ...(beforeCall ? { beforeCall } : {}) });
    people.push(...page.people);
    cursor = page.next;
    pages += 1;
  } while (cursor !== null);
  return { people, pages };
}

describe('HubSpot owners', () => {
  it('reads active owners page by page with `after`, then the archived ones as inactive', async () => {
    const seen: Array<Record<string, string>> = [];
    const record = (query: Record<string, string>) => (seen.push(query), true);
    nock(api)
      .get('/crm/v3/owners')
      .query((q) => q.archived === 'false' && q.after === undefined && record(q as Record<string, string>))
      .reply(200, { results: [owner('6166860', 'John', 'Smith'), owner('6166861', 'Ana', 'Rep')], paging: { next: { after: 'NjE2Njg2MQ==', link: 'https://api.hubapi.com/crm/v3/owners/?after=NjE2Njg2MQ==' } } });
    nock(api)
      .get('/crm/v3/owners')
      .query((q) => q.archived === 'false' && q.after === 'NjE2Njg2MQ==' && record(q as Record<string, string>))
      .reply(200, { results: [owner('6166862', 'Max', 'Lead'), owner('90001', 'Support', 'Queue', { type: 'QUEUE', email: null })] });
    nock(api)
      .get('/crm/v3/owners')
      .query((q) => q.archived === 'true' && record(q as Record<string, string>))
      .reply(200, { results: [owner('5000001', 'Olga', 'Former', { archived: true })] });

    let calls = 0;
    const { people, pages } = await readAll(client(), async () => void (calls += 1));
    expect(pages).toBe(3);
    expect(calls).toBe(3);
    expect(seen.map((q) => q.limit)).toEqual(['500', '500', '500']);
    expect(people).toEqual([
      { id: '6166860', name: 'John Smith', email: 'john@example.com', active: true },
      { id: '6166861', name: 'Ana Rep', email: 'ana@example.com', active: true },
      { id: '6166862', name: 'Max Lead', email: 'max@example.com', active: true },
      { id: '5000001', name: 'Olga Former', email: 'olga@example.com', active: false },
    ]);
    // No manager or time zone: HubSpot keeps neither on owners.
    expect(people.every((p) => !('managerId' in p) && !('timeZone' in p))).toBe(true);
  });

  it('keeps an owner with no name and follows archived pages too', async () => {
    nock(api).get('/crm/v3/owners').query({ limit: '500', archived: 'false' }).reply(200, { results: [owner('7', '', '', { email: 'x@example.com' })] });
    nock(api).get('/crm/v3/owners').query({ limit: '500', archived: 'true' }).reply(200, { results: [owner('8', 'A', 'B', { archived: true })], paging: { next: { after: 'OA==' } } });
    nock(api).get('/crm/v3/owners').query({ limit: '500', archived: 'true', after: 'OA==' }).reply(200, { results: [owner('9', 'C', 'D', { archived: true })] });
    const { people } = await readAll(client());
    expect(people).toEqual([
      { id: '7', name: null, email: 'x@example.com', active: true },
      { id: '8', name: 'A B', email: 'a@example.com', active: false },
      { id: '9', name: 'C D', email: 'c@example.com', active: false },
    ]);
  });

  it('turns a 429 into a burst rate limit with the Retry-After wait', async () => {
    nock(api)
      .get('/crm/v3/owners')
      .query(true)
      .reply(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: 'c-1', policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': '3' });
    const error = await client().listPeople({ cursor: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', policy: 'burst', retryAfterMs: 3_000 });
  });

  it('reports a missing owners scope as a permanent refusal', async () => {
    nock(api)
      .get('/crm/v3/owners')
      .query(true)
      .reply(403, { status: 'error', message: 'This app hasn\'t been granted all required scopes to make this call.', category: 'MISSING_SCOPES', errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.owners.read'] } }] });
    const error = await client().listPeople({ cursor: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent', status: 403, code: 'MISSING_SCOPES' });
  });
});
