#!/usr/bin/env node
import { parseArgs } from 'node:util';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { buildApp } from './http/app.ts';
import { listen } from './server.ts';
import { startQueueWorker, type QueueWorker } from './worker/queue-runner.ts';
import { supervise } from './supervisor/supervise.ts';
import { embeddedServerPid, stopEmbeddedServer } from './supervisor/embedded-server.ts';
import { BATCHED_TASKS, buildTaskList } from './worker/tasks.ts';
import { countActiveAdminTokens, createAdminToken, revokeAdminToken } from './workspaces/admin-tokens.ts';
import { validatePlaybookFile } from './cli/playbook-commands.ts';
import { resealSecrets } from './cli/rotate-keys.ts';
import { progressBar } from './cli/progress-bar.ts';
import { syncCommand } from './sync/sync-command.ts';
import { runBacktest } from './progression/backtest.ts';
import { sweepDeals, sweepEveryWorkspace } from './progression/sweep.ts';
import { currentPlaybook, validatePlaybookText } from './progression/playbook-store.ts';
import { compilePlaybook } from './engine/playbook/compile.ts';
import { readFile } from 'node:fs/promises';

/**
 * The only entry point: reads the environment, opens ports and starts the queue. Everything else
 * receives what it needs as arguments.
 */

const usage = `Usage: momentum <command>

  start                      web + worker + scheduler in one process (what npm start runs)
  web                        HTTP only
  worker                     queue worker and scheduler only
  migrate                    apply database migrations and exit
  token create --name NAME [--workspace ID]   print a new admin token once
  token revoke ID_OR_NAME    revoke an admin token
  playbook validate FILE     check a playbook file offline (every problem, with its line)
  backtest --workspace W --from DATE --to DATE [--playbook FILE]
                             run a playbook over stored history; prints per-rule results as JSON
  sweep [--workspace W] [--as-of ISO]
                             queue time-based evaluation of deals whose time conditions changed
  keys rotate                re-seal stored secrets with MOMENTUM_ENCRYPTION_KEY
  sync --workspace W [--activity-days N] [--restart]
                             import the workspace's open CRM deals now, with progress
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(usage);
    return command ? 0 : 2;
  }
  // Offline: needs neither configuration nor a database.
  if (command === 'playbook') {
    const [action, file] = rest;
    if (action !== 'validate' || !file) {
      process.stderr.write(usage);
      return 2;
    }
    return validatePlaybookFile(file);
  }
  const config = loadConfigOrExplain();
  const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY });

  switch (command) {
    case 'start':
    case 'web':
    case 'worker': {
      const roles = { web: command !== 'worker', worker: command !== 'web' };
      // The role runs in a child process of a small supervisor that restarts it when it dies.
      return process.env.MOMENTUM_SUPERVISED === '1' ? serve(config, logger, roles) : superviseRole(config, logger, command);
    }
    case 'migrate':
      return withRuntime(config, logger, async () => {
        logger.info('migrations are current');
        return 0;
      });
    case 'token':
      return tokenCommand(config, logger, rest);
    case 'backtest':
      return backtestCommand(config, logger, rest);
    case 'sweep': {
      const { values } = parseArgs({ args: rest, options: { workspace: { type: 'string' }, 'as-of': { type: 'string' } } });
      const asOf = values['as-of'] ? new Date(values['as-of']) : new Date();
      if (Number.isNaN(asOf.getTime())) {
        process.stderr.write('--as-of must be an ISO-8601 instant\n');
        return 2;
      }
      return withRuntime(config, logger, async ({ db }) => {
        const enqueued = values.workspace ? (await sweepDeals(db, { workspaceId: values.workspace, asOf })).enqueued : await sweepEveryWorkspace(db, asOf);
        process.stderr.write(`Queued ${enqueued} deal evaluation(s) as of ${asOf.toISOString()}; a running worker carries them out.\n`);
        return 0;
      });
    }
    case 'sync': {
      const { values } = parseArgs({ args: rest, options: { workspace: { type: 'string' }, 'activity-days': { type: 'string' }, restart: { type: 'boolean' } } });
      const days = values['activity-days'] === undefined ? undefined : Number(values['activity-days']);
      if (!values.workspace || (days !== undefined && !(Number.isInteger(days) && days >= 0 && days <= 365))) {
        process.stderr.write('sync needs --workspace W (and --activity-days between 0 and 365)\n');
        return 2;
      }
      const workspaceId = values.workspace;
      return withRuntime(config, logger, (runtime) =>
        syncCommand(runtime, {
          workspaceId,
          ...(days === undefined ? {} : { activityDays: days }),
          ...(values.restart ? { restart: true } : {}),
          onProgress: progressBar('Importing deals'),
          write: (line) => process.stderr.write(`${line}\n`),
        }),
      );
    }
    case 'keys':
      if (rest[0] !== 'rotate') break;
      return withRuntime(config, logger, async ({ db, secretBox }) => {
        const { sources, connections } = await resealSecrets(db, secretBox);
        process.stderr.write(`Re-sealed ${sources} source secret(s) and ${connections} connection(s) with the current key.\n`);
        return 0;
      });
  }
  process.stderr.write(`Unknown command "${argv.join(' ')}".\n\n${usage}`);
  return 2;
}

function loadConfigOrExplain(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nFix the variables above and start again.\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function withRuntime(config: Config, logger: Logger, fn: (runtime: Runtime) => Promise<number>): Promise<number> {
  const runtime = await openRuntime(config, logger, { migrate: true });
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

async function tokenCommand(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: 'string' }, workspace: { type: 'string' } },
  });
  const [action, target] = positionals;
  return withRuntime(config, logger, async ({ db }) => {
    if (action === 'create' && values.name) {
      const { token } = await createAdminToken(db, { name: values.name, workspaceId: values.workspace ?? null });
      process.stdout.write(`${token}\n`);
      process.stderr.write('Store this token now: it is shown only once.\n');
      return 0;
    }
    if (action === 'revoke' && target) {
      const revoked = await revokeAdminToken(db, target);
      process.stderr.write(revoked > 0 ? `Revoked ${revoked} token(s).\n` : `No active token matches "${target}".\n`);
      return revoked > 0 ? 0 : 1;
    }
    process.stderr.write(usage);
    return 2;
  });
}

async function backtestCommand(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { workspace: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, playbook: { type: 'string' } },
  });
  const from = new Date(values.from ?? '');
  const to = new Date(values.to ?? '');
  if (!values.workspace || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    process.stderr.write('backtest needs --workspace W --from DATE --to DATE (ISO dates, from before to)\n');
    return 2;
  }
  const workspaceId = values.workspace;
  return withRuntime(config, logger, async ({ db }) => {
    const playbook = values.playbook
      ? { compiled: compilePlaybook(validatePlaybookText(await readFile(values.playbook, 'utf8'))), version: 'draft' }
      : await currentPlaybook(db, workspaceId).then((p) => ({ compiled: p.compiled, version: String(p.version) }));
    const report = await runBacktest(db, { workspaceId, from, to, playbook: playbook.compiled, playbookVersion: playbook.version, onProgress: progressBar('Replaying deals') });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  });
}

async function serve(config: Config, logger: Logger, roles: { web: boolean; worker: boolean }): Promise<number> {
  const runtime = await openRuntime(config, logger, { migrate: true });
  let worker: QueueWorker | undefined;
  if (roles.worker) {
    const { taskList, cronItems } = buildTaskList(runtime);
    worker = await startQueueWorker({
      pool: runtime.pool,
      db: runtime.db,
      logger,
      metrics: runtime.metrics,
      taskList,
      cronItems,
      concurrency: config.workerConcurrency,
      batchedTasks: BATCHED_TASKS,
    });
  }
  const app = roles.web
    ? await buildApp({ ...runtime, ...(worker ? { worker } : {}) })
    : undefined;
  const address = app ? await listen(app, config) : undefined;

  if (runtime.embedded) await announceFirstStart(runtime);
  const lines = [
    address ? `Momentum is listening on ${address}` : 'Momentum worker is running',
    runtime.embedded ? `Data: ${path.resolve(config.dataDir)} (embedded PostgreSQL)` : 'Data: the database at DATABASE_URL',
    'Stop with Ctrl+C (or SIGTERM).',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ reason }, 'shutting down');
      // Past the bound, exit anyway: a supervisor restarting us beats hanging forever.
      const timer = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        resolve(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      try {
        await app?.close();
        await worker?.stop();
        await runtime.close();
        clearTimeout(timer);
        resolve(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        resolve(1);
      }
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
    // Our supervisor is gone (killed): stop too rather than run on unsupervised.
    process.once('disconnect', () => void shutdown('supervisor gone'));
    // A worker that dies on its own (e.g. the database vanished) takes the process down so its
    // supervisor can restart it cleanly.
    void worker?.finished.then(() => {
      if (!stopping) {
        logger.error('the queue worker stopped unexpectedly; exiting so the supervisor restarts us');
        void shutdown('worker stopped').then(() => resolve(1));
      }
    });
  });
}

/**
 * Runs `momentum <role>` again as a supervised child process. With the embedded database, a server
 * that a killed child left running is stopped at the end, unless it was running before we started.
 */
async function superviseRole(config: Config, logger: Logger, role: string): Promise<number> {
  const embedded = config.databaseUrl === undefined;
  const runningBefore = embedded && (await embeddedServerPid(config.dataDir)) !== undefined;
  const code = await supervise({
    command: process.execPath,
    args: [...process.execArgv, process.argv[1]!, role],
    env: { ...process.env, MOMENTUM_SUPERVISED: '1' },
    logger,
  });
  if (embedded && !runningBefore) {
    const leftover = await embeddedServerPid(config.dataDir);
    if (leftover !== undefined && !(await stopEmbeddedServer(leftover))) {
      logger.error({ pid: leftover }, 'the embedded PostgreSQL did not stop');
    }
  }
  return code;
}

/** On the embedded quick start's first run there is no admin token yet: make one and show it once. */
async function announceFirstStart(runtime: Runtime): Promise<void> {
  if ((await countActiveAdminTokens(runtime.db)) > 0) return;
  const { token } = await createAdminToken(runtime.db, { name: 'initial' });
  process.stderr.write(
    `\nFirst start: created an admin token (shown only this once, stored only as a hash):\n\n  ${token}\n\n` +
      'Use it as "Authorization: Bearer <token>" on /api. Make more with `npm run momentum -- token create --name NAME`.\n\n',
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`momentum: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
