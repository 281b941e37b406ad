import { describe, expect, it } from 'vitest';
import type { Signal } from '../signals/catalogue.ts';
import { initialDealState } from './state.ts';
import { at, byRule, ofType, run, runAt, signalMaker } from './test-fixtures.ts';

describe('stage-entry workflows', () => {
  it.each([
    // [crm stage entered by the rep, day of week, expected task, due]
    ['contractsent', 4, 'Send the contract within 48 hours', '2025-03-09T10:00:00.000Z'],
    ['closedlost', 3, 'Record the loss reason within 3 business days', '2025-03-11T10:00:00.000Z'], // Thu → Tue
    ['closedwon', 4, 'Schedule the kickoff call within 5 business days', '2025-03-14T10:00:00.000Z'], // Fri → Fri
    ['presentationscheduled', 0, 'Complete the demo and send the proposal within 7 days', '2025-03-10T10:00:00.000Z'],
  ] as const)('entering %s on day %i creates "%s"', (stage, day, subject, due) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(-1), { stage: 'appointmentscheduled', closeDate: '2025-06-30' }), sig('crm.stage_changed', at(day), { stage })];
    const first = run(signals.slice(0, 1), at(-1, 1));
    const r = run(signals, at(day, 1), { deal: first.nextState });
    const tasks = ofType(r.decisions, 'create_task').filter((t) => t.ruleId.startsWith('workflow:'));
    expect(tasks.map((t) => [t.task.subject, t.task.dueAt])).toEqual([[subject, due]]);
  });

  it('notifies manager and leadership when a deal enters negotiation', () => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'contractsent', amount: 120000 })], at(0, 1));
    expect(ofType(byRule(r.decisions, 'workflow:negotiation'), 'raise_alert').map((a) => [a.tier, a.alertType, a.recipients])).toEqual([
      ['opportunity', 'negotiation_started', ['manager', 'leadership']],
    ]);
  });
});

describe("a rep's manual stage change wins", () => {
  it('is recorded as an override and followed, not fought', () => {
    const sig = signalMaker();
    const created = sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' });
    const moved = sig('crm.stage_changed', at(1), { stage: 'presentationscheduled' });
    const before = run([created], at(0, 1)).nextState;
    const r = run([created, moved], at(1, 1), { deal: before });
    expect(ofType(r.decisions, 'record_override')).toEqual([
      expect.objectContaining({ ruleId: 'policy:override', fromStage: 'discovery', toStage: 'proposal', crmStage: 'presentationscheduled', respectUntil: at(15), signalIds: [moved.id] }),
    ]);
    expect(r.decisions.filter((d) => d.type === 'advance_stage' || d.type === 'regress_stage' || d.type === 'request_approval')).toEqual([]);
    expect(r.nextState).toMatchObject({ stage: 'proposal', crmStage: 'presentationscheduled', stageEnteredAt: at(1) });
  });

  it('is neither reversed nor re-proposed within the override period', () => {
    const sig = signalMaker();
    const signals: Signal[] = [
      sig('crm.deal_created', at(0), { stage: 'presentationscheduled' }),
      sig('crm.stage_changed', at(1), { stage: 'qualifiedtobuy' }), // rep moves it back to Qualified
      sig('activity.meeting', at(2), { kind: 'demo' }), // would normally propose Proposal/Demo
      sig('activity.meeting', at(16), { kind: 'demo' }), // after the 14-day period
    ];
    const within = runAt(signals.slice(0, 3), [at(0, 1), at(1, 1), at(2, 1)]);
    expect(byRule(within.decisions, 'adv-demo-logged')).toEqual([]);
    const after = run(signals, at(16, 1), { deal: within.state });
    expect(byRule(after.decisions, 'adv-demo-logged').map((d) => d.type)).toEqual(['suggest']);
  });

  it('echoes of our own writes confirm the mirror and are not overrides', () => {
    const sig = signalMaker();
    const created = sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' });
    const echo = sig('crm.stage_changed', at(1), { stage: 'qualifiedtobuy' }, { origin: 'echo' });
    const before = run([created], at(0, 1)).nextState;
    const r = run([created, echo], at(1, 1), { deal: before });
    expect(ofType(r.decisions, 'record_override')).toEqual([]);
    expect(r.nextState.stage).toBe('qualified');
    // An approved move landing in the CRM is still a stage entry: its workflow runs once.
    expect(ofType(byRule(r.decisions, 'workflow:qualified'), 'create_task')).toHaveLength(1);
  });

  it('a CRM change to the stage we already moved the deal to is not an override', () => {
    const sig = signalMaker();
    const created = sig('crm.deal_created', at(0), { stage: 'presentationscheduled' });
    const signed = sig('esign.completed', at(1), { documentId: 'env' });
    const ours = run([created, signed], at(1, 1));
    expect(ours.nextState.stage).toBe('closed_won');
    const back = sig('crm.stage_changed', at(1, 2), { stage: 'closedwon' });
    const r = run([created, signed, back], at(1, 3), { deal: ours.nextState });
    expect(r.decisions).toEqual([]);
  });
});

