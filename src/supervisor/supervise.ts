import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../platform/logger.ts';

export interface SuperviseOptions {
  /** What the role process runs: node, its flags (tsx's loader), the entry script and the role. */
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Exit codes that mean "starting again cannot help" (bad configuration). */
  fatalExitCodes?: readonly number[];
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A process that lived this long has its restart delay reset. */
  stableAfterMs?: number;
  /** Registers for the stop signals; returns a function that unregisters. Defaults to the process's. */
  onStopSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

const processSignals = (handler: (signal: NodeJS.Signals) => void) => {
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
};

/**
 * Runs a role process and starts it again, with a growing delay, whenever it dies without being
 * asked to stop (a crash, SIGKILL, the out-of-memory killer, a worker that gave up on the database).
 * SIGTERM and SIGINT are passed on once; the supervisor then waits for the process and exits with
 * its status, so a clean stop still ends with 0.
 *
 * The child gets its own process group, so Ctrl+C in a terminal reaches it once, through us, and
 * an IPC channel, so it notices and stops if the supervisor itself is killed.
 */
export function supervise(options: SuperviseOptions): Promise<number> {
  const minDelayMs = options.minDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const fatal = new Set(options.fatalExitCodes ?? [2]);
  const log = options.logger.child({ component: 'supervisor' });

  return new Promise<number>((resolve) => {
    let child: ChildProcess | undefined;
    let stopSignal: NodeJS.Signals | undefined;
    let delay = minDelayMs;
    let restartTimer: NodeJS.Timeout | undefined;

    const finish = (code: number) => {
      unregister();
      resolve(code);
    };

    const start = () => {
      restartTimer = undefined;
      const startedAt = Date.now();
      const current = spawn(options.command, options.args, {
        env: options.env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        detached: true,
      });
      child = current;
      log.info({ pid: current.pid }, 'role process started');
      current.once('error', (error) => log.error({ err: error }, 'could not start the role process'));
      current.once('exit', (code, signal) => {
        child = undefined;
        if (stopSignal) return finish(code ?? 1);
        if (code === 0) {
          log.info({ pid: current.pid }, 'role process stopped on its own with status 0');
          return finish(0);
        }
        if (code !== null && fatal.has(code)) {
          log.error({ pid: current.pid, code }, 'role process cannot start; not restarting it');
          return finish(code);
        }
        if (Date.now() - startedAt >= stableAfterMs) delay = minDelayMs;
        log.error({ pid: current.pid, code, signal, restartInMs: delay }, 'role process died; restarting it');
        restartTimer = setTimeout(start, delay);
        delay = Math.min(maxDelayMs, delay * 2);
      });
    };

    const unregister = (options.onStopSignal ?? processSignals)((signal) => {
      if (stopSignal) return;
      stopSignal = signal;
      log.info({ signal }, 'stopping');
      if (restartTimer) {
        clearTimeout(restartTimer);
        return finish(0);
      }
      child?.kill(signal);
    });

    start();
  });
}
