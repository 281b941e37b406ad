import type { CronItem, Task, TaskList } from 'graphile-worker';
import { z } from 'zod';
import type { Runtime } from '../runtime.ts';
import { ALERT_DIGESTS_TASK, ALERT_TICK_TASK, DISPATCH_ALERTS_TASK, scheduleDispatch, scheduleSlack, SEND_SLACK_TASK } from './alert-jobs.ts';
import { dispatchAlerts } from './dispatch-alerts.ts';
import { sendSlack } from './send-slack.ts';
import { runAlertTick } from './escalate-alerts.ts';
import { sendDigests } from './digests.ts';

const dispatchPayload = z.object({ workspaceId: z.string() });
const slackPayload = z.object({ workspaceId: z.string(), target: z.enum(['delivery', 'digest']), id: z.string().regex(/^\d+$/) });

type AlertTaskDeps = Pick<Runtime, 'db' | 'logger' | 'secretBox' | 'config'>;

/** The alert jobs: dispatching due deliveries, one Slack post per job, the ladder tick, digests. */
export function alertTasks(runtime: AlertTaskDeps): TaskList {
  const now = () => new Date();
  const publicBaseUrl = runtime.config.publicBaseUrl;
  const dispatch: Task = async (raw) => {
    const { workspaceId } = dispatchPayload.parse(raw);
    const result = await dispatchAlerts({ db: runtime.db, logger: runtime.logger, publicBaseUrl }, workspaceId, now());
    if (result.more) await scheduleDispatch(runtime.db, workspaceId);
  };
  const slack: Task = async (raw) => {
    const payload = slackPayload.parse(raw);
    const result = await sendSlack({ db: runtime.db, secretBox: runtime.secretBox, logger: runtime.logger, timeoutMs: runtime.config.crmTimeoutMs }, payload, now());
    // Retries are new jobs at the time Slack asked for, so a failing Slack never fails the queue.
    if (result.retryAt) await scheduleSlack(runtime.db, { ...payload, runAt: result.retryAt });
  };
  return {
    [DISPATCH_ALERTS_TASK]: dispatch,
    [SEND_SLACK_TASK]: slack,
    [ALERT_TICK_TASK]: async () => {
      await runAlertTick({ db: runtime.db, logger: runtime.logger }, now());
    },
    [ALERT_DIGESTS_TASK]: async () => {
      await sendDigests({ db: runtime.db, logger: runtime.logger, publicBaseUrl }, now());
    },
  };
}

export const alertCronItems: CronItem[] = [
  { task: ALERT_TICK_TASK, match: '* * * * *', identifier: ALERT_TICK_TASK, options: { backfillPeriod: 0, queueName: 'alerts' } },
  { task: ALERT_DIGESTS_TASK, match: '*/10 * * * *', identifier: ALERT_DIGESTS_TASK, options: { backfillPeriod: 0, queueName: 'alerts' } },
];
