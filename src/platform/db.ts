import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.ts';
import type { Logger } from './logger.ts';

export type Database = Kysely<DB>;
export type Tx = Transaction<DB>;

// `date` columns stay 'YYYY-MM-DD' strings: converting them to a Date would shift them by the
// server's time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);

export function createPool(connectionString: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its server (restart, terminated backend) must not crash the process;
  // the pool discards it and the next checkout reconnects.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn({ err: error }, 'database connection lost'));
  });
  return pool;
}

export function createDatabase(pool: pg.Pool): Database {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Serializes a value for a jsonb column. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}
