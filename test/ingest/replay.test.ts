import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { pandadocDocumentData, pandadocEvent, pandadocTestKey, signedPandadocRequest } from '../../src/integrations/pandadoc/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import { configureSource, createWorkspace, expectConsistentLedger, storedRows, webhookUrl } from './ingest-support.ts';

const ws = 'rp-a';
const otherWs = 'rp-b';

describe('replaying stored deliveries', async () => {
  const t = await createTestApp();
  const rows = storedRows(t, ws);
  const otherRows = storedRows(t, otherWs);
  const sendPandadoc = (workspace: string, body: unknown) =>
    injectWebhook(t.app, signedPandadocRequest({ body, url: webhookUrl(workspace, 'pandadoc') }));
  const replay = (workspace: string, deliveryId: string, auth = t.auth) =>
    t.app.inject({ method: 'POST', url: `/api/workspaces/${workspace}/deliveries/${deliveryId}/replay`, headers: auth });
  const completed = (dealId: string, dateModified: string) =>
    [pandadocEvent('document_state_changed', pandadocDocumentData({ status: 'document.completed', metadata: { deal_id: dealId }, date_modified: dateModified }))];

  beforeAll(async () => {
    for (const workspace of [ws, otherWs]) {
      await createWorkspace(t, workspace);
      await configureSource(t, workspace, 'pandadoc', { sharedKeys: [pandadocTestKey] });
    }
    await configureSource(t, ws, 'docusign', { hmacKeys: [docusignTestKey] });
  });

  it('replays a delivery rejected for a schema problem: still rejected, nothing new', async () => {
    const res = await sendPandadoc(ws, [pandadocEvent('document_state_changed', pandadocDocumentData({ id: '' }))]);
    expect(res.statusCode).toBe(400);
    const rejected = await rows.lastDelivery();
    expect(rejected.status).toBe('rejected');

    const answer = await replay(ws, rejected.id);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ deliveryId: rejected.id, status: 'rejected', events: 0, newEvents: 0, newSignals: 0 });
    const after = await t.db.selectFrom('deliveries').selectAll().where('workspace_id', '=', ws).where('id', '=', rejected.id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ status: 'rejected', reason: rejected.reason, event_count: 0, signal_count: 0 });
    expect(await rows.eventsOf(rejected.id)).toHaveLength(0);
  });

  it('replays an accepted delivery without adding a signal', async () => {
    expect((await sendPandadoc(ws, completed('D-300', '2026-03-02T10:00:00Z'))).statusCode).toBe(200);
    const accepted = await rows.lastDelivery();
    expect(accepted).toMatchObject({ status: 'accepted', signal_count: 1 });
    const signalsBefore = (await rows.signals()).length;

    const answer = await replay(ws, accepted.id);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ deliveryId: accepted.id, status: 'accepted', events: 1, newEvents: 0, newSignals: 0 });
    expect((await rows.signals()).length).toBe(signalsBefore);
    // Replaying twice is as harmless as once.
    expect((await replay(ws, accepted.id)).json()).toMatchObject({ newEvents: 0, newSignals: 0 });
  });

  it('adds only the signals a first pass missed once the source settings are fixed', async () => {
    const body = docusignMessage({ generatedDateTime: '2026-03-02T12:00:00Z', customFields: { crm_deal: 'D-301' } });
    expect((await injectWebhook(t.app, signedDocusignRequest({ body, url: webhookUrl(ws, 'docusign') }))).statusCode).toBe(200);
    const unattributed = await rows.lastDelivery();
    expect(unattributed.status).toBe('unattributed');

    await configureSource(t, ws, 'docusign', { dealIdFields: ['crm_deal'] });
    const answer = await replay(ws, unattributed.id);
    expect(answer.json()).toMatchObject({ newEvents: 0, newSignals: 1 });
    const signals = await rows.signalsOf(unattributed.id);
    expect(signals.map((s) => [s.deal_id, s.type])).toEqual([['D-301', 'esign.completed']]);
    expect((await replay(ws, unattributed.id)).json()).toMatchObject({ newSignals: 0 });
    // The delivery's counters follow what it now holds (the deliveries API shows them).
    const detail = await t.app.inject({ url: `/api/workspaces/${ws}/deliveries/${unattributed.id}`, headers: t.auth });
    expect(detail.json()).toMatchObject({ status: 'unattributed', eventCount: 1, signalCount: 1 });
    await expectConsistentLedger(t, ws);
  });

  it('answers 409 nothing_to_replay for a duplicate, which keeps no body', async () => {
    const body = completed('D-302', '2026-03-02T11:00:00Z');
    await sendPandadoc(ws, body);
    await sendPandadoc(ws, body);
    const duplicate = await rows.lastDelivery();
    expect(duplicate).toMatchObject({ status: 'duplicate', raw_body: null });

    const answer = await replay(ws, duplicate.id);
    expect(answer.statusCode).toBe(409);
    expect(answer.json().error.code).toBe('nothing_to_replay');
  });

  it('answers 409 for a rejected delivery whose body was too large to keep whole', async () => {
    const huge = `[${' '.repeat(70 * 1024)}`;
    expect((await sendPandadoc(ws, huge)).statusCode).toBe(400);
    const truncated = await rows.lastDelivery();
    expect(truncated).toMatchObject({ status: 'rejected', body_truncated: true });
    expect(truncated.raw_body!.length).toBe(64 * 1024);
    const answer = await replay(ws, truncated.id);
    expect(answer.statusCode).toBe(409);
    expect(answer.json().error.code).toBe('nothing_to_replay');
  });

  it("answers 404 for another workspace's delivery, and a scoped token cannot reach the other workspace at all", async () => {
    expect((await sendPandadoc(otherWs, completed('D-400', '2026-03-02T10:00:00Z'))).statusCode).toBe(200);
    const foreign = await otherRows.lastDelivery();
    const signalsBefore = (await otherRows.signals()).length;

    // The id exists, but not in this workspace.
    expect((await replay(ws, foreign.id)).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/workspaces/${ws}/deliveries/${foreign.id}`, headers: t.auth })).statusCode).toBe(404);

    const { token } = await createAdminToken(t.db, { name: 'scoped to a', workspaceId: ws });
    const scoped = { authorization: `Bearer ${token}` };
    const denied = await replay(otherWs, foreign.id, scoped);
    expect(denied.statusCode).toBe(404);
    expect(denied.json().error.code).toBe('not_found');
    expect((await t.app.inject({ url: `/api/workspaces/${otherWs}/deliveries/${foreign.id}`, headers: scoped })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/workspaces/${otherWs}/deliveries`, headers: scoped })).statusCode).toBe(404);
    // The same token still works in its own workspace.
    const own = await rows.lastDelivery();
    expect((await replay(ws, own.id, scoped)).statusCode).not.toBe(404);
    expect((await otherRows.signals()).length).toBe(signalsBefore);
  });

  it('answers 404 for an id that does not exist and 400 for one that is not numeric', async () => {
    expect((await replay(ws, '999999999')).statusCode).toBe(404);
    expect((await replay(ws, 'abc')).statusCode).toBe(400);
  });
});
