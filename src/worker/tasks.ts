import type { ParsedCronItem, TaskList } from 'graphile-worker';
import type { Runtime } from '../runtime.ts';

/** Every job this service runs, by name. Each task validates its payload first: it may come from older code. */
export function buildTaskList(_runtime: Runtime): { taskList: TaskList; cronItems: ParsedCronItem[] } {
  return { taskList: {}, cronItems: [] };
}
