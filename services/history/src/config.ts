/** Tunables of the history service; the server's config.ts builds this once at boot. */
export interface HistoryConfig {
  /** Fixed at cluster creation. */
  numHistoryShards: number;
  /** Identifies this host as a shard owner. */
  hostIdentity: string;
  /** Default and cap of a workflow task's start-to-close timeout. */
  defaultWorkflowTaskTimeoutMs: number;
  maxWorkflowTaskTimeoutMs: number;
  /** Longest a history long poll (wait_new_event) is held before an empty answer. */
  longPollTimeoutMs: number;
  /** Events per GetWorkflowExecutionHistory page when the caller does not say. */
  defaultHistoryPageSize: number;
  /** Timer tasks due within this window are held in memory; later ones are loaded by periodic scans. */
  timerLookaheadMs: number;
  /** Transfer tasks executed concurrently per shard. */
  transferConcurrency: number;
  /** Largest encoded command a workflow task completion may carry (Temporal's blob size limit). */
  blobSizeLimitBytes: number;
  /** Longest a query waits for a worker to answer it. */
  queryTimeoutMs: number;
  /** Runs whose mutable state is kept in memory, per shard. */
  executionCacheSize: number;
}

export const DEFAULT_HISTORY_CONFIG: HistoryConfig = {
  numHistoryShards: 4,
  hostIdentity: 'hourglass',
  defaultWorkflowTaskTimeoutMs: 10_000,
  maxWorkflowTaskTimeoutMs: 120_000,
  longPollTimeoutMs: 20_000,
  defaultHistoryPageSize: 1000,
  timerLookaheadMs: 60_000,
  transferConcurrency: 32,
  executionCacheSize: 2048,
  queryTimeoutMs: 20_000,
  blobSizeLimitBytes: 2 * 1024 * 1024,
};
