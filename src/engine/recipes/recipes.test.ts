import { describe, expect, it } from 'vitest';
import type { Signal } from '../../signals/catalogue.ts';
import { evaluateDeal } from '../evaluate.ts';
import { compilePlaybook } from '../playbook/compile.ts';
import { defaultPlaybook } from '../playbook/default-playbook.ts';
import type { Playbook } from '../playbook/schema.ts';
import { initialDealState } from '../state.ts';
import { at, byRule, ofType, signalMaker, tweakedPlaybook } from '../test-fixtures.ts';
import type { DealState, Decision, OwnerDirectory } from '../types.ts';

/** Evaluates at each instant in turn with an owner directory, carrying the state. */
function runWith(signals: Signal[], nows: string[], opts: { playbook?: Playbook; owners?: OwnerDirectory; deal?: DealState } = {}) {
  let deal = opts.deal ?? initialDealState('deal-1', 'hubspot');
  const decisions: Decision[] = [];
  for (const now of nows) {
    const r = evaluateDeal({
      deal,
      signals: signals.filter((s) => s.occurredAt.getTime() <= Date.parse(now)),
      playbook: compilePlaybook(opts.playbook ?? defaultPlaybook()),
      playbookVersion: '7',
      now,
      trigger: 'signals',
      owners: opts.owners,
    });
    decisions.push(...r.decisions);
    deal = r.nextState;
  }
  return { decisions, state: deal };
}

function withMode(ruleId: string, mode: 'auto' | 'approve' | 'suggest' | 'off'): Playbook {
  return tweakedPlaybook((pb) => {
    const rule = pb.rules.find((r) => r.id === ruleId)!;
    rule.mode = mode;
  });
}

const directory: OwnerDirectory = {
  'u-ann': { territories: ['west'], segments: ['healthcare'], managerId: 'u-max', available: true },
  'u-bob': { territories: ['east'], segments: [], managerId: 'u-max', available: false },
};

describe('recipe: meeting follow-up', () => {
  it.each([
    // [label, signals after creation (type, hours after day 1 09:00, payload), mode, expected task count]
    ['a recorded call', [['call.completed', 0, { callId: 'c1', durationMinutes: 30, externalParticipants: 2, internalParticipants: 1, topExternalSeniority: 'manager' }]], 'auto', 1],
    ['a logged meeting', [['activity.meeting', 0, { kind: 'other' }]], 'auto', 1],
    ['the same meeting from two sources', [['activity.meeting', 0, { kind: 'other' }], ['call.completed', 1, { callId: 'c1', durationMinutes: 30, externalParticipants: 2, internalParticipants: 1, topExternalSeniority: 'manager' }]], 'auto', 1],
    ['two meetings a day apart', [['activity.meeting', 0, {}], ['activity.meeting', 24, {}]], 'auto', 2],
    ['an email (not a meeting)', [['activity.email', 0, { direction: 'inbound' }]], 'auto', 0],
    ['a meeting with the recipe off', [['activity.meeting', 0, {}]], 'off', 0],
  ] as const)('%s → %i… follow-up task(s)', (_label, events, mode, expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), ...events.map(([type, h, payload]) => sig(type, at(1, h), payload))];
    const { decisions } = runWith(signals, [at(0, 1), ...events.map(([, h]) => at(1, h + 0.5))], { playbook: withMode('recipe-meeting-follow-up', mode) });
    const tasks = ofType(byRule(decisions, 'recipe-meeting-follow-up'), 'create_task');
    expect(tasks).toHaveLength(expected);
    for (const t of tasks) {
      expect(t.task.subject).toBe('Send the summary and next steps');
      // Due four hours after the evaluation that saw the meeting.
      expect(Date.parse(t.task.dueAt) - Date.parse(t.at)).toBe(4 * 3_600_000);
      expect(t.reason).toContain('trigger: signal call.completed|activity.meeting');
    }
  });
});

