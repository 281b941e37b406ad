import { describe, expect, it } from 'vitest';
import type { Signal } from '../signals/catalogue.ts';
import type { Playbook } from './playbook/schema.ts';
import { at, byRule, ofType, run, signalMaker, tweakedPlaybook } from './test-fixtures.ts';

/** A deal in Discovery that has met every Discovery gate except the 30-minute conversation. */
function discoveryReady(): { sig: ReturnType<typeof signalMaker>; signals: Signal[] } {
  const sig = signalMaker();
  const signals = [
    sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', pipeline: 'default', amount: 40000 }),
    sig('milestone.pain_documented', at(1)),
    sig('conversation.budget_mentioned', at(1, 1), { amount: 20000 }),
    sig('conversation.timeline_mentioned', at(1, 2)),
    sig('stakeholder.added', at(1, 3), { contactId: 'c-eb', role: 'economic_buyer', seniority: 'director' }),
    sig('milestone.next_step_agreed', at(1, 4)),
  ];
  return { sig, signals };
}

describe('activity-based advancement with all gates met', () => {
  it('advances Discovery → Qualified on a 30+ minute call and runs the entry workflow', () => {
    const { sig, signals } = discoveryReady();
    const call = sig('activity.call', at(2), { durationMinutes: 45 });
    const r = run([...signals, call], at(2, 1));
    const [advance, ...more] = ofType(r.decisions, 'advance_stage');
    expect(more).toEqual([]);
    expect(advance).toMatchObject({
      ruleId: 'adv-discovery-call',
      mode: 'auto',
      fromStage: 'discovery',
      toStage: 'qualified',
      crmStage: 'qualifiedtobuy',
      skipped: [],
      conclusive: false,
      playbookVersion: 'v-test',
    });
    expect(advance!.signalIds[0]).toBe(call.id);
    expect(advance!.reason).toContain('Discovery → Qualified');
    expect(r.nextState).toMatchObject({ stage: 'qualified', crmStage: 'qualifiedtobuy', stageEnteredAt: at(2) });

    // Seed: on entry to Qualified, a demo task within 5 business days and a note to the manager.
    const tasks = ofType(byRule(r.decisions, 'workflow:qualified'), 'create_task');
    expect(tasks.map((t) => [t.task.subject, t.task.dueAt, t.task.priority])).toEqual([
      ['Schedule the demo within 5 business days', '2025-03-12T10:00:00.000Z', 'high'],
    ]);
    const notes = ofType(byRule(r.decisions, 'workflow:qualified'), 'raise_alert');
    expect(notes.map((n) => [n.tier, n.alertType, n.recipients])).toEqual([['opportunity', 'qualified_opportunity', ['manager']]]);
  });

  it('advances Identified → Discovery after 3+ emails including a reply (Salesforce)', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'Prospecting' }),
      sig('stakeholder.added', at(0, 1), { contactId: 'c1', role: 'influencer' }),
      sig('activity.email', at(1), { direction: 'outbound' }),
      sig('activity.email', at(2), { direction: 'outbound' }),
      sig('activity.email', at(3), { direction: 'inbound' }),
    ];
    const r = run(signals, at(3, 1), { deal: { ...run([], at(0)).nextState, provider: 'salesforce' } });
    expect(ofType(r.decisions, 'advance_stage').map((d) => [d.ruleId, d.toStage, d.crmStage])).toEqual([['adv-emails-exchanged', 'discovery', 'Qualification']]);
  });

  it('does not count two emails as three', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'Prospecting' }),
      sig('activity.email', at(1), { direction: 'outbound' }),
      sig('activity.email', at(3), { direction: 'inbound' }),
    ];
    const r = run(signals, at(3, 1), { deal: { ...run([], at(0)).nextState, provider: 'salesforce' } });
    expect(byRule(r.decisions, 'adv-emails-exchanged')).toEqual([]);
  });
});

