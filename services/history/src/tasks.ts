/**
 * History task definitions. Their `type` strings are persisted: never rename or reuse one.
 * Transfer tasks run as soon as possible after the commit that created them; timer tasks run
 * at `fireAt`. Every executor re-validates against mutable state, so running a task twice is harmless.
 */
import type { TaskQueueKindName } from './workflow/mutable-state';

export type TransferTask =
  /** Push a scheduled workflow task to matching. */
  | { type: 'workflow-task'; scheduledEventId: number; taskQueueName: string; taskQueueKind: TaskQueueKindName }
  /** Push an activity attempt to matching. */
  | { type: 'activity-task'; scheduledEventId: number; attempt: number; taskQueueName: string }
  /** Start the child workflow initiated by this event, then record the outcome in the parent. */
  | { type: 'start-child'; initiatedEventId: number }
  /** Deliver the signal initiated by this event to its target, then record the outcome. */
  | { type: 'signal-external'; initiatedEventId: number }
  /** Deliver the cancellation request initiated by this event to its target, then record the outcome. */
  | { type: 'cancel-external'; initiatedEventId: number }
  /** The run closed: tell its parent (ChildWorkflowExecution* event). */
  | { type: 'close-execution' }
  /** The run closed: terminate or cancel its children as their parent close policy says. */
  | { type: 'parent-close-policy'; children: { namespaceId: string; workflowId: string; runId: string; policy: number }[] };

export type TimerTask =
  | { type: 'user-timer'; timerId: string; startedEventId: number }
  | { type: 'activity-timeout'; scheduledEventId: number; attempt: number; timeoutType: number }
  /** The backoff before the next attempt of an activity is over: dispatch it. */
  | { type: 'activity-retry'; scheduledEventId: number; attempt: number }
  | { type: 'workflow-task-timeout'; scheduledEventId: number; startedEventId: number; attempt: number; timeoutType: number }
  /** Run or execution timeout of the run. */
  | { type: 'workflow-timeout' }
  /** The first workflow task of a run whose start was delayed (start delay, cron, retry backoff). */
  | { type: 'workflow-backoff' }
  /** Retention is over for a closed run: delete it. */
  | { type: 'delete-execution' };

export type TransferTaskType = TransferTask['type'];
export type TimerTaskType = TimerTask['type'];

/** A task produced by a mutation, before the shard gives it an id. */
export interface PendingTimerTask {
  fireAt: number;
  task: TimerTask;
}
