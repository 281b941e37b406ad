import { describe, expect, it } from 'vitest';
import { at, byRule, ofType, run, runAt, signalMaker, tweakedPlaybook } from './test-fixtures.ts';

function qualifiedWithChampion() {
  const sig = signalMaker();
  const created = sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy' });
  const champion = sig('stakeholder.added', at(0, 1), { contactId: 'c-champ', role: 'champion', seniority: 'director' });
  const departed = sig('stakeholder.departed', at(3), { contactId: 'c-champ' });
  return { sig, signals: [created, champion, departed], departed };
}

describe('champion left: regression after a grace period', () => {
  it('alerts at once, waits 14 days, then drops one stage with a probability penalty', () => {
    const { signals, departed } = qualifiedWithChampion();
    const first = run(signals, at(3, 1));
    const alerts = ofType(byRule(first.decisions, 'reg-champion-left'), 'raise_alert');
    expect(alerts.map((a) => [a.tier, a.alertType, a.recipients])).toEqual([['critical', 'champion_departed', ['owner', 'manager']]]);
    expect(alerts[0]!.reason).toContain('regression in 14 days');
    expect(ofType(first.decisions, 'regress_stage')).toEqual([]);
    expect(first.nextState.memory.pendingRegressions).toEqual([
      { ruleId: 'reg-champion-left', contactId: 'c-champ', role: 'champion', startedAt: at(3), dueAt: at(17), signalIds: [departed.id] },
    ]);

    const waiting = run(signals, at(16, 23), { deal: first.nextState });
    expect(ofType(waiting.decisions, 'regress_stage')).toEqual([]);

    const due = run(signals, at(17, 1), { deal: waiting.nextState });
    const [regress] = ofType(due.decisions, 'regress_stage');
    expect(regress).toMatchObject({ ruleId: 'reg-champion-left', fromStage: 'qualified', toStage: 'discovery', crmStage: 'appointmentscheduled', mode: 'auto', signalIds: [departed.id] });
    expect(due.nextState.stage).toBe('discovery');
    expect(due.nextState.memory.pendingRegressions).toEqual([]);
    expect(due.nextState.memory.probabilityBoosts).toEqual([{ ruleId: 'reg-champion-left', points: -20, signalIds: [departed.id] }]);
    // Discovery's base is 15 and the best health adjustment is +10, so -20 must land below 15.
    expect(due.nextState.probability).toBeLessThan(15);
  });

  it('naming a replacement champion during the grace period cancels the regression', () => {
    const { sig, signals } = qualifiedWithChampion();
    const all = [...signals, sig('stakeholder.added', at(10), { contactId: 'c-new', role: 'champion' })];
    const { decisions, state } = runAt(all, [at(3, 1), at(10, 1), at(18)]);
    expect(ofType(decisions, 'regress_stage')).toEqual([]);
    expect(state.stage).toBe('qualified');
    expect(state.memory.pendingRegressions).toEqual([]);
  });

  it('does not start a grace period when another champion is already active', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy' }),
      sig('stakeholder.added', at(0, 1), { contactId: 'c-a', role: 'champion' }),
      sig('stakeholder.added', at(0, 2), { contactId: 'c-b', role: 'champion' }),
      sig('stakeholder.departed', at(3), { contactId: 'c-a' }),
    ];
    const r = run(signals, at(3, 1));
    expect(r.nextState.memory.pendingRegressions).toEqual([]);
    expect(ofType(byRule(r.decisions, 'reg-champion-left'), 'raise_alert')[0]!.reason).toContain('already holds the role');
  });

  it('honours approve mode when the grace period ends', () => {
    const playbook = tweakedPlaybook((pb) => {
      pb.rules.find((r) => r.id === 'reg-champion-left')!.mode = 'approve';
    });
    const { signals } = qualifiedWithChampion();
    const { decisions, state } = runAt(signals, [at(3, 1), at(17, 1)], { playbook });
    expect(ofType(decisions, 'regress_stage')).toEqual([]);
    expect(ofType(decisions, 'request_approval').map((d) => d.proposed)).toEqual([{ type: 'regress_stage', fromStage: 'qualified', toStage: 'discovery', crmStage: 'appointmentscheduled' }]);
    expect(state.stage).toBe('qualified');
  });
});

