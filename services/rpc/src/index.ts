export { HISTORY_METHODS, HistoryClient, addHistoryService } from './history';
export { MATCHING_METHODS, MatchingClient, addMatchingService } from './matching';
export { DEFAULT_TIMEOUT_MS, LONG_POLL_DEFAULT_MS, type ContractClientOptions, type MethodRow } from './transport';
export { ERROR_METADATA_KEY, registerErrorClass } from './errors';
export { internalProtoRoot, HISTORY_SERVICE, MATCHING_SERVICE } from './protos';
