export { HistoryEngine, type HistoryEngineDeps } from './history-engine';
export { DEFAULT_HISTORY_CONFIG, type HistoryConfig } from './config';
export { NamespaceRegistry, type RegisterNamespaceArgs } from './namespace-registry';
export { WorkTracker } from './work-tracker';
export { ACTION_OF_EVENT, billableActionsOfEvent } from './usage/action-of-event';
