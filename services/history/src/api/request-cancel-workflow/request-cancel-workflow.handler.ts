/**
 * RequestCancelWorkflowExecution: record WorkflowExecutionCancelRequested once and wake the
 * workflow; a closed run or a repeated request is a successful no-op, as in Temporal.
 */
import { temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { isRunning } from '../../workflow/mutable-state';
import { requestCancellation } from '../../workflow/signals';
import { requireChain, requireRun, updateNamedRun } from '../shared';

type Request = temporal.api.workflowservice.v1.IRequestCancelWorkflowExecutionRequest;

export async function requestCancelWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<void> {
  const workflowId = req.workflowExecution?.workflowId ?? '';
  const runId = req.firstExecutionRunId ? '' : req.workflowExecution?.runId;
  await updateNamedRun(env, namespace.id, workflowId, runId, (maybe, key) => {
    const ctx = requireRun(maybe, key);
    requireChain(ctx, req.firstExecutionRunId);
    if (!isRunning(ctx.ms)) return;
    if (!ctx.ms.rememberRequestId(req.requestId ?? '')) return;
    requestCancellation(ctx, { reason: req.reason ?? '', identity: req.identity ?? '' });
  });
}
