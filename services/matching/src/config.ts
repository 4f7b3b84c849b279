export interface MatchingConfig {
  /** Longest a poll is held before an empty answer (also capped by the caller's deadline minus a margin). */
  longPollTimeoutMs: number;
  /** Margin kept before the caller's deadline so the empty answer arrives in time. */
  deadlineMarginMs: number;
  /** A sticky queue without a poll for this long is considered gone. */
  stickyPollerUnavailableWindowMs: number;
  /** Backlog tasks loaded from the store at a time. */
  backlogPageSize: number;
}

export const DEFAULT_MATCHING_CONFIG: MatchingConfig = {
  longPollTimeoutMs: 60_000,
  deadlineMarginMs: 1_000,
  stickyPollerUnavailableWindowMs: 10_000,
  backlogPageSize: 1000,
};
