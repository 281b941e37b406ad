import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createAdminToken, revokeAdminToken } from '../../src/workspaces/admin-tokens.ts';

describe('HTTP foundation', async () => {
  const t = await createTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });

  it('answers /healthz and /readyz from a migrated database', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: true, migrations: true } });
  });

  it('reports not ready when a worker it runs has stopped', async () => {
    const stopped = await createTestApp({ deps: { worker: { isRunning: () => false } } });
    const ready = await stopped.app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.worker).toBe(false);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await t.app.inject('/no/such/route');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'route_not_found', message: 'No route for GET /no/such/route' } });
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/workspaces/acme',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(4096) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('body_too_large');
  });

  it('answers malformed JSON with 400 naming the problem', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/workspaces/acme',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('malformed_json');
  });

  it('echoes a sane request id and makes one otherwise', async () => {
    const given = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const res = await t.app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/api/workspaces/{workspaceId}'].put.requestBody).toBeDefined();
  });

  it('serves Prometheus metrics including HTTP latency', async () => {
    await t.app.inject('/healthz');
    const res = await t.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('momentum_http_request_duration_seconds_bucket');
  });

  it('reports waiting jobs per task as queue depth', async () => {
    await sql`select graphile_worker.add_job('metrics-probe', '{}'::json, run_at := now() + interval '1 hour')`.execute(t.db);
    await sql`select graphile_worker.add_job('metrics-probe', '{}'::json, run_at := now() + interval '1 hour')`.execute(t.db);
    const res = await t.app.inject('/metrics');
    expect(res.body).toContain('momentum_queue_jobs{task="metrics-probe"} 2');
  });

  describe('admin authentication', () => {
    it('refuses a missing, malformed or unknown token with 401', async () => {
      for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer mtm_not-a-real-token' }]) {
        const res = await t.app.inject({ url: '/api/workspaces', headers });
        expect(res.statusCode).toBe(401);
        expect(res.json().error.code).toBe('unauthorized');
      }
    });

    it('refuses a revoked token', async () => {
      const { token } = await createAdminToken(t.db, { name: 'short-lived' });
      expect((await t.app.inject({ url: '/api/workspaces', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      expect(await revokeAdminToken(t.db, 'short-lived')).toBe(1);
      expect((await t.app.inject({ url: '/api/workspaces', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
    });

    it('stores only a hash of each token', async () => {
      const rows = await t.db.selectFrom('admin_tokens').select('token_hash').execute();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.token_hash).not.toContain(t.token);
      expect(rows.map((r) => r.token_hash)).not.toContain(t.token);
    });
  });
});
