/** RespondWorkflowTaskFailed: record the failure and retry the task on the normal queue (attempt + 1). */
import { temporal } from '@hourglass/common';
import type { EngineContext } from '../../engine-context';
import type { WorkflowTaskToken } from '@hourglass/contracts';
import { failWorkflowTask } from '../../workflow/workflow-task';
import { requireStartedWorkflowTask } from '../shared';

type Request = temporal.api.workflowservice.v1.IRespondWorkflowTaskFailedRequest;

export async function respondWorkflowTaskFailed(env: EngineContext, token: WorkflowTaskToken, req: Request): Promise<void> {
  await env.shardFor(token.namespaceId, token.workflowId).updateExecution(token, (maybe) => {
    const ctx = requireStartedWorkflowTask(maybe, token);
    failWorkflowTask(ctx, {
      cause: req.cause ?? temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED,
      failure: req.failure ?? null,
      identity: req.identity ?? '',
    });
  });
  env.queries.requeue(token);
}
