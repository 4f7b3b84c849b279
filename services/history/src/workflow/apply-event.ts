/**
 * THE effect of each history event on mutable state — one function per event type, as Temporal's
 * `ApplyXEvent`. The forward path (MutationContext.addEvent) calls it for every event it appends
 * or buffers; rebuilding a run from its history (reset, the rebuild verifier, any future
 * replication) calls it for every stored event. There is no second copy of any event's effect.
 *
 * What an event does NOT tell (which worker runs an attempt, heartbeats, stickiness, request ids,
 * admitted-but-unaccepted updates) is changed by the forward path directly, and `derivedState` in
 * rebuild.ts says which fields those are. Tasks (dispatch, timeouts) are generated separately
 * (task-generator.ts): apply functions only change state.
 */
import {
  EventType,
  TaskQueueKind,
  TimeoutType,
  WorkflowExecutionStatus,
  WorkflowTaskFailedCause,
  assertNever,
  durationToMs,
  temporal,
  timestampToMs,
  toNumber,
  type HistoryEvent,
} from '@hourglass/common';
import { memoBlob, searchAttributesBlob } from './codec';
import { newActivityInfo, type ExternalRequestInfo, type MutableState } from './mutable-state';
import { normalizeRetryPolicy } from './retry';
import { normalizeVersioningOverride } from '../worker-deployments/worker-deployments';

/** startedEventId placeholder of a child whose Started event is still buffered (fixed when the buffer is flushed). */
export const BUFFERED_STARTED_EVENT_ID = -1;

type E = temporal.api.enums.v1.EventType;

