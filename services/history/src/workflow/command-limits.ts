/**
 * The limits a workflow task's commands are held to, read once per completion from the settings
 * registry (namespace scope). A command over a limit fails the workflow task with the matching
 * WorkflowTaskFailedCause and nothing of the completion is written, as Temporal does.
 */
import { Limits, quote, utf8Length, type Settings } from '@hourglass/common';
import { TASK_QUEUE_PARTITION_PREFIX } from '@hourglass/contracts';
import { BadCommandError } from './command-error';

export class CommandLimits {
  readonly maxIdLength: number;
  readonly pendingActivities: number;
  readonly pendingChildren: number;
  readonly pendingSignals: number;
  readonly pendingCancels: number;
  readonly blobSize: number;
  readonly transactionSize: number;

  constructor(settings: Settings, namespace: string) {
    const scope = { namespace };
    this.maxIdLength = settings.get(Limits.maxIdLength, scope);
    this.pendingActivities = settings.get(Limits.numPendingActivities, scope);
    this.pendingChildren = settings.get(Limits.numPendingChildExecutions, scope);
    this.pendingSignals = settings.get(Limits.numPendingSignals, scope);
    this.pendingCancels = settings.get(Limits.numPendingCancelRequests, scope);
    this.blobSize = settings.get(Limits.blobSizeError, scope);
    this.transactionSize = settings.get(Limits.transactionSize, scope);
  }

  /** An id or name inside a command: at most maxIdLength bytes of UTF-8. */
  checkId(cause: number, field: string, value: string): void {
    const bytes = utf8Length(value);
    if (bytes > this.maxIdLength) {
      throw new BadCommandError(cause, `${field} ${quote(value)} is ${bytes} bytes long, more than the limit of ${this.maxIdLength}`);
    }
  }

  /** A task queue named in a command: an id, and not a partition's name (`/_sys/…`, reserved as Temporal reserves it). */
  checkTaskQueue(cause: number, field: string, value: string): void {
    this.checkId(cause, field, value);
    if (value.startsWith(TASK_QUEUE_PARTITION_PREFIX)) {
      throw new BadCommandError(cause, `${field} ${quote(value)} starts with ${TASK_QUEUE_PARTITION_PREFIX}, which is reserved for task queue partitions`);
    }
  }

  /** Adding one more pending item of a kind must stay within its cap. */
  checkPending(cause: number, what: string, current: number, limit: number): void {
    if (current >= limit) {
      throw new BadCommandError(cause, `the workflow already has ${current} pending ${what}, the most one run may have (${limit}); wait for some to finish or continue as new`);
    }
  }
}
