import { DAY_MS } from './time.ts';

/**
 * Business days in UTC: Saturday and Sunday are skipped. Holidays and workspace time zones are
 * not modelled; a due date landing on a weekend moves to Monday.
 */

function isWeekend(ms: number): boolean {
  const day = new Date(ms).getUTCDay();
  return day === 0 || day === 6;
}

/** The same instant, moved forward day by day until it falls on a weekday. */
export function nextBusinessInstant(ms: number): number {
  let t = ms;
  while (isWeekend(t)) t += DAY_MS;
  return t;
}

/**
 * `days` business days after `ms`, keeping the time of day. Starting on a weekend counts from the
 * following Monday, so "within 5 business days" from a Saturday ends the next Friday.
 */
export function addBusinessDays(ms: number, days: number): number {
  let t = nextBusinessInstant(ms);
  let left = days;
  while (left > 0) {
    t += DAY_MS;
    if (!isWeekend(t)) left -= 1;
  }
  return t;
}
