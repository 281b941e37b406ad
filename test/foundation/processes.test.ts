import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../support/global-setup.ts';

/** Starts `momentum start` as a real process and resolves with the URL it prints once listening. */
function startMomentum(env: Record<string, string>): { child: ChildProcess; url: Promise<string>; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, exited, output: () => output };
}

describe('process roles on one database', () => {
  const serverUrl = inject('serverUrl');
  const database = `momentum_proc_${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });

  it('starts two processes at once on an empty database, both become ready, and both stop cleanly on SIGTERM', async () => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${database}`);
    await admin.end();

    const env = {
      DATABASE_URL: withDatabase(serverUrl, database),
      PORT: '0',
      LOG_LEVEL: 'warn',
      MOMENTUM_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      WORKER_CONCURRENCY: '2',
    };
    const first = startMomentum(env);
    const second = startMomentum(env);
    children.push(first.child, second.child);
    const urls = await Promise.all([first.url, second.url]);

    for (const url of urls) {
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, migrations: true, worker: true } });
    }

    first.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await second.exited).toBe(0);
  }, 90_000);
});