describe('other regressions', () => {
  it.each([
    // [crm stage, signal, expected target or null]
    ['contractsent', 'milestone.budget_cancelled', 'discovery'],
    ['qualifiedtobuy', 'milestone.budget_cancelled', 'discovery'],
    ['appointmentscheduled', 'milestone.budget_cancelled', null], // already there
    ['contractsent', 'milestone.competitor_won_evaluation', 'proposal'],
    ['decisionmakerboughtin', 'milestone.competitor_won_evaluation', null], // already Proposal
    ['qualifiedtobuy', 'milestone.competitor_won_evaluation', null], // never moves a deal forward
  ] as const)('in %s, %s → %s', (crmStage, type, target) => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: crmStage }), sig(type, at(2))], at(2, 1));
    expect(ofType(r.decisions, 'regress_stage').map((d) => d.toStage)).toEqual(target ? [target] : []);
    expect(ofType(r.decisions, 'advance_stage')).toEqual([]);
  });

  it('tells the manager about an automatic regression', () => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'contractsent' }), sig('milestone.budget_cancelled', at(2))], at(2, 1));
    expect(ofType(byRule(r.decisions, 'reg-budget-cancelled'), 'raise_alert').map((a) => [a.alertType, a.recipients])).toEqual([['deal_regressed', ['manager']]]);
  });

  it('a lost economic buyer with no replacement drops the deal one stage after the grace period', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'contractsent' }),
      sig('stakeholder.added', at(0, 1), { contactId: 'c-eb', role: 'economic_buyer' }),
      sig('stakeholder.removed', at(2), { contactId: 'c-eb' }),
    ];
    const { decisions, state } = runAt(signals, [at(2, 1), at(15), at(16, 1)]);
    expect(ofType(decisions, 'regress_stage').map((d) => [d.ruleId, d.fromStage, d.toStage, d.at])).toEqual([['reg-stakeholder-lost', 'negotiation', 'proposal', at(16, 1)]]);
    expect(state.stage).toBe('proposal');
  });

  it('a lost economic buyer is no loss when another one is on the deal', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'contractsent' }),
      sig('stakeholder.added', at(0, 1), { contactId: 'c-eb', role: 'economic_buyer' }),
      sig('stakeholder.added', at(0, 2), { contactId: 'c-eb2', role: 'economic_buyer' }),
      sig('stakeholder.departed', at(2), { contactId: 'c-eb' }),
    ];
    const { decisions } = runAt(signals, [at(2, 1), at(17)]);
    expect(ofType(decisions, 'regress_stage')).toEqual([]);
  });
});

describe('silence', () => {
  it('never regresses a deal, however long it is quiet: it alerts instead', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'contractsent', closeDate: '2025-03-31' }), sig('activity.email', at(1), { direction: 'inbound' })];
    const nows = Array.from({ length: 200 }, (_, i) => at(i + 1, 2));
    const { decisions, state } = runAt(signals, nows);
    expect(decisions.filter((d) => d.type === 'regress_stage' || d.type === 'advance_stage')).toEqual([]);
    expect(decisions.filter((d) => (d.type === 'suggest' || d.type === 'request_approval') && d.proposed !== null && d.proposed.type.endsWith('_stage'))).toEqual([]);
    expect(state.stage).toBe('negotiation');
    const alertTypes = new Set(ofType(decisions, 'raise_alert').map((a) => a.alertType));
    expect([...alertTypes]).toEqual(expect.arrayContaining(['stage_stall', 'stage_stall_escalation', 'stale_deal']));
  });
});
