/**
 * Momentum's benchmark suite: `npm run bench [-- <scenario…>] [--quick]`.
 *
 * Starts its own embedded Postgres unless DATABASE_URL is set, runs the scenarios one after the
 * other, prints a table and writes the results as JSON to test/bench/results/<timestamp>.json.
 * A missed target is reported as MISSED; only an error makes the exit code non-zero.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer } from './support/database.ts';
import { meets, type Row, type Scenario } from './support/scenario.ts';
import { engineScenario } from './scenarios/engine.ts';
import { ingestScenario } from './scenarios/ingest.ts';
import { evaluateJobsScenario } from './scenarios/evaluate-jobs.ts';
import { writebackScenario } from './scenarios/writeback.ts';
import { endToEndScenario } from './scenarios/end-to-end.ts';
import { sweepScenario } from './scenarios/sweep.ts';
import { importScenario } from './scenarios/import.ts';

const scenarios: Scenario[] = [ingestScenario, engineScenario, evaluateJobsScenario, writebackScenario, endToEndScenario, sweepScenario, importScenario];

interface ScenarioResult {
  name: string;
  description: string;
  seconds: number;
  rows: Row[];
  error?: string;
}

function parseArgs(argv: string[]): { quick: boolean; names: string[] } {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const known = new Set(scenarios.map((s) => s.name));
  const unknown = names.filter((n) => !known.has(n));
  if (argv.includes('--help') || unknown.length > 0) {
    if (unknown.length > 0) console.error(`Unknown scenario(s): ${unknown.join(', ')}`);
    console.error(`Usage: npm run bench -- [--quick] [${[...known].join(' | ')} …]`);
    for (const s of scenarios) console.error(`  ${s.name.padEnd(14)} ${s.description}`);
    process.exit(unknown.length > 0 ? 2 : 0);
  }
  return { quick, names };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}

function printTable(results: ScenarioResult[]): void {
  const lines: string[][] = [['scenario', 'metric', 'value', 'target', 'status']];
  for (const result of results) {
    if (result.error) lines.push([result.name, 'ERROR', result.error.split('\n')[0]!.slice(0, 80), '', 'ERROR']);
    for (const row of result.rows) {
      const ok = meets(row);
      lines.push([
        result.name,
        row.metric,
        `${formatValue(row.value)} ${row.unit}`.trim(),
        row.target ? `${row.target.op} ${formatValue(row.target.value)}` : '',
        ok === undefined ? '' : ok ? 'ok' : 'MISSED',
      ]);
    }
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (l: string[]) => l.map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ');
  console.log(`\n${render(lines[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const l of lines.slice(1)) console.log(render(l));
  const notes = results.flatMap((r) => r.rows.filter((row) => row.note).map((row) => `  ${r.name} / ${row.metric}: ${row.note}`));
  if (notes.length > 0) console.log(`\nnotes:\n${notes.join('\n')}`);
}

async function main(): Promise<void> {
  const { quick, names } = parseArgs(process.argv.slice(2));
  // A library's stray rejection (e.g. a queue runner's late batch after a pool timeout) is
  // recorded against the scenario running at the time instead of killing the whole run.
  const stray: string[] = [];
  process.on('unhandledRejection', (reason) => {
    stray.push(String((reason as Error)?.stack ?? reason));
    console.error(`[bench] unhandled rejection: ${String((reason as Error)?.message ?? reason)}`);
  });
  const selected = names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name));
  const startedAt = new Date();
  const log = (message: string) => console.error(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)}s] ${message}`);
  log(`starting ${selected.map((s) => s.name).join(', ')}${quick ? ' (quick)' : ''}; ${os.cpus().length} cores`);
  const server = await startBenchServer();
  log(server.embedded ? 'embedded Postgres ready' : 'using DATABASE_URL');

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected) {
      const t0 = performance.now();
      log(`▶ ${scenario.name}`);
      stray.length = 0;
      try {
        const rows = await scenario.run({ quick, createDatabase: server.createDatabase, log: (m) => log(`  ${m}`) });
        if (stray.length > 0) throw new Error(`unhandled rejection during the scenario: ${stray[0]!.split('\n')[0]}`);
        results.push({ name: scenario.name, description: scenario.description, seconds: (performance.now() - t0) / 1000, rows });
      } catch (error) {
        log(`✖ ${scenario.name}: ${(error as Error).stack ?? String(error)}`);
        results.push({ name: scenario.name, description: scenario.description, seconds: (performance.now() - t0) / 1000, rows: [], error: String((error as Error).message ?? error) });
      }
    }
  } finally {
    await server.stop();
  }

  printTable(results);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
  const json = {
    startedAt: startedAt.toISOString(),
    quick,
    database: server.embedded ? 'embedded' : 'DATABASE_URL',
    machine,
    scenarios: results.map((r) => ({ ...r, rows: r.rows.map((row) => ({ ...row, met: meets(row) ?? null })) })),
  };
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().then(
  // Lingering sockets (keep-alive agents, pg pools of a failed scenario) must not keep the run alive.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
