import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../../src/config.ts';
import { createLogger, type Logger } from '../../../src/platform/logger.ts';
import { createMetrics, type Metrics } from '../../../src/platform/metrics.ts';
import { SecretBox } from '../../../src/platform/secret-box.ts';
import type { BenchDatabase } from './scenario.ts';

export const benchPublicBaseUrl = 'https://momentum.example.com';

export function benchConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
    LOG_LEVEL: 'warn',
    PUBLIC_BASE_URL: benchPublicBaseUrl,
    MOMENTUM_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...overrides,
  });
}

export interface BenchRuntime {
  db: BenchDatabase['db'];
  pool: BenchDatabase['pool'];
  config: Config;
  logger: Logger;
  metrics: Metrics;
  secretBox: SecretBox;
}

/** What the worker's task list and the app expect, around a bench database. */
export function benchRuntime(database: BenchDatabase, overrides: Record<string, string> = {}): BenchRuntime {
  const config = benchConfig(overrides);
  return {
    db: database.db,
    pool: database.pool,
    config,
    logger: createLogger({ level: 'warn' }),
    metrics: createMetrics(),
    secretBox: new SecretBox(config.encryptionKey!),
  };
}
