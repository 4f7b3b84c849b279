/**
 * Signals and cancellation requests this run sends to other executions: the Initiated event and a
 * transfer task; the outcome (delivered / target not found) comes back as an event later.
 */
import { int64, temporal } from '@hourglass/common';
import type { ExternalRequestInfo } from './mutable-state';
import type { MutationContext } from './mutation';
import { scheduleWorkflowTaskIfNeeded } from './workflow-task';

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

/** Common fields of the Initiated event, and the pending request kept until its outcome. */
function describeTarget(target: ExternalTarget, own: { id: string; name: string }): { fields: Record<string, unknown>; request: Omit<ExternalRequestInfo, 'initiatedEventId'> } {
  const name = target.namespace || own.name;
  const id = name === own.name ? own.id : '';
  const execution = { workflowId: target.workflowId, runId: target.runId };
  return {
    fields: { namespace: name, ...(id ? { namespaceId: id } : {}), workflowExecution: execution, control: target.control, childWorkflowOnly: target.childWorkflowOnly },
    request: { namespaceId: id, namespaceName: name, ...execution, childWorkflowOnly: target.childWorkflowOnly, control: target.control },
  };
}

export function initiateSignalExternal(ctx: MutationContext, attrs: SignalExternalAttributes, workflowTaskCompletedEventId: number, namespace: { id: string; name: string }): void {
  const { fields, request } = describeTarget(
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
  const initiatedEventId = Number(event.eventId);
  ctx.ms.externalSignals[String(initiatedEventId)] = { initiatedEventId, ...request };
  ctx.addTransferTask({ type: 'signal-external', initiatedEventId });
}

export function initiateCancelExternal(ctx: MutationContext, attrs: CancelExternalAttributes, workflowTaskCompletedEventId: number, namespace: { id: string; name: string }): void {
  const { fields, request } = describeTarget(
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
  const initiatedEventId = Number(event.eventId);
  ctx.ms.externalCancels[String(initiatedEventId)] = { initiatedEventId, ...request };
  ctx.addTransferTask({ type: 'cancel-external', initiatedEventId });
}

export function recordExternalSignalOutcome(ctx: MutationContext, request: ExternalRequestInfo, delivered: boolean, failedCause: number): void {
  const common = {
    namespace: request.namespaceName,
    ...(request.namespaceId ? { namespaceId: request.namespaceId } : {}),
    workflowExecution: { workflowId: request.workflowId, runId: request.runId },
    initiatedEventId: int64(request.initiatedEventId),
    control: request.control,
  };
  if (delivered) ctx.addEvent('externalWorkflowExecutionSignaledEventAttributes', common, { bufferable: true });
  else ctx.addEvent('signalExternalWorkflowExecutionFailedEventAttributes', { ...common, cause: failedCause }, { bufferable: true });
  delete ctx.ms.externalSignals[String(request.initiatedEventId)];
  scheduleWorkflowTaskIfNeeded(ctx);
}

export function recordExternalCancelOutcome(ctx: MutationContext, request: ExternalRequestInfo, delivered: boolean, failedCause: number): void {
  const common = {
    namespace: request.namespaceName,
    ...(request.namespaceId ? { namespaceId: request.namespaceId } : {}),
    workflowExecution: { workflowId: request.workflowId, runId: request.runId },
    initiatedEventId: int64(request.initiatedEventId),
  };
  if (delivered) ctx.addEvent('externalWorkflowExecutionCancelRequestedEventAttributes', common, { bufferable: true });
  else ctx.addEvent('requestCancelExternalWorkflowExecutionFailedEventAttributes', { ...common, control: request.control, cause: failedCause }, { bufferable: true });
  delete ctx.ms.externalCancels[String(request.initiatedEventId)];
  scheduleWorkflowTaskIfNeeded(ctx);
}
