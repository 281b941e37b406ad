import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';

describe('workspaces API', async () => {
  const t = await createTestApp();
  const put = (id: string, body: unknown, auth = t.auth) =>
    t.app.inject({ method: 'PUT', url: `/api/workspaces/${id}`, headers: auth, payload: body as object });

  it('creates a workspace in shadow mode by default, then replaces it', async () => {
    const created = await put('acme', { name: 'Acme' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'acme', name: 'Acme', mode: 'shadow' });

    const replaced = await put('acme', { name: 'Acme Corp', mode: 'live' });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ id: 'acme', name: 'Acme Corp', mode: 'live' });

    const read = await t.app.inject({ url: '/api/workspaces/acme', headers: t.auth });
    expect(read.json()).toMatchObject({ name: 'Acme Corp', mode: 'live' });
  });

  it('rejects a bad id and a bad mode with the path of each problem', async () => {
    const badId = await put('Not Valid!', { name: 'x' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.message).toContain('params.workspaceId');

    const badMode = await put('acme2', { name: 'x', mode: 'yolo' });
    expect(badMode.statusCode).toBe(400);
    expect(badMode.json().error.details[0].path).toBe('body.mode');
  });

  it('answers 404 for a workspace that does not exist', async () => {
    const res = await t.app.inject({ url: '/api/workspaces/ghost', headers: t.auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('pages through the list with an opaque cursor', async () => {
    for (const id of ['p-1', 'p-2', 'p-3']) await put(id, { name: id });
    const first = (await t.app.inject({ url: '/api/workspaces?limit=2', headers: t.auth })).json();
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await t.app.inject({ url: `/api/workspaces?limit=2&cursor=${first.nextCursor}`, headers: t.auth })).json();
    const seen = [...first.items, ...second.items].map((w: { id: string }) => w.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
  });

  it('keeps a workspace-scoped token inside its workspace', async () => {
    await put('own', { name: 'Own' });
    await put('other', { name: 'Other' });
    const { token } = await createAdminToken(t.db, { name: 'scoped', workspaceId: 'own' });
    const scoped = { authorization: `Bearer ${token}` };

    expect((await t.app.inject({ url: '/api/workspaces/own', headers: scoped })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/workspaces/other', headers: scoped })).statusCode).toBe(404);
    expect((await put('other', { name: 'Hijack' }, scoped)).statusCode).toBe(404);
    const list = (await t.app.inject({ url: '/api/workspaces', headers: scoped })).json();
    expect(list.items.map((w: { id: string }) => w.id)).toEqual(['own']);
  });
});
