import type { temporal } from '@hourglass/common';

export type { MatchTask, TaskStarter, AddWorkflowTaskRequest, AddActivityTaskRequest, PollTaskQueueRequest, DispatchQueryTaskRequest } from '@hourglass/contracts';

export type WorkflowTaskResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;
export type ActivityTaskResponse = temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse;
