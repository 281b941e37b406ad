import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { createWorkspace } from '../routing/support.ts';
import { insertRealisticDeals } from '../bench/support/deals.ts';
import { evaluateDealNow, evaluateDeals } from '../../src/progression/evaluate-deal.ts';
import { createEvaluationQueue } from '../../src/progression/evaluation-queue.ts';

/**
 * Evaluations run in batches (one transaction, one statement per step for all deals). A batch must
 * decide and store exactly what evaluating each deal on its own would.
 */
describe('evaluating deals in batches', async () => {
  const t = await createTestApp();
  const at = new Date();
  const deps = { db: t.db, logger: t.deps.logger, now: () => at };

  const decisionsOf = (ws: string) =>
    t.db
      .selectFrom('decisions')
      .select(['deal_id', 'key', 'type', 'rule_id', 'mode', 'reason', 'status', 'signal_ids'])
      .where('workspace_id', '=', ws)
      .orderBy('deal_id')
      .orderBy('key')
      .execute();
  const outboxOf = (ws: string) =>
    t.db.selectFrom('outbox').select(['deal_id', 'kind', 'idempotency_key', 'payload', 'status']).where('workspace_id', '=', ws).orderBy('idempotency_key').execute();
  const dealsOf = (ws: string) =>
    t.db.selectFrom('deals').select(['deal_id', 'stage', 'crm_stage', 'stage_entered_at', 'close_date', 'last_activity_at', 'owner_id', 'health_score', 'is_closed', 'playbook_version', 'evaluated_at']).where('workspace_id', '=', ws).orderBy('deal_id').execute();
  const alertsOf = (ws: string) => t.db.selectFrom('alerts').select(['deal_id', 'key', 'alert_type', 'state']).where('workspace_id', '=', ws).orderBy('key').execute();
  /** Signal ids (and the keys built from them) differ between workspaces: compare rows by what they say. */
  const comparable = (rows: ReadonlyArray<Record<string, unknown>>) =>
    rows
      .map(({ key: _key, idempotency_key: _idempotencyKey, signal_ids, ...rest }) =>
        JSON.stringify({ ...rest, ...(signal_ids ? { signals: (signal_ids as string[]).length } : {}) }).replace(/signals? \d+(, \d+)*/g, 'signals #'),
      )
      .sort();

  it('stores the same decisions, writes, alerts and deal states as one-by-one evaluation', async () => {
    await createWorkspace(t, 'one-by-one');
    await createWorkspace(t, 'batched');
    const { dealIds } = await insertRealisticDeals(t.db, 'one-by-one', 12);
    // The very same signals (same instants) in the second workspace.
    await sql`
      insert into signals (workspace_id, deal_id, type, source, origin, occurred_at, payload, dedupe_key)
      select 'batched', deal_id, type, source, origin, occurred_at, payload, dedupe_key from signals where workspace_id = 'one-by-one'
    `.execute(t.db);

    for (const dealId of dealIds) await evaluateDealNow(deps, { workspaceId: 'one-by-one', dealId, trigger: 'signals' });
    const summaries = await evaluateDeals(deps, dealIds.map((dealId) => ({ workspaceId: 'batched', dealId, trigger: 'signals' as const })));

    const single = await decisionsOf('one-by-one');
    expect(single.length).toBeGreaterThan(dealIds.length);
    expect(comparable(await decisionsOf('batched'))).toEqual(comparable(single));
    expect(comparable(await outboxOf('batched'))).toEqual(comparable(await outboxOf('one-by-one')));
    expect(comparable(await dealsOf('batched'))).toEqual(comparable(await dealsOf('one-by-one')));
    expect(comparable(await alertsOf('batched'))).toEqual(comparable(await alertsOf('one-by-one')));
    expect(summaries.reduce((n, s) => n + s.decisions, 0)).toBe(single.length);
    expect(summaries.some((s) => s.flushWanted)).toBe(true);
  });

  it('adds nothing when the same batch runs again (a repeated job)', async () => {
    const before = (await decisionsOf('batched')).length;
    const dealIds = (await dealsOf('batched')).map((d) => d.deal_id);
    const summaries = await evaluateDeals(deps, dealIds.map((dealId) => ({ workspaceId: 'batched', dealId, trigger: 'signals' as const })));
    expect(summaries.every((s) => s.writes === 0 && !s.flushWanted)).toBe(true);
    expect((await decisionsOf('batched')).length).toBe(before);
  });

  it('answers deals of a deleted workspace with nothing decided, beside deals that are evaluated', async () => {
    await createWorkspace(t, 'mixed');
    const { dealIds } = await insertRealisticDeals(t.db, 'mixed', 2);
    const summaries = await evaluateDeals(deps, [
      { workspaceId: 'mixed', dealId: dealIds[0]!, trigger: 'signals' },
      { workspaceId: 'no-such-workspace', dealId: 'x', trigger: 'signals' },
      { workspaceId: 'mixed', dealId: dealIds[1]!, trigger: 'signals' },
    ]);
    expect(summaries[1]).toMatchObject({ decisions: 0, writes: 0 });
    expect(summaries[0]!.decisions).toBeGreaterThan(0);
    expect(summaries[2]!.decisions).toBeGreaterThan(0);
  });

  it('fails only the job of a deal that cannot be evaluated when its batch fails', async () => {
    await createWorkspace(t, 'poison');
    const { dealIds } = await insertRealisticDeals(t.db, 'poison', 3);
    // A stored state the engine cannot read makes the whole batch's transaction fail.
    await sql`insert into deals (workspace_id, deal_id, provider, state) values ('poison', 'broken', 'hubspot', '{"memory": 42}')`.execute(t.db);
    const evaluate = createEvaluationQueue({ db: t.db, logger: t.deps.logger, crmFor: async () => undefined, now: () => at, maxInFlight: 1 });
    const outcomes = await Promise.allSettled([...dealIds, 'broken'].map((dealId) => evaluate({ workspaceId: 'poison', dealId, trigger: 'signals' })));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const evaluated = await t.db.selectFrom('deals').select('deal_id').where('workspace_id', '=', 'poison').where('evaluated_at', 'is not', null).execute();
    expect(evaluated.map((d) => d.deal_id).sort()).toEqual([...dealIds].sort());
  });
});
