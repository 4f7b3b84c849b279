/**
 * Child workflows from the parent's side: StartChildWorkflowExecution → Initiated (+ a transfer
 * task that starts the child), then Started or StartFailed, then one close event when the child's
 * chain ends. Close events are buffered like any external event.
 */
import { WorkflowTaskFailedCause, int64, temporal, type Failure, type Payloads } from '@hourglass/common';
import { BadCommandError } from './command-error';
import type { ChildInfo } from './mutable-state';
import { BUFFERED_STARTED_EVENT_ID, type MutationContext } from './mutation';
import { scheduleWorkflowTaskIfNeeded } from './workflow-task';

type StartChildAttributes = temporal.api.command.v1.IStartChildWorkflowExecutionCommandAttributes;

const ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;
const BAD = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES;

export function initiateChild(
  ctx: MutationContext,
  attrs: StartChildAttributes,
  workflowTaskCompletedEventId: number,
  namespace: { id: string; name: string },
): void {
  const workflowId = attrs.workflowId ?? '';
  const workflowTypeName = attrs.workflowType?.name ?? '';
  if (!workflowId) throw new BadCommandError(BAD, 'WorkflowId is not set on StartChildWorkflowExecution');
  if (!workflowTypeName) throw new BadCommandError(BAD, 'WorkflowType is not set on StartChildWorkflowExecution');
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
  const initiatedEventId = Number(event.eventId);
  ctx.ms.children[String(initiatedEventId)] = {
    initiatedEventId,
    startedEventId: 0,
    namespaceId: childNamespace === namespace.name ? namespace.id : '',
    namespaceName: childNamespace,
    workflowId,
    runId: '',
    workflowTypeName,
    parentClosePolicy,
  };
  ctx.addTransferTask({ type: 'start-child', initiatedEventId });
}

/** The child run exists: ChildWorkflowExecutionStarted. */
export function recordChildStarted(ctx: MutationContext, child: ChildInfo, args: { namespaceId: string; runId: string; header?: temporal.api.common.v1.IHeader | null }): void {
  child.namespaceId = args.namespaceId;
  child.runId = args.runId;
  const event = ctx.addEvent(
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
  child.startedEventId = Number(event.eventId) || BUFFERED_STARTED_EVENT_ID;
  scheduleWorkflowTaskIfNeeded(ctx);
}

export function recordChildStartFailed(ctx: MutationContext, child: ChildInfo, cause: number, control: string): void {
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
  delete ctx.ms.children[String(child.initiatedEventId)];
  scheduleWorkflowTaskIfNeeded(ctx);
}

export type ChildOutcome =
  | { status: 'completed'; result?: Payloads | null }
  | { status: 'failed'; failure?: Failure | null; retryState: number }
  | { status: 'canceled'; details?: Payloads | null }
  | { status: 'terminated' }
  | { status: 'timed-out'; retryState: number };

/** The child's chain closed: its one close event in the parent. */
export function recordChildClosed(ctx: MutationContext, child: ChildInfo, closedRunId: string, outcome: ChildOutcome): void {
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
  delete ctx.ms.children[String(child.initiatedEventId)];
  scheduleWorkflowTaskIfNeeded(ctx);
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
