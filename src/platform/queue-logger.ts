import { Logger as QueueLogger } from 'graphile-worker';
import type { Logger } from './logger.ts';

/**
 * graphile-worker warns when the pool is smaller than a runner's job slots. The batched runner
 * (evaluate-deal) has many slots on purpose: its jobs wait for a shared batch and use no
 * connection of their own, so the warning does not apply there and is logged at debug level.
 */
const notApplicable = /^WARNING: having maxPoolSize \(\d+\) smaller than concurrency/;

/** Routes graphile-worker's log lines into pino at matching levels. */
export function queueLogger(logger: Logger): QueueLogger {
  const child = logger.child({ component: 'queue' });
  return new QueueLogger(() => (level, message, meta) => {
    if (level === 'error') child.error(meta ?? {}, message);
    else if (level === 'warning' && !notApplicable.test(message)) child.warn(meta ?? {}, message);
    else child.debug(meta ?? {}, message);
  });
}
