/** Helpers shared by the API handlers: finding the run a request means, and the standard NOT_FOUND answers. */
import { NotFoundError, quote, temporal } from '@hourglass/common';
import type { ExecutionKey } from '@hourglass/persistence';
import type { EngineContext } from '../engine-context';
import type { WorkflowTaskToken } from '@hourglass/contracts';
import { isRunning } from '../workflow/mutable-state';
import type { MutationContext } from '../workflow/mutation';
import type { ShardContext } from '../shard/shard-context';

/** The run a request names: its run id, or the workflow's current run when run id is empty. */
export async function resolveRun(env: EngineContext, namespaceId: string, workflowId: string, runId: string | null | undefined): Promise<ExecutionKey> {
  if (runId) return { namespaceId, workflowId, runId };
  const current = await env.shardFor(namespaceId, workflowId).getCurrentExecution(namespaceId, workflowId);
  if (!current) throw executionNotFound(workflowId);
  return { namespaceId, workflowId, runId: current.runId };
}

/**
 * Changes the run a request names. With an empty run id that is the workflow's current run,
 * resolved under the workflow's lock: a run that closes meanwhile and hands over to a successor
 * (cron, retry, continue-as-new) is never mistaken for the target.
 */
export async function updateNamedRun<T>(
  env: EngineContext,
  namespaceId: string,
  workflowId: string,
  runId: string | null | undefined,
  fn: (ctx: MutationContext | undefined, key: ExecutionKey) => T | Promise<T>,
): Promise<T> {
  return env.shardFor(namespaceId, workflowId).updateWorkflow(namespaceId, workflowId, async (tx) => {
    let target = runId;
    if (!target) {
      const current = await tx.current();
      if (!current) throw executionNotFound(workflowId);
      target = current.runId;
    }
    const key = { namespaceId, workflowId, runId: target };
    return fn(await tx.run(target), key);
  });
}

export function executionNotFound(workflowId: string, runId?: string): NotFoundError {
  return new NotFoundError(`workflow execution not found: workflowId ${quote(workflowId)}${runId ? `, runId ${quote(runId)}` : ''}`);
}

export function alreadyCompleted(): NotFoundError {
  return new NotFoundError('workflow execution already completed');
}

/** The mutation context of a run that must exist (any state). */
export function requireRun(ctx: MutationContext | undefined, key: ExecutionKey): MutationContext {
  if (!ctx) throw executionNotFound(key.workflowId, key.runId);
  return ctx;
}

/** The mutation context of a run that must exist and still be running. */
export function requireRunning(ctx: MutationContext | undefined, key: ExecutionKey): MutationContext {
  const c = requireRun(ctx, key);
  if (!isRunning(c.ms)) throw alreadyCompleted();
  return c;
}


/** The run's workflow task named by the token, started and current; NOT_FOUND otherwise. */
export function requireStartedWorkflowTask(ctx: MutationContext | undefined, token: WorkflowTaskToken): MutationContext {
  const c = requireRunning(ctx, token);
  const wft = c.ms.workflowTask;
  if (!wft || wft.scheduledEventId !== token.scheduledEventId || wft.startedEventId !== token.startedEventId || wft.attempt !== token.attempt) {
    throw new NotFoundError('workflow task not found: it was already completed, failed or timed out');
  }
  return c;
}

/** The run's WorkflowExecutionStarted attributes (event 1, never changes). */
export async function readStartedEvent(shard: ShardContext, key: ExecutionKey): Promise<temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes | undefined> {
  const [first] = await shard.readHistory(key, 1, 2, 1);
  return first?.workflowExecutionStartedEventAttributes ?? undefined;
}

/** With first_execution_run_id a request targets a run chain: the run must belong to it. */
export function requireChain(ctx: MutationContext, firstExecutionRunId: string | null | undefined): void {
  if (firstExecutionRunId && ctx.ms.executionInfo.firstExecutionRunId !== firstExecutionRunId) {
    throw new NotFoundError(
      `workflow execution not found: no run of ${quote(ctx.ms.executionInfo.workflowId)} belongs to the chain started by ${quote(firstExecutionRunId)}`,
    );
  }
}
