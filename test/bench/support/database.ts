import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, createPool } from '../../../src/platform/db.ts';
import { startEmbeddedPostgres } from '../../../src/platform/embedded-postgres.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { migrateToLatest } from '../../../src/platform/migrate.ts';
import type { BenchDatabase } from './scenario.ts';

export interface BenchServer {
  /** Connection URL of the server's maintenance database. */
  url: string;
  embedded: boolean;
  /** A fresh database cloned from the migrated template. */
  createDatabase(label: string, poolSize?: number): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * DATABASE_URL when set, else an embedded Postgres in a temporary folder. Migrations run once into
 * a template database; each scenario clones it (a file copy), so scenarios never see each other's rows.
 */
export async function startBenchServer(): Promise<BenchServer> {
  const logger = createLogger({ level: 'warn' });
  let dataDir: string | undefined;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'momentum-bench-'));
    const embedded = await startEmbeddedPostgres({ dataDir, logger, persistent: false });
    url = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const serverUrl = url;
  const template = `momentum_bench_template_${process.pid}`;
  const created: string[] = [];
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const templatePool = createPool(withDatabase(serverUrl, template), 2, logger);
  const templateDb = createDatabase(templatePool);
  await migrateToLatest(templatePool, templateDb, logger);
  await templateDb.destroy();

  return {
    url: serverUrl,
    embedded: dataDir !== undefined,
    async createDatabase(label, poolSize = 10) {
      const name = `momentum_bench_${label.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(3).toString('hex')}`;
      await admin.query(`create database ${name} template ${template}`);
      created.push(name);
      const dbUrl = withDatabase(serverUrl, name);
      const pool = createPool(dbUrl, poolSize, logger);
      const db = createDatabase(pool);
      let closed = false;
      return {
        url: dbUrl,
        pool,
        db,
        async close() {
          if (closed) return;
          closed = true;
          await db.destroy();
        },
      };
    },
    async stop() {
      for (const name of [...created, template]) {
        await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      }
      await admin.end();
      await stopEmbedded?.();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