describe('recipe: confirm the agenda 24 hours before the next meeting', () => {
  it.each([
    // [evaluated at (day, hour), expected tasks] — the next step is dated day 7 (00:00 UTC)
    [[5, 0], 0],
    [[6, 1], 1],
    [[7, 1], 0], // the date has passed: nothing left to prepare
  ] as const)('evaluated at day %j → %i task(s)', ([day, hour], expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('milestone.next_step_agreed', at(1), { date: at(7).slice(0, 10) })];
    const { decisions } = runWith(signals, [at(1, 1), at(day, hour)]);
    expect(ofType(byRule(decisions, 'recipe-confirm-agenda'), 'create_task')).toHaveLength(expected);
  });

  it('fires once however often the deal is evaluated, and again for a new date', () => {
    const sig = signalMaker();
    const signals = [
      sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }),
      sig('milestone.next_step_agreed', at(1), { date: at(7).slice(0, 10) }),
      sig('milestone.next_step_agreed', at(8), { date: at(14).slice(0, 10) }),
    ];
    const { decisions } = runWith(signals, [at(6, 1), at(6, 2), at(6, 5), at(13, 3), at(13, 9)]);
    const tasks = ofType(byRule(decisions, 'recipe-confirm-agenda'), 'create_task');
    expect(tasks.map((t) => t.signalIds)).toEqual([[signals[1]!.id], [signals[2]!.id]]);
  });
});

describe('recipes: win/loss post-mortem, competitor capture and onboarding kickoff', () => {
  const competitor = (sig: ReturnType<typeof signalMaker>) => sig('conversation.competitor_mentioned', at(2), { competitor: 'Acme CRM' });

  it.each([
    // [closing CRM stage, competitor named?, expected subjects (all rules), field update, finance alert?]
    ['closedwon', true, ['Record why this deal was won', 'Hand the account over to Customer Success', 'Schedule the kickoff call within 5 business days'], 'Acme CRM', true],
    ['closedwon', false, ['Record why this deal was won', 'Hand the account over to Customer Success', 'Schedule the kickoff call within 5 business days'], null, true],
    ['closedlost', true, ['Record the loss reason within 3 business days'], 'Acme CRM', false],
    ['closedlost', false, ['Record the loss reason within 3 business days'], null, false],
  ] as const)('%s (competitor named: %s)', (stage, named, subjects, captured, finance) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'contractsent' }), ...(named ? [competitor(sig)] : []), sig('crm.stage_changed', at(3), { stage })];
    const { decisions, state } = runWith(signals, [at(0, 1), at(3, 1)]);
    const tasks = ofType(decisions, 'create_task').filter((t) => t.at === at(3, 1));
    expect(tasks.map((t) => t.task.subject).sort()).toEqual([...subjects].sort());
    const handoff = tasks.find((t) => t.ruleId === 'recipe-onboarding-kickoff');
    if (handoff) expect(handoff.task.ownerRole).toBe('customer_success');
    const updates = ofType(decisions, 'update_field');
    expect(updates.map((u) => [u.field, u.value])).toEqual(captured ? [['competitor', captured]] : []);
    if (captured) expect(state.fields['competitor']).toBe(captured);
    const financeAlerts = ofType(byRule(decisions, 'recipe-onboarding-kickoff'), 'raise_alert');
    expect(financeAlerts.map((a) => [a.alertType, a.recipients])).toEqual(finance ? [['finance_handoff', ['finance']]] : []);
  });
});

describe('recipe: renewal reminder 90 days before the contract ends', () => {
  it.each([
    // [contract end (days after T0), evaluated at day, stage, expected task + alert count]
    [200, 100, 'closedwon', 0],
    [200, 111, 'closedwon', 1],
    [200, 201, 'closedwon', 0],
    [200, 111, 'contractsent', 0], // only for won deals
  ] as const)('end day %i, evaluated day %i in %s → %i', (endDay, day, stage, expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage }), sig('crm.field_changed', at(1), { field: 'contract_end_date', value: at(endDay).slice(0, 10) })];
    const { decisions } = runWith(signals, [at(1, 1), at(day)]);
    const recipe = byRule(decisions, 'recipe-renewal-reminder');
    expect(ofType(recipe, 'create_task')).toHaveLength(expected);
    expect(ofType(recipe, 'raise_alert').map((a) => a.recipients)).toEqual(expected ? [['owner', 'customer_success']] : []);
  });

  it('reads epoch-millisecond dates as HubSpot stores them', () => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'closedwon' }), sig('crm.field_changed', at(1), { field: 'contract_end_date', value: String(Date.parse(at(200))) })];
    const { decisions } = runWith(signals, [at(1, 1), at(120)]);
    expect(ofType(byRule(decisions, 'recipe-renewal-reminder'), 'create_task')[0]?.reason).toContain(`contract_end_date=${at(200)}`);
  });
});

describe('recipe: cold deals get a nurture suggestion, never an email', () => {
  it.each([
    [29, 0],
    [31, 1],
  ] as const)('quiet until day %i → %i suggestion(s)', (day, expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('activity.email', at(0, 1), { direction: 'outbound' })];
    const { decisions } = runWith(signals, [at(0, 2), at(day, 2), at(day, 3)]);
    const recipe = byRule(decisions, 'recipe-cold-deal-nurture');
    expect(recipe.map((d) => d.type)).toEqual(Array(expected).fill('suggest'));
    for (const d of ofType(recipe, 'suggest')) expect(d.task.subject).toMatch(/nurture/);
  });
});

