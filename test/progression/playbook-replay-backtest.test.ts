import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { drainQueue } from '../support/worker.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import { defaultPlaybookText } from '../../src/engine/playbook/default-playbook.ts';

describe('playbook versions, deal replay and backtest', async () => {
  const t = await createTestApp();
  const ws = 'calibrate';
  const dealId = '700';
  const api = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/api/workspaces/${ws}${url}`, headers: { ...t.auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as string }) });

  beforeAll(async () => {
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: 'Calibrate' } });
    await api('PUT', '/sources/hubspot', { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 });
    await api('PUT', '/sources/docusign', { hmacKeys: [docusignTestKey] });
    const now = Date.now();
    await injectWebhook(t.app, signedHubspotRequest({
      body: [hubspotEvent({ eventId: 70, objectId: Number(dealId), propertyValue: 'contractsent', occurredAt: now - 3 * 86_400_000 })],
      timestamp: now,
    }));
    await injectWebhook(t.app, signedDocusignRequest({
      body: docusignMessage({ customFields: { hubspot_deal_id: dealId }, generatedDateTime: new Date(now - 86_400_000).toISOString() }),
      url: `https://momentum.example.com/webhooks/${ws}/docusign`,
    }));
    await drainQueue(t);
  });

  it('starts a workspace on the default playbook as version 1 and records it on decisions', async () => {
    const current = await api('GET', '/playbook');
    expect(current.statusCode).toBe(200);
    expect(current.json()).toMatchObject({ version: 1, format: 'yaml' });
    const deal = (await api('GET', `/deals/${dealId}`)).json();
    const decisions = deal.timeline.filter((e: any) => e.kind === 'decision');
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions.every((d: any) => d.playbookVersion === 1)).toBe(true);
    // Shadow workspace: decided and recorded, nothing queued for the CRM.
    const outbox = (await api('GET', '/outbox')).json();
    expect(outbox.items.every((row: any) => row.status === 'shadow')).toBe(true);
  });

  it('refuses an invalid playbook listing every problem with its path', async () => {
    const res = await api('PUT', '/playbook', { name: '', stages: [{ key: 'only' }], rules: 'none' });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('invalid_playbook');
    const paths = body.error.details.map((d: any) => d.path);
    expect(paths.length).toBeGreaterThanOrEqual(3);
    expect(paths.some((p: string) => p.startsWith('stages'))).toBe(true);
    expect(paths.some((p: string) => p.startsWith('rules'))).toBe(true);
  });

  it('publishes YAML as a new version and keeps the old one', async () => {
    const draft = defaultPlaybookText().replace(/(id: adv-esign-completed\n(?:.*\n)*?\s+mode: )auto/, '$1off');
    expect(draft).not.toBe(defaultPlaybookText());
    const res = await api('PUT', '/playbook', draft, { 'content-type': 'application/yaml' });
    expect(res.statusCode).toBe(201);
    expect(res.json().version).toBe(2);
    const versions = (await api('GET', '/playbook/versions')).json();
    expect(versions.items.map((v: any) => v.version)).toEqual([2, 1]);
    expect((await api('GET', '/playbook/versions/1')).json().version).toBe(1);
    expect((await api('GET', '/playbook/versions/9')).statusCode).toBe(404);
  });

  it('replays a deal under a chosen version and writes nothing', async () => {
    const decisionsBefore = await t.db.selectFrom('decisions').select('id').execute();
    const underV1 = await api('POST', `/deals/${dealId}/replay`, { playbookVersion: 1 });
    expect(underV1.statusCode).toBe(200);
    expect(underV1.json().finalStage).toBe('closed_won');
    expect(underV1.json().decisions.some((d: any) => d.ruleId === 'adv-esign-completed')).toBe(true);

    const underV2 = await api('POST', `/deals/${dealId}/replay`, { playbookVersion: 2 });
    expect(underV2.json().decisions.some((d: any) => d.ruleId === 'adv-esign-completed')).toBe(false);
    expect(underV2.json().finalStage).not.toBe('closed_won');
    expect(await t.db.selectFrom('decisions').select('id').execute()).toHaveLength(decisionsBefore.length);
  });

  it('backtests a playbook over stored history with per-rule outcomes', async () => {
    const from = new Date(Date.now() - 10 * 86_400_000).toISOString();
    const to = new Date().toISOString();
    const res = await api('POST', '/backtest', { from, to, playbookVersion: 1 });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.deals).toMatchObject({ total: 1, won: 1 });
    const esign = report.rules.find((r: any) => r.ruleId === 'adv-esign-completed');
    expect(esign).toMatchObject({ fires: 1, advances: 1, firedOnWon: 1, firedOnLost: 0 });

    const bad = await api('POST', '/backtest', { from: to, to: from });
    expect(bad.statusCode).toBe(400);
  });
});
