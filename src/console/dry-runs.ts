import { randomBytes } from 'node:crypto';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { compilePlaybook } from '../engine/playbook/compile.ts';
import type { Playbook } from '../engine/playbook/schema.ts';
import { runBacktest, type BacktestReport } from '../progression/backtest.ts';

export interface DryRun {
  id: string;
  workspaceId: string;
  /** Who started it: another token's session cannot read it. */
  tokenId: string;
  /** The draft exactly as typed, so it can be published after looking at the result. */
  draft: string;
  from: Date;
  to: Date;
  startedAt: Date;
  done: number;
  total: number | null;
  report?: BacktestReport;
  error?: string;
}

const KEEP_MS = 30 * 60_000;
const MAX_RUNS = 50;

/**
 * Backtests started from the console run in this process while the page polls for progress.
 * They only read, so losing one to a restart costs nothing but a rerun. With several web
 * processes, a load balancer must keep a browser on one process (sticky sessions) for polling.
 */
export class DryRuns {
  readonly #runs = new Map<string, DryRun>();
  readonly #db: Database;
  readonly #logger: Logger;

  constructor(db: Database, logger: Logger) {
    this.#db = db;
    this.#logger = logger;
  }

  start(input: { workspaceId: string; tokenId: string; draft: string; playbook: Playbook; now: Date; days: number }): DryRun {
    this.#prune(input.now);
    const run: DryRun = {
      id: randomBytes(12).toString('base64url'),
      workspaceId: input.workspaceId,
      tokenId: input.tokenId,
      draft: input.draft,
      from: new Date(input.now.getTime() - input.days * 86_400_000),
      to: input.now,
      startedAt: input.now,
      done: 0,
      total: null,
    };
    this.#runs.set(run.id, run);
    // Started on the next turn so the request that asked for it answers at once.
    setImmediate(() => {
      runBacktest(this.#db, {
        workspaceId: run.workspaceId,
        from: run.from,
        to: run.to,
        playbook: compilePlaybook(input.playbook),
        playbookVersion: 'draft',
        onProgress: (done, total) => {
          run.done = done;
          run.total = total;
        },
      })
        .then((report) => {
          run.total ??= report.deals.total;
          run.done = run.total;
          run.report = report;
        })
        .catch((error: unknown) => {
          this.#logger.error({ err: error, workspaceId: run.workspaceId }, 'console dry run failed');
          run.error = 'The dry run failed; the service log has the details.';
        });
    });
    return run;
  }

  get(id: string, workspaceId: string, tokenId: string): DryRun | undefined {
    const run = this.#runs.get(id);
    return run && run.workspaceId === workspaceId && run.tokenId === tokenId ? run : undefined;
  }

  #prune(now: Date): void {
    for (const [id, run] of this.#runs) if (now.getTime() - run.startedAt.getTime() > KEEP_MS) this.#runs.delete(id);
    while (this.#runs.size >= MAX_RUNS) this.#runs.delete(this.#runs.keys().next().value!);
  }
}