describe('recipe: discount approval', () => {
  it.each([
    // [field changes, expected approvals]
    [[['discount_percent', '25']], 1],
    [[['discount_percent', '20']], 0],
    [[['discount_percent', '15']], 0],
    [[['non_standard_terms', 'true']], 1],
    [[['discount_approval', 'approved'], ['discount_percent', '30']], 0],
    [[['amount_note', '40']], 0],
  ] as const)('%j → %i approval request(s)', (changes, expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'contractsent' }), ...changes.map(([field, value], i) => sig('crm.field_changed', at(1, i), { field, value }))];
    const { decisions } = runWith(signals, [at(0, 1), at(1, 5)]);
    const approvals = ofType(byRule(decisions, 'recipe-discount-approval'), 'request_approval');
    expect(approvals).toHaveLength(expected);
    for (const a of approvals) {
      expect(a.approverRole).toBe('manager');
      expect(a.proposed).toEqual({ type: 'update_field', field: 'discount_approval', from: null, value: 'approved' });
      expect(a.reason).toContain('conditions met: all(any(field discount_percent > 20; field non_standard_terms = true); not(field discount_approval = approved))');
    }
  });
});

describe('routing recipes', () => {
  it.each([
    // [owner on the new deal, directory given, expected assign_owner decisions]
    [null, true, 1],
    ['u-ann', true, 0],
    [null, false, 0], // no routing directory: nothing to assign from
  ] as const)('deal created with owner %s (directory: %s) → %i assignment(s)', (ownerId, withDirectory, expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', ownerId })];
    const { decisions } = runWith(signals, [at(0, 1)], { owners: withDirectory ? directory : undefined });
    const assigned = ofType(byRule(decisions, 'route-unowned-deal'), 'assign_owner');
    expect(assigned).toHaveLength(expected);
    if (expected) expect(assigned[0]).toMatchObject({ fromOwnerId: null, toOwnerId: null, reassign: false, fallback: 'manager', mode: 'auto' });
  });

  it.each([
    // [first touch after assignment (hours) or null, evaluated at hour, expected escalations]
    [null, 23, 0],
    [null, 25, 1],
    [5, 25, 0],
  ] as const)('first touch at %s h, evaluated at %i h → %i escalation(s)', (touch, hour, expected) => {
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('crm.owner_changed', at(0, 1), { ownerId: 'u-ann' })];
    if (touch !== null) signals.push(sig('activity.email', at(0, 1 + touch), { direction: 'outbound' }));
    const { decisions } = runWith(signals, [at(0, 1.5), at(0, 1 + hour), at(0, 2 + hour)], { owners: directory });
    const rule = byRule(decisions, 'route-stale-assignment');
    expect(ofType(rule, 'raise_alert').map((a) => a.recipients)).toEqual(Array(expected).fill(['manager']));
    expect(ofType(rule, 'assign_owner').map((a) => [a.fromOwnerId, a.reassign])).toEqual(Array(expected).fill(['u-ann', true]));
  });
});

