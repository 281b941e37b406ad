import { crmFaults } from '../support/fake-crm.ts';
import { PUBLIC_BASE_URL } from '../support/environment.ts';
import { runProcessScenario, standardChecks, type Scenario, type Stage } from '../support/scenario.ts';
import { duplicateTraffic } from '../support/traffic.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

/** Kills the role process of `service` and waits until the supervisor has a new one ready. */
async function killAndAwaitRestart(stage: Stage, service: Stage['web'], log: (m: string) => void, how: string): Promise<void> {
  const before = service.starts();
  const pid = service.rolePid();
  service.killRole();
  log(`  kill -9 ${service.role} ${pid} (${how})`);
  const deadline = Date.now() + 60_000;
  while (service.starts() === before && Date.now() < deadline) await sleep(100);
  await service.ready(120_000);
  log(`  ${service.role} back as ${service.rolePid()}`);
}

export const workerKillScenario: Scenario = {
  name: 'worker-kill',
  description: 'kill -9 of the worker process at random moments, once right after the CRM applied a write and before the answer came back; the supervisor restarts it',
  quick: false,
  async run(ctx) {
    const started = Date.now();
    const kills: string[] = [];
    const result = await runProcessScenario(ctx, {
      name: 'worker-kill',
      trafficMs: 10_000,
      fault: async (stage) => {
        const [worker] = stage.workers;
        await sleep(between(6_000, 10_000));
        kills.push('random moment');
        await killAndAwaitRestart(stage, worker!, ctx.log, 'random moment');
        // After a write reached the CRM and before the answer: the write landed, we never recorded it.
        const armed = new Promise<void>((resolve) => stage.crm.onNextWrite(() => {
          kills.push('after the CRM applied a write');
          worker!.killRole();
          resolve();
        }));
        await Promise.race([armed, sleep(30_000)]);
        const deadline = Date.now() + 60_000;
        while (worker!.starts() < 3 && Date.now() < deadline) await sleep(100);
        await worker!.ready(120_000);
        ctx.log(`  worker killed after a CRM write; back as ${worker!.rolePid()}`);
        if (!ctx.quick) {
          await sleep(between(1_000, 5_000));
          kills.push('random moment');
          await killAndAwaitRestart(stage, worker!, ctx.log, 'random moment');
        }
      },
    });
    const checks = standardChecks(result.outcome, result.recoverySeconds, result.exitCodes);
    checks.push({ name: 'worker restarted by its supervisor after every kill', ok: result.stage.workers[0]!.starts() === kills.length + 1, detail: `${result.stage.workers[0]!.starts()} starts for ${kills.length} kills` });
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: kills.join('; '), outcome: result.outcome, recoverySeconds: result.recoverySeconds, checks };
  },
};

export const webKillScenario: Scenario = {
  name: 'web-kill',
  description: 'kill -9 of the web process while webhooks are in flight; vendors retry what was not acknowledged',
  quick: false,
  async run(ctx) {
    const started = Date.now();
    let kills = 0;
    const result = await runProcessScenario(ctx, {
      name: 'web-kill',
      trafficMs: 10_000,
      lanes: 3,
      gapMs: 50,
      fault: async (stage) => {
        for (let i = 0; i < (ctx.quick ? 1 : 2); i += 1) {
          await sleep(between(4_000, 8_000));
          kills += 1;
          await killAndAwaitRestart(stage, stage.web, ctx.log, 'requests in flight');
        }
      },
    });
    const checks = standardChecks(result.outcome, result.recoverySeconds, result.exitCodes);
    const refused = result.stage.traffic.attempts.filter((a) => a.status === 'network_error' || (typeof a.status === 'number' && a.status >= 500)).length;
    checks.push({ name: 'web restarted by its supervisor after every kill', ok: result.stage.web.starts() === kills + 1, detail: `${result.stage.web.starts()} starts; ${refused} attempts refused or cut meanwhile (retried)` });
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: `${kills} × kill -9 web`, outcome: result.outcome, recoverySeconds: result.recoverySeconds, checks };
  },
};

