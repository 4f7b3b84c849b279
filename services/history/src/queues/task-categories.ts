/**
 * Task categories: the kinds of work a shard's queue processors run at least once after the commit
 * that created them. IMMEDIATE categories run as soon as possible in task id order; SCHEDULED ones
 * run when due, in (fireAt, taskId) order. Each category has its own processor, executor,
 * concurrency and retry backoff, so a slow one (a visibility outage) never stalls another
 * (workflow dispatch). A new category is a row here and an executor.
 *
 * The ids are persisted in every task row: never renumber or reuse one.
 */
export interface TaskCategory {
  readonly id: number;
  readonly name: string;
  readonly kind: 'immediate' | 'scheduled';
}

export const TaskCategories = {
  /** Dispatch to matching, children, cross-workflow signals and cancels, parent notifications. */
  transfer: { id: 1, name: 'transfer', kind: 'immediate' },
  /** User timers, activity and workflow-task timeouts, retry backoffs, run timeouts, retention. */
  timer: { id: 2, name: 'timer', kind: 'scheduled' },
  /** Publish the run's visibility record (or its deletion) to the visibility bus: one per commit that changed what search shows. */
  visibility: { id: 3, name: 'visibility', kind: 'immediate' },
  /** Usage deltas (billable actions, storage) committed with the change that caused them, folded into hourly counters exactly once. */
  usage: { id: 4, name: 'usage', kind: 'immediate' },
  /** Schedules: a schedule's next firing (and the re-checks of its running workflows), and the publication of its visibility record. */
  schedule: { id: 5, name: 'schedule', kind: 'scheduled' },
  /** Steps of batch operations (StartBatchOperation), each at its rate-limited time: a long batch never delays user timers. */
  batch: { id: 6, name: 'batch', kind: 'scheduled' },
  /** Standalone activities: dispatch of an attempt at its time, its timeouts and retention, and the publication of its visibility record. */
  activity: { id: 7, name: 'activity', kind: 'scheduled' },
} as const satisfies Record<string, TaskCategory>;

export const STANDARD_TASK_CATEGORIES: readonly TaskCategory[] = Object.values(TaskCategories);
