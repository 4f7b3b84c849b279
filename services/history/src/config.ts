/**
 * What the history service needs to know about its deployment, fixed for the life of the process.
 * Tunables and limits are settings (HistorySettings, Limits in @hourglass/common), read through
 * the settings registry, not constants here.
 */
export interface HistoryConfig {
  /** Fixed at cluster creation. */
  numHistoryShards: number;
  /** Identifies this host as a shard owner. */
  hostIdentity: string;
}

export const DEFAULT_HISTORY_CONFIG: HistoryConfig = {
  numHistoryShards: 4,
  hostIdentity: 'hourglass',
};
