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

/**
 * Runs the pump soon after signals are stored, coalescing nudges that arrive while a pump is in
 * flight into one more run. Webhook requests only nudge it; they never wait for it.
 */
export class SignalPump {
  readonly #db: Database;
  readonly #logger: Logger;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(db: Database, logger: Logger) {
    this.#db = db;
    this.#logger = logger;
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

  /** Resolves when no pump is in flight (used on shutdown and in tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    do {
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
