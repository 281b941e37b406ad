import type { Signal } from '../signals/catalogue.ts';

/**
 * The deal's signals indexed by type, built once per evaluation. Entries already applied in an
 * earlier evaluation have seq -1; new ones carry their processing order, so a rule evaluated for
 * the k-th new signal sees history plus new signals up to k, never the future.
 */
export interface ViewEntry {
  signal: Signal;
  at: number;
  seq: number;
}

export interface SignalView {
  byType: Map<string, ViewEntry[]>;
}

export function buildSignalView(applied: readonly Signal[], fresh: readonly Signal[]): SignalView {
  const byType = new Map<string, ViewEntry[]>();
  const add = (signal: Signal, seq: number): void => {
    const entry: ViewEntry = { signal, at: signal.occurredAt.getTime(), seq };
    const list = byType.get(signal.type);
    if (list) list.push(entry);
    else byType.set(signal.type, [entry]);
  };
  for (const s of applied) add(s, -1);
  for (let i = 0; i < fresh.length; i++) add(fresh[i]!, i);
  return { byType };
}

/** Orders signals by time, then id, so every evaluation walks them identically. */
export function compareSignals(a: Signal, b: Signal): number {
  const d = a.occurredAt.getTime() - b.occurredAt.getTime();
  if (d !== 0) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
