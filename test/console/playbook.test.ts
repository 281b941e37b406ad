import { describe, expect, it } from 'vitest';
import { defaultPlaybookText } from '../../src/engine/playbook/default-playbook.ts';
import { apiSources, apiWorkspace, dealHistory, screenshot, signIn, startConsole } from './support.ts';

/**
 * The playbook editor: an invalid draft is refused with its problems by line and path, a valid one
 * shows its diff, runs over the last 30 days of stored history, and is published as a new version.
 */
describe('console playbook', async () => {
  const h = await startConsole();
  const { page, baseUrl, t } = h;
  const original = defaultPlaybookText();
  const invalid = original.replace('    probability: 5\n', '    probability: 500\n');
  const valid = original.replace('name: Standard B2B pipeline', 'name: Initech pipeline');
  const versions = () => t.db.selectFrom('playbooks').select(['version', 'created_by', 'source_text']).where('workspace_id', '=', 'initech').orderBy('version').execute();

  it('refuses an invalid playbook, naming the line, column and path of the problem', async () => {
    expect(invalid).not.toBe(original);
    await apiWorkspace(t, 'initech');
    await signIn(h);
    await page.goto(`${baseUrl}/console/w/initech/playbook`);
    const editor = page.getByLabel('Draft playbook (YAML or JSON)');
    expect(await editor.inputValue()).toBe(original);
    await editor.fill(invalid);
    await page.getByRole('button', { name: 'Publish as v2' }).click();
    const problems = page.getByRole('alert');
    expect(await problems.textContent()).toMatch(/line 17, column 5 · stages\[0\]\.probability: .*100/);
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    expect(await editor.inputValue()).toBe(invalid);
    expect(await versions()).toHaveLength(1);
    await screenshot(page, 'playbook-invalid');
  });

  it('shows the changes, dry-runs the draft over the last 30 days, then publishes it as v2', async () => {
    // History to run over: deals in negotiation whose contracts were signed in the last days.
    await apiSources(t, 'initech', 62530);
    for (let deal = 1; deal <= 12; deal += 1) {
      await dealHistory(t, { workspaceId: 'initech', portalId: 62530, dealId: String(9000 + deal), hubspotStage: 'contractsent', esignEvent: 'envelope-completed', at: Date.now() - deal * 86_400_000 });
    }

    const editor = page.getByLabel('Draft playbook (YAML or JSON)');
    await editor.fill(valid);
    await page.getByRole('button', { name: 'Check and show changes' }).click();
    await page.waitForURL(/\/playbook\/check$/);
    expect(await page.getByRole('status').textContent()).toContain('The draft is valid');
    const diff = page.locator('.diff');
    expect(await diff.locator('tr.remove').textContent()).toContain('name: Standard B2B pipeline');
    expect(await diff.locator('tr.add').textContent()).toContain('name: Initech pipeline');

    await page.getByRole('button', { name: 'Dry run over the last 30 days' }).click();
    await page.waitForURL(/\/playbook\/dry-runs\//);
    const status = page.locator('#dry-run-status');
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toContain('Dry-run result');
    expect(await status.textContent()).toContain('Deals replayed12');
    expect(await status.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await status.getAttribute('data-poll')).toBeNull();
    await screenshot(page, 'playbook-dry-run');

    expect(await page.getByLabel('Draft playbook (YAML or JSON)').inputValue()).toBe(valid);
    await page.getByRole('button', { name: 'Publish as v2' }).click();
    await page.waitForURL(/notice=published/);
    const stored = await versions();
    expect(stored.map((v) => [v.version, v.created_by])).toEqual([[1, 'momentum default'], [2, 'test']]);
    expect(stored[1]!.source_text).toBe(valid);
    expect(await page.getByRole('status').textContent()).toContain('Playbook published');
    expect(await page.locator('main').textContent()).toContain('Current version: v2');
    await screenshot(page, 'playbook-published');

    await page.getByRole('link', { name: 'v2', exact: true }).click();
    await page.waitForURL(/\/playbook\/versions\/2$/);
    expect(await page.locator('.diff tr.add').textContent()).toContain('name: Initech pipeline');
  });
});
