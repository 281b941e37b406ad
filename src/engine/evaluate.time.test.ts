import { describe, expect, it } from 'vitest';
import { setPlanMilestones } from './state.ts';
import { at, byRule, ofType, run, runAt, signalMaker } from './test-fixtures.ts';

// Qualified's average is the midpoint of 7–14 days: 10.5. Warning above 15.75 days, escalation above 21.
function qualifiedSince0() {
  const sig = signalMaker();
  return [sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-06-30' })];
}

describe('stage stagnation: alerts, never progression', () => {
  it.each([
    [15, [], []],
    [16, ['warning'], []],
    [21, ['warning'], []],
    [22, ['warning'], ['critical']],
  ])('after %i days: warning %j, escalation %j', (days, warning, critical) => {
    const { decisions, state } = runAt(qualifiedSince0(), [at(0, 1), at(days)]);
    expect(ofType(byRule(decisions, 'time-stall-warning'), 'raise_alert').map((a) => a.tier)).toEqual(warning);
    expect(ofType(byRule(decisions, 'time-stall-critical'), 'raise_alert').map((a) => a.tier)).toEqual(critical);
    expect(decisions.filter((d) => d.type === 'advance_stage' || d.type === 'regress_stage')).toEqual([]);
    expect(state.stage).toBe('qualified');
  });

  it('sends the warning to owner and manager and escalates to leadership with a task to explain', () => {
    const r = run(qualifiedSince0(), at(22));
    const [warning] = ofType(byRule(r.decisions, 'time-stall-warning'), 'raise_alert');
    expect(warning).toMatchObject({ alertType: 'stage_stall', recipients: ['owner', 'manager'] });
    expect(warning!.reason).toBe('22 days in Qualified, more than 1.5× the 10.5-day average');
    const escalation = byRule(r.decisions, 'time-stall-critical');
    expect(ofType(escalation, 'raise_alert').map((a) => [a.alertType, a.recipients])).toEqual([['stage_stall_escalation', ['manager', 'leadership']]]);
    expect(ofType(escalation, 'create_task').map((t) => t.task.subject)).toEqual(['Explain why the deal is still in Qualified']);
  });

  it('repeats the warning only once per throttle window (7 days)', () => {
    const nows = Array.from({ length: 10 }, (_, i) => at(16 + i)); // days 16..25
    const { decisions } = runAt(qualifiedSince0(), [at(0, 1), ...nows]);
    expect(ofType(byRule(decisions, 'time-stall-warning'), 'raise_alert').map((a) => a.at)).toEqual([at(16), at(23)]);
  });
});

describe('stale deals', () => {
  function quietSince1() {
    const sig = signalMaker();
    return [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-09-30' }), sig('activity.email', at(1), { direction: 'outbound' })];
  }

  it.each([
    [31, [], []],
    [31.1, ['stale_deal'], []],
    [61.1, ['stale_deal'], ['Close this deal as lost, or start re-engagement']],
  ])('%f days after the deal was created: alerts %j, suggestions %j', (days, alerts, suggestions) => {
    const r = run(quietSince1(), at(days));
    expect(ofType(byRule(r.decisions, 'time-stale'), 'raise_alert').map((a) => a.alertType)).toEqual(alerts);
    const suggest = ofType(byRule(r.decisions, 'time-stale-suggest'), 'suggest');
    expect(suggest.map((s) => s.task.subject)).toEqual(suggestions);
    expect(suggest.every((s) => s.mode === 'suggest' && s.proposed === null)).toBe(true);
  });
});

describe('close date in the past', () => {
  it.each([
    [at(6), []], // 2025-03-09, close date 2025-03-10 still ahead
    [at(7, 12), []], // on the close date itself
    [at(8), ['close_date_past']], // 2025-03-11
  ])('at %s flags %j', (now, flags) => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-03-10' })], now);
    expect(ofType(byRule(r.decisions, 'time-close-date-past'), 'flag').map((f) => f.flagType)).toEqual(flags);
  });
});

describe('mutual action plan', () => {
  const sig = signalMaker();
  const signals = [sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-06-30' })];
  const base = run(signals, at(0, 1)).nextState;
  const withPlan = setPlanMilestones(base, [
    { id: 'sec', title: 'Security questionnaire returned', dueDate: '2025-03-10', owner: 'buyer' },
    { id: 'poc', title: 'Pilot success criteria signed', dueDate: '2025-03-05', owner: 'both', completedAt: at(1) },
  ]);

  it('sorts milestones by due date', () => {
    expect(withPlan.planMilestones.map((m) => m.id)).toEqual(['poc', 'sec']);
  });

  it('raises an alert once a milestone is overdue and not done', () => {
    expect(byRule(run(signals, at(7, 14), { deal: withPlan }).decisions, 'time-plan-overdue')).toEqual([]);
    const r = run(signals, at(8), { deal: withPlan });
    const alerts = ofType(byRule(r.decisions, 'time-plan-overdue'), 'raise_alert');
    expect(alerts.map((a) => [a.tier, a.alertType, a.recipients])).toEqual([['warning', 'plan_milestone_overdue', ['owner', 'manager']]]);
    expect(alerts[0]!.reason).toContain('Security questionnaire returned');
  });

  it('rejects milestones with a malformed date', () => {
    expect(() => setPlanMilestones(base, [{ id: 'x', title: 'X', dueDate: '10/03/2025' }])).toThrow();
  });
});
