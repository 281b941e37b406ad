import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * The embedded PostgreSQL of the quick start belongs to the role process that started it. When
 * that process is killed, the server lives on and the next role process reuses it; so the
 * supervisor, which outlives them all, stops it at the end if it was not already running before.
 */

/** The pid of the server running on `<dataDir>/postgres` (from postmaster.pid), if it lives. */
export async function embeddedServerPid(dataDir: string): Promise<number | undefined> {
  let contents: string;
  try {
    contents = await fs.readFile(path.join(path.resolve(dataDir), 'postgres', 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(contents.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Asks the server for a fast shutdown (SIGINT) and waits until it is gone. */
export async function stopEmbeddedServer(pid: number, timeoutMs = 20_000): Promise<boolean> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
