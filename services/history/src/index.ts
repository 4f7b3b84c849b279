export { HistoryEngine, type HistoryEngineDeps } from './history-engine';
export { DEFAULT_HISTORY_CONFIG, type HistoryConfig } from './config';
export { NamespaceRegistry, type RegisterNamespaceArgs } from './namespace-registry';
export { WorkTracker } from './work-tracker';
export { BillableActionCounter, type BillableActionSample } from './usage/billable-action-counter';
export { scheduleNamespaceId, SCHEDULE_INFO_MEMO_FIELD } from './schedules/scheduler';
export { ACTIVITY_SEARCH_ATTRIBUTES, activityNamespaceId, activityStatusOfWorkflowStatus } from './activities/standalone-activity';
export { BATCH_LIST_QUERY, batchStateOf, operationTypeOfMemo, type BatchTargetSource } from './batch/batch-job';
export { ACTION_OF_EVENT, billableActionsOfEvent } from './usage/action-of-event';
