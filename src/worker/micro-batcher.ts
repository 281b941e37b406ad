export interface MicroBatcherOptions<I, O> {
  /**
   * Handles a batch; settles one outcome per item, in order, so one item's failure fails only its
   * own caller. Items in one batch have distinct keys.
   */
  run(items: I[]): Promise<Array<PromiseSettledResult<O>>>;
  /** Items with the same key never share a batch (a later one waits for the next). */
  keyOf(item: I): string;
  maxBatch: number;
  /** Batches running at once. */
  maxInFlight: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

/**
 * Gathers calls made while earlier batches are running into one batch. A call that finds a free
 * slot starts a batch at once (of one, when the service is quiet, so nothing waits on a timer);
 * under load, calls pile up behind the running batches and go together, which is what makes the
 * per-batch cost (transaction, statements, round trips) small per item.
 */
export function createMicroBatcher<I, O>(options: MicroBatcherOptions<I, O>): (item: I) => Promise<O> {
  const waiting: Array<Waiting<I, O>> = [];
  let inFlight = 0;

  function takeBatch(): Array<Waiting<I, O>> {
    const batch: Array<Waiting<I, O>> = [];
    const keys = new Set<string>();
    for (let i = 0; i < waiting.length && batch.length < options.maxBatch; ) {
      const key = options.keyOf(waiting[i]!.item);
      if (keys.has(key)) {
        i += 1;
        continue;
      }
      keys.add(key);
      batch.push(waiting.splice(i, 1)[0]!);
    }
    return batch;
  }

  function pump(): void {
    while (inFlight < options.maxInFlight && waiting.length > 0) {
      const batch = takeBatch();
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  async function runBatch(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const outcomes = await options.run(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome?.status === 'fulfilled') w.resolve(outcome.value);
        else w.reject(outcome ? outcome.reason : new Error('the batch returned no outcome for this item'));
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      // Let calls made in the same turn of the event loop join one batch.
      queueMicrotask(pump);
    });
}
