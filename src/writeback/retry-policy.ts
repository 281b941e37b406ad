/** After this many attempts a write is dead: visible with the CRM's error and retryable by hand. */
export const MAX_ATTEMPTS = 10;

/**
 * A write that may have landed is looked up before it is sent again, and HubSpot's search shows a
 * new task only after a few seconds: looking sooner could miss it and create it twice.
 */
export const UNCERTAIN_RETRY_MIN_MS = 10_000;

const BASE_MS = 2_000;
const CAP_MS = 15 * 60_000;

/**
 * Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 15 min, each drawn between half and
 * all of that, so workers that failed together do not retry together.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
