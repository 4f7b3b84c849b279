import type { temporal } from '@hourglass/common';

export type WorkflowTaskResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;
export type ActivityTaskResponse = temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse;

/** A task held by matching: just enough to ask history to start it. */
export interface MatchTask {
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  /** Activity attempt; 0 for workflow tasks. */
  attempt: number;
  createdAt: number;
}

export interface StartWorkflowTaskRequest {
  namespaceId: string;
  task: MatchTask;
  /** Which queue the task was delivered from: a sticky delivery gets partial history. */
  pollKind: 'normal' | 'sticky';
  identity: string;
  pollRequestId: string;
}

export interface StartActivityTaskRequest {
  namespaceId: string;
  task: MatchTask;
  identity: string;
  pollRequestId: string;
}

/**
 * What matching needs from history. Starting a task records it as started in the run and returns
 * the poll response; a task that no longer applies fails with a NOT_FOUND-coded error and is dropped.
 */
export interface TaskStarter {
  recordWorkflowTaskStarted(request: StartWorkflowTaskRequest): Promise<WorkflowTaskResponse>;
  recordActivityTaskStarted(request: StartActivityTaskRequest): Promise<ActivityTaskResponse>;
  /** A sticky queue's worker is gone: move its pending workflow task to the normal queue. */
  rescheduleStickyWorkflowTask(request: { namespaceId: string; task: MatchTask }): Promise<void>;
}

export interface AddWorkflowTaskRequest {
  namespaceId: string;
  taskQueueName: string;
  kind: 'normal' | 'sticky';
  workflowId: string;
  runId: string;
  scheduledEventId: number;
}

export interface AddActivityTaskRequest {
  namespaceId: string;
  taskQueueName: string;
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  attempt: number;
}

export interface PollRequest {
  namespaceId: string;
  taskQueueName: string;
  kind: 'normal' | 'sticky';
  identity: string;
  /** Absolute ms deadline of the caller's call; the poll answers empty shortly before it. */
  deadline: number;
  /** Aborted when the caller's call is cancelled. */
  signal: AbortSignal;
}
