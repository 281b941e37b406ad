import type pg from 'pg';
import type { Config } from './config.ts';
import { createDatabase, createPool, type Database } from './platform/db.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './platform/embedded-postgres.ts';
import { loadOrCreateLocalEncryptionKey } from './platform/local-secrets.ts';
import type { Logger } from './platform/logger.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { migrateToLatest } from './platform/migrate.ts';
import { SecretBox } from './platform/secret-box.ts';

/** The long-lived resources every process role shares. */
export interface Runtime {
  config: Config;
  logger: Logger;
  pool: pg.Pool;
  db: Database;
  metrics: Metrics;
  secretBox: SecretBox;
  embedded: EmbeddedDatabase | undefined;
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL when it is not set, then applies
 * migrations. Only `main.ts` calls this.
 */
export async function openRuntime(config: Config, logger: Logger, options: { migrate: boolean }): Promise<Runtime> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  // The queue runner shares the pool: each running job may hold a connection while graphile-worker
  // completes others in batches, so a pool smaller than this starves it (and it crashes the runner).
  const poolSize = Math.max(config.databasePoolSize, config.workerConcurrency * 2 + 4);
  const pool = createPool(databaseUrl, poolSize, logger);
  const db = createDatabase(pool);
  try {
    if (options.migrate) await migrateToLatest(pool, db, logger);
  } catch (error) {
    await db.destroy();
    await embedded?.stop();
    throw error;
  }
  const encryptionKey = config.encryptionKey ?? (await loadOrCreateLocalEncryptionKey(config.dataDir));
  return {
    config,
    logger,
    pool,
    db,
    metrics: createMetrics(),
    secretBox: new SecretBox(encryptionKey, config.previousEncryptionKeys),
    embedded,
    databaseUrl,
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
