/**
 * A per-workspace job ("flush this outbox", "dispatch these alerts") that callers ask for after
 * committing work for it. `schedule` asks Postgres for the job; it must be safe to repeat.
 */
export type JobNudger = (workspaceId: string) => Promise<void>;

/**
 * Makes sure the job will look at work a caller has just committed, with at most one `schedule`
 * running and one waiting per workspace in this process.
 *
 * Evaluations of one workspace commit work many times a second. Each asking Postgres on its own
 * would queue them all on the one job row's lock; instead, a request joins the call that has not
 * started yet (it will start after the caller's commit, so it sees the new rows), or queues one
 * behind the call already running. The promise settles when that call is done, so a job completes
 * only once its work has a follow-up job; a failure fails the waiting jobs, which retry. Periodic
 * checks (`flush-due`, the alert tick) cover a process that dies in between.
 */
export function createJobNudger(schedule: (workspaceId: string) => Promise<void>): JobNudger {
  const latest = new Map<string, Promise<void>>();
  const notStarted = new Map<string, Promise<void>>();

  return (workspaceId) => {
    const waiting = notStarted.get(workspaceId);
    if (waiting) return waiting;
    const before = latest.get(workspaceId) ?? Promise.resolve();
    const call = before
      .catch(() => undefined)
      .then(() => {
        notStarted.delete(workspaceId);
        return schedule(workspaceId);
      });
    notStarted.set(workspaceId, call);
    latest.set(workspaceId, call);
    void call
      .finally(() => {
        if (latest.get(workspaceId) === call) latest.delete(workspaceId);
      })
      .catch(() => undefined);
    return call;
  };
}