describe('triggers propose, gates dispose', () => {
  it('turns a trigger with unmet gates into a suggestion naming every missing gate', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('activity.call', at(2), { durationMinutes: 45 })];
    const r = run(signals, at(2, 1));
    expect(ofType(r.decisions, 'advance_stage')).toEqual([]);
    const [suggestion] = ofType(r.decisions, 'suggest');
    expect(suggestion!.ruleId).toBe('adv-discovery-call');
    expect(suggestion!.mode).toBe('suggest');
    expect(suggestion!.missingGates.map((g) => g.gateId).sort()).toEqual(['budget', 'decision_process', 'discovery_meeting', 'next_step', 'timeline']);
    expect(suggestion!.task.subject).toContain('Move to Qualified?');
    expect(suggestion!.task.subject).toContain('Budget confirmed or estimated');
    expect(suggestion!.proposed).toMatchObject({ type: 'advance_stage', fromStage: 'discovery', toStage: 'qualified' });
    expect(r.nextState.stage).toBe('discovery');
  });

  it('requires ALL gates: four of five met still only suggests, naming the one missing', () => {
    const { sig, signals } = discoveryReady();
    const withoutNextStep = signals.filter((s) => s.type !== 'milestone.next_step_agreed');
    const r = run([...withoutNextStep, sig('activity.call', at(2), { durationMinutes: 45 })], at(2, 1));
    expect(ofType(r.decisions, 'advance_stage')).toEqual([]);
    expect(ofType(r.decisions, 'suggest').flatMap((d) => d.missingGates.map((g) => g.gateId))).toEqual(['next_step']);
  });

  it('counts work done ahead of the stage (parallel activities) toward its gates', () => {
    // Pain documented and the call happen while the deal is still Identified.
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }),
      sig('activity.meeting', at(1), { kind: 'discovery', durationMinutes: 40 }),
      sig('milestone.pain_documented', at(1, 1)),
    ];
    const r = run(signals, at(1, 2));
    expect(Object.keys(r.nextState.gatesMet)).toEqual(['discovery_meeting']);
    expect(r.nextState.gatesMet['discovery_meeting']!.signalIds).toEqual([signals[1]!.id, signals[2]!.id].sort());
  });

  it('asks for approval instead when the playbook says unmet gates need approval', () => {
    const playbook = tweakedPlaybook((pb) => {
      pb.policies.unmetGates = 'approve';
    });
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('activity.call', at(2), { durationMinutes: 45 })], at(2, 1), { playbook });
    const [approval] = ofType(r.decisions, 'request_approval');
    expect(approval).toMatchObject({ ruleId: 'adv-discovery-call', mode: 'approve', approverRole: 'manager' });
    expect(approval!.missingGates).toHaveLength(5);
    expect(r.nextState.stage).toBe('discovery');
  });

  it('stays silent when an "only if ready" trigger finds gates unmet', () => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('conversation.timeline_mentioned', at(1), { date: '2025-06-30' })], at(1, 1));
    expect(byRule(r.decisions, 'sig-timeline-ready')).toEqual([]);
  });
});

describe('rule modes', () => {
  const withMode = (mode: 'approve' | 'suggest' | 'off'): Playbook =>
    tweakedPlaybook((pb) => {
      const rule = pb.rules.find((x) => x.id === 'adv-discovery-call')!;
      rule.mode = mode;
    });

  it.each([
    ['approve', 'request_approval'],
    ['suggest', 'suggest'],
  ] as const)('mode %s produces %s and leaves the stage alone', (mode, type) => {
    const { sig, signals } = discoveryReady();
    const r = run([...signals, sig('activity.call', at(2), { durationMinutes: 45 })], at(2, 1), { playbook: withMode(mode) });
    const decisions = byRule(r.decisions, 'adv-discovery-call');
    expect(decisions.map((d) => [d.type, d.mode])).toEqual([[type, mode]]);
    expect(decisions[0]).toMatchObject({ proposed: { type: 'advance_stage', toStage: 'qualified', crmStage: 'qualifiedtobuy' }, missingGates: [] });
    expect(r.nextState.stage).toBe('discovery');
    expect(byRule(r.decisions, 'workflow:qualified')).toEqual([]);
  });

  it('mode off produces nothing at all', () => {
    const { sig, signals } = discoveryReady();
    const r = run([...signals, sig('activity.call', at(2), { durationMinutes: 45 })], at(2, 1), { playbook: withMode('off') });
    expect(byRule(r.decisions, 'adv-discovery-call')).toEqual([]);
    expect(r.nextState.stage).toBe('discovery');
  });
});

