import { describe, expect, it } from 'vitest';
import type { RequestApprovalDecision } from '../engine/types.ts';
import { approvalTaskKey, approvalTaskWrite, describeChange, type ApprovalTaskFacts } from './approval-task.ts';

const labels: Record<string, string> = { discovery: 'Discovery', qualified: 'Qualified', proposal: 'Proposal', negotiation: 'Negotiation' };
const stageLabel = (key: string) => labels[key] ?? key;

const decision: ApprovalTaskFacts['decision'] = {
  ruleId: 'approve-early-contract',
  reason: 'Contract sent while the deal is still in discovery',
  playbookVersion: '4',
  proposed: { type: 'advance_stage', fromStage: 'discovery', toStage: 'proposal', crmStage: 'presentationscheduled', skipped: ['qualified'] },
  missingGates: [
    { stage: 'discovery', gateId: 'budget', label: 'Budget confirmed' },
    { stage: 'qualified', gateId: 'champion', label: 'Champion identified' },
  ],
};

const facts = (extra: Partial<ApprovalTaskFacts> = {}): ApprovalTaskFacts => ({
  workspaceId: 'acme co',
  approvalId: '17',
  dealId: '401',
  dealName: 'Acme platform',
  decision,
  stageLabel,
  approverId: '31400002',
  why: 'You are the manager of the deal owner, Rae.',
  dueAt: new Date('2026-03-05T10:00:00.000Z'),
  expiresAt: new Date('2026-03-11T10:00:30.000Z'),
  publicBaseUrl: 'https://momentum.example.com',
  ...extra,
});

describe('approvalTaskWrite', () => {
  it('asks the approver, on the deal, with high priority and the due date given', () => {
    const write = approvalTaskWrite(facts());
    expect(write).toMatchObject({
      kind: 'task',
      idempotencyKey: approvalTaskKey('17'),
      payload: { subject: 'Approve: move Acme platform to Proposal', ownerId: '31400002', priority: 'high', dueDate: '2026-03-05T10:00:00.000Z' },
    });
  });

  it('explains the request and links to where it is decided', () => {
    const body = (approvalTaskWrite(facts()).payload as { body: string }).body;
    expect(body).toContain('Proposed: Discovery → Proposal.');
    expect(body).toContain('Why: Contract sent while the deal is still in discovery (rule approve-early-contract, playbook v4).');
    expect(body).toContain('Stages skipped: Qualified.');
    expect(body).toContain('- Discovery: Budget confirmed\n- Qualified: Champion identified');
    expect(body).toContain('You are the manager of the deal owner, Rae.');
    expect(body).toContain('Approve or reject in the Momentum console: https://momentum.example.com/console/w/acme%20co/approvals');
    expect(body).toContain('POST https://momentum.example.com/api/workspaces/acme%20co/approvals/17/approve (or https://momentum.example.com/api/workspaces/acme%20co/approvals/17/reject)');
    expect(body).toContain('It expires on 2026-03-11 10:00 UTC.');
  });

  it('leaves out the lists of stages and gates when the reason names them all already', () => {
    const reason = 'Contract sent: Discovery → Proposal; skipping 1 stage (Qualified) needs approval; exit gates not met: Budget confirmed; Champion identified';
    const body = (approvalTaskWrite(facts({ decision: { ...decision, reason } })).payload as { body: string }).body;
    expect(body).not.toContain('Stages skipped');
    expect(body).not.toContain('Exit gates not met:\n');
    expect(body).toContain(`Why: ${reason} (rule approve-early-contract, playbook v4).`);
  });

  it('names the paths when no public address is configured, and the deal id when its name is unknown', () => {
    const write = approvalTaskWrite(facts({ publicBaseUrl: undefined, dealName: null, decision: { ...decision, missingGates: [] } }));
    const payload = write.payload as { subject: string; body: string };
    expect(payload.subject).toBe('Approve: move deal 401 to Proposal');
    expect(payload.body).toContain('under Approvals (/console/w/acme%20co/approvals)');
    expect(payload.body).toContain('POST /api/workspaces/acme%20co/approvals/17/approve');
    expect(payload.body).not.toContain('Exit gates not met');
  });

  it('gives every approval its own key and the same approval the same key', () => {
    expect(approvalTaskKey('17')).toBe(approvalTaskKey('17'));
    expect(approvalTaskKey('17')).not.toBe(approvalTaskKey('18'));
    expect(approvalTaskKey('17')).toMatch(/^[A-Za-z0-9]{1,100}$/);
  });
});

describe('describeChange', () => {
  const cases: Array<[RequestApprovalDecision['proposed'], string]> = [
    [{ type: 'regress_stage', fromStage: 'proposal', toStage: 'qualified', crmStage: 'qualifiedtobuy' }, 'move Acme back to Qualified'],
    [{ type: 'set_probability', from: 40, to: 55 }, 'set the probability of Acme to 55%'],
    [{ type: 'set_close_date', from: '2026-04-30', to: '2026-07-31' }, 'move the close date of Acme to 2026-07-31'],
    [{ type: 'update_field', field: 'discount_approval', from: null, value: 'approved' }, 'set discount_approval to approved on Acme'],
    [{ type: 'update_field', field: 'discount_approval', from: 'approved', value: null }, 'clear discount_approval on Acme'],
    [{ type: 'assign_owner', fromOwnerId: '1', toOwnerId: null, reassign: true, fallback: 'manager' }, 'reassign Acme to another owner'],
    [{ type: 'assign_owner', fromOwnerId: null, toOwnerId: '31400009', reassign: false, fallback: 'manager' }, 'assign Acme to owner 31400009'],
  ];
  it.each(cases)('describes %j', (change, words) => {
    expect(describeChange(change, 'Acme', stageLabel)).toBe(words);
  });
});
