/** Types every contract shares. */

/** Per-call options: what a gRPC call carries besides its message (deadline, cancellation). */
export interface CallOptions {
  /** Absolute ms deadline (wall clock) of the caller's call; 0 when it set none. */
  deadline: number;
  /** Aborted when the caller cancels the call. */
  signal?: AbortSignal;
}

/** A task held by matching: just enough to ask history to start it. Persisted in backlogs as JSON. */
export interface MatchTask {
  workflowId: string;
  runId: string;
  scheduledEventId: number;
  /** Activity attempt; 0 for workflow tasks. */
  attempt: number;
  createdAt: number;
}
