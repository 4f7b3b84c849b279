export { HistoryEngine, type HistoryEngineDeps } from './history-engine';
export { DEFAULT_HISTORY_CONFIG, type HistoryConfig } from './config';
export { NamespaceRegistry, type RegisterNamespaceArgs } from './namespace-registry';
export { WorkTracker } from './work-tracker';
export { BATCH_LIST_QUERY, batchStateOf, operationTypeOfMemo, type BatchTargetSource } from './batch/batch-job';
