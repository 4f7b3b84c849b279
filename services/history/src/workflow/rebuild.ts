/**
 * Mutable state rebuilt from history events: what a run looks like after a prefix of its history.
 * Used by ResetWorkflowExecution, which forks a new run from a workflow task of an old one.
 */
import { WorkflowExecutionStatus, durationToMs, temporal, timestampToMs, toNumber, type HistoryEvent } from '@hourglass/common';
import { memoBlob, searchAttributesBlob } from './codec';
import { encodeEvent } from './events';
import { emptyMutableState, newActivityInfo, type ActivityInfo, type ExecutionInfo, type ExternalRequestInfo, type MutableStateData } from './mutable-state';
import { normalizeRetryPolicy } from './retry';

function activityFromScheduled(event: HistoryEvent): ActivityInfo {
  const a = event.activityTaskScheduledEventAttributes ?? {};
  return newActivityInfo({
    scheduledEventId: toNumber(event.eventId),
    activityId: a.activityId ?? '',
    activityTypeName: a.activityType?.name ?? '',
    taskQueue: a.taskQueue?.name ?? '',
    scheduleToCloseTimeoutMs: durationToMs(a.scheduleToCloseTimeout) ?? 0,
    scheduleToStartTimeoutMs: durationToMs(a.scheduleToStartTimeout) ?? 0,
    startToCloseTimeoutMs: durationToMs(a.startToCloseTimeout) ?? 0,
    heartbeatTimeoutMs: durationToMs(a.heartbeatTimeout) ?? 0,
    retryPolicy: normalizeRetryPolicy(a.retryPolicy, 'retryPolicy'),
    scheduledTime: timestampToMs(event.eventTime) ?? 0,
  });
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

/**
 * Replays `events` (a history prefix) into mutable state for a run with `executionInfo` (identity
 * of the new run; memo and search attributes are recomputed from the events).
 */
export function rebuildMutableState(events: HistoryEvent[], executionInfo: ExecutionInfo): MutableStateData {
  const ms = emptyMutableState({ ...executionInfo, status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING, closeTime: 0, historySizeBytes: 0 });
  const info = ms.executionInfo;
  let memo = memoBlob.unpack(info.memo)?.fields ?? {};
  let searchAttributes = searchAttributesBlob.unpack(info.searchAttributes)?.indexedFields ?? {};
  for (const event of events) {
    const id = toNumber(event.eventId);
    ms.nextEventId = id + 1;
    info.historySizeBytes += encodeEvent(event).length;
    if (event.workflowExecutionStartedEventAttributes) {
      const a = event.workflowExecutionStartedEventAttributes;
      memo = { ...(a.memo?.fields ?? {}) };
      searchAttributes = { ...(a.searchAttributes?.indexedFields ?? {}) };
    } else if (event.workflowTaskCompletedEventAttributes) {
      ms.lastCompletedWorkflowTaskStartedEventId = toNumber(event.workflowTaskCompletedEventAttributes.startedEventId);
    } else if (event.activityTaskScheduledEventAttributes) {
      ms.activities[String(id)] = activityFromScheduled(event);
    } else if (event.activityTaskCancelRequestedEventAttributes) {
      const activity = ms.activities[String(toNumber(event.activityTaskCancelRequestedEventAttributes.scheduledEventId))];
      if (activity) {
        activity.cancelRequested = true;
        activity.cancelRequestedEventId = id;
      }
    } else if (
      event.activityTaskCompletedEventAttributes ||
      event.activityTaskFailedEventAttributes ||
      event.activityTaskTimedOutEventAttributes ||
      event.activityTaskCanceledEventAttributes
    ) {
      const a = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes ?? event.activityTaskCanceledEventAttributes;
      delete ms.activities[String(toNumber(a?.scheduledEventId))];
    } else if (event.timerStartedEventAttributes) {
      const a = event.timerStartedEventAttributes;
      const expiryTime = (timestampToMs(event.eventTime) ?? 0) + (durationToMs(a.startToFireTimeout) ?? 0);
      ms.timers[a.timerId ?? ''] = { timerId: a.timerId ?? '', startedEventId: id, expiryTime };
    } else if (event.timerFiredEventAttributes || event.timerCanceledEventAttributes) {
      delete ms.timers[(event.timerFiredEventAttributes ?? event.timerCanceledEventAttributes)?.timerId ?? ''];
    } else if (event.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = event.startChildWorkflowExecutionInitiatedEventAttributes;
      ms.children[String(id)] = {
        initiatedEventId: id,
        startedEventId: 0,
        namespaceId: a.namespaceId ?? '',
        namespaceName: a.namespace ?? '',
        workflowId: a.workflowId ?? '',
        runId: '',
        workflowTypeName: a.workflowType?.name ?? '',
        parentClosePolicy: a.parentClosePolicy ?? 0,
      };
    } else if (event.childWorkflowExecutionStartedEventAttributes) {
      const a = event.childWorkflowExecutionStartedEventAttributes;
      const child = ms.children[String(toNumber(a.initiatedEventId))];
      if (child) {
        child.startedEventId = id;
        child.runId = a.workflowExecution?.runId ?? '';
        child.namespaceId = a.namespaceId ?? child.namespaceId;
      }
    } else if (
      event.startChildWorkflowExecutionFailedEventAttributes ||
      event.childWorkflowExecutionCompletedEventAttributes ||
      event.childWorkflowExecutionFailedEventAttributes ||
      event.childWorkflowExecutionCanceledEventAttributes ||
      event.childWorkflowExecutionTimedOutEventAttributes ||
      event.childWorkflowExecutionTerminatedEventAttributes
    ) {
      const a =
        event.startChildWorkflowExecutionFailedEventAttributes ??
        event.childWorkflowExecutionCompletedEventAttributes ??
        event.childWorkflowExecutionFailedEventAttributes ??
        event.childWorkflowExecutionCanceledEventAttributes ??
        event.childWorkflowExecutionTimedOutEventAttributes ??
        event.childWorkflowExecutionTerminatedEventAttributes;
      delete ms.children[String(toNumber(a?.initiatedEventId))];
    } else if (event.signalExternalWorkflowExecutionInitiatedEventAttributes) {
      ms.externalSignals[String(id)] = externalRequestOf(id, event.signalExternalWorkflowExecutionInitiatedEventAttributes);
    } else if (event.externalWorkflowExecutionSignaledEventAttributes || event.signalExternalWorkflowExecutionFailedEventAttributes) {
      const a = event.externalWorkflowExecutionSignaledEventAttributes ?? event.signalExternalWorkflowExecutionFailedEventAttributes;
      delete ms.externalSignals[String(toNumber(a?.initiatedEventId))];
    } else if (event.requestCancelExternalWorkflowExecutionInitiatedEventAttributes) {
      ms.externalCancels[String(id)] = externalRequestOf(id, event.requestCancelExternalWorkflowExecutionInitiatedEventAttributes);
    } else if (event.externalWorkflowExecutionCancelRequestedEventAttributes || event.requestCancelExternalWorkflowExecutionFailedEventAttributes) {
      const a = event.externalWorkflowExecutionCancelRequestedEventAttributes ?? event.requestCancelExternalWorkflowExecutionFailedEventAttributes;
      delete ms.externalCancels[String(toNumber(a?.initiatedEventId))];
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      ms.cancelRequested = true;
    } else if (event.upsertWorkflowSearchAttributesEventAttributes) {
      searchAttributes = { ...searchAttributes, ...(event.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {}) };
    } else if (event.workflowPropertiesModifiedEventAttributes) {
      memo = { ...memo, ...(event.workflowPropertiesModifiedEventAttributes.upsertedMemo?.fields ?? {}) };
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const a = event.workflowExecutionUpdateAcceptedEventAttributes;
      const updateId = a.protocolInstanceId ?? '';
      ms.updates[updateId] = {
        updateId,
        stage: 'accepted',
        request: '',
        sentInStartedEventId: 0,
        acceptedEventId: id,
        completedEventId: 0,
        outcome: null,
        admittedTime: timestampToMs(event.eventTime) ?? 0,
      };
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const a = event.workflowExecutionUpdateCompletedEventAttributes;
      const update = ms.updates[a.meta?.updateId ?? ''];
      if (update) {
        update.stage = 'completed';
        update.completedEventId = id;
      }
    }
  }
  info.memo = Object.keys(memo).length > 0 ? memoBlob.pack({ fields: memo }) : null;
  info.searchAttributes = Object.keys(searchAttributes).length > 0 ? searchAttributesBlob.pack({ indexedFields: searchAttributes }) : null;
  return ms;
}
