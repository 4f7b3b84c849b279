/**
 * DeleteWorkflowExecution: removes a run, its history and its visibility record. A closed run is
 * deleted now, through the same deletion as retention; a running one is terminated first and
 * deleted by a retention task due at once, so its close is delivered to a parent before it goes.
 */
import { temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { terminateWorkflow } from '../../workflow/close';
import { isRunning } from '../../workflow/mutable-state';
import { requireRun } from '../shared';

type Request = temporal.api.workflowservice.v1.IDeleteWorkflowExecutionRequest;

export async function deleteWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<void> {
  const workflowId = req.workflowExecution?.workflowId ?? '';
  await env.shardFor(namespace.id, workflowId).updateWorkflow(namespace.id, workflowId, async (tx) => {
    let runId = req.workflowExecution?.runId;
    if (!runId) runId = (await tx.current())?.runId ?? '';
    const key = { namespaceId: namespace.id, workflowId, runId };
    const ctx = requireRun(runId ? await tx.run(runId) : undefined, key);
    if (isRunning(ctx.ms)) {
      terminateWorkflow(ctx, { reason: 'Delete workflow execution', details: null, identity: 'history-service', retentionMs: 0 });
    } else {
      tx.deleteRun(ctx);
    }
  });
}
