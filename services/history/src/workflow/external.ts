/**
 * Signals and cancellation requests this run sends to other executions: the Initiated event and a
 * transfer task; the outcome (delivered / target not found) comes back as an event later.
 */
import { WorkflowTaskFailedCause, int64, temporal } from '@hourglass/common';
import type { CommandLimits } from './command-limits';
import type { ExternalRequestInfo } from './mutable-state';
import type { MutationContext } from './mutation';

type SignalExternalAttributes = temporal.api.command.v1.ISignalExternalWorkflowExecutionCommandAttributes;
type CancelExternalAttributes = temporal.api.command.v1.IRequestCancelExternalWorkflowExecutionCommandAttributes;

/** The parts of a signal/cancel request to another execution that both commands share. */
interface ExternalTarget {
  namespace: string | null | undefined;
  workflowId: string;
  runId: string;
  control: string;
  childWorkflowOnly: boolean;
}

/** Common fields of the Initiated event (whose apply records the pending request). */
function describeTarget(target: ExternalTarget, own: { id: string; name: string }): { fields: Record<string, unknown> } {
  const name = target.namespace || own.name;
  const id = name === own.name ? own.id : '';
  const execution = { workflowId: target.workflowId, runId: target.runId };
  return { fields: { namespace: name, ...(id ? { namespaceId: id } : {}), workflowExecution: execution, control: target.control, childWorkflowOnly: target.childWorkflowOnly } };
}

const Cause = WorkflowTaskFailedCause;

function checkTarget(limits: CommandLimits, cause: number, command: string, target: { namespace?: string | null; workflowId: string; runId: string }): void {
  limits.checkId(cause, `${command}.WorkflowId`, target.workflowId);
  if (target.runId) limits.checkId(cause, `${command}.RunId`, target.runId);
  if (target.namespace) limits.checkId(cause, `${command}.Namespace`, target.namespace);
}

export function initiateSignalExternal(
  ctx: MutationContext,
  attrs: SignalExternalAttributes,
  workflowTaskCompletedEventId: number,
  namespace: { id: string; name: string },
  limits: CommandLimits,
): void {
  const bad = Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
  checkTarget(limits, bad, 'SignalExternalWorkflowExecution', { namespace: attrs.namespace, workflowId: attrs.execution?.workflowId ?? '', runId: attrs.execution?.runId ?? '' });
  if (attrs.signalName) limits.checkId(bad, 'SignalExternalWorkflowExecution.SignalName', attrs.signalName);
  limits.checkPending(Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED, 'signals to other workflows', ctx.ms.externalSignals.size, limits.pendingSignals);
  const { fields } = describeTarget(
    {
      namespace: attrs.namespace,
      workflowId: attrs.execution?.workflowId ?? '',
      runId: attrs.execution?.runId ?? '',
      control: attrs.control ?? '',
      childWorkflowOnly: attrs.childWorkflowOnly ?? false,
    },
    namespace,
  );
  const event = ctx.addEvent('signalExternalWorkflowExecutionInitiatedEventAttributes', {
    ...fields,
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    signalName: attrs.signalName ?? '',
    ...(attrs.input ? { input: attrs.input } : {}),
    header: attrs.header ?? {},
  });
  ctx.addTransferTask({ type: 'signal-external', initiatedEventId: Number(event.eventId) });
}

export function initiateCancelExternal(
  ctx: MutationContext,
  attrs: CancelExternalAttributes,
  workflowTaskCompletedEventId: number,
  namespace: { id: string; name: string },
  limits: CommandLimits,
): void {
  const bad = Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
  checkTarget(limits, bad, 'RequestCancelExternalWorkflowExecution', { namespace: attrs.namespace, workflowId: attrs.workflowId ?? '', runId: attrs.runId ?? '' });
  limits.checkPending(Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED, 'cancellation requests to other workflows', ctx.ms.externalCancels.size, limits.pendingCancels);
  const { fields } = describeTarget(
    {
      namespace: attrs.namespace,
      workflowId: attrs.workflowId ?? '',
      runId: attrs.runId ?? '',
      control: attrs.control ?? '',
      childWorkflowOnly: attrs.childWorkflowOnly ?? false,
    },
    namespace,
  );
  const event = ctx.addEvent('requestCancelExternalWorkflowExecutionInitiatedEventAttributes', {
    ...fields,
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    reason: attrs.reason ?? '',
  });
  ctx.addTransferTask({ type: 'cancel-external', initiatedEventId: Number(event.eventId) });
}

export function recordExternalSignalOutcome(ctx: MutationContext, request: Readonly<ExternalRequestInfo>, delivered: boolean, failedCause: number): void {
  const common = {
    namespace: request.namespaceName,
    ...(request.namespaceId ? { namespaceId: request.namespaceId } : {}),
    workflowExecution: { workflowId: request.workflowId, runId: request.runId },
    initiatedEventId: int64(request.initiatedEventId),
    control: request.control,
  };
  if (delivered) ctx.addEvent('externalWorkflowExecutionSignaledEventAttributes', common, { bufferable: true });
  else ctx.addEvent('signalExternalWorkflowExecutionFailedEventAttributes', { ...common, cause: failedCause }, { bufferable: true });
  ctx.requestWorkflowTask();
}

export function recordExternalCancelOutcome(ctx: MutationContext, request: Readonly<ExternalRequestInfo>, delivered: boolean, failedCause: number): void {
  const common = {
    namespace: request.namespaceName,
    ...(request.namespaceId ? { namespaceId: request.namespaceId } : {}),
    workflowExecution: { workflowId: request.workflowId, runId: request.runId },
    initiatedEventId: int64(request.initiatedEventId),
  };
  if (delivered) ctx.addEvent('externalWorkflowExecutionCancelRequestedEventAttributes', common, { bufferable: true });
  else ctx.addEvent('requestCancelExternalWorkflowExecutionFailedEventAttributes', { ...common, control: request.control, cause: failedCause }, { bufferable: true });
  ctx.requestWorkflowTask();
}