describe('general workflow rules', () => {
  const custom = (rule: Record<string, unknown>): Playbook =>
    tweakedPlaybook((pb) => {
      pb.rules = pb.rules.filter((r) => r.type !== 'workflow');
      pb.rules.push(rule as Playbook['rules'][number]);
    });

  it.each([
    // [owner condition, owner, expected alerts]
    [{ available: false }, 'u-bob', 1],
    [{ available: false }, 'u-ann', 0],
    [{ territory: ['west'] }, 'u-ann', 1],
    [{ segment: ['healthcare'], available: true }, 'u-ann', 1],
    [{ known: false }, 'u-zed', 1],
  ] as const)('owner condition %j with owner %s → %i alert(s)', (owner, ownerId, expected) => {
    const pb = custom({
      id: 'wf-owner',
      type: 'workflow',
      mode: 'auto',
      trigger: { signal: { type: 'activity.email' } },
      when: { all: [{ owner }, { count: { type: 'activity.email', withinDays: 7, atLeast: 1 } }] },
      actions: [{ alert: { tier: 'warning', type: 'owner_check', recipients: ['manager'] } }],
    });
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled', ownerId }), sig('activity.email', at(1), { direction: 'inbound' })];
    const { decisions } = runWith(signals, [at(0, 1), at(1, 1)], { playbook: pb, owners: directory });
    expect(ofType(decisions, 'raise_alert').filter((a) => a.alertType === 'owner_check')).toHaveLength(expected);
  });

  it.each([
    // [action mode, expected decision type]
    ['auto', 'create_task'],
    ['approve', 'request_approval'],
    ['suggest', 'suggest'],
    ['off', null],
  ] as const)('a task action in mode %s becomes %s', (mode, type) => {
    const pb = custom({
      id: 'wf-left',
      type: 'workflow',
      mode: 'auto',
      trigger: { stageLeft: ['discovery'] },
      actions: [{ mode, task: { subject: 'Tell the SDR the deal moved on' } }],
    });
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' }), sig('crm.stage_changed', at(1), { stage: 'qualifiedtobuy' })];
    const { decisions } = runWith(signals, [at(0, 1), at(1, 1), at(1, 2)], { playbook: pb });
    expect(byRule(decisions, 'wf-left').map((d) => d.type)).toEqual(type ? [type] : []);
  });

  it('fires on a health score crossing, once', () => {
    const pb = custom({
      id: 'wf-score',
      type: 'workflow',
      mode: 'auto',
      trigger: { score: { crosses: 'below', value: 50 } },
      actions: [{ alert: { tier: 'warning', type: 'health_low', recipients: ['owner'] } }],
    });
    const sig = signalMaker();
    const signals = [sig('crm.deal_created', at(0), { stage: 'appointmentscheduled' })];
    const first = runWith(signals, [at(0, 1)], { playbook: pb }).state;
    const healthy: DealState = { ...first, healthScore: 90, healthHistory: [{ at: at(0, 1), score: 90 }] };
    const { decisions } = runWith(signals, [at(1), at(1, 1)], { playbook: pb, deal: healthy });
    const alerts = ofType(byRule(decisions, 'wf-score'), 'raise_alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.reason).toMatch(/health score 90 → \d+/);
  });
});

describe('validation', () => {
  const problems = (rule: Record<string, unknown>) => {
    const pb = structuredClone(defaultPlaybook()) as unknown as { rules: unknown[] };
    pb.rules.push(rule);
    return import('../playbook/parse.ts').then(({ validatePlaybook }) => {
      const r = validatePlaybook(pb);
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    });
  };
  const at0 = defaultPlaybook().rules.length;

  it.each([
    [{ trigger: { stageEntered: ['nowhere'] }, actions: [{ task: { subject: 'x' } }] }, `rules[${at0}].trigger.stageEntered[0]: unknown stage "nowhere"`],
    [{ trigger: { signal: { type: 'activity.email' }, stageEntered: ['discovery'] }, actions: [{ task: { subject: 'x' } }] }, `rules[${at0}].trigger: a trigger has exactly one of`],
    [{ trigger: { signal: { type: 'activity.email', where: { competitor: 'x' } } }, actions: [{ task: { subject: 'x' } }] }, `rules[${at0}].trigger.signal.where.competitor: activity.email has no payload field "competitor"`],
    [{ trigger: { stageEntered: ['closed_lost'] }, actions: [{ updateField: { name: 'reason', value: { fromSignal: { type: 'activity.email', field: 'competitor' } } } }] }, `rules[${at0}].actions[0].updateField.value.fromSignal.field: activity.email has no payload field "competitor"`],
    [{ trigger: { stageEntered: ['closed_lost'] }, actions: [{ updateField: { name: 'amount', value: 1 } }] }, `rules[${at0}].actions[0].updateField.name: "amount" is written by Momentum`],
    [{ trigger: { stageEntered: ['closed_lost'] }, actions: [{ task: { subject: 'x' }, alert: { tier: 'warning', type: 'x', recipients: ['owner'] } }] }, `rules[${at0}].actions[0]: an action has exactly one of`],
    [{ trigger: { time: { quietDays: 3, unworkedAssignmentHours: 2 } }, actions: [{ task: { subject: 'x' } }] }, `rules[${at0}].trigger.time: a time trigger has exactly one of`],
  ])('%j', async (partial, expected) => {
    const found = await problems({ id: 'wf-bad', type: 'workflow', mode: 'auto', ...partial });
    expect(found.some((p) => p.startsWith(expected))).toBe(true);
  });

  it('accepts every shipped recipe', async () => {
    expect(await problems({ id: 'wf-ok', type: 'workflow', mode: 'auto', trigger: { stageLeft: ['discovery'] }, actions: [{ task: { subject: 'x' } }] })).toEqual([]);
  });
});
