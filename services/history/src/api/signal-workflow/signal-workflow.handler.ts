/** SignalWorkflowExecution: append WorkflowExecutionSignaled to the running run (deduplicated by request id). */
import { Limits, temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { addSignal } from '../../workflow/signals';
import { requireRunning, updateNamedRun } from '../shared';

type Request = temporal.api.workflowservice.v1.ISignalWorkflowExecutionRequest;

export async function signalWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<void> {
  await updateNamedRun(env, namespace.id, req.workflowExecution?.workflowId ?? '', req.workflowExecution?.runId, (maybe, key) => {
    const ctx = requireRunning(maybe, key);
    // A client retry of a signal that was already applied changes nothing.
    if (!ctx.ms.rememberRequestId(req.requestId ?? '')) return;
    addSignal(
      ctx,
      { signalName: req.signalName ?? '', input: req.input ?? null, header: req.header ?? null, identity: req.identity ?? '' },
      env.settings.get(Limits.maxSignalsPerExecution, { namespace: namespace.name }),
    );
  });
}