/** A gate-free pipeline a → b → c → d → won, to look at stage skipping on its own. */
const skipPlaybook = tweakedPlaybook((pb) => {
  const base = pb.stages[1]!;
  delete pb.pipelines;
  pb.stages = ['a', 'b', 'c', 'd'].map((key, i) => ({ ...base, key, label: key.toUpperCase(), crmStageIds: { hubspot: [key] }, probability: 10 * (i + 1), exitGates: [], onEntry: undefined }));
  pb.stages.push({ key: 'won', label: 'Won', crmStageIds: { hubspot: ['won'] }, probability: 100, closed: 'won', exitGates: [] });
  pb.stages.push({ key: 'lost', label: 'Lost', crmStageIds: { hubspot: ['lost'] }, probability: 0, closed: 'lost', exitGates: [] });
  pb.rules = [
    { id: 'to-c', type: 'milestone', mode: 'auto', when: { signal: { type: 'proposal.viewed' } }, advanceTo: 'c' },
    { id: 'to-d', type: 'milestone', mode: 'auto', when: { signal: { type: 'proposal.sent' } }, advanceTo: 'd' },
    { id: 'to-won', type: 'activity', mode: 'auto', when: { signal: { type: 'esign.completed' } }, advanceTo: 'won', conclusive: true },
  ];
});

describe('stage skipping', () => {
  it.each([
    // [rule trigger, expected decision, skipped stages]
    ['proposal.viewed', 'advance_stage', ['b']], // skips one stage: allowed automatically
    ['proposal.sent', 'request_approval', ['b', 'c']], // skips two: always needs approval
    ['esign.completed', 'request_approval', ['b', 'c', 'd']], // even a conclusive milestone
  ] as const)('%s from A → %s', (type, expected, skipped) => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'a' }), sig(type, at(1), { documentId: 'x' })], at(1, 1), { playbook: skipPlaybook });
    const moves = r.decisions.filter((d) => d.type === 'advance_stage' || d.type === 'request_approval');
    expect(moves.map((d) => d.type)).toEqual([expected]);
    const move = moves[0]!;
    const proposal = move.type === 'advance_stage' ? move : move.type === 'request_approval' ? move.proposed : undefined;
    expect(proposal && 'skipped' in proposal ? proposal.skipped : null).toEqual(skipped);
    if (expected === 'request_approval') {
      expect(moves[0]!.reason).toMatch(/needs approval/);
      expect(r.nextState.stage).toBe('a');
    }
  });

  it('lets a playbook forbid even single skips', () => {
    const strict = structuredClone(skipPlaybook);
    strict.policies.stageSkip.maxSkippedWithoutApproval = 0;
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'a' }), sig('proposal.viewed', at(1), { documentId: 'x' })], at(1, 1), { playbook: strict });
    expect(r.decisions.filter((d) => d.type === 'advance_stage' || d.type === 'request_approval').map((d) => d.type)).toEqual(['request_approval']);
  });
});

