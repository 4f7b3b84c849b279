export { HistoryEngine, type HistoryEngineDeps } from './history-engine';
export { DEFAULT_HISTORY_CONFIG, type HistoryConfig } from './config';
export { NamespaceRegistry, type RegisterNamespaceArgs } from './namespace-registry';
export type { MatchingClient } from './engine-context';
export { decodeTaskToken, type TaskToken, type WorkflowTaskToken, type ActivityTaskToken } from './task-token';
export type { ActivityTarget } from './api/respond-activity-task/activity-target';
export { WorkTracker } from './work-tracker';
