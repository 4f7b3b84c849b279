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

/** A worker deployment version (Temporal's WorkerDeploymentVersion): a build of a deployment. */
export interface DeploymentVersionRef {
  deploymentName: string;
  buildId: string;
}

/**
 * The matching queue that holds the tasks of one version of a task queue: the pollers of that
 * version poll it, and history adds the tasks routed to that version there. Unit separators cannot
 * come from a worker's queue name in practice, so it never collides with a user's queue.
 * Persisted (backlog rows carry it): never change the format.
 */
export function versionedTaskQueueName(name: string, version: DeploymentVersionRef): string {
  return `${name}\u001fdeployment\u001f${version.deploymentName}\u001f${version.buildId}`;
}

/** The user's queue name of a (possibly versioned) matching queue: where task-queue settings are looked up. */
export function baseTaskQueueName(name: string): string {
  const separator = name.indexOf('\u001f');
  return separator < 0 ? name : name.slice(0, separator);
}

/**
 * Task queue partitions (Temporal's names): partition 0 of a normal queue is its root and is named
 * as the queue; partition k > 0 is `/_sys/<name>/<k>` where partitions are named (routing keys,
 * logs, ListTaskQueuePartitions). Users may not name a queue with this prefix. Persisted in
 * routing and in what operators read: never change the format.
 */
export const TASK_QUEUE_PARTITION_PREFIX = '/_sys/';

export function taskQueuePartitionName(name: string, partition: number): string {
  return partition === 0 ? name : `${TASK_QUEUE_PARTITION_PREFIX}${name}/${partition}`;
}
