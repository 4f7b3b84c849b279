/**
 * Mutable state rebuilt from history events, through the same applyEvent the forward path uses:
 * what a run looks like after a prefix of its history. Used by ResetWorkflowExecution (which forks
 * a new run from a workflow task of an old one) and by the rebuild verifier.
 */
import { WorkflowExecutionStatus, toNumber, type HistoryEvent } from '@hourglass/common';
import { applyEvent } from './apply-event';
import { encodeEvent } from './events';
import { MutableState, type ExecutionInfo } from './mutable-state';

/** Applies one stored event (with its id) to state rebuilt so far. */
export function replayEvent(ms: MutableState, event: HistoryEvent): void {
  ms.nextEventId = toNumber(event.eventId) + 1;
  ms.executionInfo.historySizeBytes += encodeEvent(event).length;
  applyEvent(ms, event);
}

/** What a rebuild cannot learn from history: the run's identity and how it was created. */
export type RunIdentity = Pick<ExecutionInfo, 'namespaceId' | 'workflowId' | 'runId' | 'startRequestId' | 'identity'>;

/** An empty run of the given identity, before its first event. */
export function blankState(identity: RunIdentity, now: number): MutableState {
  // Fields written out rather than spread and extended (see newActivityInfo).
  return new MutableState({
    namespaceId: identity.namespaceId,
    workflowId: identity.workflowId,
    runId: identity.runId,
    startRequestId: identity.startRequestId,
    identity: identity.identity,
    firstExecutionRunId: identity.runId,
    workflowTypeName: '',
    taskQueue: '',
    workflowExecutionTimeoutMs: 0,
    workflowRunTimeoutMs: 0,
    workflowTaskTimeoutMs: 0,
    executionExpirationTime: 0,
    runExpirationTime: 0,
    startTime: now,
    executionTime: now,
    closeTime: 0,
    status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
    retryPolicy: null,
    attempt: 1,
    cronSchedule: '',
    historySizeBytes: 0,
    stateTransitionCount: 0,
    parent: null,
    rootWorkflowId: identity.workflowId,
    rootRunId: identity.runId,
  });
}

/** Replays `events` (a history prefix, from event 1) into a fresh state for a run of `identity`. */
export function rebuildMutableState(events: readonly HistoryEvent[], identity: RunIdentity): MutableState {
  const ms = blankState(identity, 0);
  for (const event of events) replayEvent(ms, event);
  return ms;
}
