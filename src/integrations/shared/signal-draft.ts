import { parseSignalPayload } from '../../signals/catalogue.ts';
import type { SignalDraft, SignalOrigin, SignalPayload, SignalType } from '../../signals/catalogue.ts';

export interface SignalContext {
  /** The vendor event's dedupe key; each signal appends its own suffix so keys stay unique. */
  eventKey: string;
  dealId: string;
  occurredAt: Date;
  origin: SignalOrigin;
}

/**
 * Builds a signal and checks its payload against the catalogue, so nothing off-catalogue is ever
 * stored. `suffix` distinguishes several signals of one type from the same event.
 */
export function draftSignal<T extends SignalType>(
  ctx: SignalContext,
  type: T,
  payload: SignalPayload<T>,
  suffix?: string,
): SignalDraft {
  const key = suffix === undefined ? `${ctx.eventKey}#${type}` : `${ctx.eventKey}#${type}:${suffix}`;
  return {
    dedupeKey: key,
    dealId: ctx.dealId,
    type,
    occurredAt: ctx.occurredAt,
    origin: ctx.origin,
    payload: parseSignalPayload(type, payload),
  };
}

/** Parses a decimal number the way CRMs send it ("12500", "12500.50"); anything else is undefined. */
export function parseDecimal(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** A valid calendar date as YYYY-MM-DD, or undefined. */
export function calendarDate(value: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  if (!match) return undefined;
  const date = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString().slice(0, 10);
  return iso === `${match[1]}-${match[2]}-${match[3]}` ? iso : undefined;
}
