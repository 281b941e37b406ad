import { describe, expect, it } from 'vitest';
import { compileCondition, type ConditionContext } from './conditions.ts';
import type { Condition } from './playbook/schema.ts';
import { buildSignalView } from './signal-view.ts';
import { initialDealState } from './state.ts';
import { at, signalMaker } from './test-fixtures.ts';
import type { DealState } from './types.ts';

const sig = signalMaker();
const history = [
  sig('activity.email', at(0), { direction: 'outbound' }),
  sig('activity.email', at(1), { direction: 'inbound' }),
  sig('activity.call', at(2), { durationMinutes: 25 }),
  sig('activity.call', at(9), { durationMinutes: 40 }),
  sig('activity.email', at(10), { direction: 'outbound' }),
  sig('stakeholder.departed', at(11), { contactId: 'c-champ' }),
];

function context(state: Partial<DealState> = {}, nowDays = 12): ConditionContext {
  return {
    view: buildSignalView(history, []),
    cutoffSeq: Number.MAX_SAFE_INTEGER,
    atMs: Date.parse(at(nowDays)),
    state: { ...initialDealState('deal-1', 'hubspot'), ...state },
  };
}

const roster: Partial<DealState> = {
  amount: 60000,
  fields: { budget_confirmed: 'true', region: 'emea' },
  stakeholders: [
    { contactId: 'c-eb', role: 'economic_buyer', seniority: 'vp', addedAt: at(0), departedAt: null, removedAt: null },
    { contactId: 'c-champ', role: 'champion', seniority: 'manager', addedAt: at(0), departedAt: at(11), removedAt: null },
    { contactId: 'c-user', role: 'user', seniority: 'individual', addedAt: at(0), departedAt: null, removedAt: null },
  ],
};

describe('conditions', () => {
  const cases: [string, Condition, boolean][] = [
    ['signal present', { signal: { type: 'activity.call' } }, true],
    ['signal absent', { signal: { type: 'proposal.sent' } }, false],
    ['payload filter gte matches', { signal: { type: 'activity.call', where: { durationMinutes: { gte: 30 } } } }, true],
    ['payload filter gte fails', { signal: { type: 'activity.call', where: { durationMinutes: { gte: 45 } } } }, false],
    ['payload equals shorthand', { signal: { type: 'activity.email', where: { direction: 'inbound' } } }, true],
    ['payload in', { signal: { type: 'activity.email', where: { direction: { in: ['sideways'] } } } }, false],
    ['one of several types', { signal: { type: ['proposal.sent', 'activity.call'] } }, true],
    ['within window (call 3 days ago)', { signal: { type: 'activity.call', withinDays: 4 } }, true],
    ['outside window', { signal: { type: 'activity.call', withinDays: 2 } }, false],
    ['count reaches N', { count: { type: 'activity.email', atLeast: 3 } }, true],
    ['count short of N', { count: { type: 'activity.email', atLeast: 4 } }, false],
    ['count with filter', { count: { type: 'activity.email', where: { direction: 'outbound' }, atLeast: 2 } }, true],
    ['count in window', { count: { type: ['activity.email', 'activity.call'], withinDays: 5, atLeast: 3 } }, false],
    ['count in wider window', { count: { type: ['activity.email', 'activity.call'], withinDays: 11, atLeast: 4 } }, true],
    ['mirror field exists', { field: { name: 'amount', exists: true } }, true],
    ['mirror field gte', { field: { name: 'amount', gte: 50000 } }, true],
    ['custom field equals boolean', { field: { name: 'budget_confirmed', equals: true } }, true],
    ['custom field equals string', { field: { name: 'region', equals: 'amer' } }, false],
    ['missing field does not exist', { field: { name: 'legal_review_complete', exists: false } }, true],
    ['stakeholder role present', { stakeholder: { role: 'economic_buyer' } }, true],
    ['departed champion does not count', { stakeholder: { role: 'champion' } }, false],
    ['stakeholder seniority', { stakeholder: { seniority: ['vp', 'executive'] } }, true],
    ['at least two active', { stakeholder: { atLeast: 2 } }, true],
    ['at least three active', { stakeholder: { atLeast: 3 } }, false],
    ['role from roster when payload lacks it', { signal: { type: 'stakeholder.departed', where: { role: 'champion' } } }, true],
    ['all true', { all: [{ signal: { type: 'activity.call' } }, { stakeholder: { role: 'user' } }] }, true],
    ['all with one false', { all: [{ signal: { type: 'activity.call' } }, { signal: { type: 'esign.sent' } }] }, false],
    ['any with one true', { any: [{ signal: { type: 'esign.sent' } }, { field: { name: 'amount', exists: true } }] }, true],
    ['not', { not: { signal: { type: 'esign.sent' } } }, true],
    ['nested', { any: [{ all: [{ signal: { type: 'esign.sent' } }] }, { not: { count: { type: 'activity.email', atLeast: 5 } } }] }, true],
  ];
  it.each(cases)('%s', (_name, condition, expected) => {
    expect(compileCondition(condition).test(context(roster), null)).toBe(expected);
  });

  it('hides new signals beyond the cutoff', () => {
    const fresh = [sig('proposal.sent', at(12), { documentId: 'p' })];
    const ctx = { ...context(), view: buildSignalView(history, fresh) };
    const cond = compileCondition({ signal: { type: 'proposal.sent' } });
    expect(cond.test({ ...ctx, cutoffSeq: -1 }, null)).toBe(false);
    expect(cond.test({ ...ctx, cutoffSeq: 0 }, null)).toBe(true);
  });

  it('collects the satisfying signal ids as evidence', () => {
    const evidence: string[] = [];
    compileCondition({ all: [{ signal: { type: 'activity.call', where: { durationMinutes: { gte: 30 } } } }, { count: { type: 'activity.email', atLeast: 2 } }] }).test(context(), evidence);
    expect(evidence).toEqual([history[3]!.id, history[1]!.id, history[4]!.id]);
  });

  it('falls back to the last-seen memory when history was cut short', () => {
    const ctx = context();
    ctx.view = buildSignalView([], []);
    ctx.state.memory = { ...ctx.state.memory, lastSeenByType: { 'proposal.viewed': at(3) } };
    expect(compileCondition({ signal: { type: 'proposal.viewed' } }).test(ctx, null)).toBe(true);
    expect(compileCondition({ signal: { type: 'proposal.viewed', withinDays: 5 } }).test(ctx, null)).toBe(false);
  });

  it('names which signals can cause a rule', () => {
    const cond = compileCondition({ any: [{ signal: { type: 'activity.call', where: { durationMinutes: { gte: 30 } } } }, { not: { signal: { type: 'esign.sent' } } }] });
    const state = initialDealState('deal-1', 'hubspot');
    expect([...cond.types]).toEqual(['activity.call']);
    expect(cond.matches(history[3]!, state)).toBe(true);
    expect(cond.matches(history[2]!, state)).toBe(false);
  });
});
