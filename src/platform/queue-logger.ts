import { Logger as QueueLogger } from 'graphile-worker';
import type { Logger } from './logger.ts';

/** Routes graphile-worker's log lines into pino at matching levels. */
export function queueLogger(logger: Logger): QueueLogger {
  const child = logger.child({ component: 'queue' });
  return new QueueLogger(() => (level, message, meta) => {
    if (level === 'error') child.error(meta ?? {}, message);
    else if (level === 'warning') child.warn(meta ?? {}, message);
    else child.debug(meta ?? {}, message);
  });
}
