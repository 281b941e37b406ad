import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase, createPool } from '../../src/platform/db.ts';
import { startEmbeddedPostgres } from '../../src/platform/embedded-postgres.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { migrateToLatest } from '../../src/platform/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
    templateDatabase: string;
  }
}

/**
 * One Postgres for the whole run: DATABASE_URL when set, else an embedded server in a temporary
 * folder. A migrated template database is made once; each test file clones it (CREATE DATABASE …
 * TEMPLATE is a file copy, far faster than migrating again).
 */
export default async function setup(project: TestProject) {
  const logger = createLogger({ level: 'warn' });
  let dataDir: string | undefined;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'momentum-test-'));
    const embedded = await startEmbeddedPostgres({ dataDir, logger, persistent: false });
    serverUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const templateDatabase = `momentum_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${templateDatabase}`);
  await admin.query(`create database ${templateDatabase}`);

  const pool = createPool(withDatabase(serverUrl, templateDatabase), 4, logger);
  const db = createDatabase(pool);
  await migrateToLatest(pool, db, logger);
  await db.destroy();

  project.provide('serverUrl', serverUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    await admin.query(`drop database if exists ${templateDatabase} with (force)`).catch(() => undefined);
    await admin.end();
    await stopEmbedded?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
