/** TerminateWorkflowExecution: close the run now (failing an in-flight workflow task), not buffered. */
import { temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { terminateWorkflow } from '../../workflow/close';
import { dispatchWaitingQueries } from '../query-workflow/query-workflow.handler';
import { requireChain, requireRunning, resolveRun } from '../shared';

type Request = temporal.api.workflowservice.v1.ITerminateWorkflowExecutionRequest;

export async function terminateWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<void> {
  const workflowId = req.workflowExecution?.workflowId ?? '';
  // With first_execution_run_id the target is the chain's current run, whatever run_id says.
  const runId = req.firstExecutionRunId ? '' : req.workflowExecution?.runId;
  const key = await resolveRun(env, namespace.id, workflowId, runId);
  await env.shardFor(key.namespaceId, key.workflowId).updateExecution(key, (maybe) => {
    const ctx = requireRunning(maybe, key);
    requireChain(ctx, req.firstExecutionRunId);
    terminateWorkflow(ctx, { reason: req.reason ?? '', details: req.details ?? null, identity: req.identity ?? '', retentionMs: namespace.retentionMs });
  });
  await dispatchWaitingQueries(env, key);
}
