import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely/migration';
import { runMigrations as runQueueMigrations } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from './logger.ts';
import { queueLogger } from './queue-logger.ts';

const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Any fixed number works; it only has to be the same in every process of this service.
const MIGRATION_LOCK_ID = 7_303_100_042;

function migratorFor(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
}

/**
 * Applies Momentum's migrations and the job queue's own, once, even when several processes start
 * at the same moment: they queue on one session-level advisory lock, and the later ones find
 * nothing left to do.
 */
export async function migrateToLatest(pool: pg.Pool, db: Kysely<any>, logger: Logger): Promise<void> {
  const lockClient = await pool.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const result: MigrationResultSet = await migratorFor(db).migrateToLatest();
    for (const step of result.results ?? []) {
      logger.info({ migration: step.migrationName, status: step.status }, 'migration');
    }
    if (result.error) throw result.error instanceof Error ? result.error : new Error(String(result.error));
    await runQueueMigrations({ pgPool: pool, logger: queueLogger(logger) });
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    lockClient.release();
  }
}

/** True when every migration file has been applied (used by /readyz). */
export async function migrationsAreCurrent(db: Kysely<any>): Promise<boolean> {
  const migrations = await migratorFor(db).getMigrations();
  return migrations.every((migration) => migration.executedAt !== undefined);
}
