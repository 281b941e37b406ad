import { describe, expect, it } from 'vitest';
import type { DryRun } from '../dry-runs.ts';
import { describeProblem, dryRunStatus } from './playbook.ts';

const run = (over: Partial<DryRun>): DryRun => ({
  id: 'r1', workspaceId: 'ws', tokenId: 't', draft: '', from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-31T00:00:00Z'),
  startedAt: new Date('2026-01-31T00:00:00Z'), done: 0, total: null, ...over,
});

describe('dry-run status', () => {
  it('shows progress while the backtest runs, with a refresh link for pages without script', () => {
    const counting = dryRunStatus(run({}), '/console/w/ws/playbook/dry-runs/r1/status').value;
    expect(counting).toContain('(counting them)');
    const halfway = dryRunStatus(run({ done: 40, total: 80 }), '/console/w/ws/playbook/dry-runs/r1/status').value;
    expect(halfway).toContain('40 of 80');
    expect(halfway).toContain('<progress id="dry-run-progress" max="80" value="40">');
    expect(halfway).toContain('href="/console/w/ws/playbook/dry-runs/r1"');
  });

  it('shows the summary once done, and a failure as an alert', () => {
    const report = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-31T00:00:00.000Z', playbookVersion: 'draft', decisions: 3,
      deals: { total: 2, won: 1, lost: 1, open: 0 },
      rules: [{ ruleId: 'adv-<x>', fires: 3, advances: 2, regressions: 0, alerts: 1, approvals: 0, suggestions: 0, tasks: 0, firedOnWon: 1, firedOnLost: 1, firedOnOpen: 0, winRate: 0.5 }] };
    const done = dryRunStatus(run({ done: 2, total: 2, report }), '/s').value;
    expect(done).toContain('Dry-run result');
    expect(done).toContain('2 (1 won, 1 lost, 0 open)');
    expect(done).toContain('<code>adv-&lt;x&gt;</code>');
    expect(done).toContain('50%');
    expect(dryRunStatus(run({ error: 'The dry run failed' }), '/s').value).toContain('role="alert"');
  });
});

describe('describeProblem', () => {
  it('names the line, the column and the path', () => {
    expect(describeProblem({ path: 'rules[2].when', message: 'required', line: 40, column: 7 })).toEqual({ where: 'line 40, column 7 · rules[2].when', message: 'required' });
    expect(describeProblem({ path: '', message: 'bad YAML', line: 3 })).toEqual({ where: 'line 3', message: 'bad YAML' });
    expect(describeProblem({ path: 'stages', message: 'x' })).toEqual({ where: 'stages', message: 'x' });
  });
});
