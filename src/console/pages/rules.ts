import type { FastifyPluginAsync } from 'fastify';
import { currentPlaybook } from '../../progression/playbook-store.ts';
import { consoleWorkspace, pageContext, sendHtml, type ConsoleDeps } from '../console-context.ts';
import { html } from '../html.ts';
import { page, wsPath } from '../layout.ts';
import { ruleMetrics, type RuleMetrics } from '../rule-metrics.ts';
import { stackedBars } from '../svg-chart.ts';

const periods = [30, 90, 365] as const;

const colors = { auto: '#0b5cad', approved: '#116329', rejected: '#a40e26', suggested: '#8250df', awaiting: '#9a6700', won: '#116329', lost: '#a40e26' };

function chartFor(m: RuleMetrics) {
  const label = `${m.ruleId}: ${m.auto} auto, ${m.approved} approved, ${m.rejected} rejected, ${m.suggested} suggested, ${m.awaiting} awaiting or closed without a decision; fired on ${m.firedOnWon} won and ${m.firedOnLost} lost deals`;
  return stackedBars([
    { title: 'How its decisions were carried out', parts: [
      { label: 'auto', value: m.auto, color: colors.auto },
      { label: 'approved', value: m.approved, color: colors.approved },
      { label: 'rejected', value: m.rejected, color: colors.rejected },
      { label: 'suggested', value: m.suggested, color: colors.suggested },
      { label: 'awaiting approval / expired / obsolete', value: m.awaiting, color: colors.awaiting },
    ] },
    { title: 'Closed deals it fired on', parts: [
      { label: 'won', value: m.firedOnWon, color: colors.won },
      { label: 'lost', value: m.firedOnLost, color: colors.lost },
    ] },
  ], label);
}

export const rulePages: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  app.get('/w/:workspaceId/rules', async (request, reply) => {
    const workspace = await consoleWorkspace(deps, request);
    const wanted = Number((request.query as Record<string, unknown>).days);
    const days = periods.find((p) => p === wanted) ?? 90;
    const playbook = await currentPlaybook(deps.db, workspace.id);
    const stagesClosed = (closed: 'won' | 'lost') => playbook.playbook.stages.filter((s) => s.closed === closed).map((s) => s.key);
    const metrics = await ruleMetrics(deps.db, {
      workspaceId: workspace.id,
      since: new Date(deps.now().getTime() - days * 86_400_000),
      wonStages: stagesClosed('won'),
      lostStages: stagesClosed('lost'),
    });
    const winShare = (m: RuleMetrics) => (m.firedOnWon + m.firedOnLost === 0 ? '—' : `${Math.round((m.firedOnWon / (m.firedOnWon + m.firedOnLost)) * 100)}%`);
    return sendHtml(reply, page('Rule metrics', pageContext(request, { workspace, section: 'rules' }), html`
      <form method="get" action="${wsPath(workspace.id, '/rules')}" class="actions">
        <label for="days" class="check">Decisions of the last</label>
        <select id="days" name="days">${periods.map((p) => html`<option value="${p}"${p === days ? html` selected` : ''}>${p} days</option>`)}</select>
        <button type="submit">Show</button>
      </form>
      <p>What each rule decided in the period and how it was carried out. For deals that have closed since, how often the rule fired on deals that were won and on deals that were lost: a rule that fires as often on lost deals as on won ones does not tell them apart.</p>
      ${metrics.length === 0 ? html`<p>No rule fired in the last ${days} days.</p>` : html`
      <table>
        <thead><tr><th scope="col">Rule</th><th scope="col" class="num">Fires</th><th scope="col" class="num">Auto</th><th scope="col" class="num">Approved</th><th scope="col" class="num">Rejected</th><th scope="col" class="num">Suggested</th><th scope="col" class="num">Won deals</th><th scope="col" class="num">Lost deals</th><th scope="col" class="num">Won share</th></tr></thead>
        <tbody>${metrics.map((m) => html`<tr><th scope="row"><a href="#rule-${m.ruleId}"><code>${m.ruleId}</code></a></th><td class="num">${m.fires}</td><td class="num">${m.auto}</td><td class="num">${m.approved}</td><td class="num">${m.rejected}</td><td class="num">${m.suggested}</td><td class="num">${m.firedOnWon}</td><td class="num">${m.firedOnLost}</td><td class="num">${winShare(m)}</td></tr>`)}</tbody>
      </table>
      <h2>Per rule</h2>
      <ul class="legend" aria-label="Chart colours">${(Object.keys(colors) as Array<keyof typeof colors>).filter((k) => k !== 'won' && k !== 'lost').map((k) => html`<li><span class="swatch ${k}"></span>${k === 'awaiting' ? 'awaiting / expired / obsolete' : k}</li>`)}<li><span class="swatch won"></span>won deals</li><li><span class="swatch lost"></span>lost deals</li></ul>
      <div class="cards">${metrics.map((m) => html`<section class="card" aria-labelledby="rule-${m.ruleId}">
        <h3 id="rule-${m.ruleId}"><code>${m.ruleId}</code></h3>
        <p>${m.fires} decision(s)${m.awaiting > 0 ? `, ${m.awaiting} approval(s) awaiting or closed without a decision` : ''}${m.closedOther > 0 ? `, ${m.closedOther} closed deal(s) in a stage this playbook does not mark won or lost` : ''}.</p>
        ${chartFor(m)}
      </section>`)}</div>`}`));
  });
};
