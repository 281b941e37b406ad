import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { evaluateDealNow } from '../../src/progression/evaluate-deal.ts';
import { decideApproval } from '../../src/writeback/approvals.ts';
import { createWorkspace, DAY, HOUR, insertSignal, putPerson, putRouting } from '../routing/support.ts';

/** Tuesday 4 March 2025, 10:00 UTC. */
const T0 = Date.parse('2025-03-04T10:00:00.000Z');

describe('workflow recipes and routing through the evaluate-deal job', async () => {
  const t = await createTestApp();
  const ws = 'flows';
  const evaluate = (dealId: string, atMs: number) =>
    evaluateDealNow({ db: t.db, logger: t.deps.logger, now: () => new Date(atMs) }, { workspaceId: ws, dealId, trigger: 'signals' });
  const decisions = (dealId: string) =>
    t.db.selectFrom('decisions').select(['id', 'rule_id', 'type', 'reason', 'status', 'body']).where('workspace_id', '=', ws).where('deal_id', '=', dealId).orderBy('id').execute();
  const outbox = (dealId: string) =>
    t.db.selectFrom('outbox').select(['kind', 'payload', 'status', 'decision_id']).where('workspace_id', '=', ws).where('deal_id', '=', dealId).orderBy('id').execute();

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await putRouting(t, ws, {
      owners: [
        { ownerId: 'west-1', territories: ['west'] },
        { ownerId: 'east-1', territories: ['east'] },
        { ownerId: 'away', territories: ['north'] },
      ],
    });
    await putPerson(t, ws, 'west-1', { managerId: 'boss' });
    await putPerson(t, ws, 'away', { managerId: 'boss', outOfOffice: [{ from: '2025-03-01', to: '2025-03-31' }] });
  });

  it('routes an unowned deal by territory and writes the owner with a note naming the rule', async () => {
    await insertSignal(t.db, ws, 'd1', 'crm.field_changed', new Date(T0 - 2 * HOUR), { field: 'territory', value: 'West' });
    await insertSignal(t.db, ws, 'd1', 'crm.deal_created', new Date(T0 - HOUR), { stage: 'appointmentscheduled' });
    await evaluate('d1', T0);
    const assign = (await decisions('d1')).find((d) => d.rule_id === 'route-unowned-deal')!;
    expect(assign).toMatchObject({ type: 'assign_owner', status: 'queued' });
    expect(assign.body).toMatchObject({ toOwnerId: 'west-1', routing: { strategy: 'territory', pool: 'territory:west', ownerId: 'west-1' } });
    expect(assign.reason).toContain('trigger: signal crm.deal_created|crm.owner_changed|crm.stage_changed');
    expect(assign.reason).toContain('conditions met: owner unassigned');
    expect(assign.reason).toContain('routing: territory match (territory=West) picked west-1');
    const writes = (await outbox('d1')).filter((w) => w.decision_id === assign.id);
    expect(writes.map((w) => [w.kind, w.payload])).toEqual([
      ['deal_update', { fields: { ownerId: 'west-1' } }],
      ['note', expect.objectContaining({ body: expect.stringContaining('(rule route-unowned-deal, playbook v') })],
    ]);
    // A repeated job adds nothing and does not take another turn.
    await evaluate('d1', T0);
    const pool = await t.db.selectFrom('routing_pools').select('assigned').where('workspace_id', '=', ws).where('pool', '=', 'territory:west').executeTakeFirstOrThrow();
    expect(Number(pool.assigned)).toBe(1);
  });

  it('escalates a stale assignment to the manager and reassigns it to someone else', async () => {
    // Our owner write comes back from the CRM: the assignment is confirmed.
    await insertSignal(t.db, ws, 'd1', 'crm.owner_changed', new Date(T0 + 60_000), { ownerId: 'west-1' }, 'echo');
    await evaluate('d1', T0 + 2 * 60_000);
    const settled = await t.db.selectFrom('routing_assignments').select('settled_at').where('workspace_id', '=', ws).where('deal_id', '=', 'd1').executeTakeFirstOrThrow();
    expect(settled.settled_at).not.toBeNull();
    await evaluate('d1', T0 + 26 * HOUR);
    const stale = (await decisions('d1')).filter((d) => d.rule_id === 'route-stale-assignment');
    expect(stale.map((d) => d.type)).toEqual(['raise_alert', 'assign_owner']);
    expect(stale[0]!.reason).toContain('owner west-1 assigned at');
    // Territory west has only the stale owner, so the round-robin picks among the others; the
    // owner on leave is skipped.
    expect(stale[1]!.body).toMatchObject({ fromOwnerId: 'west-1', reassign: true, toOwnerId: 'east-1', routing: { strategy: 'round_robin' } });
    expect(stale[1]!.reason).toMatch(/skipped .*west-1 current owner.*away out of office/);
  });

  it('gives an away owner’s task to their manager and says so', async () => {
    await insertSignal(t.db, ws, 'd2', 'crm.deal_created', new Date(T0 - HOUR), { stage: 'appointmentscheduled', ownerId: 'away' });
    await insertSignal(t.db, ws, 'd2', 'activity.meeting', new Date(T0 - 30 * 60_000), { kind: 'other' });
    await evaluate('d2', T0);
    const followUp = (await decisions('d2')).find((d) => d.rule_id === 'recipe-meeting-follow-up')!;
    expect(followUp.reason).toContain('owner away is out of office, so the task goes to their manager boss');
    const task = (await outbox('d2')).find((w) => w.decision_id === followUp.id)!;
    expect(task.payload).toMatchObject({ subject: 'Send the summary and next steps', ownerId: 'boss' });
    expect(Date.parse((task.payload as { dueDate: string }).dueDate)).toBe(T0 + 4 * HOUR);
  });

  it('asks the approver before writing a discount approval, and writes the field once approved', async () => {
    await insertSignal(t.db, ws, 'd3', 'crm.deal_created', new Date(T0 - DAY), { stage: 'contractsent', ownerId: 'east-1' });
    await insertSignal(t.db, ws, 'd3', 'crm.field_changed', new Date(T0 - HOUR), { field: 'discount_percent', value: '35' });
    await evaluate('d3', T0);
    const ask = (await decisions('d3')).find((d) => d.rule_id === 'recipe-discount-approval')!;
    expect(ask).toMatchObject({ type: 'request_approval', status: 'awaiting_approval' });
    expect((await outbox('d3')).filter((w) => w.decision_id === ask.id)).toEqual([]);
    const approval = await t.db.selectFrom('approvals').select('id').where('workspace_id', '=', ws).where('decision_id', '=', ask.id).executeTakeFirstOrThrow();
    // Approved within its week (the job ran at T0, so the approval expires a week after T0).
    const verdict = await decideApproval(t.db, { workspaceId: ws, approvalId: approval.id, approve: true, by: 'vp@example.com', reason: undefined, now: new Date(T0 + HOUR) });
    expect(verdict).toEqual({ status: 'approved', writes: 1 });
    expect((await outbox('d3')).filter((w) => w.decision_id === ask.id).map((w) => w.payload)).toEqual([{ fields: { custom: { discount_approval: 'approved' } } }]);
  });
});
