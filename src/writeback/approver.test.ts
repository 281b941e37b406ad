import { describe, expect, it } from 'vitest';
import { defaultPlaybook, defaultPlaybookText } from '../engine/playbook/default-playbook.ts';
import { parsePlaybook } from '../engine/playbook/parse.ts';
import { approvalsOf, approverRuleFor, chooseApprover, type DirectoryEntry } from './approver.ts';

const entry = (ownerId: string, managerId: string | null, extra: Partial<DirectoryEntry> = {}): DirectoryEntry => ({
  ownerId,
  name: `Person ${ownerId}`,
  managerId,
  timeZone: null,
  outOfOffice: [],
  active: true,
  ...extra,
});

const directory = (...entries: DirectoryEntry[]) => new Map(entries.map((e) => [e.ownerId, e]));
const alerting = { timeZone: 'UTC' };
const now = Date.parse('2026-03-04T10:00:00Z');

describe('the approvals section of the playbook', () => {
  it('defaults to the manager, a CRM task and one working day, also for playbooks written before it existed', () => {
    expect(defaultPlaybook().approvals).toEqual({ approver: 'manager', notify: 'crm_task', taskDueBusinessDays: 1 });
    expect(approvalsOf({ approvals: undefined })).toEqual({ approver: 'manager', notify: 'crm_task', taskDueBusinessDays: 1 });
  });

  it('accepts the owner or a fixed CRM owner id, and names the path of anything else', () => {
    const withApprovals = (section: string) => parsePlaybook(defaultPlaybookText().replace(/^approvals:\n(?: .*\n)*/m, `approvals:\n${section}`));
    const fixed = withApprovals('  approver: { ownerId: "31400007" }\n  notify: none\n');
    expect(fixed.ok && fixed.playbook.approvals).toEqual({ approver: { ownerId: '31400007' }, notify: 'none', taskDueBusinessDays: 1 });
    const owner = withApprovals('  approver: owner\n');
    expect(owner.ok && owner.playbook.approvals?.approver).toBe('owner');

    const wrong = withApprovals('  approver: finance\n  notify: email\n');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.problems.map((p) => p.path).sort()).toEqual(['approvals.approver', 'approvals.notify']);
  });
});

describe('approverRuleFor', () => {
  const playbook = defaultPlaybook();

  it("uses the playbook's approver for stage moves and approve-mode rules", () => {
    expect(approverRuleFor({ ruleId: 'adv-discovery-call', approverRole: 'manager' }, playbook)).toEqual({ role: 'manager' });
    const fixed = { ...playbook, approvals: { approver: { ownerId: '999' }, notify: 'crm_task' as const, taskDueBusinessDays: 1 } };
    expect(approverRuleFor({ ruleId: 'adv-discovery-call', approverRole: 'manager' }, fixed)).toEqual({ ownerId: '999' });
  });

  it('keeps the approver a workflow approval action names, over the playbook default', () => {
    const fixed = { ...playbook, approvals: { approver: { ownerId: '999' }, notify: 'crm_task' as const, taskDueBusinessDays: 1 } };
    expect(approverRuleFor({ ruleId: 'recipe-discount-approval', approverRole: 'manager' }, fixed)).toEqual({ role: 'manager' });
    // The same rule asking for a role its actions never name came from elsewhere: the default applies.
    expect(approverRuleFor({ ruleId: 'recipe-discount-approval', approverRole: 'owner' }, fixed)).toEqual({ ownerId: '999' });
  });
});

describe('chooseApprover', () => {
  const chain = directory(entry('rep', 'mgr'), entry('mgr', 'vp'), entry('vp', null));

  it("asks the deal owner's manager", () => {
    const choice = chooseApprover({ role: 'manager' }, 'rep', chain, alerting, now);
    expect(choice).toEqual({ ownerId: 'mgr', why: 'You are the manager of the deal owner, Person rep.' });
  });

  it('falls back to the deal owner when no manager is on record, or the owner is not in the directory', () => {
    expect(chooseApprover({ role: 'manager' }, 'vp', chain, alerting, now).ownerId).toBe('vp');
    const unknown = chooseApprover({ role: 'manager' }, 'stranger', chain, alerting, now);
    expect(unknown.ownerId).toBe('stranger');
    expect(unknown.why).toContain('no manager is on record');
  });

  it('asks the owner, leadership, or a fixed person when the rule says so', () => {
    expect(chooseApprover({ role: 'owner' }, 'rep', chain, alerting, now).ownerId).toBe('rep');
    expect(chooseApprover({ role: 'leadership' }, 'rep', chain, alerting, now).ownerId).toBe('vp');
    expect(chooseApprover({ role: 'leadership' }, 'mgr', chain, alerting, now).ownerId).toBe('vp');
    expect(chooseApprover({ ownerId: 'desk' }, 'rep', chain, alerting, now)).toEqual({ ownerId: 'desk', why: 'The playbook names you as the approver for this workspace.' });
  });

  it('names nobody for a deal without an owner, unless the approver is fixed', () => {
    expect(chooseApprover({ role: 'manager' }, null, chain, alerting, now).ownerId).toBeNull();
    expect(chooseApprover({ ownerId: 'desk' }, null, chain, alerting, now).ownerId).toBe('desk');
  });

  it('hands the request to the manager of an approver who is out of office today, in their own time zone', () => {
    const away = directory(entry('rep', 'mgr'), entry('mgr', 'vp', { outOfOffice: [{ from: '2026-03-02', to: '2026-03-06' }] }), entry('vp', null));
    const choice = chooseApprover({ role: 'manager' }, 'rep', away, alerting, now);
    expect(choice.ownerId).toBe('vp');
    expect(choice.why).toContain('Person mgr would decide but is out of office today');
    // In Auckland it is already the 5th, their first day back, while UTC still says the 4th.
    const backTomorrow = directory(entry('rep', 'mgr'), entry('mgr', 'vp', { timeZone: 'Pacific/Auckland', outOfOffice: [{ from: '2026-03-01', to: '2026-03-04' }] }));
    expect(chooseApprover({ role: 'manager' }, 'rep', backTomorrow, alerting, Date.parse('2026-03-04T12:00:00Z')).ownerId).toBe('mgr');
    // Nobody above an absent approver: they are still asked.
    const alone = directory(entry('desk', null, { outOfOffice: [{ from: '2026-03-01', to: '2026-03-31' }] }));
    expect(chooseApprover({ ownerId: 'desk' }, 'rep', alone, alerting, now).ownerId).toBe('desk');
  });

  it('passes over someone the CRM deactivated: to their manager, else to the deal owner', () => {
    const gone = directory(entry('rep', 'mgr'), entry('mgr', 'vp', { active: false }), entry('vp', null));
    const choice = chooseApprover({ role: 'manager' }, 'rep', gone, alerting, now);
    expect(choice).toEqual({ ownerId: 'vp', why: 'Person mgr would decide but is no longer active in the CRM, so the request comes to you as their manager.' });
    const goneDesk = directory(entry('rep', null), entry('desk', null, { active: false }));
    expect(chooseApprover({ ownerId: 'desk' }, 'rep', goneDesk, alerting, now).ownerId).toBe('rep');
  });
});
