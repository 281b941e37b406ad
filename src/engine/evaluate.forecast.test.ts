import { describe, expect, it } from 'vitest';
import type { Signal } from '../signals/catalogue.ts';
import { at, byRule, ofType, run, runAt, signalMaker, tweakedPlaybook } from './test-fixtures.ts';

describe('probability', () => {
  it('is the stage base plus the health adjustment when nothing else applies', () => {
    // Discovery, created with a future close date, no touches, no stakeholders, 0 days in stage:
    // health = urgency 0.5×15 + time-in-stage 15 = 22.5 → 23 (at risk, -10) → 15 - 10 = 5.
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' })], at(0, 1));
    expect(r.nextState.healthScore).toBe(23);
    expect(ofType(r.decisions, 'set_probability').map((d) => [d.ruleId, d.from, d.to])).toEqual([['prob-stage-health', null, 5]]);
  });

  it('is capped per stage', () => {
    const playbook = tweakedPlaybook((pb) => {
      const rule = pb.rules.find((r) => r.id === 'sig-executive-engaged');
      if (rule?.type === 'signal') rule.adjustProbability = 40;
    });
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'presentationscheduled' }), sig('stakeholder.added', at(1), { contactId: 'c1', seniority: 'executive' })];
    const r = run(signals, at(1, 1), { playbook });
    // 40 base + 5 + 40 boosts, whatever the health band (-10..+10), exceeds the 55 cap.
    expect(r.nextState.probability).toBe(55);
    expect(ofType(r.decisions, 'set_probability')[0]!.reason).toContain('capped at 55%');
  });

  it('never goes below zero', () => {
    const playbook = tweakedPlaybook((pb) => {
      const rule = pb.rules.find((r) => r.id === 'reg-champion-left');
      if (rule?.type === 'regression') rule.probabilityPenalty = 60;
    });
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy' }),
      sig('stakeholder.added', at(0, 1), { contactId: 'c1', role: 'champion' }),
      sig('stakeholder.departed', at(1), { contactId: 'c1' }),
    ];
    const { state } = runAt(signals, [at(1, 1), at(15, 1)], { playbook });
    expect(state.stage).toBe('discovery');
    expect(state.probability).toBe(0);
  });

  it('is written only when the value changes', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' })];
    const first = run(signals, at(0, 1));
    const later = run(signals, at(0, 5), { deal: first.nextState });
    expect(ofType(later.decisions, 'set_probability')).toEqual([]);
  });

  it("respects the rep's own probability and flags a gap over 15 points", () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' }), sig('crm.probability_changed', at(1), { probability: 50 })];
    const r = run(signals, at(1, 1));
    expect(ofType(r.decisions, 'set_probability')).toEqual([]);
    expect(r.nextState.probability).toBe(50);
    expect(ofType(r.decisions, 'flag').map((f) => f.flagType)).toEqual(['probability_discrepancy']);
  });
});

describe('close date from engagement velocity', () => {
  // Discovery's average is 22 days (14–30); the deal enters it at creation, evaluated at day 1.
  function createdAfterTouches(touches: number): Signal[] {
    const sig = signalMaker();
    const emails = Array.from({ length: touches }, (_, i) => sig('activity.email', at(0, i + 1), { direction: 'inbound' }));
    return [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), ...emails];
  }
  it.each([
    [0, '2025-04-06', '1.5'], // slow: 22 × 1.5 = 33 days from 2025-03-04
    [3, '2025-03-26', '1'], // 1.5 touches/week: normal, 22 days
    [5, '2025-03-19', '0.7'], // 2.5 touches/week: fast, 22 × 0.7 = 15.4 → 15 days
  ])('%i touches in 14 days → %s (× %s)', (touches, expected, multiplier) => {
    const r = run(createdAfterTouches(touches), at(1));
    const [set] = ofType(byRule(r.decisions, 'cd-velocity'), 'set_close_date');
    expect(set!.to).toBe(expected);
    expect(set!.reason).toContain(`× ${multiplier}`);
    expect(r.nextState.closeDate).toBe(expected);
    expect(r.nextState.originalCloseDate).toBe(expected);
  });

  it("does not overwrite the close date the rep entered on the deal", () => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-05-30' })], at(1));
    expect(ofType(r.decisions, 'set_close_date')).toEqual([]);
    expect(r.nextState.closeDate).toBe('2025-05-30');
  });

  it('a buyer-named date moves the close date, but an extension over 30 days needs approval', () => {
    const sig = signalMaker();
    const created = sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' });
    const start = run([created], at(0, 1)).nextState; // velocity: 2025-04-05
    expect(start.closeDate).toBe('2025-04-05');
    const near = run([created, sig('conversation.timeline_mentioned', at(2), { date: '2025-04-20' })], at(2, 1), { deal: start });
    expect(ofType(byRule(near.decisions, 'cd-timeline'), 'set_close_date').map((d) => d.to)).toEqual(['2025-04-20']);
    const far = run([created, sig('conversation.timeline_mentioned', at(2), { date: '2025-06-30' })], at(2, 1), { deal: start });
    expect(ofType(byRule(far.decisions, 'cd-timeline'), 'request_approval').map((d) => d.proposed)).toEqual([{ type: 'set_close_date', from: '2025-04-05', to: '2025-06-30' }]);
    expect(far.nextState.closeDate).toBe('2025-04-05');
  });
});