describe('history and echoes never act', () => {
  function discoveryHistory(origin: 'imported' | 'live'): Signal[] {
    const sig = signalMaker();
    return [
      sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' }, { origin }),
      sig('milestone.pain_documented', at(1), {}, { origin }),
      sig('conversation.budget_mentioned', at(1, 1), { amount: 20000 }, { origin }),
      sig('conversation.timeline_mentioned', at(1, 2), {}, { origin }),
      sig('stakeholder.added', at(1, 3), { contactId: 'c-eb', role: 'economic_buyer' }, { origin }),
      sig('milestone.next_step_agreed', at(1, 4), {}, { origin }),
      sig('activity.call', at(2), { durationMinutes: 45 }, { origin }),
      sig('conversation.competitor_mentioned', at(2, 1), {}, { origin }),
    ];
  }

  it('imported history only updates the mirror', () => {
    const r = run(discoveryHistory('imported'), at(2, 2));
    const signalCaused = r.decisions.filter((d) => d.signalIds.length > 0);
    expect(signalCaused).toEqual([]);
    expect(r.nextState.stage).toBe('discovery');
    expect(r.nextState.stakeholders.map((s) => s.contactId)).toEqual(['c-eb']);
    expect(Object.keys(r.nextState.gatesMet).sort()).toEqual(['budget', 'decision_process', 'discovery_meeting', 'next_step', 'timeline']);
  });

  it('imported history is acted on in a backtest (simulateHistory)', () => {
    const r = run(discoveryHistory('imported'), at(2, 2), { options: { simulateHistory: true } });
    expect(ofType(r.decisions, 'advance_stage').map((d) => d.toStage)).toEqual(['qualified']);
  });

  it('CRM reads from before the workspace connected are state-only; later ones act on the whole history', () => {
    const signals = discoveryHistory('imported');
    const early = run(signals, at(2, 2), { options: { connectedAt: at(3) } });
    expect(early.decisions).toEqual([]);
    const connected = run(signals, at(2, 2), { options: { connectedAt: at(1, 12) } });
    expect(ofType(connected.decisions, 'advance_stage').map((d) => [d.ruleId, d.toStage])).toEqual([['adv-discovery-call', 'qualified']]);
    expect(connected.decisions.some((d) => d.ruleId === 'workflow:discovery')).toBe(false);
  });

  it('a live delivery acts even when its event happened shortly before the connection', () => {
    const r = run(discoveryHistory('live'), at(2, 2), { options: { connectedAt: at(1, 12) } });
    expect(ofType(r.decisions, 'advance_stage').map((d) => [d.ruleId, d.toStage])).toEqual([['adv-discovery-call', 'qualified']]);
    expect(r.decisions.some((d) => d.ruleId === 'workflow:discovery')).toBe(true);
  });

  it('echo activity never triggers a rule', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'contractsent' }), sig('milestone.budget_cancelled', at(1), {}, { origin: 'echo' })];
    const r = run(signals, at(1, 1));
    expect(ofType(r.decisions, 'regress_stage')).toEqual([]);
  });
});

describe('follow-up cadence', () => {
  it('applies the 48-hour rule as a task for the rep', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' }),
      sig('activity.email', at(0, 2), { direction: 'inbound' }),
      sig('activity.email', at(1), { direction: 'outbound' }),
    ];
    expect(byRule(run(signals, at(3)).decisions, 'cad-48-hour')).toEqual([]);
    const r = run(signals, at(3, 1));
    expect(ofType(byRule(r.decisions, 'cad-48-hour'), 'create_task').map((t) => [t.task.subject, t.task.dueAt])).toEqual([
      ['Follow up with something useful for the buyer', at(3, 1)],
    ]);
  });

  it('is not for cold prospecting before the buyer ever replied', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' }), sig('activity.email', at(1), { direction: 'outbound' })];
    expect(byRule(run(signals, at(4)).decisions, 'cad-48-hour')).toEqual([]);
  });

  it('a dated next step counts as momentum', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-06-30' }),
      sig('activity.email', at(0, 2), { direction: 'inbound' }),
      sig('activity.email', at(1), { direction: 'outbound' }),
      sig('milestone.next_step_agreed', at(1, 1), { date: '2025-03-20' }),
    ];
    expect(byRule(run(signals, at(4)).decisions, 'cad-48-hour')).toEqual([]);
  });

  it('runs the re-engagement sequence on days 1, 4, 8 and 12 of a silence, as tasks only', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-06-30' }), sig('activity.email', at(1), { direction: 'inbound' })];
    const nows = Array.from({ length: 16 }, (_, i) => at(7 + i, 2)); // days 7..22
    const { decisions } = runAt(signals, nows);
    const cadence = byRule(decisions, 'cad-reengagement');
    expect(cadence.map((d) => d.type)).toEqual(['start_sequence', 'create_task', 'create_task', 'create_task', 'create_task']);
    const tasks = ofType(cadence, 'create_task');
    // Quiet since day 1 → starts day 8; steps on days 8, 11, 15, 19.
    expect(tasks.map((t) => t.at)).toEqual([at(8, 2), at(11, 2), at(15, 2), at(19, 2)]);
    expect(tasks.map((t) => t.task.subject.slice(0, 20))).toEqual(['Re-engagement day 1:', 'Re-engagement day 4:', 'Re-engagement day 8:', 'Re-engagement day 12']);
  });

  it('stops as soon as the buyer responds', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy', closeDate: '2025-06-30' }),
      sig('activity.email', at(1), { direction: 'inbound' }),
      sig('activity.meeting', at(12), { kind: 'other' }),
    ];
    const nows = Array.from({ length: 11 }, (_, i) => at(8 + i, 2)); // days 8..18
    const { decisions } = runAt(signals, nows);
    const cadence = byRule(decisions, 'cad-reengagement');
    expect(cadence.map((d) => d.type)).toEqual(['start_sequence', 'create_task', 'create_task', 'stop_sequence']);
    expect(ofType(cadence, 'stop_sequence')[0]).toMatchObject({ stoppedBy: 'buyer_response', signalIds: [signals[2]!.id] });
  });
});

