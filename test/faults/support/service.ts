import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcess {
  role: 'web' | 'worker';
  /** Set for the web role. */
  url: string | undefined;
  /** The pid of the current role process (the supervisor's child), once it has started. */
  rolePid(): number | undefined;
  /** Role processes the supervisor started so far (1 + restarts). */
  starts(): number;
  /** Every line the supervisor and its children printed. */
  output(): string;
  /** Resolves when the current role process is ready (web: /readyz 200; worker: its runner started). */
  ready(timeoutMs?: number): Promise<void>;
  /** kill -9 of the role process (not the supervisor): the supervisor should bring it back. */
  killRole(): void;
  /** SIGTERM to the supervisor; resolves with its exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts `momentum <role>` exactly as production does: the supervisor, which forks the role process. */
export async function startService(role: 'web' | 'worker', env: Record<string, string>): Promise<ServiceProcess> {
  const port = role === 'web' ? await freePort() : 0;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port), HOST: '127.0.0.1', MOMENTUM_SUPERVISED: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let rolePid: number | undefined;
  let starts = 0;
  let runnerStartedFor: number | undefined;
  let pending = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { msg?: string; pid?: number; component?: string };
        if (entry.component === 'supervisor' && entry.msg === 'role process started' && entry.pid) {
          rolePid = entry.pid;
          starts += 1;
        }
        if (entry.component === 'queue-runner' && entry.msg === 'queue runner started') runnerStartedFor = rolePid;
      } catch {
        // Not a log line.
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = role === 'web' ? `http://127.0.0.1:${port}` : undefined;

  return {
    role,
    url,
    rolePid: () => rolePid,
    starts: () => starts,
    output: () => output,
    async ready(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`momentum ${role} exited with ${child.exitCode}:\n${output.slice(-3000)}`);
        if (role === 'worker' && rolePid !== undefined && runnerStartedFor === rolePid) return;
        if (role === 'web') {
          const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
          if (ok) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`momentum ${role} not ready within ${timeoutMs} ms:\n${output.slice(-3000)}`);
    },
    killRole() {
      if (rolePid === undefined) throw new Error('no role process yet');
      try {
        process.kill(rolePid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        if (rolePid) process.kill(rolePid, 'SIGKILL');
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
