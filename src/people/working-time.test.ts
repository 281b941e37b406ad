import { describe, expect, it } from 'vitest';
import { localMoment, zonedInstant } from './local-time.ts';
import { addWorkingDays, nextWorkingInstant, quietUntil, type WorkingPattern } from './working-time.ts';

const berlin: WorkingPattern = { timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', outOfOffice: [] };
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('local time', () => {
  it('reads the wall clock of a zone, DST included', () => {
    expect(localMoment(at('2025-03-07T08:30:00Z'), 'Europe/Berlin')).toEqual({ date: '2025-03-07', weekday: 5, minutes: 9 * 60 + 30 });
    expect(localMoment(at('2025-07-07T08:30:00Z'), 'Europe/Berlin').minutes).toBe(10 * 60 + 30);
    expect(localMoment(at('2025-03-08T03:00:00Z'), 'America/New_York')).toEqual({ date: '2025-03-07', weekday: 5, minutes: 22 * 60 });
  });

  it('turns a local date and time back into an instant, across DST changes', () => {
    expect(iso(zonedInstant('2025-03-07', 9 * 60, 'Europe/Berlin'))).toBe('2025-03-07T08:00:00.000Z');
    expect(iso(zonedInstant('2025-07-07', 9 * 60, 'Europe/Berlin'))).toBe('2025-07-07T07:00:00.000Z');
    // 02:30 does not exist on 2025-03-30 in Berlin: the instant after the gap.
    expect(iso(zonedInstant('2025-03-30', 2 * 60 + 30, 'Europe/Berlin'))).toBe('2025-03-30T01:30:00.000Z');
    // 02:30 happens twice on 2025-10-26: the first one.
    expect(iso(zonedInstant('2025-10-26', 2 * 60 + 30, 'Europe/Berlin'))).toBe('2025-10-26T00:30:00.000Z');
  });
});

describe('working time', () => {
  it('keeps an instant inside working hours and moves others to the next start', () => {
    expect(iso(nextWorkingInstant(berlin, at('2025-03-07T10:00:00Z')))).toBe('2025-03-07T10:00:00.000Z');
    // 07:59 local, one minute before the day starts.
    expect(iso(nextWorkingInstant(berlin, at('2025-03-07T06:59:00Z')))).toBe('2025-03-07T08:00:00.000Z');
    // Exactly 18:00 local Friday is after hours: Monday 09:00.
    expect(iso(nextWorkingInstant(berlin, at('2025-03-07T17:00:00Z')))).toBe('2025-03-10T08:00:00.000Z');
    expect(iso(nextWorkingInstant(berlin, at('2025-03-07T16:59:00Z')))).toBe('2025-03-07T16:59:00.000Z');
  });

  it('skips out-of-office dates', () => {
    const away = { ...berlin, outOfOffice: [{ from: '2025-03-10', to: '2025-03-11' }] };
    expect(iso(nextWorkingInstant(away, at('2025-03-08T12:00:00Z')))).toBe('2025-03-12T08:00:00.000Z');
    expect(iso(addWorkingDays(away, at('2025-03-07T10:00:00Z'), 1))).toBe('2025-03-12T10:00:00.000Z');
  });

  it('counts working days for due dates', () => {
    expect(iso(addWorkingDays(berlin, at('2025-03-07T10:00:00Z'), 0))).toBe('2025-03-07T10:00:00.000Z');
    expect(iso(addWorkingDays(berlin, at('2025-03-07T10:00:00Z'), 1))).toBe('2025-03-10T10:00:00.000Z');
    expect(iso(addWorkingDays(berlin, at('2025-03-07T10:00:00Z'), 5))).toBe('2025-03-14T10:00:00.000Z');
  });

  it('applies a fixed quiet window that wraps midnight, at and around its edges', () => {
    const window = { from: '20:00', to: '08:00' };
    // 19:59 local: not quiet yet.
    expect(iso(quietUntil(berlin, window, at('2025-03-07T18:59:00Z')))).toBe('2025-03-07T18:59:00.000Z');
    // 20:00 local: quiet until 08:00 the next morning.
    expect(iso(quietUntil(berlin, window, at('2025-03-07T19:00:00Z')))).toBe('2025-03-08T07:00:00.000Z');
    // 07:59 local: one more minute.
    expect(iso(quietUntil(berlin, window, at('2025-03-08T06:59:00Z')))).toBe('2025-03-08T07:00:00.000Z');
    // 08:00 local: over.
    expect(iso(quietUntil(berlin, window, at('2025-03-08T07:00:00Z')))).toBe('2025-03-08T07:00:00.000Z');
    expect(quietUntil(berlin, 'off', at('2025-03-08T02:00:00Z'))).toBe(at('2025-03-08T02:00:00Z'));
  });
});