/** Applies one event. `event.eventId` is 0 for an event that is buffered (its id comes at flush). */
export function applyEvent(ms: MutableState, event: HistoryEvent): void {
  const id = toNumber(event.eventId);
  const time = timestampToMs(event.eventTime) ?? 0;
  const type = (event.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED) as E;
  switch (type) {
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
      return applyWorkflowExecutionStarted(ms, event.workflowExecutionStartedEventAttributes ?? {}, time);
    case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      return applyWorkflowTaskScheduled(ms, event.workflowTaskScheduledEventAttributes ?? {}, id, time);
    case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
      return applyWorkflowTaskStarted(ms, event.workflowTaskStartedEventAttributes ?? {}, id, time);
    case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      return applyWorkflowTaskCompleted(ms, event.workflowTaskCompletedEventAttributes ?? {});
    case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      return applyWorkflowTaskFailed(ms, event.workflowTaskFailedEventAttributes ?? {});
    case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
      return applyWorkflowTaskTimedOut(ms, event.workflowTaskTimedOutEventAttributes ?? {});
    case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
      return applyActivityTaskScheduled(ms, event.activityTaskScheduledEventAttributes ?? {}, id, time);
    case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
      // Written lazily, right before the attempt's outcome: the attempt state lives in mutable state until then.
      return;
    case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      return ms.deleteActivity(toNumber(event.activityTaskCompletedEventAttributes?.scheduledEventId));
    case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      return ms.deleteActivity(toNumber(event.activityTaskFailedEventAttributes?.scheduledEventId));
    case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      return ms.deleteActivity(toNumber(event.activityTaskTimedOutEventAttributes?.scheduledEventId));
    case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      return ms.deleteActivity(toNumber(event.activityTaskCanceledEventAttributes?.scheduledEventId));
    case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: {
      const activity = ms.activities.mutable(String(toNumber(event.activityTaskCancelRequestedEventAttributes?.scheduledEventId)));
      if (activity) {
        activity.cancelRequested = true;
        activity.cancelRequestedEventId = id;
      }
      return;
    }
    case EventType.EVENT_TYPE_TIMER_STARTED: {
      const a = event.timerStartedEventAttributes ?? {};
      const timerId = a.timerId ?? '';
      ms.timers.set(timerId, { timerId, startedEventId: id, expiryTime: time + (durationToMs(a.startToFireTimeout) ?? 0) });
      return;
    }
    case EventType.EVENT_TYPE_TIMER_FIRED:
      ms.timers.delete(event.timerFiredEventAttributes?.timerId ?? '');
      return;
    case EventType.EVENT_TYPE_TIMER_CANCELED:
      ms.timers.delete(event.timerCanceledEventAttributes?.timerId ?? '');
      return;
    case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
      const a = event.startChildWorkflowExecutionInitiatedEventAttributes ?? {};
      ms.children.set(String(id), {
        initiatedEventId: id,
        startedEventId: 0,
        namespaceId: a.namespaceId ?? '',
        namespaceName: a.namespace ?? '',
        workflowId: a.workflowId ?? '',
        runId: '',
        workflowTypeName: a.workflowType?.name ?? '',
        parentClosePolicy: a.parentClosePolicy ?? 0,
      });
      return;
    }
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
      const a = event.childWorkflowExecutionStartedEventAttributes ?? {};
      const child = ms.children.mutable(String(toNumber(a.initiatedEventId)));
      if (child) {
        child.startedEventId = id || BUFFERED_STARTED_EVENT_ID;
        child.runId = a.workflowExecution?.runId ?? '';
        child.namespaceId = a.namespaceId || child.namespaceId;
      }
      return;
    }
    case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
      ms.children.delete(String(toNumber(event.startChildWorkflowExecutionFailedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      ms.children.delete(String(toNumber(event.childWorkflowExecutionCompletedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
      ms.children.delete(String(toNumber(event.childWorkflowExecutionFailedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
      ms.children.delete(String(toNumber(event.childWorkflowExecutionCanceledEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
      ms.children.delete(String(toNumber(event.childWorkflowExecutionTimedOutEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
      ms.children.delete(String(toNumber(event.childWorkflowExecutionTerminatedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      ms.externalSignals.set(String(id), externalRequestOf(id, event.signalExternalWorkflowExecutionInitiatedEventAttributes ?? {}));
      return;
    case EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
      ms.externalSignals.delete(String(toNumber(event.externalWorkflowExecutionSignaledEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
      ms.externalSignals.delete(String(toNumber(event.signalExternalWorkflowExecutionFailedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      ms.externalCancels.set(String(id), externalRequestOf(id, event.requestCancelExternalWorkflowExecutionInitiatedEventAttributes ?? {}));
      return;
    case EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      ms.externalCancels.delete(String(toNumber(event.externalWorkflowExecutionCancelRequestedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
      ms.externalCancels.delete(String(toNumber(event.requestCancelExternalWorkflowExecutionFailedEventAttributes?.initiatedEventId)));
      return;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
      ms.signalCount += 1;
      return;
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      ms.cancelRequested = true;
      return;
    case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
      const upsert = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
      const merged = mergeUnsetting(searchAttributesBlob.unpack(ms.searchAttributes)?.indexedFields ?? {}, upsert);
      ms.searchAttributes = Object.keys(merged).length > 0 ? searchAttributesBlob.pack({ indexedFields: merged }) : null;
      return;
    }
    case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: {
      const upsert = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {};
      const merged = mergeUnsetting(memoBlob.unpack(ms.memo)?.fields ?? {}, upsert);
      ms.memo = Object.keys(merged).length > 0 ? memoBlob.pack({ fields: merged }) : null;
      return;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
      const a = event.workflowExecutionUpdateAcceptedEventAttributes ?? {};
      const updateId = a.protocolInstanceId ?? '';
      const update = ms.updates.mutable(updateId);
      if (update) {
        update.stage = 'accepted';
        update.acceptedEventId = id;
        // From now on the Accepted event holds the request.
        update.request = '';
        return;
      }
      ms.updates.set(updateId, {
        updateId,
        stage: 'accepted',
        request: '',
        sentInStartedEventId: 0,
        acceptedEventId: id,
        completedEventId: 0,
        outcome: null,
        admittedTime: time,
      });
      return;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
      const update = ms.updates.mutable(event.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId ?? '');
      if (update) {
        update.stage = 'completed';
        update.completedEventId = id;
      }
      return;
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return markClosed(ms, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, time);
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      return markClosed(ms, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED, time);
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
      return markClosed(ms, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, time);
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      return markClosed(ms, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED, time);
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      return markClosed(ms, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, time);
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return markClosed(ms, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, time);
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
      return applyWorkflowExecutionOptionsUpdated(ms, event.workflowExecutionOptionsUpdatedEventAttributes ?? {});
    case EventType.EVENT_TYPE_MARKER_RECORDED:
      // Markers (local activities, side effects, versions) are the worker's business.
      return;
    // Hourglass never writes these (features not built yet): they change nothing it keeps.
    case EventType.EVENT_TYPE_UNSPECIFIED:
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED:
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED:
    case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED_EXTERNALLY:
    case EventType.EVENT_TYPE_ACTIVITY_PROPERTIES_MODIFIED_EXTERNALLY:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_FAILED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCELED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_TIMED_OUT:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_COMPLETED:
    case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_FAILED:
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_PAUSED:
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UNPAUSED:
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIME_SKIPPING_TRANSITIONED:
      return;
    default:
      assertNever(type, 'event type');
  }
}

function applyWorkflowExecutionStarted(ms: MutableState, a: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes, time: number): void {
  const info = ms.executionInfo;
  const runTimeoutMs = durationToMs(a.workflowRunTimeout) ?? 0;
  const backoffMs = durationToMs(a.firstWorkflowTaskBackoff) ?? 0;
  info.workflowTypeName = a.workflowType?.name ?? '';
  info.taskQueue = a.taskQueue?.name ?? '';
  info.workflowExecutionTimeoutMs = durationToMs(a.workflowExecutionTimeout) ?? 0;
  info.workflowRunTimeoutMs = runTimeoutMs;
  info.workflowTaskTimeoutMs = durationToMs(a.workflowTaskTimeout) ?? 0;
  info.executionExpirationTime = timestampToMs(a.workflowExecutionExpirationTime) ?? 0;
  info.startTime = time;
  info.runExpirationTime = runTimeoutMs > 0 ? time + runTimeoutMs : 0;
  info.executionTime = time + backoffMs;
  info.closeTime = 0;
  info.status = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  info.identity = a.identity ?? '';
  info.firstExecutionRunId = a.firstExecutionRunId || info.runId;
  info.attempt = a.attempt || 1;
  info.cronSchedule = a.cronSchedule ?? '';
  info.retryPolicy = a.retryPolicy ? normalizeRetryPolicy(a.retryPolicy, 'retryPolicy') : null;
  info.parent = a.parentWorkflowExecution
    ? {
        namespaceId: a.parentWorkflowNamespaceId ?? '',
        namespaceName: a.parentWorkflowNamespace ?? '',
        workflowId: a.parentWorkflowExecution.workflowId ?? '',
        runId: a.parentWorkflowExecution.runId ?? '',
        initiatedEventId: toNumber(a.parentInitiatedEventId),
      }
    : null;
  info.rootWorkflowId = a.rootWorkflowExecution?.workflowId || info.workflowId;
  info.rootRunId = a.rootWorkflowExecution?.runId || info.runId;
  // Nil values given at start are no values (Temporal's FilterNilSearchAttributes).
  const memo = mergeUnsetting({}, a.memo?.fields ?? {});
  const searchAttributes = mergeUnsetting({}, a.searchAttributes?.indexedFields ?? {});
  ms.memo = Object.keys(memo).length > 0 ? memoBlob.pack({ fields: memo }) : null;
  ms.searchAttributes = Object.keys(searchAttributes).length > 0 ? searchAttributesBlob.pack({ indexedFields: searchAttributes }) : null;
  ms.backoffPending = backoffMs > 0;
  const override = normalizeVersioningOverride(a.versioningOverride, 'versioningOverride');
  if (override) info.versioningOverride = override;
  const inherited = a.inheritedPinnedVersion;
  if (inherited?.deploymentName && inherited.buildId) {
    info.versioningInfo = { behavior: temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, deploymentName: inherited.deploymentName, buildId: inherited.buildId };
  }
}

/** The versioning override set (or unset) on a running workflow; its other options are not kept by Hourglass. */
function applyWorkflowExecutionOptionsUpdated(ms: MutableState, a: temporal.api.history.v1.IWorkflowExecutionOptionsUpdatedEventAttributes): void {
  if (a.unsetVersioningOverride) {
    delete ms.executionInfo.versioningOverride;
    return;
  }
  const override = normalizeVersioningOverride(a.versioningOverride, 'versioningOverride');
  if (override) ms.executionInfo.versioningOverride = override;
}

function applyWorkflowTaskScheduled(ms: MutableState, a: temporal.api.history.v1.IWorkflowTaskScheduledEventAttributes, id: number, time: number): void {
  const sticky = a.taskQueue?.kind === TaskQueueKind.TASK_QUEUE_KIND_STICKY;
  // The first workflow task ends a start delay / backoff.
  ms.backoffPending = false;
  ms.workflowTask = {
    scheduledEventId: id,
    startedEventId: 0,
    attempt: a.attempt || 1,
    taskQueueName: a.taskQueue?.name ?? '',
    taskQueueKind: sticky ? 'sticky' : 'normal',
    startToCloseTimeoutMs: durationToMs(a.startToCloseTimeout) ?? 0,
    scheduledTime: time,
    startedTime: 0,
    requestId: '',
    identity: '',
  };
}

function applyWorkflowTaskStarted(ms: MutableState, a: temporal.api.history.v1.IWorkflowTaskStartedEventAttributes, id: number, time: number): void {
  const wft = ms.workflowTask;
  if (!wft) return;
  wft.startedEventId = id;
  wft.startedTime = time;
  wft.requestId = a.requestId ?? '';
  wft.identity = a.identity ?? '';
}

function applyWorkflowTaskCompleted(ms: MutableState, a: temporal.api.history.v1.IWorkflowTaskCompletedEventAttributes): void {
  ms.lastCompletedWorkflowTaskStartedEventId = toNumber(a.startedEventId);
  ms.workflowTask = null;
  ms.workflowTaskFailureStreak = 0;
  // As Temporal: each completed workflow task says how the workflow is versioned now (unversioned: nothing).
  const behavior = a.versioningBehavior ?? 0;
  const version = a.deploymentVersion;
  if (behavior !== 0 && version?.deploymentName && version.buildId) {
    ms.executionInfo.versioningInfo = { behavior, deploymentName: version.deploymentName, buildId: version.buildId };
  } else {
    delete ms.executionInfo.versioningInfo;
  }
}

/**
 * UnhandledCommand is not the workflow's fault (new events raced its decision), nor is the first
 * failure on a sticky queue (a stale cache; a full replay may fix it): neither bumps the attempt.
 * A reset starts the attempts afresh.
 */
function applyWorkflowTaskFailed(ms: MutableState, a: temporal.api.history.v1.IWorkflowTaskFailedEventAttributes): void {
  const cause = a.cause ?? 0;
  const wasSticky = ms.workflowTask?.taskQueueKind === 'sticky';
  const notTheWorkflowsFault = cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND || (wasSticky && ms.workflowTaskFailureStreak === 0);
  closeWorkflowTaskAttempt(ms, !notTheWorkflowsFault);
  if (cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW) ms.workflowTaskFailureStreak = 0;
}

/** A sticky worker that never picked the task up is not the workflow's fault: no attempt bump. */
function applyWorkflowTaskTimedOut(ms: MutableState, a: temporal.api.history.v1.IWorkflowTaskTimedOutEventAttributes): void {
  closeWorkflowTaskAttempt(ms, a.timeoutType !== TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
}

function closeWorkflowTaskAttempt(ms: MutableState, countsAsFailure: boolean): void {
  ms.workflowTask = null;
  ms.sticky = null;
  if (countsAsFailure) ms.workflowTaskFailureStreak += 1;
}

function applyActivityTaskScheduled(ms: MutableState, a: temporal.api.history.v1.IActivityTaskScheduledEventAttributes, id: number, time: number): void {
  ms.putActivity(
    newActivityInfo({
      scheduledEventId: id,
      activityId: a.activityId ?? '',
      activityTypeName: a.activityType?.name ?? '',
      taskQueue: a.taskQueue?.name ?? '',
      scheduleToCloseTimeoutMs: durationToMs(a.scheduleToCloseTimeout) ?? 0,
      scheduleToStartTimeoutMs: durationToMs(a.scheduleToStartTimeout) ?? 0,
      startToCloseTimeoutMs: durationToMs(a.startToCloseTimeout) ?? 0,
      heartbeatTimeoutMs: durationToMs(a.heartbeatTimeout) ?? 0,
      retryPolicy: normalizeRetryPolicy(a.retryPolicy, 'retryPolicy'),
      scheduledTime: time,
    }),
  );
}

function markClosed(ms: MutableState, status: number, time: number): void {
  ms.executionInfo.status = status;
  ms.executionInfo.closeTime = time;
  ms.workflowTask = null;
  ms.sticky = null;
}

/** A pending signal/cancel request from its Initiated event. */
function externalRequestOf(
  initiatedEventId: number,
  a: {
    namespaceId?: string | null;
    namespace?: string | null;
    workflowExecution?: temporal.api.common.v1.IWorkflowExecution | null;
    childWorkflowOnly?: boolean | null;
    control?: string | null;
  },
): ExternalRequestInfo {
  return {
    initiatedEventId,
    namespaceId: a.namespaceId ?? '',
    namespaceName: a.namespace ?? '',
    workflowId: a.workflowExecution?.workflowId ?? '',
    runId: a.workflowExecution?.runId ?? '',
    childWorkflowOnly: a.childWorkflowOnly ?? false,
    control: a.control ?? '',
  };
}

type Payload = temporal.api.common.v1.IPayload;

/**
 * A value that means "no value", as Temporal reads it (payload.isNilPayload): no data, JSON `null`,
 * or — for backwards compatibility — an empty JSON list. Upserting it unsets the key.
 */
function isNilPayload(value: Payload | null | undefined): boolean {
  const data = value?.data;
  if (!data || data.length === 0) return true;
  if (data.length > 4) return false;
  const text = Buffer.from(data).toString('utf8');
  return text === 'null' || text === '[]';
}

/** Upserts keyed values; a nil value unsets its key, as Temporal does (payload.MergeMapOfPayload). */
function mergeUnsetting(current: Record<string, Payload>, upsert: Record<string, Payload>): Record<string, Payload> {
  const merged = { ...current };
  for (const [name, value] of Object.entries(upsert)) {
    if (isNilPayload(value)) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}
