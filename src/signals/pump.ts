import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';

const PUMP_BATCH_SIZE = 5000;

export const EVALUATE_DEAL_TASK = 'evaluate-deal';

/** One pending evaluation per deal: a burst of signals for a deal becomes a single job. */
export const evaluationJobKey = (workspaceId: string, dealId: string) => `evaluate:${workspaceId}:${dealId}`;

/**
 * Turns signals not yet handled into evaluate-deal jobs, in bulk, and marks them handled in the
 * same transaction: a crash either leaves both undone (the next pump redoes them) or both done.
 * Test deliveries are marked but never evaluated.
 */
export async function pumpSignals(db: Database, options: { batchSize?: number } = {}): Promise<{ signals: number; deals: number }> {
  const batchSize = options.batchSize ?? PUMP_BATCH_SIZE;
  return db.transaction().execute(async (tx) => {
    const result = await sql<{ signals: number; deals: number }>`
      with picked as (
        select workspace_id, id, deal_id, origin from signals
        where pumped_at is null
        order by id
        limit ${batchSize}
        for update skip locked
      ),
      marked as (
        update signals s set pumped_at = now()
        from picked p
        where s.workspace_id = p.workspace_id and s.id = p.id
        returning p.workspace_id, p.deal_id, p.origin
      ),
      deals as (
        select distinct workspace_id, deal_id from marked where origin <> 'test'
      ),
      jobs as (
        select count(*) as n from graphile_worker.add_jobs(
          array(
            select row(
              ${EVALUATE_DEAL_TASK}::text,
              json_build_object('workspaceId', workspace_id, 'dealId', deal_id, 'trigger', 'signals'),
              null, now(), 10,
              'evaluate:' || workspace_id || ':' || deal_id,
              null, null
            )::graphile_worker.job_spec
            from deals
          )
        )
      )
      select (select count(*)::int from marked) as signals, (select count(*)::int from deals) as deals, (select n from jobs) as jobs
    `.execute(tx);
    const row = result.rows[0]!;
    return { signals: row.signals, deals: row.deals };
  });
}

/** Under steady load the web role pumps at most this often, so each pump takes many signals. */
const MIN_PUMP_INTERVAL_MS = 25;

/**
 * Runs the pump soon after signals are stored, coalescing nudges that arrive while a pump is in
 * flight (or due) into one more run. Webhook requests only nudge it; they never wait for it.
 *
 * A nudge after a quiet spell pumps at once. Otherwise a run starts no sooner than `minIntervalMs`
 * after the previous one started, so under steady load each run takes many signals: every run is
 * a transaction with its own planning and commit, and a run per webhook would take the database
 * (and the pool) from the requests themselves for little work.
 */
export class SignalPump {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #minIntervalMs: number;
  #running: Promise<void> | undefined;
  #again = false;
  #lastStartedAt = Number.NEGATIVE_INFINITY;

  constructor(db: Database, logger: Logger, options: { minIntervalMs?: number } = {}) {
    this.#db = db;
    this.#logger = logger;
    this.#minIntervalMs = options.minIntervalMs ?? MIN_PUMP_INTERVAL_MS;
  }

  nudge = (): void => {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  };

  /** Resolves when no pump is in flight or due (used on shutdown and in tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    do {
      const wait = this.#lastStartedAt + this.#minIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.#lastStartedAt = Date.now();
      this.#again = false;
      try {
        // A full batch means more may be waiting.
        while ((await pumpSignals(this.#db)).signals >= PUMP_BATCH_SIZE);
      } catch (error) {
        // The worker's periodic pump picks up whatever this one could not.
        this.#logger.warn({ err: error }, 'signal pump failed; the periodic pump will retry');
      }
    } while (this.#again);
  }
}
