import { addDays, clockMinutes, localMoment, weekdayOf, zonedInstant } from './local-time.ts';

/** When a person works: their zone, working weekdays and hours, and days they are away. */
export interface WorkingPattern {
  timeZone: string;
  /** ISO weekdays, 1 = Monday. */
  days: readonly number[];
  /** "HH:MM" local. */
  start: string;
  end: string;
  /** Inclusive local date ranges (YYYY-MM-DD). */
  outOfOffice: ReadonlyArray<{ from: string; to: string }>;
}

/** Quiet hours: outside the person's working time, never, or a fixed local window every day. */
export type QuietHours = 'outside_working_hours' | 'off' | { from: string; to: string };

// A search horizon: nobody is away or off for longer than this without it being a data error.
const HORIZON_DAYS = 400;

export function isOutOfOffice(p: WorkingPattern, date: string): boolean {
  return p.outOfOffice.some((r) => r.from <= date && date <= r.to);
}

export function isWorkingDate(p: WorkingPattern, date: string): boolean {
  return p.days.includes(weekdayOf(date)) && !isOutOfOffice(p, date);
}

/** The first instant at or after `ms` inside the person's working hours on a working day. */
export function nextWorkingInstant(p: WorkingPattern, ms: number): number {
  const start = clockMinutes(p.start);
  const end = clockMinutes(p.end);
  const here = localMoment(ms, p.timeZone);
  for (let i = 0; i < HORIZON_DAYS; i += 1) {
    const date = addDays(here.date, i);
    if (!isWorkingDate(p, date)) continue;
    if (i === 0) {
      if (here.minutes >= end) continue;
      if (here.minutes >= start) return ms;
    }
    return zonedInstant(date, start, p.timeZone);
  }
  return ms;
}

/** The first instant at or after `ms` when the person may be notified. */
export function quietUntil(p: WorkingPattern, quiet: QuietHours, ms: number): number {
  if (quiet === 'off') return ms;
  if (quiet === 'outside_working_hours') return nextWorkingInstant(p, ms);
  const from = clockMinutes(quiet.from);
  const to = clockMinutes(quiet.to);
  const here = localMoment(ms, p.timeZone);
  const m = here.minutes;
  // A window like 20:00–08:00 wraps past midnight.
  const inside = from <= to ? m >= from && m < to : m >= from || m < to;
  if (!inside) return ms;
  const endDate = from > to && m >= from ? addDays(here.date, 1) : here.date;
  return zonedInstant(endDate, to, p.timeZone);
}

/**
 * `days` working days after `ms`, at the same local time of day (0 = `ms` itself). Weekends,
 * non-working weekdays and out-of-office dates are skipped.
 */
export function addWorkingDays(p: WorkingPattern, ms: number, days: number): number {
  if (days <= 0) return ms;
  const here = localMoment(ms, p.timeZone);
  let date = here.date;
  let left = days;
  for (let i = 0; i < HORIZON_DAYS && left > 0; i += 1) {
    date = addDays(date, 1);
    if (isWorkingDate(p, date)) left -= 1;
  }
  return zonedInstant(date, here.minutes, p.timeZone);
}
