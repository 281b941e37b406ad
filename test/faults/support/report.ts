import type { ScenarioResult } from './scenario.ts';

/** One line per scenario with the numbers that matter, then every check that failed. */
export function printTable(results: ScenarioResult[]): void {
  const header = ['scenario', 'acked', 'lost', 'effects sent/in CRM', 'dup', 'dead (landed/missing)', 'max calls/10s', 'recovery', 'checks'];
  const lines = [header];
  for (const r of results) {
    const o = r.outcome;
    const failed = r.checks.filter((c) => !c.ok).length;
    lines.push([
      r.name,
      o ? String(o.acknowledged) : '',
      o ? String(o.lostAcknowledged) : '',
      o ? `${o.effectsExpected}/${o.effectsReceived}` : '',
      o ? String(o.duplicateEffects) : '',
      o ? `${o.deadLanded}/${o.deadMissing}` : '',
      o ? String(o.crmMaxInWindow) : '',
      r.recoverySeconds === null ? (o ? 'never' : '') : `${r.recoverySeconds.toFixed(1)} s`,
      failed === 0 ? `ok (${r.checks.length})` : `${failed} FAILED`,
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (l: string[]) => l.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(`\n${render(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const l of lines.slice(1)) console.log(render(l));
  const details = results.flatMap((r) => r.checks.map((c) => `  ${c.ok ? 'ok    ' : 'FAILED'} ${r.name} / ${c.name}: ${c.detail}`));
  console.log(`\nchecks:\n${details.join('\n')}`);
  const problems = results.flatMap((r) => (r.outcome?.problems ?? []).map((p) => `  ${r.name}: ${p}`));
  if (problems.length > 0) console.log(`\nproblems:\n${problems.join('\n')}`);
}
