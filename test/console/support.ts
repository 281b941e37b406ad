import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, expect } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { injectWebhook } from '../support/webhooks.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../src/integrations/hubspot/fixtures.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';

export const CHROMIUM = '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../artifacts/console/', import.meta.url));

export interface ConsoleHarness {
  t: TestApp;
  baseUrl: string;
  browser: BrowserContext;
  page: Page;
}

/**
 * A real app listening on a loopback port with its own database, and a headless Chromium with a
 * fresh profile. Chromium is required: without it the tests fail, they are never skipped.
 */
export async function startConsole(): Promise<ConsoleHarness> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The console browser tests need Debian's Chromium at ${CHROMIUM}: run "apt-get update && apt-get install -y chromium" (.ci/run does this in CI).`);
  }
  const t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the test app did not get a TCP port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const profile = mkdtempSync(path.join(tmpdir(), 'momentum-console-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  afterAll(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  // A script error or a CSP violation on any page fails the file.
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // Pages answered 4xx on purpose are logged as failed loads; anything else (a CSP refusal) counts.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
  });
  afterAll(() => expect(pageErrors).toEqual([]));
  return { t, baseUrl, browser, page };
}

export async function signIn(h: ConsoleHarness, token = h.t.token): Promise<void> {
  await h.page.goto(`${h.baseUrl}/console/`);
  await expect.poll(() => h.page.url()).toContain('/console/login');
  await h.page.getByLabel('Admin token').fill(token);
  await h.page.getByRole('button', { name: 'Sign in' }).click();
  await h.page.waitForURL(/\/console\/workspaces/);
}

/** Saves what the page looks like now, for people to look at (test/artifacts is not committed). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Creates a workspace through the admin API (pages are tested elsewhere; this is setup). */
export async function apiWorkspace(t: TestApp, id: string, mode: 'shadow' | 'live' = 'shadow'): Promise<void> {
  const response = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${id}`, headers: t.auth, payload: { name: `${id} Inc.`, mode } });
  expect(response.statusCode).toBe(201);
}

/** HubSpot and DocuSign sources for a workspace, configured through the admin API. */
export async function apiSources(t: TestApp, workspaceId: string, portalId: number): Promise<void> {
  const put = (source: string, payload: object) => t.app.inject({ method: 'PUT', url: `/api/workspaces/${workspaceId}/sources/${source}`, headers: t.auth, payload });
  expect((await put('hubspot', { clientSecrets: [hubspotTestSecret], appId: 54321, portalId })).statusCode).toBe(200);
  expect((await put('docusign', { hmacKeys: [docusignTestKey] })).statusCode).toBe(200);
}

/** Signed vendor webhooks: a rep puts the deal in a HubSpot stage, then an e-signature event arrives. */
export async function dealHistory(
  t: TestApp,
  input: { workspaceId: string; portalId: number; dealId: string; hubspotStage: string; esignEvent: 'envelope-sent' | 'envelope-completed'; at: number },
): Promise<void> {
  const stage = await injectWebhook(t.app, signedHubspotRequest({
    url: `https://momentum.example.com/webhooks/${input.workspaceId}/hubspot`,
    body: [hubspotEvent({ portalId: input.portalId, objectId: Number(input.dealId), propertyName: 'dealstage', propertyValue: input.hubspotStage, occurredAt: input.at - 60_000 })],
    timestamp: Date.now(),
  }));
  expect(stage.statusCode).toBe(200);
  const message = docusignMessage({ event: input.esignEvent, customFields: { hubspot_deal_id: input.dealId }, generatedDateTime: new Date(input.at).toISOString() });
  // Each deal has its own envelope, so the events are distinct.
  const body = { ...message, data: { ...(message.data as object), envelopeId: `envelope-${input.dealId}` } };
  const esign = await injectWebhook(t.app, signedDocusignRequest({ url: `https://momentum.example.com/webhooks/${input.workspaceId}/docusign`, body }));
  expect(esign.statusCode).toBe(200);
}