describe('conclusive milestones', () => {
  it('e-signature completed closes the deal as won regardless of unmet gates', () => {
    const sig = signalMaker();
    const done = sig('esign.completed', at(3), { documentId: 'env-1' });
    const r = run([sig('crm.deal_created', at(0), { stage: 'presentationscheduled' }), done], at(3, 1));
    const [won] = ofType(r.decisions, 'advance_stage');
    expect(won).toMatchObject({ ruleId: 'adv-esign-completed', fromStage: 'proposal', toStage: 'closed_won', crmStage: 'closedwon', conclusive: true, skipped: ['negotiation'], mode: 'auto' });
    expect(won!.signalIds).toEqual([done.id]);
    expect(r.nextState.stage).toBe('closed_won');
    expect(r.nextState.probability).toBe(100);
    expect(ofType(byRule(r.decisions, 'workflow:closed_won'), 'create_task').map((t) => t.task.subject)).toEqual(['Schedule the kickoff call within 5 business days']);
  });

  it('a non-conclusive trigger with the same gap does not advance', () => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage: 'presentationscheduled' }), sig('esign.sent', at(3), { documentId: 'env-1' })], at(3, 1));
    expect(ofType(r.decisions, 'advance_stage')).toEqual([]);
    expect(ofType(r.decisions, 'suggest').map((d) => d.ruleId)).toEqual(['adv-contract-sent']);
  });
});

describe('signal-based rules', () => {
  it('a $50K+ budget mention proposes the next stage; a smaller one does not', () => {
    const sig = signalMaker();
    const created = sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' });
    const big = run([created, sig('conversation.budget_mentioned', at(1), { amount: 75000 })], at(1, 1));
    expect(byRule(big.decisions, 'sig-budget-mentioned').map((d) => d.type)).toEqual(['suggest']);
    const small = run([created, sig('conversation.budget_mentioned', at(1), { amount: 30000 })], at(1, 1));
    expect(byRule(small.decisions, 'sig-budget-mentioned')).toEqual([]);
  });

  it('a competitor mention flags the deal once and raises a critical alert', () => {
    const sig = signalMaker();
    const r = run(
      [sig('crm.deal_created', at(0), { stage: 'qualifiedtobuy' }), sig('conversation.competitor_mentioned', at(1), { competitor: 'Rival' }), sig('conversation.competitor_mentioned', at(1, 2), { competitor: 'Rival' })],
      at(1, 3),
    );
    const decisions = byRule(r.decisions, 'sig-competitor-mentioned');
    expect(decisions.map((d) => d.type).sort()).toEqual(['flag', 'raise_alert']);
    expect(ofType(decisions, 'raise_alert')[0]).toMatchObject({ tier: 'critical', alertType: 'competitor_entered', recipients: ['owner', 'manager'] });
  });

  it('executive engagement and a new stakeholder raise probability (10 + 5 points)', () => {
    const sig = signalMaker();
    const created = sig('crm.deal_created', at(0), { stage: 'presentationscheduled' });
    const before = run([created], at(0, 1));
    const exec = sig('stakeholder.added', at(1), { contactId: 'c-vp', seniority: 'vp', role: 'influencer' });
    const r = run([created, exec], at(1, 1), { deal: before.nextState });
    expect(r.nextState.memory.probabilityBoosts.map((b) => [b.ruleId, b.points])).toEqual([
      ['sig-stakeholder-added', 5],
      ['sig-executive-engaged', 10],
    ]);
    const [set] = ofType(r.decisions, 'set_probability');
    expect(set!.signalIds).toEqual([exec.id]);
    expect(set!.reason).toContain('+ 15 (signals)');
    expect(byRule(r.decisions, 'sig-executive-engaged').map((d) => d.type)).toContain('raise_alert');
  });
});

