import { randomUUID } from 'node:crypto';
import { demoScenario } from '../../../scripts/demo/sequences.ts';
import type { Delivery } from '../../../scripts/demo/delivery.ts';
import type { DemoRun } from '../../../scripts/demo/run-context.ts';
import type { FaultWorkspace } from './environment.ts';

/** One HTTP attempt at delivering a webhook, as the vendor saw it. */
export interface Attempt {
  requestId: string;
  workspaceId: string;
  vendor: string;
  status: number | 'network_error';
  body: string;
}

export interface TrafficLog {
  attempts: Attempt[];
  /** Deliveries the vendor gave up on (never acknowledged after every retry). */
  abandoned: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The demo's HubSpot-CRM deal stories (HubSpot, Gong, PandaDoc, DocuSign webhooks) for a fresh set of
 * deals: each set gets its own run tag, so deal and event ids never collide with another set's.
 */
export function dealSet(workspace: FaultWorkspace, url: string, tag: number): Delivery[] {
  let events = 0;
  const run: DemoRun = { ...workspace.run, options: { ...workspace.run.options, url }, runTag: String(tag).padStart(6, '0'), nextEventNumber: () => ++events };
  return demoScenario(run).deliveries.filter((d) => d.deal.crm === 'HubSpot');
}

/**
 * Sends one delivery the way vendors do: on anything but 2xx (or no answer) it tries again a
 * second later, re-signed, up to `maxAttempts` times. Every attempt carries its own X-Request-Id,
 * which the service keeps with the stored delivery: that is how acknowledged requests are found.
 */
export async function deliver(log: TrafficLog, workspace: FaultWorkspace, url: string, delivery: Delivery, options: { maxAttempts: number; publicUrl: string }): Promise<boolean> {
  for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
    const raw = await delivery.build();
    const route = raw.publicUrl.slice(options.publicUrl.length);
    const requestId = randomUUID();
    const all: Record<string, string | undefined> = { ...raw.headers, 'x-request-id': requestId };
    const headers = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
    let status: Attempt['status'];
    let body = '';
    try {
      const response = await fetch(`${url}${route}`, { method: raw.method, headers, body: new Uint8Array(raw.rawBody), signal: AbortSignal.timeout(15_000) });
      status = response.status;
      body = await response.text();
    } catch {
      status = 'network_error';
    }
    log.attempts.push({ requestId, workspaceId: workspace.id, vendor: delivery.vendor, status, body });
    if (typeof status === 'number' && status >= 200 && status < 300) return true;
    await sleep(1000);
  }
  log.abandoned += 1;
  return false;
}

/**
 * A steady stream: `lanes` deal sets per workspace at a time, each sending its deliveries in order
 * with `gapMs` between them, until `done()` says stop (a set in progress is cut short there).
 */
export async function steadyTraffic(
  log: TrafficLog,
  workspaces: FaultWorkspace[],
  url: string,
  options: { done: () => boolean; lanes: number; gapMs: number; publicUrl: string; firstTag?: number },
): Promise<void> {
  let tag = options.firstTag ?? 100_001;
  const lane = async (workspace: FaultWorkspace) => {
    while (!options.done()) {
      for (const delivery of dealSet(workspace, url, tag++)) {
        if (options.done()) break;
        await deliver(log, workspace, url, delivery, { maxAttempts: 60, publicUrl: options.publicUrl });
        await sleep(options.gapMs);
      }
    }
  };
  await Promise.all(workspaces.flatMap((ws) => Array.from({ length: options.lanes }, () => lane(ws))));
}

/**
 * Redelivery chaos: every delivery of a deal set sent `copies` times, all copies shuffled and sent
 * `concurrency` at a time, so the same vendor events arrive twice at once and out of order.
 */
export async function duplicateTraffic(
  log: TrafficLog,
  workspaces: FaultWorkspace[],
  url: string,
  options: { sets: number; copies: number; concurrency: number; publicUrl: string; random?: () => number },
): Promise<void> {
  const random = options.random ?? Math.random;
  const jobs: Array<() => Promise<unknown>> = [];
  let tag = 300_001;
  for (const workspace of workspaces) {
    for (let s = 0; s < options.sets; s += 1) {
      for (const delivery of dealSet(workspace, url, tag++)) {
        for (let c = 0; c < options.copies; c += 1) jobs.push(() => deliver(log, workspace, url, delivery, { maxAttempts: 30, publicUrl: options.publicUrl }));
      }
    }
  }
  for (let i = jobs.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }
  let next = 0;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
}
