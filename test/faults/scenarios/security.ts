import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config.ts';
import { buildApp } from '../../../src/http/app.ts';
import { putSourceConfig } from '../../../src/ingest/source-config-store.ts';
import { hubspotEvent, hubspotTestSecret, signedHubspotRequest } from '../../../src/integrations/hubspot/fixtures.ts';
import { webhookAdapter } from '../../../src/integrations/registry.ts';
import { createDatabase, createPool } from '../../../src/platform/db.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { migrateToLatest } from '../../../src/platform/migrate.ts';
import { SecretBox } from '../../../src/platform/secret-box.ts';
import { putConnection } from '../../../src/writeback/connection-store.ts';
import { createAdminToken } from '../../../src/workspaces/admin-tokens.ts';
import { putWorkspace } from '../../../src/workspaces/workspaces-dal.ts';
import type { Check, Scenario } from '../support/scenario.ts';

const PUBLIC = 'https://momentum.faults.test';
const methods = ['get', 'put', 'post', 'patch', 'delete'] as const;

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[]; enum?: unknown[]; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; minLength?: number; format?: string; const?: unknown };

/** A small body that satisfies a request schema, so the request gets past validation to the access check. */
function sampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 6) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const variant = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (variant) return sampleOf(variant, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return schema.format === 'date-time' ? new Date().toISOString() : schema.format === 'date' ? '2026-01-01' : 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default:
      return Object.fromEntries((schema.required ?? []).map((key) => [key, sampleOf(schema.properties?.[key], depth + 1)]));
  }
}

/** Plausible values for path parameters other than the workspace. */
function fillParam(name: string): string {
  if (/source/i.test(name)) return 'hubspot';
  if (/version|^v$/i.test(name)) return '1';
  return '1';
}

