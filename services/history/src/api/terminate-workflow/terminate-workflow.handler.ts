/** TerminateWorkflowExecution: close the run now (failing an in-flight workflow task), not buffered. */
import { temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { terminateWorkflow } from '../../workflow/close';
import { dispatchWaitingQueries } from '../query-workflow/query-workflow.handler';
import { requireChain, requireRunning, updateNamedRun } from '../shared';

type Request = temporal.api.workflowservice.v1.ITerminateWorkflowExecutionRequest;

export async function terminateWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<void> {
  const workflowId = req.workflowExecution?.workflowId ?? '';
  // With first_execution_run_id the target is the chain's current run, whatever run_id says.
  const runId = req.firstExecutionRunId ? '' : req.workflowExecution?.runId;
  const key = await updateNamedRun(env, namespace.id, workflowId, runId, (maybe, target) => {
    const ctx = requireRunning(maybe, target);
    requireChain(ctx, req.firstExecutionRunId);
    terminateWorkflow(ctx, { reason: req.reason ?? '', details: req.details ?? null, identity: req.identity ?? '', retentionMs: namespace.retentionMs });
    return target;
  });
  await dispatchWaitingQueries(env, key);
}
