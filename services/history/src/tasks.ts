/**
 * History task definitions. Their `type` strings are persisted: never rename or reuse one.
 * Transfer tasks run as soon as possible after the commit that created them; timer tasks run
 * at `fireAt`. Every executor re-validates against mutable state, so running a task twice is harmless.
 */
import { InvariantViolationError } from '@hourglass/common';
import type { HistoryTaskRow } from '@hourglass/persistence';
import { z } from 'zod';
import type { UsageTask } from './usage/usage-task';
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
  /**
   * The pause after a workflow task the server failed again for the same bad commands is over:
   * schedule the next attempt, if no other workflow task came meanwhile (`failureStreak` unchanged).
   */
  | { type: 'workflow-task-retry'; failureStreak: number }
  /** Retention is over for a closed run: delete it. */
  | { type: 'delete-execution' }
  /** Storage metering: accrue the run's storage up to now and arm the next accrual. */
  | { type: 'storage-accrual' };

/**
 * Visibility tasks carry no record: the executor builds it from the run's state when it runs, so a
 * late task publishes the newest state (versioned by the state transition count) and several
 * tasks of one run cost one store write each at most.
 */
export type VisibilityTask =
  /** Something search shows changed (start, close, search attributes, memo): publish the run's record. */
  | { type: 'upsert-execution'; committedAt: number }
  /** The run was deleted (retention, DeleteWorkflowExecution): remove its record up to this version. */
  | { type: 'delete-execution'; committedAt: number; version: number };

/**
 * Batch tasks drive a batch operation's job run (see batch/): the next step of the job whose step
 * sequence is `seq`. A task whose `seq` is no longer the job's (a step ran twice) does nothing.
 */
export type BatchTask = { type: 'batch-step'; seq: number };

export type TransferTaskType = TransferTask['type'];
export type TimerTaskType = TimerTask['type'];

const kind = z.enum(['normal', 'sticky']);

const transferTaskSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('workflow-task'), scheduledEventId: z.number(), taskQueueName: z.string(), taskQueueKind: kind }),
  z.object({ type: z.literal('activity-task'), scheduledEventId: z.number(), attempt: z.number(), taskQueueName: z.string() }),
  z.object({ type: z.literal('start-child'), initiatedEventId: z.number() }),
  z.object({ type: z.literal('signal-external'), initiatedEventId: z.number() }),
  z.object({ type: z.literal('cancel-external'), initiatedEventId: z.number() }),
  z.object({ type: z.literal('close-execution') }),
  z.object({
    type: z.literal('parent-close-policy'),
    children: z.array(z.object({ namespaceId: z.string(), workflowId: z.string(), runId: z.string(), policy: z.number() })),
  }),
]);

const timerTaskSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user-timer'), timerId: z.string(), startedEventId: z.number() }),
  z.object({ type: z.literal('activity-timeout'), scheduledEventId: z.number(), attempt: z.number(), timeoutType: z.number() }),
  z.object({ type: z.literal('activity-retry'), scheduledEventId: z.number(), attempt: z.number() }),
  z.object({ type: z.literal('workflow-task-timeout'), scheduledEventId: z.number(), startedEventId: z.number(), attempt: z.number(), timeoutType: z.number() }),
  z.object({ type: z.literal('workflow-timeout') }),
  z.object({ type: z.literal('workflow-backoff') }),
  z.object({ type: z.literal('workflow-task-retry'), failureStreak: z.number() }),
  z.object({ type: z.literal('delete-execution') }),
  z.object({ type: z.literal('storage-accrual') }),
]);

const visibilityTaskSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('upsert-execution'), committedAt: z.number() }),
  z.object({ type: z.literal('delete-execution'), committedAt: z.number(), version: z.number() }),
]);

const batchTaskSchema = z.object({ type: z.literal('batch-step'), seq: z.number() });

function parse<T>(schema: z.ZodType<T>, data: string, what: string): T {
  const result = schema.safeParse(JSON.parse(data));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InvariantViolationError(`corrupt ${what} task: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/**
 * Tasks this process created, by the row it committed them in: a row handed straight from the
 * commit to its queue is typed by construction and skips the parse. Rows read back from the store
 * are not in it and are validated.
 */
const committedTasks = new WeakMap<HistoryTaskRow, TransferTask | TimerTask | VisibilityTask | BatchTask | UsageTask>();

/** Records the task a committed row carries (see committedTasks). */
export function rememberCommittedTask(row: HistoryTaskRow, task: TransferTask | TimerTask | VisibilityTask | BatchTask | UsageTask): void {
  committedTasks.set(row, task);
}

/** A transfer task's payload: the committed task itself, or the stored row's data validated. */
export function parseTransferTask(row: HistoryTaskRow): TransferTask {
  return (committedTasks.get(row) as TransferTask | undefined) ?? parse(transferTaskSchema, row.data, 'transfer');
}

/** A timer task's payload: the committed task itself, or the stored row's data validated. */
export function parseTimerTask(row: HistoryTaskRow): TimerTask {
  return (committedTasks.get(row) as TimerTask | undefined) ?? parse(timerTaskSchema, row.data, 'timer');
}

/** A visibility task's payload: the committed task itself, or the stored row's data validated. */
export function parseVisibilityTask(row: HistoryTaskRow): VisibilityTask {
  return (committedTasks.get(row) as VisibilityTask | undefined) ?? parse(visibilityTaskSchema, row.data, 'visibility');
}

/** The task this process committed in `row` (see committedTasks); undefined for a row read back from the store. */
export function committedTask(row: HistoryTaskRow): TransferTask | TimerTask | VisibilityTask | BatchTask | UsageTask | undefined {
  return committedTasks.get(row);
}

/** A batch task's payload: the committed task itself, or the stored row's data validated. */
export function parseBatchTask(row: HistoryTaskRow): BatchTask {
  return (committedTasks.get(row) as BatchTask | undefined) ?? parse(batchTaskSchema, row.data, 'batch');
}
