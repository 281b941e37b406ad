import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { loadConfig } from '../../../src/config.ts';
import { buildApp } from '../../../src/http/app.ts';
import { putSourceConfig } from '../../../src/ingest/source-config-store.ts';
import { webhookAdapter } from '../../../src/integrations/registry.ts';
import type { RawWebhookRequest } from '../../../src/integrations/webhook-source.ts';
import { createDatabase, createPool } from '../../../src/platform/db.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { migrateToLatest } from '../../../src/platform/migrate.ts';
import { SecretBox } from '../../../src/platform/secret-box.ts';
import type { SignalPump } from '../../../src/signals/pump.ts';
import { putWorkspace } from '../../../src/workspaces/workspaces-dal.ts';
import { allSecrets, applyCredentialMutation, credentialMutation, credentialOf, mutatedBody, vendorCases, withCredential, type VendorCase } from '../../ingest/endpoint-vendors.ts';
import { publicBase } from '../../ingest/ingest-support.ts';
import type { Scenario } from '../support/scenario.ts';

const WS = 'fuzz';

type Kind = 'mutated_body' | 'forged_credential' | 'forged_and_mutated' | 'huge_array' | 'deep_nesting' | 'odd_encoding';
const kinds: { kind: Kind; weight: number }[] = [
  { kind: 'mutated_body', weight: 4 },
  { kind: 'forged_credential', weight: 2 },
  { kind: 'forged_and_mutated', weight: 1 },
  { kind: 'huge_array', weight: 1 },
  { kind: 'deep_nesting', weight: 1 },
  { kind: 'odd_encoding', weight: 1 },
];

const charsets = ['utf-16', 'utf-16le', 'latin1', 'iso-8859-1', 'UTF-8', 'utf8', 'bogus', 'utf-32'];

