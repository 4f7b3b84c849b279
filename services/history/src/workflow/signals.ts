/** Signals and cancellation requests arriving at a run (buffered while a workflow task runs). */
import { InvalidArgumentError, int64, temporal, type Payloads } from '@hourglass/common';
import type { MutationContext } from './mutation';

export interface SignalArgs {
  signalName: string;
  input?: Payloads | null;
  header?: temporal.api.common.v1.IHeader | null;
  identity: string;
  externalWorkflowExecution?: temporal.api.common.v1.IWorkflowExecution | null;
}

/** Appends the signal and asks for a workflow task to deliver it. `maxSignals` is the run's cap (Temporal's maximumSignalsPerExecution). */
export function addSignal(ctx: MutationContext, args: SignalArgs, maxSignals: number): void {
  if (ctx.ms.signalCount >= maxSignals) {
    throw new InvalidArgumentError(`workflow ${ctx.ms.executionInfo.workflowId} already received ${ctx.ms.signalCount} signals, the most one run may receive; continue as new to take more`);
  }
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
  ctx.requestWorkflowTask();
}

/** Records a cancellation request once; the workflow decides what to do with it. Returns false if one was already recorded. */
export function requestCancellation(
  ctx: MutationContext,
  args: { reason: string; identity: string; externalInitiatedEventId?: number; externalWorkflowExecution?: temporal.api.common.v1.IWorkflowExecution | null },
): boolean {
  if (ctx.ms.cancelRequested) return false;
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
  ctx.requestWorkflowTask();
  return true;
}
