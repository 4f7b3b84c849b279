/**
 * Temporal's per-run limits, enforced by the mutation helper on every change before it is
 * committed (values from the settings registry, per namespace):
 * - history count and size: a warning past `limit.history{Count,Size}.warn`; past `.error` the
 *   change is dropped and the run terminated with Temporal's reason (HistoryLimitExceededError);
 * - one change's history batch is at most `limit.transactionSize`;
 * - events buffered while a workflow task runs: past `history.maximumBufferedEvents*` the task is
 *   failed (FORCE_CLOSE_COMMAND) so the buffer is flushed and a new task delivers it.
 * Pending-item caps are checked where items are added (commands.ts).
 */
import { InvalidArgumentError, Limits, WorkflowTaskFailedCause, formatBytes, type Logger, type Settings } from '@hourglass/common';
import type { ExecutionKey } from '@hourglass/persistence';
import { isRunning, isWorkflowTaskStarted } from './mutable-state';
import type { MutationContext } from './mutation';
import { failWorkflowTask } from './workflow-task';

/** Temporal's termination reasons (common/util.go), verbatim: tools match on them. */
export const HISTORY_SIZE_EXCEEDS_LIMIT = 'Workflow history size exceeds limit.';
export const HISTORY_COUNT_EXCEEDS_LIMIT = 'Workflow history count exceeds limit.';

/** The change would push a running workflow's history past its limit: drop it and terminate the run. */
export class HistoryLimitExceededError extends Error {
  constructor(readonly key: ExecutionKey, readonly reason: string) {
    super(reason);
    this.name = 'HistoryLimitExceededError';
  }
}

export interface LimitScope {
  settings: Settings;
  /** Namespace name (settings scope). */
  namespace: string;
  logger: Logger;
}

/** Too many events buffered behind a running workflow task: fail that task so they are delivered. */
export function enforceBufferLimit(ctx: MutationContext, scope: LimitScope): void {
  const ms = ctx.ms;
  if (!isRunning(ms) || !isWorkflowTaskStarted(ms)) return;
  const maxCount = scope.settings.get(Limits.maxBufferedEvents);
  const maxBytes = scope.settings.get(Limits.maxBufferedEventsSize);
  if (ms.bufferedEventCount <= maxCount && ms.bufferedBytes <= maxBytes) return;
  scope.logger.warn(
    { ...ms.key, buffered: ms.bufferedEventCount, bytes: ms.bufferedBytes },
    'too many events buffered behind a running workflow task: failing it so a new one delivers them',
  );
  failWorkflowTask(ctx, { cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, identity: 'history-service' });
}

/** Checks what the change appends and the history it leaves; throws before anything is written. */
export function enforceHistoryLimits(ctx: MutationContext, scope: LimitScope): void {
  const ms = ctx.ms;
  const scoped = { namespace: scope.namespace };
  const appended = ctx.appendedBytes();
  const transactionLimit = scope.settings.get(Limits.transactionSize, scoped);
  if (appended > transactionLimit) {
    throw new InvalidArgumentError(
      `this change would write ${formatBytes(appended)} of history to workflow ${ms.executionInfo.workflowId} in one transaction, more than the ${formatBytes(transactionLimit)} limit`,
    );
  }
  if (!isRunning(ms)) return;
  const count = ms.nextEventId - 1;
  const size = ms.executionInfo.historySizeBytes;
  if (size > scope.settings.get(Limits.historySizeError, scoped)) throw new HistoryLimitExceededError(ms.key, HISTORY_SIZE_EXCEEDS_LIMIT);
  if (count > scope.settings.get(Limits.historyCountError, scoped)) throw new HistoryLimitExceededError(ms.key, HISTORY_COUNT_EXCEEDS_LIMIT);
  const countBefore = count - ctx.events.length;
  const sizeBefore = size - appended;
  const countWarn = scope.settings.get(Limits.historyCountWarn, scoped);
  const sizeWarn = scope.settings.get(Limits.historySizeWarn, scoped);
  if (countBefore <= countWarn && count > countWarn) scope.logger.warn({ ...ms.key, events: count }, 'history count exceeds the warn limit');
  if (sizeBefore <= sizeWarn && size > sizeWarn) scope.logger.warn({ ...ms.key, bytes: size }, 'history size exceeds the warn limit');
}

/** Whether a workflow task started now should carry suggestContinueAsNew (Temporal's rule: at or past either threshold). */
export function shouldSuggestContinueAsNew(ctx: MutationContext, settings: Settings, namespace: string): boolean {
  const ms = ctx.ms;
  const scoped = { namespace };
  return (
    ms.nextEventId >= settings.get(Limits.historyCountSuggestContinueAsNew, scoped) ||
    ms.executionInfo.historySizeBytes >= settings.get(Limits.historySizeSuggestContinueAsNew, scoped)
  );
}
