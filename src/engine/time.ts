import type { IsoDate, IsoInstant } from './types.ts';

/** Small, allocation-light time helpers; the engine works in epoch milliseconds internally. */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function toMs(value: Date | IsoInstant): number {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a valid instant: ${String(value)}`);
  return ms;
}

export function toIso(ms: number): IsoInstant {
  return new Date(ms).toISOString();
}

/** Midnight UTC of a YYYY-MM-DD date. */
export function dateToMs(date: IsoDate): number {
  return Date.parse(`${date}T00:00:00.000Z`);
}

export function msToDate(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

export function daysBetween(fromMs: number, toMsValue: number): number {
  return (toMsValue - fromMs) / DAY_MS;
}
