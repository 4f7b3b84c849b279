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

function targetNamespace(requested: string | null | undefined, own: { id: string; name: string }): { name: string; id: string } {
  const name = requested || own.name;
  return { name, id: name === own.name ? own.id : '' };
}

export function initiateSignalExternal(ctx: MutationContext, attrs: SignalExternalAttributes, workflowTaskCompletedEventId: number, namespace: { id: string; name: string }): void {
  const target = targetNamespace(attrs.namespace, namespace);
  const execution = { workflowId: attrs.execution?.workflowId ?? '', runId: attrs.execution?.runId ?? '' };
  const event = ctx.addEvent('signalExternalWorkflowExecutionInitiatedEventAttributes', {
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    namespace: target.name,
    ...(target.id ? { namespaceId: target.id } : {}),
    workflowExecution: execution,
    signalName: attrs.signalName ?? '',
    ...(attrs.input ? { input: attrs.input } : {}),
    control: attrs.control ?? '',
    childWorkflowOnly: attrs.childWorkflowOnly ?? false,
    header: attrs.header ?? {},
  });
  const initiatedEventId = Number(event.eventId);
  ctx.ms.externalSignals[String(initiatedEventId)] = {
    initiatedEventId,
    namespaceId: target.id,
    namespaceName: target.name,
    ...execution,
    childWorkflowOnly: attrs.childWorkflowOnly ?? false,
    control: attrs.control ?? '',
  };
  ctx.addTransferTask({ type: 'signal-external', initiatedEventId });
}

export function initiateCancelExternal(ctx: MutationContext, attrs: CancelExternalAttributes, workflowTaskCompletedEventId: number, namespace: { id: string; name: string }): void {
  const target = targetNamespace(attrs.namespace, namespace);
  const execution = { workflowId: attrs.workflowId ?? '', runId: attrs.runId ?? '' };
  const event = ctx.addEvent('requestCancelExternalWorkflowExecutionInitiatedEventAttributes', {
    workflowTaskCompletedEventId: int64(workflowTaskCompletedEventId),
    namespace: target.name,
    ...(target.id ? { namespaceId: target.id } : {}),
    workflowExecution: execution,
    control: attrs.control ?? '',
    childWorkflowOnly: attrs.childWorkflowOnly ?? false,
    reason: attrs.reason ?? '',
  });
  const initiatedEventId = Number(event.eventId);
  ctx.ms.externalCancels[String(initiatedEventId)] = {
    initiatedEventId,
    namespaceId: target.id,
    namespaceName: target.name,
    ...execution,
    childWorkflowOnly: attrs.childWorkflowOnly ?? false,
    control: attrs.control ?? '',
  };
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
