import { describe, expect, it } from 'vitest';
import { addBusinessDays, nextBusinessInstant } from './business-days.ts';

const ms = (iso: string): number => Date.parse(iso);
const iso = (n: number): string => new Date(n).toISOString();

describe('addBusinessDays', () => {
  it.each([
    // [start, days, expected] — 2025-03-03 is a Monday.
    ['2025-03-03T09:00:00.000Z', 0, '2025-03-03T09:00:00.000Z'],
    ['2025-03-03T09:00:00.000Z', 1, '2025-03-04T09:00:00.000Z'],
    ['2025-03-03T09:00:00.000Z', 5, '2025-03-10T09:00:00.000Z'],
    ['2025-03-07T16:00:00.000Z', 1, '2025-03-10T16:00:00.000Z'], // Friday + 1 → Monday
    ['2025-03-07T16:00:00.000Z', 3, '2025-03-12T16:00:00.000Z'], // Friday + 3 → Wednesday
    ['2025-03-08T10:00:00.000Z', 0, '2025-03-10T10:00:00.000Z'], // Saturday → Monday
    ['2025-03-09T10:00:00.000Z', 5, '2025-03-17T10:00:00.000Z'], // Sunday + 5 → next Monday
    ['2025-03-05T12:00:00.000Z', 10, '2025-03-19T12:00:00.000Z'], // two full weeks
  ])('%s + %i business days = %s', (start, days, expected) => {
    expect(iso(addBusinessDays(ms(start), days))).toBe(expected);
  });
});

describe('nextBusinessInstant', () => {
  it.each([
    ['2025-03-05T08:00:00.000Z', '2025-03-05T08:00:00.000Z'],
    ['2025-03-08T08:00:00.000Z', '2025-03-10T08:00:00.000Z'],
    ['2025-03-09T23:00:00.000Z', '2025-03-10T23:00:00.000Z'],
  ])('%s → %s', (start, expected) => {
    expect(iso(nextBusinessInstant(ms(start)))).toBe(expected);
  });
});
