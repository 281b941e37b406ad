/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import { createAdminToken, revokeAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { screenshot, signIn, startConsole } from './support.ts';

/**
 * Signing in with an admin token, the session cookie it becomes, CSRF protection of every POST,
 * security headers, and the workspace pages: create, shadow banner, going live in two steps.
 */
describe('console sign-in and workspaces', async () => {
  const h = await startConsole();
  const { page, baseUrl, t } = h;

  it('refuses a wrong token, then signs in and sets an HttpOnly, SameSite=Strict session cookie', async () => {
    await page.goto(`${baseUrl}/console/workspaces`);
    await page.waitForURL(/\/console\/login\?next=/);
    await page.getByLabel('Admin token').fill('mtm_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    await screenshot(page, 'sign-in-refused');

    await page.getByLabel('Admin token').fill(t.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/console/workspaces`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Workspaces');

    const cookie = (await h.browser.cookies(`${baseUrl}/console/`)).find((c) => c.name === 'momentum_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    // The cookie carries a random id; the database keeps only its hash, never the token.
    const rows = await t.db.selectFrom('console_sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).not.toContain(cookie.value);
    expect(rows[0]!.id_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(cookie.value).not.toContain(t.token);
  });

  it('creates a workspace in shadow mode, shows the banner, and goes live only after confirming', async () => {
    await page.goto(`${baseUrl}/console/workspaces`);
    await page.getByLabel('Id').fill('Bad Id!');
    await page.getByLabel('Name').fill('Acme');
    await page.getByRole('button', { name: 'Create in shadow mode' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('workspace ids are');

    await page.getByLabel('Id').fill('acme');
    await page.getByRole('button', { name: 'Create in shadow mode' }).click();
    await page.waitForURL(`${baseUrl}/console/w/acme?notice=created`);
    expect(await page.getByRole('note').textContent()).toContain('Shadow mode.');

    await page.getByRole('button', { name: 'Go live…' }).click();
    await page.waitForURL(/confirm=live/);
    const goLive = page.getByRole('button', { name: 'Go live now' });
    // The browser will not submit without the box ticked; the server refuses it too.
    await goLive.click();
    expect((await t.db.selectFrom('workspaces').select('mode').where('id', '=', 'acme').executeTakeFirstOrThrow()).mode).toBe('shadow');
    await screenshot(page, 'go-live-confirmation');
    await page.getByLabel(/I understand that Momentum will write/).check();
    await goLive.click();
    await page.waitForURL(/notice=mode-live/);
    expect(await page.getByRole('status').textContent()).toContain('The workspace is live');
    expect(await page.getByRole('note').count()).toBe(0);
    expect((await t.db.selectFrom('workspaces').select('mode').where('id', '=', 'acme').executeTakeFirstOrThrow()).mode).toBe('live');
    await screenshot(page, 'workspace-live');
  });

  it('refuses a POST without the session CSRF token, and a live switch without confirmation', async () => {
    const cookie = (await h.browser.cookies(`${baseUrl}/console/`)).find((c) => c.name === 'momentum_console')!;
    const post = (url: string, form: Record<string, string>) => fetch(`${baseUrl}${url}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `momentum_console=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const forged = await post('/console/w/acme/mode', { mode: 'shadow' });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('did not come from the console');
    const html = await (await fetch(`${baseUrl}/console/w/acme`, { headers: { cookie: `momentum_console=${cookie.value}` } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    expect((await post('/console/w/acme/mode', { _csrf: 'x'.repeat(csrf.length), mode: 'shadow' })).status).toBe(403);
    const shadow = await post('/console/w/acme/mode', { _csrf: csrf, mode: 'shadow' });
    expect(shadow.status).toBe(303);
    const unconfirmed = await post('/console/w/acme/mode', { _csrf: csrf, mode: 'live' });
    expect(unconfirmed.status).toBe(400);
    expect((await t.db.selectFrom('workspaces').select('mode').where('id', '=', 'acme').executeTakeFirstOrThrow()).mode).toBe('shadow');
  });

  it('sends security headers on every console page', async () => {
    const response = await page.goto(`${baseUrl}/console/w/acme`);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('same-origin');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['cache-control']).toBe('no-store');
    const login = await fetch(`${baseUrl}/console/login`);
    expect(login.headers.get('x-frame-options')).toBe('DENY');
  });

  it('is usable from the keyboard: a skip link first, labelled controls, a visible focus', async () => {
    await page.goto(`${baseUrl}/console/w/acme`);
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => ({ text: document.activeElement?.textContent, href: document.activeElement?.getAttribute('href') }));
    expect(skip).toEqual({ text: 'Skip to content', href: '#main' });
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    for (const path of ['/console/workspaces', '/console/w/acme/connection', '/console/w/acme/sources', '/console/w/acme/playbook']) {
      await page.goto(`${baseUrl}${path}`);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
          .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML));
      expect(unlabelled, path).toEqual([]);
      const levels = await page.evaluate(() => [...document.querySelectorAll('h1, h2, h3, h4')].map((h) => Number(h.tagName[1])));
      expect(levels[0], path).toBe(1);
      for (let i = 1; i < levels.length; i += 1) expect(levels[i]! - levels[i - 1]!, `${path} heading ${i}`).toBeLessThanOrEqual(1);
    }
  });

  it('ends the session on sign-out and when its token is revoked; a scoped token sees only its workspace', async () => {
    await page.goto(`${baseUrl}/console/workspaces`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/console\/login/);
    expect(await t.db.selectFrom('console_sessions').selectAll().execute()).toHaveLength(0);

    const scoped = await createAdminToken(t.db, { name: 'acme-ops', workspaceId: 'acme' });
    await t.app.inject({ method: 'PUT', url: '/api/workspaces/other', headers: t.auth, payload: { name: 'Other' } });
    await signIn(h, scoped.token);
    expect(await page.locator('main').textContent()).toContain('acme');
    expect(await page.locator('main').textContent()).not.toContain('Other');
    expect(await page.getByRole('heading', { name: 'Create a workspace' }).count()).toBe(0);
    expect((await page.goto(`${baseUrl}/console/w/other/sources`))!.status()).toBe(404);

    await revokeAdminToken(t.db, 'acme-ops');
    await page.goto(`${baseUrl}/console/w/acme`);
    await page.waitForURL(/\/console\/login/);
  });
});
