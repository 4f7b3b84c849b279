/**
 * Child workflows from the parent's side: StartChildWorkflowExecution → Initiated (+ a transfer
 * task that starts the child), then Started or StartFailed, then one close event when the child's
 * chain ends. Close events are buffered like any external event.
 */
import { WorkflowTaskFailedCause, int64, temporal } from '@hourglass/common';
import type { ChildCloseOutcome } from '@hourglass/contracts';
import { BadCommandError } from './command-error';
import type { CommandLimits } from './command-limits';
import type { ChildInfo } from './mutable-state';
import type { MutationContext } from './mutation';

type StartChildAttributes = temporal.api.command.v1.IStartChildWorkflowExecutionCommandAttributes;

const ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;
const BAD = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES;

export function initiateChild(
  ctx: MutationContext,
  attrs: StartChildAttributes,
  workflowTaskCompletedEventId: number,
  namespace: { id: string; name: string },
  limits: CommandLimits,
): void {
  const workflowId = attrs.workflowId ?? '';
  const workflowTypeName = attrs.workflowType?.name ?? '';
  if (!workflowId) throw new BadCommandError(BAD, 'WorkflowId is not set on StartChildWorkflowExecution');
  if (!workflowTypeName) throw new BadCommandError(BAD, 'WorkflowType is not set on StartChildWorkflowExecution');
  limits.checkId(BAD, 'StartChildWorkflowExecution.WorkflowId', workflowId);
  limits.checkId(BAD, 'StartChildWorkflowExecution.WorkflowType', workflowTypeName);
  if (attrs.taskQueue?.name) limits.checkId(BAD, 'StartChildWorkflowExecution.TaskQueue', attrs.taskQueue.name);
  if (attrs.namespace) limits.checkId(BAD, 'StartChildWorkflowExecution.Namespace', attrs.namespace);
  limits.checkPending(
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
    'child workflows',
    ctx.ms.children.size,
    limits.pendingChildren,
  );
  const childNamespace = attrs.namespace || namespace.name;
  const parentClosePolicy = attrs.parentClosePolicy || ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE;
  const event = ctx.addEvent('startChildWorkflowExecutionInitiatedEventAttributes', {
    namespace: childNamespace,
    ...(childNamespace === namespace.name ? { namespaceId: namespace.id } : {}),
    workflowId,
    workflowType: { name: workflowTypeName },
    taskQueue: { name: attrs.taskQueue?.name || ctx.ms.executionInfo.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    ...(attrs.input ? { input: attrs.input } : {}),
    ...(attrs.workflowExecutionTimeout ? { workflowExecutionTimeout: attrs.workflowExecutionTimeout } : {}),
    ...(attrs.workflowRunTimeout ? { workflowRunTimeout: attrs.workflowRunTimeout } : {}),
    ...(attrs.workflowTaskTimeout ? { workflowTaskTimeout: attrs.workflowTaskTimeout } : {}),
    parentClosePolicy,
    control: attrs.control ?? '',
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    workflowIdReusePolicy: attrs.workflowIdReusePolicy ?? 0,
    ...(attrs.retryPolicy ? { retryPolicy: attrs.retryPolicy } : {}),
    cronSchedule: attrs.cronSchedule ?? '',
    header: attrs.header ?? {},
    ...(attrs.memo ? { memo: attrs.memo } : {}),
    ...(attrs.searchAttributes ? { searchAttributes: attrs.searchAttributes } : {}),
    ...(attrs.priority ? { priority: attrs.priority } : {}),
  });
  generateChildTask(ctx, Number(event.eventId));
}

/** The transfer task that starts an initiated child. */
export function generateChildTask(ctx: MutationContext, initiatedEventId: number): void {
  ctx.addTransferTask({ type: 'start-child', initiatedEventId });
}

/** The child run exists: ChildWorkflowExecutionStarted. */
export function recordChildStarted(ctx: MutationContext, child: Readonly<ChildInfo>, args: { namespaceId: string; runId: string; header?: temporal.api.common.v1.IHeader | null }): void {
  ctx.addEvent(
    'childWorkflowExecutionStartedEventAttributes',
    {
      namespace: child.namespaceName,
      namespaceId: args.namespaceId,
      initiatedEventId: int64(child.initiatedEventId),
      workflowExecution: { workflowId: child.workflowId, runId: args.runId },
      workflowType: { name: child.workflowTypeName },
      header: args.header ?? {},
    },
    { bufferable: true },
  );
  ctx.requestWorkflowTask();
}

export function recordChildStartFailed(ctx: MutationContext, child: Readonly<ChildInfo>, cause: number, control: string): void {
  ctx.addEvent(
    'startChildWorkflowExecutionFailedEventAttributes',
    {
      namespace: child.namespaceName,
      ...(child.namespaceId ? { namespaceId: child.namespaceId } : {}),
      workflowId: child.workflowId,
      workflowType: { name: child.workflowTypeName },
      cause,
      control,
      initiatedEventId: int64(child.initiatedEventId),
    },
    { bufferable: true },
  );
  ctx.requestWorkflowTask();
}

export type ChildOutcome = ChildCloseOutcome;

/** The child's chain closed: its one close event in the parent. */
export function recordChildClosed(ctx: MutationContext, child: Readonly<ChildInfo>, closedRunId: string, outcome: ChildOutcome): void {
  const common = {
    namespace: child.namespaceName,
    namespaceId: child.namespaceId,
    workflowExecution: { workflowId: child.workflowId, runId: closedRunId },
    workflowType: { name: child.workflowTypeName },
    initiatedEventId: int64(child.initiatedEventId),
    startedEventId: int64(child.startedEventId),
  };
  const buffered = { bufferable: true };
  switch (outcome.status) {
    case 'completed':
      ctx.addEvent('childWorkflowExecutionCompletedEventAttributes', { ...common, ...(outcome.result ? { result: outcome.result } : {}) }, buffered);
      break;
    case 'failed':
      ctx.addEvent('childWorkflowExecutionFailedEventAttributes', { ...common, ...(outcome.failure ? { failure: outcome.failure } : {}), retryState: outcome.retryState }, buffered);
      break;
    case 'canceled':
      ctx.addEvent('childWorkflowExecutionCanceledEventAttributes', { ...common, ...(outcome.details ? { details: outcome.details } : {}) }, buffered);
      break;
    case 'terminated':
      ctx.addEvent('childWorkflowExecutionTerminatedEventAttributes', common, buffered);
      break;
    case 'timed-out':
      ctx.addEvent('childWorkflowExecutionTimedOutEventAttributes', { ...common, retryState: outcome.retryState }, buffered);
      break;
  }
  ctx.requestWorkflowTask();
}

/** The close event of a run → the outcome its parent records; undefined for continue-as-new (the chain goes on). */
export function childOutcomeOf(closeEvent: temporal.api.history.v1.IHistoryEvent): ChildOutcome | undefined {
  if (closeEvent.workflowExecutionCompletedEventAttributes) return { status: 'completed', result: closeEvent.workflowExecutionCompletedEventAttributes.result ?? null };
  if (closeEvent.workflowExecutionFailedEventAttributes) {
    const a = closeEvent.workflowExecutionFailedEventAttributes;
    return { status: 'failed', failure: a.failure ?? null, retryState: a.retryState ?? 0 };
  }
  if (closeEvent.workflowExecutionCanceledEventAttributes) return { status: 'canceled', details: closeEvent.workflowExecutionCanceledEventAttributes.details ?? null };
  if (closeEvent.workflowExecutionTerminatedEventAttributes) return { status: 'terminated' };
  if (closeEvent.workflowExecutionTimedOutEventAttributes) return { status: 'timed-out', retryState: closeEvent.workflowExecutionTimedOutEventAttributes.retryState ?? 0 };
  return undefined;
}
