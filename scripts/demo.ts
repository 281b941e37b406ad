/**
 * The Momentum demo: run it against a service started with `npm start`.
 *
 *   npm run demo -- --token <admin token> [--url http://127.0.0.1:3000] [--workspace demo]
 *
 * It creates a shadow-mode workspace, configures all five webhook sources with secrets it
 * generates, sends signed webhooks from HubSpot, Salesforce, DocuSign, PandaDoc and Gong for four
 * deals over simulated weeks, waits for the engine, and prints each deal's timeline.
 */
import { adminApi, checkService, DemoError, type AdminApi } from './demo/admin-api.ts';
import { sendDelivery, type SentDelivery } from './demo/delivery.ts';
import { parseOptions, usage, UsageError } from './demo/options.ts';
import { printDealTimeline, type OutboxItem } from './demo/print-timeline.ts';
import { printSummary } from './demo/print-summary.ts';
import { createRun, type DemoRun } from './demo/run-context.ts';
import { demoScenario, type DemoScenario } from './demo/sequences.ts';
import { setUpWorkspace } from './demo/setup-workspace.ts';
import { bad, bold, dim, good, pad } from './demo/style.ts';
import { waitForEvaluation } from './demo/wait-for-evaluation.ts';

async function configure(api: AdminApi, run: DemoRun): Promise<void> {
  console.log(bold(`Workspace "${run.options.workspace}" (shadow mode: decisions are recorded, nothing is written to a CRM)`));
  const sources = await setUpWorkspace(api, run);
  console.log(dim('Sources configured with fresh random secrets; the URLs to paste into each vendor:'));
  for (const source of sources) console.log(`  ${pad(source.source, 11)}${source.webhookUrl}`);
}

async function sendAll(run: DemoRun, scenario: DemoScenario): Promise<SentDelivery[]> {
  console.log('');
  console.log(bold(`Sending ${scenario.deliveries.length} signed webhooks for ${scenario.deals.length} deals (run ${run.runTag}; event times are the vendors' own)`));
  for (const deal of scenario.deals) console.log(`  ${pad(deal.name, 19)}${dim(`${deal.crm} ${deal.id}: ${deal.story}`)}`);
  const sent: SentDelivery[] = [];
  for (const delivery of scenario.deliveries) {
    const result = await sendDelivery(run, delivery);
    sent.push(result);
    const ok = result.status >= 200 && result.status < 300;
    const status = ok ? good(String(result.status)) : bad(String(result.status));
    console.log(`  ${dim(delivery.at.toISOString().slice(0, 10))}  ${pad(delivery.vendor, 11)}${pad(delivery.deal.name, 19)}${pad(delivery.event, 62)}${status}`);
    if (!ok) throw new DemoError(`${delivery.vendor} delivery "${delivery.event}" was refused (${result.status}): ${result.body.slice(0, 500)}`);
  }
  return sent;
}

async function shadowWrites(api: AdminApi, run: DemoRun, scenario: DemoScenario): Promise<OutboxItem[]> {
  const items: OutboxItem[] = [];
  for (const deal of scenario.deals) {
    const page = await api.get<{ items: OutboxItem[] }>(`/workspaces/${run.options.workspace}/outbox?status=shadow&dealId=${deal.id}&limit=500`);
    items.push(...page.items.reverse());
  }
  return items;
}

/** How the service stored this run's deliveries (newest first): accepted, duplicate, ignored, unattributed. */
async function storedStatuses(api: AdminApi, run: DemoRun, count: number): Promise<string[]> {
  const page = await api.get<{ items: { status: string }[] }>(`/workspaces/${run.options.workspace}/deliveries?limit=${Math.min(count, 500)}`);
  return page.items.map((item) => item.status);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const api = adminApi(options.url, options.token);
  await checkService(options.url, api);
  const run = createRun(options);
  await configure(api, run);

  const scenario = demoScenario(run);
  const sent = await sendAll(run, scenario);

  console.log('');
  console.log(dim('Waiting for the engine to evaluate the deals…'));
  const { views, unsettled } = await waitForEvaluation(api, options.workspace, scenario.deals);
  if (unsettled.length > 0) console.log(bad(`Still changing after 30 s, shown as they are now: ${unsettled.join(', ')}`));

  const stored = await storedStatuses(api, run, sent.length);
  const writes = await shadowWrites(api, run, scenario);
  console.log(dim('Decisions carry the time the engine made them. Weeks of history arrived within seconds and each deal was'));
  console.log(dim('evaluated as of now after each delivery, so time rules (stalls, re-engagement) also fired on partial histories.'));
  const byId = new Map(writes.map((item) => [item.id, item]));
  for (const deal of scenario.deals) printDealTimeline(deal, views.get(deal.id), byId);
  printSummary({ workspaceId: options.workspace, runTag: run.runTag, deals: scenario.deals, views, sent, stored, shadowWrites: writes });
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    // An empty message is --help: the usage on stdout, and success.
    if (!error.message) return console.log(usage);
    console.error(bad(error.message));
    console.error(usage);
    process.exitCode = 2;
  } else if (error instanceof DemoError) {
    console.error(bad(error.message));
    process.exitCode = 1;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
});
