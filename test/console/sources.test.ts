import { describe, expect, it } from 'vitest';
import { injectWebhook } from '../support/webhooks.ts';
import { docusignMessage, docusignTestKey, signedDocusignRequest } from '../../src/integrations/docusign/fixtures.ts';
import { apiWorkspace, screenshot, signIn, startConsole } from './support.ts';

/**
 * Sources: the webhook URL to paste, a secret set through a write-only form that the webhook
 * endpoint then verifies with, rotation, recent deliveries with their status, refused counts, replay.
 */
describe('console sources', async () => {
  const h = await startConsole();
  const { page, baseUrl, t } = h;
  const url = 'https://momentum.example.com/webhooks/globex/docusign';
  const rotatedKey = 'a-second-docusign-connect-key';

  it('sets a DocuSign secret that the webhook endpoint then verifies with', async () => {
    await apiWorkspace(t, 'globex');
    await signIn(h);
    await page.goto(`${baseUrl}/console/w/globex/sources`);
    const card = page.getByRole('region', { name: 'DocuSign Connect' });
    expect(await card.textContent()).toContain(url);
    expect(await card.textContent()).toContain('not set');

    await card.getByText('Configure', { exact: true }).click();
    await card.getByLabel('hmacKeys (secret)').fill(docusignTestKey);
    await card.getByRole('button', { name: 'Save DocuSign Connect' }).click();
    await page.waitForURL(/notice=source-saved/);
    expect(await page.getByRole('status').textContent()).toContain('never shown again');
    expect(await page.getByRole('region', { name: 'DocuSign Connect' }).locator('dd .status').first().textContent()).toBe('set');

    const accepted = await injectWebhook(t.app, signedDocusignRequest({ url, body: docusignMessage({ customFields: { hubspot_deal_id: '4242' } }) }));
    expect(accepted.statusCode).toBe(200);
    const forged = await injectWebhook(t.app, signedDocusignRequest({ url, body: docusignMessage(), keys: ['some-other-key'] }));
    expect(forged.statusCode).toBe(401);
  });

  it('keeps the old secret active while rotating, and reports bad settings without saving', async () => {
    await page.goto(`${baseUrl}/console/w/globex/sources`);
    const card = page.getByRole('region', { name: 'DocuSign Connect' });
    await card.getByText('Change settings or secrets').click();
    await card.getByLabel('Settings (JSON)').fill('{ "dealIdFields": [] }');
    await card.getByLabel('hmacKeys (secret)').fill(rotatedKey);
    await card.getByRole('button', { name: 'Save DocuSign Connect' }).click();
    const problems = page.getByRole('alert');
    expect(await problems.textContent()).toContain('dealIdFields');
    expect(await problems.textContent()).not.toContain(rotatedKey);
    expect(await page.content()).not.toContain(rotatedKey);

    const again = page.getByRole('region', { name: 'DocuSign Connect' });
    await again.getByLabel('Settings (JSON)').fill('{}');
    await again.getByLabel('hmacKeys (secret)').fill(rotatedKey);
    await again.getByLabel(/Keep the current hmacKeys active too/).check();
    await again.getByRole('button', { name: 'Save DocuSign Connect' }).click();
    await page.waitForURL(/notice=source-saved/);
    expect(await page.getByRole('region', { name: 'DocuSign Connect' }).textContent()).toContain('(2 active)');
    for (const key of [docusignTestKey, rotatedKey]) {
      const response = await injectWebhook(t.app, signedDocusignRequest({ url, keys: [key], body: docusignMessage({ event: 'envelope-sent', customFields: { hubspot_deal_id: '4242' }, generatedDateTime: new Date().toISOString() }) }));
      expect(response.statusCode).toBe(200);
    }
  });

  it('lists recent deliveries with their status, counts refused ones, and replays one', async () => {
    const refused = await injectWebhook(t.app, signedDocusignRequest({ url, body: { event: 'envelope-completed', data: 'not an object' } }));
    expect(refused.statusCode).toBe(400);
    await page.goto(`${baseUrl}/console/w/globex/sources`);
    const card = page.getByRole('region', { name: 'DocuSign Connect' });
    expect(await card.textContent()).toContain('1 refused');
    expect(await card.locator('dt:has-text("Last verified delivery") + dd time').count()).toBe(1);
    const rows = page.locator('table').last().locator('tbody tr');
    expect(await rows.count()).toBe(4);
    expect(await rows.first().textContent()).toContain('rejected');
    expect(await rows.last().textContent()).toContain('accepted');

    const first = await t.db.selectFrom('deliveries').select('id').where('workspace_id', '=', 'globex').orderBy('id').executeTakeFirstOrThrow();
    await page.getByRole('button', { name: `Replay delivery ${first.id}` }).click();
    await page.waitForURL(/notice=replayed/);
    expect(await page.getByRole('status').textContent()).toContain('It added 0 event(s) and 0 signal(s).');
    await page.getByLabel('Status').selectOption('rejected');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/status=rejected/);
    expect(await page.locator('table').last().locator('tbody tr').count()).toBe(1);
    await page.goto(`${baseUrl}/console/w/globex/sources`);
    await screenshot(page, 'sources');
  });
});
