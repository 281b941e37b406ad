/**
 * Momentum's fault suite: `npm run faults [-- <scenario…>] [--quick]`.
 *
 * Starts its own PostgreSQL in a temporary folder (the suite stops and restarts it), runs each
 * scenario against real `momentum web` / `momentum worker` processes and a local fake CRM, prints a
 * table and writes the results as JSON to test/faults/results/<timestamp>.json. Exit code 1 when a
 * check fails or a scenario errors.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFaultPostgres } from './support/postgres.ts';
import type { Scenario, ScenarioResult, SuiteContext } from './support/scenario.ts';
import { scanForSecrets } from './support/secret-scan.ts';
import { allScenarios } from './scenarios/index.ts';
import { printTable } from './support/report.ts';

function parseArgs(argv: string[]): { quick: boolean; names: string[] } {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const known = new Set(allScenarios.map((s) => s.name));
  const unknown = names.filter((n) => !known.has(n));
  if (argv.includes('--help') || unknown.length > 0) {
    if (unknown.length > 0) console.error(`Unknown scenario(s): ${unknown.join(', ')}`);
    console.error(`Usage: npm run faults -- [--quick] [${[...known].join(' | ')} …]`);
    for (const s of allScenarios) console.error(`  ${s.name.padEnd(14)} ${s.description}`);
    process.exit(unknown.length > 0 ? 2 : 0);
  }
  return { quick, names };
}

export async function runSuite(selected: Scenario[], options: { quick: boolean; log: (m: string) => void }): Promise<ScenarioResult[]> {
  const pg = await startFaultPostgres();
  const ctx: SuiteContext = { pg, quick: options.quick, log: options.log, transcript: [], secrets: [] };
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected) {
      const t0 = Date.now();
      options.log(`▶ ${scenario.name}`);
      try {
        results.push(await scenario.run(ctx));
      } catch (error) {
        options.log(`✖ ${scenario.name}: ${(error as Error).stack ?? String(error)}`);
        results.push({ name: scenario.name, description: scenario.description, seconds: (Date.now() - t0) / 1000, fault: '', recoverySeconds: null, checks: [{ name: 'scenario ran', ok: false, detail: String((error as Error).message).split('\n')[0]!.slice(0, 200) }] });
      }
    }
  } finally {
    await pg.stop();
  }
  // The in-process fuzz scans its own logs as they are written; the rest is scanned here.
  if (ctx.secrets.length > 0) results.push(scanForSecrets(ctx.transcript, ctx.secrets));
  return results;
}

async function main(): Promise<void> {
  const { quick, names } = parseArgs(process.argv.slice(2));
  const selected = names.length === 0 ? allScenarios : allScenarios.filter((s) => names.includes(s.name));
  const startedAt = new Date();
  const log = (message: string) => console.error(`[faults ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)}s] ${message}`);
  log(`starting ${selected.map((s) => s.name).join(', ')}${quick ? ' (quick)' : ''}; ${os.cpus().length} cores`);
  const results = await runSuite(selected, { quick, log });
  printTable(results);

  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
  await writeFile(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), quick, machine, scenarios: results }, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
  if (results.some((r) => r.checks.some((c) => !c.ok))) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    // Lingering sockets (keep-alive agents, pools of a failed scenario) must not keep the run alive.
    () => process.exit(process.exitCode ?? 0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
