import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { startFakeCrm, type FakeCrm } from './fake-crm.ts';
import { createFaultEnvironment, PUBLIC_BASE_URL, type FaultEnvironment } from './environment.ts';
import { measureOutcome, waitForDrain, type Outcome } from './measure.ts';
import type { FaultPostgres } from './postgres.ts';
import { startService, type ServiceProcess } from './service.ts';
import { steadyTraffic, type TrafficLog } from './traffic.ts';

export interface SuiteContext {
  pg: FaultPostgres;
  quick: boolean;
  log(message: string): void;
  /** Every log line and API answer of the run, scanned for secrets at the end. */
  transcript: string[];
  secrets: string[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  name: string;
  description: string;
  seconds: number;
  fault: string;
  outcome?: Outcome;
  /** From the end of the fault (and of the traffic) to an empty backlog. */
  recoverySeconds: number | null;
  checks: Check[];
  extra?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Part of the quick subset that `npm test` runs. */
  quick: boolean;
  run(ctx: SuiteContext): Promise<ScenarioResult>;
}

export const CRM_LIMIT = { perWindow: 100, windowMs: 10_000 };
export const RECOVERY_TARGET_S = 60;

export interface Stage {
  env: FaultEnvironment;
  crm: FakeCrm;
  web: ServiceProcess;
  workers: ServiceProcess[];
  traffic: TrafficLog;
}

/** Standard checks every process scenario must pass. */
export function standardChecks(outcome: Outcome, recoverySeconds: number | null, exitCodes: (number | null)[]): Check[] {
  return [
    { name: 'acknowledged deliveries lost', ok: outcome.lostAcknowledged === 0, detail: `${outcome.lostAcknowledged} of ${outcome.acknowledged}` },
    { name: 'duplicate CRM effects', ok: outcome.duplicateEffects === 0, detail: String(outcome.duplicateEffects) },
    { name: 'sent effects missing from the CRM', ok: outcome.effectsMissing === 0, detail: `${outcome.effectsMissing} of ${outcome.effectsExpected} ${JSON.stringify(outcome.missingByKind)}` },
    { name: 'CRM records nobody asked for', ok: outcome.unexpectedRecords === 0, detail: String(outcome.unexpectedRecords) },
    { name: 'recovery to an empty backlog', ok: recoverySeconds !== null && recoverySeconds <= RECOVERY_TARGET_S, detail: recoverySeconds === null ? 'never' : `${recoverySeconds.toFixed(1)} s` },
    { name: 'CRM calls per 10 s within the limit', ok: outcome.crmMaxInWindow <= CRM_LIMIT.perWindow && outcome.crmRealRateLimited === 0, detail: `max ${outcome.crmMaxInWindow} of ${CRM_LIMIT.perWindow}; ${outcome.crmRealRateLimited} refused` },
    { name: 'graceful stop exits 0', ok: exitCodes.every((c) => c === 0), detail: exitCodes.join(', ') },
  ];
}

/**
 * The frame of every process scenario: a fresh database and fake CRM, `momentum web` and
 * `momentum worker` as real supervised processes, a steady stream of signed webhooks for
 * `trafficMs`, the scenario's fault meanwhile, then: wait for the backlog to drain, measure, stop.
 */
export async function runProcessScenario(
  ctx: SuiteContext,
  spec: {
    name: string;
    workers?: number;
    workspaces?: number;
    crmTimeoutMs?: number;
    /** Traffic lasts at least this long, and until the fault is over. */
    trafficMs: number;
    lanes?: number;
    gapMs?: number;
    /** Runs alongside the traffic; resolves when the fault is over. */
    fault: (stage: Stage) => Promise<void>;
    /** Replaces the steady traffic (redelivery scenario). */
    traffic?: (stage: Stage) => Promise<void>;
    drainTimeoutMs?: number;
  },
): Promise<{ outcome: Outcome; recoverySeconds: number | null; exitCodes: (number | null)[]; stage: Stage }> {
  const crm = await startFakeCrm(CRM_LIMIT);
  const env = await createFaultEnvironment(ctx.pg, crm, { name: spec.name, workspaceCount: spec.workspaces ?? 2, crmTimeoutMs: spec.crmTimeoutMs ?? 15_000 });
  ctx.secrets.push(...env.secrets);
  const serviceEnv = env.serviceEnv();
  const web = await startService('web', serviceEnv);
  const workers = await Promise.all(Array.from({ length: spec.workers ?? 1 }, () => startService('worker', serviceEnv)));
  const all = [web, ...workers];
  try {
    await Promise.all(all.map((p) => p.ready(180_000)));
    ctx.log(`  services ready (web ${web.rolePid()}, workers ${workers.map((w) => w.rolePid()).join(', ')})`);
    const traffic: TrafficLog = { attempts: [], abandoned: 0 };
    const stage: Stage = { env, crm, web, workers, traffic };
    const minimumEnd = Date.now() + spec.trafficMs;
    let faultOver = false;
    const sending = spec.traffic
      ? spec.traffic(stage)
      : steadyTraffic(traffic, env.workspaces, web.url!, { done: () => faultOver && Date.now() >= minimumEnd, lanes: spec.lanes ?? 2, gapMs: spec.gapMs ?? 150, publicUrl: PUBLIC_BASE_URL });
    await Promise.all([sending, spec.fault(stage).finally(() => (faultOver = true))]);
    const faultEnded = Date.now();
    ctx.log(`  traffic and fault over: ${traffic.attempts.length} attempts; waiting for the backlog to drain`);
    const drained = await waitForDrain(env.db, spec.drainTimeoutMs ?? 180_000);
    const recoverySeconds = drained.at === undefined ? null : (drained.at - faultEnded) / 1000;
    if (drained.at === undefined) {
      ctx.log(`  not drained: ${JSON.stringify(drained.last)}`);
      const open = await sql<Record<string, unknown>>`
        select status, kind, last_error->>'kind' as error, count(*)::int as n,
               round(extract(epoch from min(next_attempt_at) - now())) as next_in_s, max(attempts) as attempts
        from outbox where status in ('pending', 'sending', 'failed') group by 1, 2, 3
      `.execute(env.db);
      ctx.log(`  open outbox rows: ${JSON.stringify(open.rows)}`);
      const jobs = await sql<Record<string, unknown>>`
        select task_identifier, attempts, max_attempts, round(extract(epoch from run_at - now())) as run_in_s, left(last_error, 300) as last_error
        from graphile_worker.jobs limit 10
      `.execute(env.db);
      ctx.log(`  jobs: ${JSON.stringify(jobs.rows)}`);
    }
    const outcome = await measureOutcome(env.db, crm, env.workspaces, traffic);
    const exitCodes = await Promise.all(all.map((p) => p.stop()));
    for (const p of all) ctx.transcript.push(p.output());
    if (process.env.FAULTS_LOG_DIR) {
      for (const [i, p] of all.entries()) await writeFile(path.join(process.env.FAULTS_LOG_DIR, `${spec.name}-${p.role}-${i}.log`), p.output());
    }
    ctx.transcript.push(...traffic.attempts.map((a) => a.body));
    return { outcome, recoverySeconds, exitCodes, stage };
  } finally {
    await Promise.all(all.map((p) => p.stop(5_000)));
    await env.close();
    await crm.close();
  }
}
