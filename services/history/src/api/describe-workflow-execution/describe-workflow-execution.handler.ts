/** DescribeWorkflowExecution: configuration, execution info, pending activities and workflow task. */
import { PendingActivityState, TaskQueueKind, int64, msToDuration, msToTimestamp, temporal } from '@hourglass/common';
import type { NamespaceRecord } from '@hourglass/persistence';
import type { EngineContext } from '../../engine-context';
import { failureBlob, memoBlob, payloadsBlob, searchAttributesBlob } from '../../workflow/codec';
import { isActivityStarted, type ActivityInfo, type MutableState } from '../../workflow/mutable-state';
import { executionNotFound, resolveRun } from '../shared';
import { versioningInfoOf } from '../../worker-deployments/worker-deployments';

type Request = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionRequest;
type Response = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;

export async function describeWorkflowExecution(env: EngineContext, namespace: NamespaceRecord, req: Request): Promise<Response> {
  const workflowId = req.execution?.workflowId ?? '';
  const key = await resolveRun(env, namespace.id, workflowId, req.execution?.runId);
  const described = await env.shardFor(key.namespaceId, key.workflowId).readExecution(key, describeState);
  if (!described) throw executionNotFound(key.workflowId, key.runId);
  return described;
}

export function describeState(ms: MutableState): Response {
  const info = ms.executionInfo;
  const memo = memoBlob.unpack(ms.memo);
  const searchAttributes = searchAttributesBlob.unpack(ms.searchAttributes);
  const wft = ms.workflowTask;
  const versioning = versioningInfoOf(info);
  return {
    executionConfig: {
      taskQueue: { name: info.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      ...(info.workflowExecutionTimeoutMs > 0 ? { workflowExecutionTimeout: msToDuration(info.workflowExecutionTimeoutMs) } : {}),
      ...(info.workflowRunTimeoutMs > 0 ? { workflowRunTimeout: msToDuration(info.workflowRunTimeoutMs) } : {}),
      defaultWorkflowTaskTimeout: msToDuration(info.workflowTaskTimeoutMs),
    },
    workflowExecutionInfo: {
      execution: { workflowId: info.workflowId, runId: info.runId },
      type: { name: info.workflowTypeName },
      startTime: msToTimestamp(info.startTime),
      ...(info.closeTime > 0 ? { closeTime: msToTimestamp(info.closeTime) } : {}),
      status: info.status,
      historyLength: int64(ms.nextEventId - 1),
      executionTime: msToTimestamp(info.executionTime),
      ...(memo ? { memo } : {}),
      ...(searchAttributes ? { searchAttributes } : {}),
      taskQueue: info.taskQueue,
      historySizeBytes: int64(info.historySizeBytes),
      firstRunId: info.firstExecutionRunId,
      ...(info.parent
        ? { parentNamespaceId: info.parent.namespaceId, parentExecution: { workflowId: info.parent.workflowId, runId: info.parent.runId } }
        : {}),
      rootExecution: { workflowId: info.rootWorkflowId, runId: info.rootRunId },
      stateTransitionCount: int64(info.stateTransitionCount),
      ...(versioning ? { versioningInfo: versioning } : {}),
    },
    pendingActivities: [...ms.activities.values()].map(describeActivity),
    pendingChildren: [...ms.children.values()].map((c) => ({
      workflowId: c.workflowId,
      runId: c.runId,
      workflowTypeName: c.workflowTypeName,
      initiatedId: int64(c.initiatedEventId),
      parentClosePolicy: c.parentClosePolicy,
    })),
    ...(wft
      ? {
          pendingWorkflowTask: {
            state: wft.startedEventId > 0
              ? temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
              : temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
            scheduledTime: msToTimestamp(wft.scheduledTime),
            originalScheduledTime: msToTimestamp(wft.scheduledTime),
            ...(wft.startedTime > 0 ? { startedTime: msToTimestamp(wft.startedTime) } : {}),
            attempt: wft.attempt,
          },
        }
      : {}),
  };
}

function describeActivity(a: Readonly<ActivityInfo>): temporal.api.workflow.v1.IPendingActivityInfo {
  const state = a.cancelRequested
    ? PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
    : isActivityStarted(a)
      ? PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
      : PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
  const heartbeatDetails = payloadsBlob.unpack(a.heartbeatDetails);
  const lastFailure = failureBlob.unpack(a.lastFailure);
  return {
    activityId: a.activityId,
    activityType: { name: a.activityTypeName },
    state,
    ...(heartbeatDetails ? { heartbeatDetails } : {}),
    ...(a.lastHeartbeatTime > 0 ? { lastHeartbeatTime: msToTimestamp(a.lastHeartbeatTime) } : {}),
    ...(a.startedTime > 0 ? { lastStartedTime: msToTimestamp(a.startedTime) } : {}),
    attempt: a.attempt,
    maximumAttempts: a.retryPolicy.maximumAttempts,
    scheduledTime: msToTimestamp(a.currentAttemptScheduledTime),
    ...(a.scheduleToCloseTimeoutMs > 0 ? { expirationTime: msToTimestamp(a.scheduledTime + a.scheduleToCloseTimeoutMs) } : {}),
    ...(lastFailure ? { lastFailure } : {}),
    lastWorkerIdentity: a.startedIdentity || a.lastWorkerIdentity,
  };
}
