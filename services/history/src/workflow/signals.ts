/** Signals and cancellation requests arriving at a run (buffered while a workflow task runs). */
import { int64, temporal, type Payloads } from '@hourglass/common';
import type { MutationContext } from './mutation';
import { scheduleWorkflowTaskIfNeeded } from './workflow-task';

export interface SignalArgs {
  signalName: string;
  input?: Payloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  identity: string;
  externalWorkflowExecution?: temporal.api.common.v1.IWorkflowExecution | null;
}

export function addSignal(ctx: MutationContext, args: SignalArgs): void {
  ctx.addEvent(
    'workflowExecutionSignaledEventAttributes',
    {
      signalName: args.signalName,
      ...(args.input ? { input: args.input } : {}),
      identity: args.identity,
      header: args.header ?? {},
      ...(args.externalWorkflowExecution ? { externalWorkflowExecution: args.externalWorkflowExecution } : {}),
    },
    { bufferable: true },
  );
  scheduleWorkflowTaskIfNeeded(ctx);
}

/** Records a cancellation request once; the workflow decides what to do with it. Returns false if one was already recorded. */
export function requestCancellation(
  ctx: MutationContext,
  args: { reason: string; identity: string; externalInitiatedEventId?: number; externalWorkflowExecution?: temporal.api.common.v1.IWorkflowExecution | null },
): boolean {
  if (ctx.ms.cancelRequested) return false;
  ctx.ms.cancelRequested = true;
  ctx.addEvent(
    'workflowExecutionCancelRequestedEventAttributes',
    {
      cause: args.reason,
      identity: args.identity,
      ...(args.externalInitiatedEventId ? { externalInitiatedEventId: int64(args.externalInitiatedEventId) } : {}),
      ...(args.externalWorkflowExecution ? { externalWorkflowExecution: args.externalWorkflowExecution } : {}),
    },
    { bufferable: true },
  );
  scheduleWorkflowTaskIfNeeded(ctx);
  return true;
}
