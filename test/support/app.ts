import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { createAdminToken } from '../../src/workspaces/admin-tokens.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { SignalPump } from '../../src/signals/pump.ts';

export interface TestApp extends TestDatabase {
  app: FastifyInstance;
  deps: AppDeps;
  config: Config;
  /** The app's signal pump; `await t.pump.idle()` before reading what it produces. */
  pump: SignalPump;
  /** A global admin token. */
  token: string;
  auth: { authorization: string };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PUBLIC_BASE_URL: 'https://momentum.example.com',
    MOMENTUM_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...overrides,
  });
}

/** A real app on a real database of its own, driven through `inject`. */
export async function createTestApp(options: { env?: Record<string, string>; deps?: Partial<AppDeps> } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = testConfig(options.env);
  const logger = options.deps?.logger ?? createLogger({ level: config.logLevel });
  const deps: AppDeps = {
    config,
    db: database.db,
    pool: database.pool,
    logger,
    metrics: createMetrics(),
    secretBox: new SecretBox(config.encryptionKey!),
    pump: new SignalPump(database.db, logger),
    ...options.deps,
  };
  const app = await buildApp(deps);
  await app.ready();
  afterAll(() => app.close());
  const { token } = await createAdminToken(database.db, { name: 'test' });
  return { ...database, app, deps, config, pump: deps.pump!, token, auth: { authorization: `Bearer ${token}` } };
}