describe('every progression rule proposes its own target', () => {
  it.each([
    // [starting CRM stage, signal, payload, rule, target, decision] — gates are unmet in all of these.
    ['qualifiedtobuy', 'activity.meeting', { kind: 'demo' }, 'adv-demo-logged', 'proposal', 'suggest'],
    ['qualifiedtobuy', 'proposal.sent', { documentId: 'p' }, 'adv-proposal-sent', 'proposal', 'suggest'],
    ['presentationscheduled', 'esign.sent', { documentId: 'e' }, 'adv-contract-sent', 'negotiation', 'suggest'],
    ['qualifiedtobuy', 'milestone.security_review_requested', {}, 'ms-security-review', 'proposal', 'suggest'],
    ['presentationscheduled', 'milestone.legal_review_requested', {}, 'ms-legal-review', 'negotiation', 'suggest'],
    ['presentationscheduled', 'conversation.legal_review', {}, 'ms-legal-review', 'negotiation', 'suggest'],
    ['qualifiedtobuy', 'milestone.reference_call_completed', {}, 'ms-reference-call', 'proposal', 'suggest'],
    ['appointmentscheduled', 'milestone.pilot_completed', { positive: true }, 'ms-pilot-completed', 'proposal', 'suggest'],
    ['appointmentscheduled', 'milestone.budget_approved', {}, 'ms-budget-approved', 'negotiation', 'request_approval'], // skips two
    ['appointmentscheduled', 'conversation.budget_mentioned', { amount: 50000 }, 'sig-budget-mentioned', 'qualified', 'suggest'],
  ] as const)('in %s, %s → %s proposes %s as %s', (stage, type, payload, ruleId, target, decision) => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage }), sig(type, at(1), payload)], at(1, 1));
    const moves = byRule(r.decisions, ruleId).filter((d) => d.type === 'suggest' || d.type === 'request_approval' || d.type === 'advance_stage');
    expect(moves.map((d) => [d.type, 'proposed' in d && d.proposed && 'toStage' in d.proposed ? d.proposed.toStage : null])).toEqual([[decision, target]]);
  });

  it.each([
    ['appointmentscheduled', 'milestone.pilot_completed', { positive: false }], // a failed pilot proves nothing
    ['presentationscheduled', 'milestone.security_review_requested', {}], // already in Proposal/Demo
    ['contractsent', 'activity.meeting', { kind: 'demo' }], // the rule only applies from Qualified
  ] as const)('in %s, %s %j proposes nothing', (stage, type, payload) => {
    const sig = signalMaker();
    const r = run([sig('crm.deal_created', at(0), { stage }), sig(type, at(1), payload)], at(1, 1));
    expect(r.decisions.filter((d) => d.type === 'suggest' || d.type === 'request_approval' || d.type === 'advance_stage')).toEqual([]);
  });
});

describe('"advance if ready" signal rules', () => {
  // Discovery work done while the deal was still Identified, then the rep moves it to Discovery.
  function readyInDiscovery() {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'Prospecting' }),
      sig('milestone.pain_documented', at(1)),
      sig('conversation.budget_mentioned', at(1, 1), { amount: 20000 }),
      sig('conversation.timeline_mentioned', at(1, 2)),
      sig('stakeholder.added', at(1, 3), { contactId: 'c-eb', role: 'economic_buyer' }),
      sig('milestone.next_step_agreed', at(1, 4)),
      sig('activity.call', at(2), { durationMinutes: 45 }),
      sig('activity.email', at(2, 1), { direction: 'inbound' }),
      sig('activity.email', at(2, 2), { direction: 'outbound' }),
      sig('crm.stage_changed', at(3), { stage: 'Qualification' }),
    ];
    const deal = { ...run([], at(0)).nextState, provider: 'salesforce' as const };
    return { sig, signals, deal: run(signals, at(3, 1), { deal }).nextState };
  }

  it.each([
    ['conversation.timeline_mentioned', { date: '2025-05-30' }, 'sig-timeline-ready'],
    ['conversation.competitor_mentioned', { competitor: 'Rival' }, 'sig-competitor-engaged'],
  ] as const)('%s advances a ready deal (%s)', (type, payload, ruleId) => {
    const { sig, signals, deal } = readyInDiscovery();
    expect(deal.stage).toBe('discovery');
    const r = run([...signals, sig(type, at(4), payload)], at(4, 1), { deal });
    expect(ofType(r.decisions, 'advance_stage').map((d) => [d.ruleId, d.fromStage, d.toStage, d.crmStage])).toEqual([[ruleId, 'discovery', 'qualified', 'Value Proposition']]);
  });
});
