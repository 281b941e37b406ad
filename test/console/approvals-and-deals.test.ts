import { describe, expect, it } from 'vitest';
import { drainQueue } from '../support/worker.ts';
import { playbookWithApprovalRule } from '../support/playbooks.ts';
import { enqueueWrites } from '../../src/writeback/outbox-store.ts';
import { outboxKey } from '../../src/writeback/plan-actions.ts';
import { apiSources, apiWorkspace, dealHistory, screenshot, signIn, startConsole } from './support.ts';

const playbookWithApproval = playbookWithApprovalRule();

/**
 * Approvals made by the real pipeline (signed webhooks → evaluation → approval), decided in the
 * browser; the deal's timeline with its replay; rule metrics; the outbox with a retry.
 */
describe('console approvals, deal timeline, rule metrics and outbox', async () => {
  const h = await startConsole();
  const { page, baseUrl, t } = h;
  const ws = 'hooli';

  it('approves a pending approval with a reason, showing its evidence and missing gates first', async () => {
    await apiWorkspace(t, ws);
    await apiSources(t, ws, 62540);
    const published = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}/playbook`, headers: { ...t.auth, 'content-type': 'application/yaml' }, payload: playbookWithApproval });
    expect(published.statusCode).toBe(201);
    await dealHistory(t, { workspaceId: ws, portalId: 62540, dealId: '5001', hubspotStage: 'appointmentscheduled', esignEvent: 'envelope-sent', at: Date.now() - 3_600_000 });
    await dealHistory(t, { workspaceId: ws, portalId: 62540, dealId: '5002', hubspotStage: 'contractsent', esignEvent: 'envelope-completed', at: Date.now() - 3_600_000 });
    await drainQueue(t);

    await signIn(h);
    await page.goto(`${baseUrl}/console/w/${ws}/approvals`);
    const card = page.getByRole('region', { name: /Deal 5001/ });
    const text = await card.textContent();
    expect(text).toContain('advance from discovery to qualified');
    expect(text).toContain('approve-early-contract');
    expect(text).toContain('playbook v1');
    expect(text).toContain('esign.sent');
    expect(await card.locator('dt:has-text("Gates not met") + dd li').count()).toBeGreaterThan(0);
    await screenshot(page, 'approvals');

    await card.getByLabel('Reason (recorded with your decision)').fill('Checked with the rep: the buyer asked for the contract early.');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/notice=approved/);
    expect(await page.getByRole('status').textContent()).toContain('Approved');
    expect(await page.getByText('No pending approvals.').count()).toBe(1);
    const approval = await t.db.selectFrom('approvals').selectAll().where('workspace_id', '=', ws).where('deal_id', '=', '5001').executeTakeFirstOrThrow();
    expect(approval).toMatchObject({ status: 'approved', decided_by: 'test', decided_reason: 'Checked with the rep: the buyer asked for the contract early.' });
    // A shadow workspace records the approved change without sending it.
    const writes = await t.db.selectFrom('outbox').select('status').where('workspace_id', '=', ws).where('decision_id', '=', approval.decision_id).execute();
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes.map((w) => w.status))).toEqual(new Set(['shadow']));
    await page.getByRole('link', { name: 'approved', exact: true }).click();
    expect(await page.getByRole('region', { name: /Deal 5001/ }).textContent()).toContain('approved by test: Checked with the rep');
  });

  it('opens a deal timeline by CRM deal id: signals, decisions with rule and reason, approvals and writes in time order; replays it', async () => {
    await page.goto(`${baseUrl}/console/w/${ws}/deals`);
    await page.getByLabel('CRM deal id').fill('5001');
    await page.getByRole('button', { name: 'Open timeline' }).click();
    await page.waitForURL(`${baseUrl}/console/w/${ws}/deals/5001`);
    const entries = page.locator('ol.timeline > li');
    const kinds = await entries.evaluateAll((items) => items.map((li) => li.className));
    expect(kinds).toContain('signal');
    expect(kinds).toContain('decision');
    expect(kinds).toContain('approval');
    expect(kinds).toContain('action');
    const times = await entries.locator('time').evaluateAll((items) => items.map((el) => el.getAttribute('datetime')!));
    expect(times).toEqual([...times].sort());
    const decision = entries.filter({ hasText: 'approve-early-contract' }).first();
    expect(await decision.textContent()).toMatch(/request approval by rule approve-early-contract \(playbook v1, mode approve\)/);
    expect(await entries.filter({ hasText: 'approval' }).last().textContent()).toContain('approved by test');
    await screenshot(page, 'deal-timeline');

    await page.getByRole('button', { name: 'Replay under the current playbook' }).click();
    const replay = page.getByRole('region', { name: 'Replay under playbook v1' });
    expect(await replay.textContent()).toContain('approve-early-contract');
    expect(await replay.textContent()).toContain('Nothing was stored or written.');
    expect((await page.goto(`${baseUrl}/console/w/${ws}/deals/no-such-deal`))!.status()).toBe(404);
  });

  it('shows per-rule fires, how they were carried out and won/lost counts, with a chart per rule', async () => {
    await page.goto(`${baseUrl}/console/w/${ws}/rules`);
    const row = page.locator('tbody tr').filter({ hasText: 'approve-early-contract' });
    const cells = await row.locator('td').allTextContents();
    // Fires, auto, approved, rejected, suggested, won deals, lost deals, won share.
    expect(cells.slice(0, 5)).toEqual(['1', '0', '1', '0', '0']);
    const chart = page.getByRole('img', { name: /^approve-early-contract:/ });
    expect(await chart.getAttribute('aria-label')).toContain('1 approved');
    expect(await page.locator('svg.chart').count()).toBeGreaterThan(1);
    const won = await t.db.selectFrom('deals').select(['deal_id', 'stage', 'is_closed']).where('workspace_id', '=', ws).where('deal_id', '=', '5002').executeTakeFirstOrThrow();
    expect(won).toMatchObject({ stage: 'closed_won', is_closed: true });
    const winners = page.locator('tbody tr').filter({ has: page.locator('td:nth-child(7)', { hasText: /^1$/ }) });
    expect(await winners.count()).toBeGreaterThan(0);
    await screenshot(page, 'rule-metrics');
  });

  it('lists dead writes with the CRM error and retries one', async () => {
    await t.db.transaction().execute((tx) => enqueueWrites(tx, {
      workspaceId: ws, dealId: '5002', decisionId: null, shadow: false,
      writes: [{ kind: 'task', idempotencyKey: outboxKey('console-test', 'task'), payload: { subject: 'Send the countersigned copy', body: 'Attach the PDF.', dueDate: '2026-03-10T09:00:00.000Z', priority: 'high' } }],
    }));
    await t.db.updateTable('outbox').set({ status: 'dead', attempts: 8, last_error: JSON.stringify({ code: 'VALIDATION_ERROR', message: 'Property "hs_task_priority" does not exist' }) })
      .where('workspace_id', '=', ws).where('status', '=', 'pending').execute();
    await page.goto(`${baseUrl}/console/w/${ws}/outbox`);
    const dead = page.locator('table').first();
    expect(await dead.textContent()).toContain('Property "hs_task_priority" does not exist');
    expect(await dead.textContent()).toContain('Send the countersigned copy');
    await screenshot(page, 'outbox');
    const row = await t.db.selectFrom('outbox').select('id').where('workspace_id', '=', ws).where('status', '=', 'dead').executeTakeFirstOrThrow();
    await page.getByRole('button', { name: `Retry write ${row.id}` }).click();
    await page.waitForURL(/notice=retried/);
    expect((await t.db.selectFrom('outbox').select(['status', 'attempts', 'last_error']).where('id', '=', row.id).executeTakeFirstOrThrow()))
      .toEqual({ status: 'pending', attempts: 0, last_error: null });
  });
});