export const securityScenario: Scenario = {
  name: 'security',
  description: "a workspace-scoped token tries every admin route (from /docs/json) on another workspace; stale and replayed HubSpot signatures",
  quick: true,
  async run(ctx) {
    const started = Date.now();
    const url = await ctx.pg.createDatabase(`faults_security_${randomBytes(3).toString('hex')}`);
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination: sink });
    const pool = createPool(url, 6, logger);
    const db = createDatabase(pool);
    await migrateToLatest(pool, db, logger);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', PUBLIC_BASE_URL: PUBLIC, MOMENTUM_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    const secretBox = new SecretBox(config.encryptionKey!);
    const app = await buildApp({ config, db, pool, logger, metrics: createMetrics(), secretBox });
    const checks: Check[] = [];
    try {
      for (const id of ['alpha', 'beta']) {
        await putWorkspace(db, { id, name: id, mode: 'live' });
        await putConnection(db, secretBox, id, { provider: 'hubspot', auth: { type: 'private_app', accessToken: `pat-na1-${id}-${randomBytes(8).toString('hex')}` }, tier: 'starter' });
      }
      await putSourceConfig(db, secretBox, webhookAdapter('hubspot')!, 'beta', { clientSecrets: [hubspotTestSecret], appId: 54321, portalId: 62515 });
      const scoped = await createAdminToken(db, { name: 'alpha-only', workspaceId: 'alpha' });
      const global = await createAdminToken(db, { name: 'global' });
      ctx.secrets.push(scoped.token, global.token, config.encryptionKey!, hubspotTestSecret);

      // Every admin route the OpenAPI document lists, each method, on the other workspace.
      const spec = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>> };
      const statuses: Record<string, number> = {};
      const allowed: string[] = [];
      const validationFirst: string[] = [];
      let tried = 0;
      let workspaceRoutes = 0;
      for (const [path, operations] of Object.entries(spec.paths)) {
        if (!path.startsWith('/api/')) continue;
        const scopedToWorkspace = /\{workspaceId\}|\{id\}/.test(path) && path.startsWith('/api/workspaces/');
        if (scopedToWorkspace) workspaceRoutes += 1;
        for (const method of methods) {
          if (!operations[method]) continue;
          const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'workspaceId' || (name === 'id' && path.startsWith('/api/workspaces/{id}')) ? 'beta' : fillParam(name)));
          for (const [label, headers] of [['scoped', { authorization: `Bearer ${scoped.token}` }], ['none', {}], ['bogus', { authorization: 'Bearer mtm_forged' }]] as const) {
            if (label === 'scoped' && !scopedToWorkspace) continue;
            const schema = operations[method]!.requestBody?.content?.['application/json']?.schema;
            const payload = method === 'get' || method === 'delete' ? {} : { payload: sampleOf(schema) as object };
            const res = await app.inject({ method: method.toUpperCase() as 'GET', url: concrete, headers, ...payload });
            tried += 1;
            statuses[`${label} ${res.statusCode}`] = (statuses[`${label} ${res.statusCode}`] ?? 0) + 1;
            logs.push(res.body);
            const refused = label === 'scoped' ? [401, 403, 404].includes(res.statusCode) : res.statusCode === 401;
            // A 400 is a refusal too, but by validation before the access check was reached.
            if (label === 'scoped' && (res.statusCode === 400 || res.statusCode === 415)) validationFirst.push(`${method.toUpperCase()} ${path}`);
            else if (!refused) allowed.push(`${label} ${method.toUpperCase()} ${path} → ${res.statusCode}`);
          }
        }
      }
      // The listing a scoped token sees holds its own workspace only.
      const list = await app.inject({ url: '/api/workspaces', headers: { authorization: `Bearer ${scoped.token}` } });
      logs.push(list.body);
      checks.push({ name: 'admin routes found in /docs/json', ok: workspaceRoutes >= 10, detail: `${workspaceRoutes} workspace routes, ${tried} requests` });
      checks.push({ name: 'cross-workspace or unauthenticated requests allowed', ok: allowed.length === 0, detail: allowed.length === 0 ? `0 (${JSON.stringify(statuses)})` : allowed.slice(0, 5).join('; ') });
      checks.push({ name: 'refused by validation before the access check (not 2xx)', ok: true, detail: validationFirst.length === 0 ? '0' : `${validationFirst.length}: ${validationFirst.join(', ')}` });
      checks.push({ name: "scoped token's workspace list shows only its own", ok: list.statusCode === 200 && !list.body.includes('"beta"'), detail: `${list.statusCode}` });

      // HubSpot v3: a signature older than five minutes, and a captured request replayed later.
      const event = () => [hubspotEvent({ eventId: Math.floor(Math.random() * 1e9), objectId: 42, portalId: 62515 })];
      const send = (raw: ReturnType<typeof signedHubspotRequest>) => {
        const target = new URL(raw.publicUrl);
        const headers = Object.fromEntries(Object.entries(raw.headers).filter((e): e is [string, string] => e[1] !== undefined));
        return app.inject({ method: 'POST', url: target.pathname, headers, payload: raw.rawBody });
      };
      const fresh = await send(signedHubspotRequest({ body: event(), timestamp: Date.now(), url: `${PUBLIC}/webhooks/hubspot` }));
      const stale: number[] = [];
      for (const ageMinutes of [5.5, 10, 60, 24 * 60]) {
        stale.push((await send(signedHubspotRequest({ body: event(), timestamp: Date.now() - ageMinutes * 60_000, url: `${PUBLIC}/webhooks/hubspot` }))).statusCode);
      }
      const future = (await send(signedHubspotRequest({ body: event(), timestamp: Date.now() + 10 * 60_000, url: `${PUBLIC}/webhooks/hubspot` }))).statusCode;
      checks.push({ name: 'fresh HubSpot signature accepted (baseline)', ok: fresh.statusCode === 200, detail: String(fresh.statusCode) });
      checks.push({ name: 'stale or future-dated HubSpot signatures refused', ok: [...stale, future].every((s) => s === 401), detail: [...stale, future].join(', ') });
      const v1Only = await send(signedHubspotRequest({ body: event(), timestamp: Date.now() - 60 * 60_000, url: `${PUBLIC}/webhooks/hubspot`, withoutV3: true }));
      checks.push({ name: 'request without a v3 signature refused', ok: v1Only.statusCode === 401, detail: String(v1Only.statusCode) });
    } finally {
      await app.close();
      await db.destroy();
    }
    ctx.transcript.push(...logs);
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: 'hostile admin and webhook requests', recoverySeconds: null, checks };
  },
};
