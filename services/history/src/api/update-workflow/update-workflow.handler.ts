/**
 * UpdateWorkflowExecution and PollWorkflowExecutionUpdate: admit the update (deduplicated by
 * update id), make sure a workflow task will carry it, then wait — bounded — for the stage the
 * caller asked for. A wait that ends early returns the stage reached so far; the SDK asks again.
 */
import { NotFoundError, ResourceExhaustedError, temporal } from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import type { CallOptions } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import { isRunning, type UpdateInfo } from '../../workflow/mutable-state';
import type { ShardContext } from '../../shard/shard-context';
import { MAX_UPDATES_PER_RUN, admitUpdate, rejectionOutcomeOf } from '../../workflow/updates';
import { scheduleWorkflowTaskIfNeeded } from '../../workflow/workflow-task';
import { executionNotFound, requireChain, requireRunning, resolveRun, updateNamedRun } from '../shared';

type UpdateRequest = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionRequest;
type UpdateResponse = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionResponse;
type PollRequest = temporal.api.workflowservice.v1.IPollWorkflowExecutionUpdateRequest;

const Stage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

const STAGE_RANK: Record<UpdateInfo['stage'], number> = {
  admitted: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED,
  sent: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED,
  accepted: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED,
  completed: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
};

export async function updateWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: UpdateRequest, call: CallOptions): Promise<UpdateResponse> {
  const workflowId = req.workflowExecution?.workflowId ?? '';
  const updateId = req.request?.meta?.updateId ?? '';
  const runId = req.firstExecutionRunId ? '' : req.workflowExecution?.runId;
  const key = await updateNamedRun(env, namespace.id, workflowId, runId, (maybe, target) => {
    const ctx = requireRunning(maybe, target);
    requireChain(ctx, req.firstExecutionRunId);
    if (ctx.ms.updates[updateId]) return target; // a retry of an update we already have
    if (Object.keys(ctx.ms.updates).length >= MAX_UPDATES_PER_RUN) {
      throw new ResourceExhaustedError(`workflow ${workflowId} already has ${MAX_UPDATES_PER_RUN} updates, the most one run may have`);
    }
    admitUpdate(ctx, req.request ?? {});
    scheduleWorkflowTaskIfNeeded(ctx);
    return target;
  });
  const wanted = req.waitPolicy?.lifecycleStage || Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  return waitForStage(env, key, updateId, wanted, call);
}

export async function pollWorkflowExecutionUpdate(env: EngineContext, namespace: NamespaceRecord, req: PollRequest, call: CallOptions): Promise<UpdateResponse> {
  const ref = req.updateRef;
  const key = await resolveRun(env, namespace.id, ref?.workflowExecution?.workflowId ?? '', ref?.workflowExecution?.runId);
  const wanted = req.waitPolicy?.lifecycleStage || Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;
  return waitForStage(env, key, ref?.updateId ?? '', wanted, call);
}

async function waitForStage(env: EngineContext, key: ExecutionKey, updateId: string, wanted: number, call: CallOptions): Promise<UpdateResponse> {
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const budget = call.deadline ? Math.max(0, Math.min(env.config.longPollTimeoutMs, call.deadline - Date.now() - 1000)) : env.config.longPollTimeoutMs;
  const until = Date.now() + budget;
  for (;;) {
    // Subscribe before reading so a change between the two is not missed.
    const sub = env.notifier.subscribe(key, () => true, until - Date.now(), call.signal);
    const loaded = await shard.loadExecution(key);
    if (!loaded) {
      sub.cancel();
      throw executionNotFound(key.workflowId, key.runId);
    }
    const info = loaded.ms.updates[updateId];
    if (!info) {
      sub.cancel();
      throw new NotFoundError(`update ${JSON.stringify(updateId)} not found on workflow ${JSON.stringify(key.workflowId)}`);
    }
    const stage = STAGE_RANK[info.stage];
    if (stage >= wanted) {
      sub.cancel();
      return responseOf(shard, key, info, stage);
    }
    if (!isRunning(loaded.ms)) {
      sub.cancel();
      throw new NotFoundError(`workflow execution ${JSON.stringify(key.workflowId)} closed before update ${JSON.stringify(updateId)} completed`);
    }
    const change = await sub.promise;
    if (!change || Date.now() >= until) return responseOf(shard, key, info, stage);
  }
}

async function responseOf(shard: ShardContext, key: ExecutionKey, info: UpdateInfo, stage: number): Promise<UpdateResponse> {
  const outcome = await outcomeOf(shard, key, info);
  return {
    updateRef: { workflowExecution: { workflowId: key.workflowId, runId: key.runId }, updateId: info.updateId },
    stage,
    ...(outcome ? { outcome } : {}),
  };
}

/** A completed update's outcome lives in its Completed event; a rejected one's in mutable state. */
async function outcomeOf(shard: ShardContext, key: ExecutionKey, info: UpdateInfo): Promise<temporal.api.update.v1.IOutcome | undefined> {
  if (info.completedEventId > 0) {
    const [event] = await shard.readHistory(key, info.completedEventId, info.completedEventId + 1, 1);
    return event?.workflowExecutionUpdateCompletedEventAttributes?.outcome ?? undefined;
  }
  return rejectionOutcomeOf(info);
}