describe('idempotency and signal bookkeeping', () => {
  const sig = signalMaker();
  const signals = [
    sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', closeDate: '2025-04-30' }),
    sig('crm.close_date_changed', at(1), { closeDate: '2025-05-05' }),
    sig('crm.close_date_changed', at(3), { closeDate: '2025-05-10' }),
    sig('activity.call', at(3, 1), { durationMinutes: 45 }),
  ];

  it('produces nothing new when re-run with its own next state', () => {
    const first = run(signals, at(4));
    expect(first.decisions.length).toBeGreaterThan(0);
    expect(run(signals, at(4), { deal: first.nextState }).decisions).toEqual([]);
  });

  it('gives the same keys when a crashed evaluation is retried a little later', () => {
    const deal = initialDealState('deal-1', 'hubspot');
    const a = run(signals, at(4), { deal });
    const b = run(signals, at(4, 0.1), { deal });
    const signalKeys = (r: typeof a) => r.decisions.filter((d) => d.signalIds.length > 0).map((d) => d.key);
    expect(signalKeys(b)).toEqual(signalKeys(a));
  });

  it('applies each signal once, and a late one within the window exactly once', () => {
    const first = run(signals, at(4));
    expect(first.nextState.closeDateChanges).toBe(2);
    const late = sig('stakeholder.added', at(2), { contactId: 'c-late', role: 'user' });
    const again = run([...signals, late], at(5), { deal: first.nextState });
    expect(again.nextState.closeDateChanges).toBe(2);
    expect(again.nextState.stakeholders.map((s) => s.contactId)).toEqual(['c-late']);
    const third = run([...signals, late], at(6), { deal: again.nextState });
    expect(third.nextState.stakeholders).toHaveLength(1);
  });

  it('ignores a signal far older than what was applied, and waits for future ones', () => {
    const first = run(signals, at(4));
    const ancient = sig('stakeholder.added', at(-30), { contactId: 'c-old' });
    const future = sig('stakeholder.added', at(9), { contactId: 'c-future' });
    const r = run([ancient, ...signals, future], at(5), { deal: first.nextState });
    expect(r.nextState.stakeholders).toEqual([]);
    const later = run([ancient, ...signals, future], at(10), { deal: r.nextState });
    expect(later.nextState.stakeholders.map((s) => s.contactId)).toEqual(['c-future']);
  });

  it('keeps state that survives a JSON round trip unchanged', () => {
    const first = run(signals, at(4));
    const stored = JSON.parse(JSON.stringify(first.nextState));
    expect(stored).toStrictEqual(first.nextState);
    expect(run(signals, at(9), { deal: stored })).toStrictEqual(run(signals, at(9), { deal: first.nextState }));
  });

  it('does not modify the deal it was given', () => {
    const deal = run(signals.slice(0, 2), at(2)).nextState;
    const snapshot = structuredClone(deal);
    run(signals, at(40), { deal });
    expect(deal).toStrictEqual(snapshot);
  });

  it('flags a CRM stage the playbook does not know, once', () => {
    const s2 = signalMaker('deal-2');
    const odd = [s2('crm.deal_created', at(0), { stage: 'custom-stage-9' })];
    const first = run(odd, at(0, 1));
    expect(ofType(first.decisions, 'flag').map((f) => f.flagType)).toEqual(['unmapped_stage']);
    expect(first.nextState.stage).toBeNull();
    expect(run(odd, at(3), { deal: first.nextState }).decisions).toEqual([]);
  });

  it('leaves deals in other pipelines and deleted deals alone', () => {
    const s3 = signalMaker('deal-3');
    const other = [s3('crm.deal_created', at(0), { stage: 'appointmentscheduled', pipeline: 'renewals' }), s3('milestone.budget_approved', at(1))];
    expect(run(other, at(1, 1)).decisions).toEqual([]);
    const deleted = [s3('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), s3('crm.deal_deleted', at(1)), s3('milestone.budget_approved', at(2))];
    const before = run(deleted.slice(0, 1), at(0, 1)).nextState;
    const r = run(deleted, at(40), { deal: before });
    expect(r.decisions).toEqual([]);
    expect(r.nextState.deleted).toBe(true);
  });
});
