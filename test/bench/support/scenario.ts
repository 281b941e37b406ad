import type pg from 'pg';
import type { Database } from '../../../src/platform/db.ts';

/** A target a measured value is held against; benchmarks report a miss, they never fail on one. */
export interface Target {
  op: '>=' | '<=';
  value: number;
}

/** One line of the results table. */
export interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: Target;
  note?: string;
}

export interface BenchDatabase {
  url: string;
  pool: pg.Pool;
  db: Database;
  close(): Promise<void>;
}

export interface BenchContext {
  quick: boolean;
  /** A fresh, migrated database of the scenario's own (dropped when the run ends). */
  createDatabase(label: string, poolSize?: number): Promise<BenchDatabase>;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

export function meets(row: Row): boolean | undefined {
  if (!row.target || !Number.isFinite(row.value)) return row.target ? false : undefined;
  return row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value;
}
