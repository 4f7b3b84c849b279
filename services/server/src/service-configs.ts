/**
 * History's config object, filled from the settings registry (the frontend and matching read
 * `Settings` themselves). Until each service reads its
 * tunables through `Settings` itself (per namespace and task queue), this is how a `settings:`
 * override in the config file reaches it: the global value of each setting, read once at start.
 * A tunable that exists in both places is defined once, in settings-definitions.ts.
 */
import { HistorySettings, Limits, type Settings } from '@hourglass/common';
import type { HistoryConfig } from '@hourglass/history';

/** Every history tunable but the two the server decides (shard count, host identity). */
export function historyConfigFrom(settings: Settings): Omit<HistoryConfig, 'numHistoryShards' | 'hostIdentity'> {
  return {
    defaultWorkflowTaskTimeoutMs: settings.get(HistorySettings.defaultWorkflowTaskTimeout),
    maxWorkflowTaskTimeoutMs: settings.get(HistorySettings.maxWorkflowTaskTimeout),
    longPollTimeoutMs: settings.get(HistorySettings.longPollExpirationInterval),
    defaultHistoryPageSize: settings.get(HistorySettings.historyPageSize),
    timerLookaheadMs: settings.get(HistorySettings.timerLookahead),
    transferConcurrency: settings.get(HistorySettings.transferConcurrency),
    blobSizeLimitBytes: settings.get(Limits.blobSizeError),
    queryTimeoutMs: settings.get(HistorySettings.queryTimeout),
    executionCacheSize: settings.get(HistorySettings.executionCacheSize),
  };
}