/** A body (and headers) that a vendor's signature covers, spoiled in one of the ways above. */
async function generate(vendor: VendorCase, kind: Kind, seed: number): Promise<{ request: RawWebhookRequest; forged: boolean }> {
  const random = fc.sample(fc.nat(), { seed, numRuns: 1 })[0]!;
  const sign = (body: string) => Promise.resolve(vendor.sign(WS, body));
  const forge = async (request: RawWebhookRequest) => {
    const original = credentialOf(request, vendor.credential);
    let spoiled = applyCredentialMutation(original, fc.sample(credentialMutation, { seed, numRuns: 1 })[0]!);
    if (spoiled === original) spoiled = `${original}x`;
    return withCredential(request, vendor.credential, spoiled);
  };
  const isXml = vendor.validBody().startsWith('<');
  switch (kind) {
    case 'mutated_body':
      return { request: await sign(fc.sample(mutatedBody(vendor.validBody), { seed, numRuns: 1 })[0]!), forged: false };
    case 'forged_credential':
      return { request: await forge(await sign(vendor.validBody())), forged: true };
    case 'forged_and_mutated':
      return { request: await forge(await sign(fc.sample(mutatedBody(vendor.validBody), { seed, numRuns: 1 })[0]!)), forged: true };
    case 'huge_array': {
      const n = 1_000 + (random % 30_000);
      const item = random % 2 === 0 ? '{}' : '0';
      const body = isXml ? vendor.validBody().replace('<soapenv:Body>', `<soapenv:Body>${'<x/>'.repeat(n)}`) : `[${Array.from({ length: n }, () => item).join(',')}]`;
      return { request: await sign(body), forged: false };
    }
    case 'deep_nesting': {
      const depth = 100 + (random % 200_000);
      const body = isXml ? vendor.validBody().replace('<soapenv:Body>', `<soapenv:Body>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`) : random % 2 === 0 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      return { request: await sign(body), forged: false };
    }
    case 'odd_encoding': {
      const valid = vendor.validBody();
      const variants = [`\uFEFF${valid}`, valid.replace(/"[^"]{3,}"/, '"\uD800\uDFFF\uD800"'), valid.replace(/e/g, '\u0065\u0301'), valid.replace(/a/, '\\ud800')];
      const signed = await sign(variants[random % variants.length]!);
      const type = signed.headers['content-type']?.split(';')[0] ?? 'application/json';
      return { request: { ...signed, headers: { ...signed.headers, 'content-type': `${type}; charset=${charsets[random % charsets.length]}` } }, forged: false };
    }
  }
}

function pickKind(seed: number): Kind {
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  let at = seed % total;
  for (const k of kinds) {
    if (at < k.weight) return k.kind;
    at -= k.weight;
  }
  return 'mutated_body';
}

export const fuzzScenario: Scenario = {
  name: 'fuzz',
  description: 'generated webhook bodies per vendor endpoint: valid signatures over mutated bodies, spoiled signatures, huge arrays, deep nesting, odd encodings',
  quick: true,
  async run(ctx) {
    const started = Date.now();
    const perVendor = ctx.quick ? 120 : Number(process.env.FAULTS_FUZZ_BODIES ?? 100_000);
    const url = await ctx.pg.createDatabase(`faults_fuzz_${randomBytes(3).toString('hex')}`);
    let logBytes = 0;
    const secrets = [...allSecrets];
    const leaked = new Set<string>();
    const logSink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString();
        logBytes += text.length;
        for (const secret of secrets) if (text.includes(secret)) leaked.add(secret);
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination: logSink });
    const pool = createPool(url, 12, logger);
    const db = createDatabase(pool);
    await migrateToLatest(pool, db, logger);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', PUBLIC_BASE_URL: publicBase, MOMENTUM_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    const secretBox = new SecretBox(config.encryptionKey!);
    secrets.push(config.encryptionKey!);
    const idlePump = { nudge: () => undefined, idle: () => Promise.resolve() } as unknown as SignalPump;
    const app = await buildApp({ config, db, pool, logger, metrics: createMetrics(), secretBox, pump: idlePump });
    await putWorkspace(db, { id: WS, name: WS, mode: 'shadow' });
    for (const vendor of vendorCases.filter((v, i, all) => all.findIndex((w) => w.source === v.source) === i)) {
      await putSourceConfig(db, secretBox, webhookAdapter(vendor.source)!, WS, vendor.config);
    }

    const perEndpoint: Record<string, { bodies: number; statuses: Record<string, number>; server5xx: number; forgeriesAccepted: number; crashes: number; examples: string[] }> = {};
    try {
      for (const vendor of vendorCases) {
        const stats = { bodies: 0, statuses: {} as Record<string, number>, server5xx: 0, forgeriesAccepted: 0, crashes: 0, examples: [] as string[] };
        perEndpoint[vendor.name] = stats;
        let next = 0;
        const worker = async () => {
          while (next < perVendor) {
            const seed = next++;
            const kind = pickKind(seed);
            const { request, forged } = await generate(vendor, kind, seed * 7919 + vendor.name.length);
            const target = new URL(request.publicUrl);
            const headers = Object.fromEntries(Object.entries(request.headers).filter((e): e is [string, string] => e[1] !== undefined));
            try {
              const res = await app.inject({ method: 'POST', url: target.pathname + target.search, headers, payload: request.rawBody });
              stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
              if (res.statusCode >= 500) {
                stats.server5xx += 1;
                if (stats.examples.length < 3) stats.examples.push(`${kind} → ${res.statusCode}: ${request.rawBody.toString('utf8').slice(0, 160)}`);
              }
              if (forged && res.statusCode < 300) stats.forgeriesAccepted += 1;
              for (const secret of secrets) if (res.body.includes(secret)) leaked.add(secret);
            } catch {
              stats.crashes += 1;
            }
            stats.bodies += 1;
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        ctx.log(`  ${vendor.name}: ${stats.bodies} bodies ${JSON.stringify(stats.statuses)}`);
        for (const example of stats.examples) ctx.log(`    5xx: ${example}`);
      }
    } finally {
      await app.close();
      await db.destroy();
    }
    const all = Object.values(perEndpoint);
    const sum = (f: (s: (typeof all)[number]) => number) => all.reduce((a, s) => a + f(s), 0);
    return {
      name: this.name,
      description: this.description,
      seconds: (Date.now() - started) / 1000,
      fault: `${sum((s) => s.bodies)} bodies over ${all.length} endpoints`,
      recoverySeconds: null,
      checks: [
        { name: `bodies per endpoint ≥ ${perVendor}`, ok: all.every((s) => s.bodies >= perVendor), detail: String(Math.min(...all.map((s) => s.bodies))) },
        { name: '5xx answers', ok: sum((s) => s.server5xx) === 0, detail: String(sum((s) => s.server5xx)) },
        { name: 'crashes (no answer)', ok: sum((s) => s.crashes) === 0, detail: String(sum((s) => s.crashes)) },
        { name: 'forgeries accepted', ok: sum((s) => s.forgeriesAccepted) === 0, detail: String(sum((s) => s.forgeriesAccepted)) },
        { name: 'secrets in logs or answers', ok: leaked.size === 0, detail: `${leaked.size} of ${secrets.length} in ${(logBytes / 1e6).toFixed(1)} MB of logs` },
      ],
      extra: { perEndpoint },
    };
  },
};
