/**
 * UpdateWorkflowExecution and PollWorkflowExecutionUpdate: admit the update (deduplicated by
 * update id), make sure a workflow task will carry it, then wait — bounded — for the stage the
 * caller asked for. A wait that ends early returns the stage reached so far; the SDK asks again.
 */
import { HistorySettings, Limits, NotFoundError, ResourceExhaustedError, quote, temporal } from '@hourglass/common';
import type { ExecutionKey, NamespaceRecord } from '@hourglass/persistence';
import type { CallOptions } from '@hourglass/contracts';
import type { EngineContext } from '../../engine-context';
import { isRunning, type UpdateInfo } from '../../workflow/mutable-state';
import type { ShardContext } from '../../shard/shard-context';
import type { MutationContext } from '../../workflow/mutation';
import { admitUpdate, inFlightUpdates, rejectionOutcomeOf } from '../../workflow/updates';
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
    admitUpdateOnce(env, namespace, ctx, req.request ?? {});
    return target;
  });
  const wanted = req.waitPolicy?.lifecycleStage || Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  return waitForStage(env, namespace, key, updateId, wanted, call);
}

/**
 * Admits an update into a running run unless the run already has it (a retry), within the
 * per-run limits, and asks for the workflow task that will carry it.
 */
export function admitUpdateOnce(env: EngineContext, namespace: NamespaceRecord, ctx: MutationContext, request: temporal.api.update.v1.IRequest): void {
  const updateId = request.meta?.updateId ?? '';
  const workflowId = ctx.ms.executionInfo.workflowId;
  if (ctx.ms.updates.has(updateId)) return; // a retry of an update we already have
  const scope = { namespace: namespace.name };
  const maxTotal = env.settings.get(Limits.maxUpdatesPerExecution, scope);
  if (ctx.ms.updateCount >= maxTotal) {
    throw new ResourceExhaustedError(`workflow ${quote(workflowId)} already received ${ctx.ms.updateCount} updates, the most one run may receive (${maxTotal}); continue as new to take more`);
  }
  const maxInFlight = env.settings.get(Limits.maxInFlightUpdates, scope);
  if (inFlightUpdates(ctx.ms) >= maxInFlight) {
    throw new ResourceExhaustedError(`workflow ${quote(workflowId)} has ${maxInFlight} updates in flight, the most one run may have; retry once some complete`);
  }
  admitUpdate(ctx, request);
  ctx.requestWorkflowTask();
}

/** Waits (bounded by the long-poll interval and the call's deadline) for an update to reach `wanted`. */
export function waitForUpdateStage(env: EngineContext, namespace: NamespaceRecord, key: ExecutionKey, updateId: string, wanted: number, call: CallOptions): Promise<UpdateResponse> {
  return waitForStage(env, namespace, key, updateId, wanted, call);
}

export async function pollWorkflowExecutionUpdate(env: EngineContext, namespace: NamespaceRecord, req: PollRequest, call: CallOptions): Promise<UpdateResponse> {
  const ref = req.updateRef;
  const key = await resolveRun(env, namespace.id, ref?.workflowExecution?.workflowId ?? '', ref?.workflowExecution?.runId);
  const wanted = req.waitPolicy?.lifecycleStage || Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;
  return waitForStage(env, namespace, key, ref?.updateId ?? '', wanted, call);
}

async function waitForStage(env: EngineContext, namespace: NamespaceRecord, key: ExecutionKey, updateId: string, wanted: number, call: CallOptions): Promise<UpdateResponse> {
  const shard = env.shardFor(key.namespaceId, key.workflowId);
  const cap = env.settings.get(HistorySettings.longPollExpirationInterval, { namespace: namespace.name });
  const budget = call.deadline ? Math.max(0, Math.min(cap, call.deadline - Date.now() - 1000)) : cap;
  const until = Date.now() + budget;
  for (;;) {
    // Subscribe before reading so a change between the two is not missed.
    const sub = env.notifier.subscribe(key, () => true, until - Date.now(), call.signal);
    const seen = await shard.readExecution(key, (ms) => {
      const update = ms.updates.get(updateId);
      return { running: isRunning(ms), info: update ? { ...update } : undefined };
    });
    if (!seen) {
      sub.cancel();
      throw executionNotFound(key.workflowId, key.runId);
    }
    const info = seen.info;
    if (!info) {
      sub.cancel();
      throw new NotFoundError(`update ${quote(updateId)} not found on workflow ${quote(key.workflowId)}`);
    }
    const stage = STAGE_RANK[info.stage];
    if (stage >= wanted) {
      sub.cancel();
      return responseOf(shard, key, info, stage);
    }
    if (!seen.running) {
      sub.cancel();
      throw new NotFoundError(`workflow execution ${quote(key.workflowId)} closed before update ${quote(updateId)} completed`);
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
