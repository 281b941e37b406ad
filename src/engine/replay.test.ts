import { describe, expect, it } from 'vitest';
import { summarizeBacktest, dealOutcome, type BacktestDealResult } from './backtest.ts';
import { makeRealisticDeal } from './bench-fixtures.ts';
import { defaultPlaybook } from './playbook/default-playbook.ts';
import { replayDeal } from './replay.ts';
import { at, byRule, ofType, signalMaker } from './test-fixtures.ts';
import type { Decision } from './types.ts';

describe('replayDeal', () => {
  const sig = signalMaker();
  const signals = [
    sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-06-30' }),
    sig('activity.meeting', at(2), { kind: 'demo', attendeeCount: 4 }),
    sig('esign.completed', at(30), { documentId: 'env' }),
  ];

  it('re-runs history in order, evaluating at each signal', () => {
    const r = replayDeal({ crmDealId: 'deal-1', provider: 'hubspot', signals: [...signals].reverse(), playbook: defaultPlaybook(), playbookVersion: 'v1' });
    expect(r.evaluations).toBe(3);
    expect(ofType(r.decisions, 'suggest').map((d) => [d.ruleId, d.at])).toEqual([['adv-demo-logged', at(2)]]);
    // Signed while still Qualified: winning would skip two stages, so a manager approves it.
    expect(ofType(r.decisions, 'request_approval').map((d) => [d.ruleId, d.proposed, d.at])).toEqual([
      ['adv-esign-completed', { type: 'advance_stage', fromStage: 'qualified', toStage: 'closed_won', crmStage: 'closedwon', skipped: ['proposal', 'negotiation'] }, at(30)],
    ]);
    expect(r.finalState.stage).toBe('qualified');
    expect(r.steps.map((s) => s.at)).toEqual([at(0), at(2), at(30)]);
  });

  it('with daily ticks also sees what happened between signals', () => {
    const r = replayDeal({ crmDealId: 'deal-1', provider: 'hubspot', signals, playbook: defaultPlaybook(), playbookVersion: 'v1', dailyTicks: { until: at(30), hourUtc: 9 } });
    expect(r.evaluations).toBe(31); // days 0..30 at 09:00 coincide with the signals on days 0 and 30, plus day 2
    // Qualified averages 10.5 days: the warning comes on the first tick after 15.75 days, the escalation after 21.
    const stalls = ofType(r.decisions, 'raise_alert').filter((a) => a.alertType.startsWith('stage_stall'));
    // Repeated once per 7-day throttle window while the stall lasts.
    expect(stalls.map((a) => [a.alertType, a.at])).toEqual([
      ['stage_stall', at(16)],
      ['stage_stall_escalation', at(22)],
      ['stage_stall', at(23)],
      ['stage_stall_escalation', at(29)],
      ['stage_stall', at(30)],
    ]);
  });

  it('is pure: the same input replays to the same output', () => {
    const { signals: many } = makeRealisticDeal(7);
    const input = { crmDealId: 'deal-7', provider: 'hubspot' as const, signals: many, playbook: defaultPlaybook(), playbookVersion: 'v1', dailyTicks: { until: '2025-06-30T00:00:00.000Z' } };
    expect(replayDeal(input)).toStrictEqual(replayDeal(input));
  });
});

describe('summarizeBacktest', () => {
  const d = (ruleId: string, type: Decision['type']): Decision => ({ ruleId, type }) as Decision;
  const results: BacktestDealResult[] = [
    { dealId: 'a', outcome: 'won', decisions: [d('adv', 'advance_stage'), d('adv', 'advance_stage'), d('stall', 'raise_alert')] },
    { dealId: 'b', outcome: 'lost', decisions: [d('stall', 'raise_alert'), d('reg', 'regress_stage'), d('adv', 'suggest')] },
    { dealId: 'c', outcome: 'lost', decisions: [d('stall', 'raise_alert'), d('stall', 'create_task')] },
    { dealId: 'e', outcome: 'open', decisions: [d('adv', 'request_approval')] },
  ];

  it('counts fires, effects and outcomes per rule', () => {
    const s = summarizeBacktest(results);
    expect(s.deals).toEqual({ total: 4, won: 1, lost: 2, open: 1 });
    expect(s.decisions).toBe(9);
    expect(s.rules).toEqual([
      { ruleId: 'adv', fires: 4, advances: 2, regressions: 0, alerts: 0, approvals: 1, suggestions: 1, tasks: 0, firedOnWon: 1, firedOnLost: 1, firedOnOpen: 1, winRate: 0.5 },
      { ruleId: 'reg', fires: 1, advances: 0, regressions: 1, alerts: 0, approvals: 0, suggestions: 0, tasks: 0, firedOnWon: 0, firedOnLost: 1, firedOnOpen: 0, winRate: 0 },
      { ruleId: 'stall', fires: 4, advances: 0, regressions: 0, alerts: 3, approvals: 0, suggestions: 0, tasks: 1, firedOnWon: 1, firedOnLost: 2, firedOnOpen: 0, winRate: 1 / 3 },
    ]);
  });

  it('works on replayed deals end to end', () => {
    const replays = [1, 2, 3, 4].map((seed) => {
      const { signals } = makeRealisticDeal(seed);
      const r = replayDeal({ crmDealId: `deal-${seed}`, provider: 'hubspot', signals, playbook: defaultPlaybook(), playbookVersion: 'v1' });
      return { dealId: `deal-${seed}`, outcome: dealOutcome(r.finalState, defaultPlaybook()), decisions: r.decisions };
    });
    const s = summarizeBacktest(replays);
    expect(s.deals.total).toBe(4);
    expect(s.rules.reduce((n, r) => n + r.fires, 0)).toBe(s.decisions);
    expect(byRule(replays.flatMap((r) => r.decisions), 'workflow:discovery').length).toBeGreaterThan(0);
  });
});

describe('makeRealisticDeal', () => {
  it('builds the same deal for the same seed, about 50 signals in time order', () => {
    const a = makeRealisticDeal(42);
    expect(makeRealisticDeal(42)).toStrictEqual(a);
    expect(a.signals.length).toBeGreaterThanOrEqual(45);
    expect(a.signals.length).toBeLessThanOrEqual(55);
    const times = a.signals.map((s) => s.occurredAt.getTime());
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(a.now.getTime()).toBeGreaterThan(times[times.length - 1]!);
    expect(makeRealisticDeal(43).signals).not.toStrictEqual(a.signals);
  });
});