describe('close date drift and churn', () => {
  function changes(...dates: string[]): Signal[] {
    const sig = signalMaker();
    return [sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-04-30' }), ...dates.map((d, i) => sig('crm.close_date_changed', at(1 + i), { closeDate: d }))];
  }

  it.each([
    [['2025-05-10'], []], // 10 days: fine
    [['2025-05-14'], []], // exactly 14: fine
    [['2025-05-16'], ['close_date_drift']], // 16 days later
    [['2025-04-10'], ['close_date_drift']], // 20 days earlier counts too
  ])('moving the close date to %j alerts %j', (dates, alerts) => {
    const r = run(changes(...dates), at(5));
    const drift = ofType(byRule(r.decisions, 'policy:close_date.drift'), 'raise_alert');
    expect(drift.map((a) => a.alertType)).toEqual(alerts);
    expect(drift.every((a) => a.tier === 'warning' && a.recipients.join() === 'owner')).toBe(true);
  });

  it.each([
    [2, []],
    [3, ['close_date_changes']],
  ])('%i changes flag %j', (n, flags) => {
    const dates = ['2025-05-01', '2025-05-02', '2025-05-03'].slice(0, n);
    const r = run(changes(...dates), at(5));
    expect(r.nextState.closeDateChanges).toBe(n);
    expect(ofType(r.decisions, 'flag').filter((f) => f.flagType === 'close_date_changes').map((f) => f.flagType)).toEqual(flags);
  });
});

describe('health score', () => {
  // Discovery (22-day average), 5 days in: engagement 4 touches/14 days = 2/week → 30; two active
  // stakeholders of a target of four → 10; a champion → 20; future close date + timeline → 15;
  // within the average → 15. Total 90.
  function healthyDeal(): { signals: Signal[]; sig: ReturnType<typeof signalMaker> } {
    const sig = signalMaker();
    return {
      sig,
      signals: [
        sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-04-30' }),
        sig('stakeholder.added', at(0, 1), { contactId: 'c1', role: 'champion' }),
        sig('stakeholder.added', at(0, 2), { contactId: 'c2', role: 'user' }),
        sig('conversation.timeline_mentioned', at(0, 3)),
        ...[1, 2, 3, 4].map((d) => sig('activity.email', at(d), { direction: 'inbound' })),
      ],
    };
  }

  it('weighs engagement, stakeholders, champion, urgency and time in stage', () => {
    const r = run(healthyDeal().signals, at(5));
    expect(r.nextState.healthScore).toBe(90);
    expect(r.nextState.memory.healthBand).toBe('hot');
  });

  it('raises a critical alert when the score falls 20+ points within 7 days', () => {
    const { sig, signals } = healthyDeal();
    const before = run(signals, at(5));
    const lost = [...signals, sig('stakeholder.departed', at(6), { contactId: 'c1' }), sig('stakeholder.removed', at(6, 1), { contactId: 'c2' })];
    // Without the two stakeholders: 30 + 0 + 0 + 15 + 15 = 60.
    const after = run(lost, at(6, 2), { deal: before.nextState });
    expect(after.nextState.healthScore).toBe(60);
    const drop = ofType(byRule(after.decisions, 'policy:health.score_drop'), 'raise_alert');
    expect(drop.map((a) => [a.tier, a.alertType, a.reason])).toEqual([['critical', 'score_drop', 'Health score fell from 90 to 60 within 7 days']]);
  });

  it('alerts on entering a worse band and on becoming hot', () => {
    const { sig, signals } = healthyDeal();
    const hot = run(signals, at(5));
    // Champion and user leave and engagement dries up: 0 + 0 + 0 + 15 + 15 = 30, at risk.
    const lost = [...signals, sig('stakeholder.departed', at(20), { contactId: 'c1' }), sig('stakeholder.removed', at(20, 1), { contactId: 'c2' })];
    const risk = run(lost, at(20, 2), { deal: hot.nextState });
    expect(risk.nextState.memory.healthBand).toBe('at_risk');
    expect(ofType(byRule(risk.decisions, 'policy:health.band'), 'raise_alert').map((a) => [a.tier, a.alertType, a.recipients])).toEqual([['warning', 'score_band_at_risk', ['owner', 'manager']]]);
  });
});