export const databaseRestartScenario: Scenario = {
  name: 'db-restart',
  description: 'PostgreSQL stopped (fast shutdown) and started again 5 s later, under traffic',
  quick: false,
  async run(ctx) {
    const started = Date.now();
    const result = await runProcessScenario(ctx, {
      name: 'db-restart',
      trafficMs: 10_000,
      fault: async () => {
        await sleep(10_000);
        const t0 = Date.now();
        await ctx.pg.restart(5_000);
        ctx.log(`  PostgreSQL restarted (${((Date.now() - t0) / 1000).toFixed(1)} s down)`);
      },
    });
    const checks = standardChecks(result.outcome, result.recoverySeconds, result.exitCodes);
    const { web, workers } = result.stage;
    checks.push({ name: 'processes that died were restarted', ok: true, detail: `web starts ${web.starts()}, worker starts ${workers.map((w) => w.starts()).join('/')}` });
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: 'PostgreSQL down ~5 s', outcome: result.outcome, recoverySeconds: result.recoverySeconds, checks };
  },
};

export const terminateBackendsScenario: Scenario = {
  name: 'db-terminate',
  description: "pg_terminate_backend on every connection of the service's database, three times under traffic",
  quick: false,
  async run(ctx) {
    const started = Date.now();
    let terminated = 0;
    const result = await runProcessScenario(ctx, {
      name: 'db-terminate',
      trafficMs: 10_000,
      fault: async (stage) => {
        for (let i = 0; i < 3; i += 1) {
          await sleep(between(5_000, 8_000));
          terminated += await ctx.pg.terminateBackends(stage.env.databaseName);
        }
        ctx.log(`  terminated ${terminated} backends`);
      },
    });
    const checks = standardChecks(result.outcome, result.recoverySeconds, result.exitCodes);
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: `${terminated} backends terminated`, outcome: result.outcome, recoverySeconds: result.recoverySeconds, checks };
  },
};

export const crmFaultsScenario: Scenario = {
  name: 'crm-faults',
  description: 'the CRM spoils 20% of calls: 429 + Retry-After, 5xx, answers past the 1 s client timeout, dropped connections, writes applied with the answer lost',
  quick: true,
  async run(ctx) {
    const started = Date.now();
    const result = await runProcessScenario(ctx, {
      name: 'crm-faults',
      crmTimeoutMs: 1_000,
      trafficMs: ctx.quick ? 20_000 : 60_000,
      fault: async (stage) => {
        stage.crm.setFaults({ rate: 0.2, kinds: crmFaults, slowMs: 1_500 });
        await sleep(ctx.quick ? 20_000 : 60_000);
        stage.crm.setFaults(undefined);
      },
    });
    const checks = standardChecks(result.outcome, result.recoverySeconds, result.exitCodes);
    const injected = Object.values(result.outcome.crmInjected).reduce((a, b) => a + b, 0);
    checks.push({ name: 'faults injected', ok: injected > 0, detail: JSON.stringify(result.outcome.crmInjected) });
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: `${injected} of ${result.outcome.crmRequests} CRM calls spoiled`, outcome: result.outcome, recoverySeconds: result.recoverySeconds, checks };
  },
};

export const redeliveryScenario: Scenario = {
  name: 'redelivery',
  description: 'every delivery sent three times, shuffled (out of order) and eight at a time (the same event twice at once)',
  quick: true,
  async run(ctx) {
    const started = Date.now();
    const result = await runProcessScenario(ctx, {
      name: 'redelivery',
      trafficMs: 0,
      fault: async () => undefined,
      traffic: (stage) => duplicateTraffic(stage.traffic, stage.env.workspaces, stage.web.url!, { sets: ctx.quick ? 2 : 8, copies: 3, concurrency: 8, publicUrl: PUBLIC_BASE_URL }),
    });
    const checks = standardChecks(result.outcome, result.recoverySeconds, result.exitCodes);
    const counts = await Promise.resolve(result.outcome);
    checks.push({ name: 'every copy acknowledged', ok: counts.acknowledged === counts.attempts, detail: `${counts.acknowledged} of ${counts.attempts}` });
    return { name: this.name, description: this.description, seconds: (Date.now() - started) / 1000, fault: 'each delivery ×3, shuffled, concurrent', outcome: result.outcome, recoverySeconds: result.recoverySeconds, checks };
  },
};
