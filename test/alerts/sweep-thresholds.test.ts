import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { json } from '../../src/platform/db.ts';
import { initialDealState } from '../../src/engine/state.ts';
import { currentPlaybook, publishPlaybook } from '../../src/progression/playbook-store.ts';
import { defaultPlaybook } from '../../src/engine/playbook/default-playbook.ts';
import { sweepDeals } from '../../src/progression/sweep.ts';
import { createWorkspace, DAY } from './support.ts';

const t0 = new Date('2025-03-03T10:00:00Z');
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY + ms);

/**
 * The sweep queues a deal once a time threshold is strictly behind the asOf instant and was not
 * yet behind its last evaluation, matching the engine, which acts only after the crossing.
 */
describe('sweep thresholds', async () => {
  const t = await createTestApp();
  const ws = 'thresholds';

  async function deal(dealId: string, columns: { stage?: string; stageEnteredAt?: Date; lastActivityAt?: Date; evaluatedAt: Date }) {
    await t.db
      .insertInto('deals')
      .values({
        workspace_id: ws, deal_id: dealId, provider: 'hubspot', state: json(initialDealState(dealId, 'hubspot')),
        stage: columns.stage ?? null, stage_entered_at: columns.stageEnteredAt ?? null, last_activity_at: columns.lastActivityAt ?? null, evaluated_at: columns.evaluatedAt,
      })
      .execute();
  }
  async function queued(asOf: Date): Promise<string[]> {
    await sql`delete from graphile_worker._private_jobs`.execute(t.db);
    await sweepDeals(t.db, { workspaceId: ws, asOf });
    const rows = await sql<{ deal: string }>`select substr(key, ${`evaluate:${ws}:`.length + 1}) as deal from graphile_worker._private_jobs where key like ${`evaluate:${ws}:%`} order by 1`.execute(t.db);
    return rows.rows.map((r) => r.deal);
  }

  beforeAll(async () => {
    await createWorkspace(t, ws);
    await currentPlaybook(t.db, ws);
  });

  it('stage stall: Qualified averages 10.5 days, so the warning line is 15.75 days and the critical one 21', async () => {
    // Evaluated an hour after entering; the 24-hour catch-all must not mask the thresholds, so
    // each check uses a deal evaluated within the last day.
    const warnAt = 15.75;
    await deal('stall-before', { stage: 'qualified', stageEnteredAt: at(-warnAt, 1), evaluatedAt: at(0, -1000) });
    await deal('stall-exact', { stage: 'qualified', stageEnteredAt: at(-warnAt), evaluatedAt: at(0, -1000) });
    await deal('stall-after', { stage: 'qualified', stageEnteredAt: at(-warnAt, -1), evaluatedAt: at(0, -1000) });
    await deal('critical-after', { stage: 'qualified', stageEnteredAt: at(-21, -1), evaluatedAt: at(0, -1000) });
    // Entered long ago but already evaluated past both lines: nothing changed since.
    await deal('stall-seen', { stage: 'qualified', stageEnteredAt: at(-30), evaluatedAt: at(0, -1000) });
    // Exactly at the line, the engine does not act yet: queued only after it.
    expect(await queued(t0)).toEqual(['critical-after', 'stall-after']);
    // A deal evaluated exactly at its crossing is queued by the next sweep after it.
    await t.db.updateTable('deals').set({ evaluated_at: t0 }).where('deal_id', '=', 'stall-exact').execute();
    expect(await queued(at(0, 1))).toContain('stall-exact');
    expect(await queued(at(0, 1))).not.toContain('stall-before');
  });

  it('stale activity: 30 days without activity, at the edges', async () => {
    await deal('stale-before', { stage: 'proposal', stageEnteredAt: at(-1), lastActivityAt: at(-30, 1), evaluatedAt: at(0, -1000) });
    await deal('stale-exact', { stage: 'proposal', stageEnteredAt: at(-1), lastActivityAt: at(-30), evaluatedAt: at(0, -1000) });
    await deal('stale-after', { stage: 'proposal', stageEnteredAt: at(-1), lastActivityAt: at(-30, -1), evaluatedAt: at(0, -1000) });
    const q = await queued(t0);
    expect(q).toContain('stale-after');
    expect(q).not.toContain('stale-exact');
    expect(q).not.toContain('stale-before');
  });

  it('a stall rule switched off adds no threshold', async () => {
    const base = defaultPlaybook();
    const rules = base.rules.map((r) => (r.type === 'time' && (r.check === 'stall_warning' || r.check === 'stall_critical') ? { ...r, mode: 'off' as const } : r));
    await publishPlaybook(t.db, ws, JSON.stringify({ ...base, rules }), 'test');
    expect(await queued(t0)).not.toContain('stall-after');
  });
});
