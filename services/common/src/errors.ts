/**
 * One error taxonomy for the whole platform. Domain code throws these; the edges (gRPC frontend,
 * GraphQL API) translate them. `code` is stable and maps 1:1 to a gRPC status name.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED'
  | 'CANCELLED'
  | 'INTERNAL';

/** user: the caller did something wrong; operational: transient, retry may help; invariant: a bug. */
export type ErrorKind = 'user' | 'operational' | 'invariant';

/** Structured Temporal error details the frontend turns into `grpc-status-details-bin`. */
export type ErrorDetail =
  | { type: 'WorkflowExecutionAlreadyStartedFailure'; startRequestId: string; runId: string }
  | { type: 'ActivityExecutionAlreadyStartedFailure'; startRequestId: string; runId: string }
  | { type: 'NamespaceNotFoundFailure'; namespace: string }
  | { type: 'NamespaceAlreadyExistsFailure' }
  | { type: 'NotFoundFailure'; currentCluster?: string; activeCluster?: string }
  | { type: 'QueryFailedFailure'; failure?: unknown }
  | { type: 'ResourceExhaustedFailure'; cause: number; scope?: number }
  | { type: 'PermissionDeniedFailure'; reason: string }
  | { type: 'MultiOperationExecutionFailure'; statuses: MultiOperationStatus[] };

/** One operation's outcome in a failed ExecuteMultiOperation: its error, or aborted because another failed. */
export type MultiOperationStatus = { aborted: true } | { aborted: false; code: ErrorCode; message: string; detail?: ErrorDetail };

export abstract class HourglassError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly kind: ErrorKind;
  readonly detail?: ErrorDetail;

  constructor(message: string, detail?: ErrorDetail, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    if (detail) this.detail = detail;
  }
}

export class InvalidArgumentError extends HourglassError {
  readonly code = 'INVALID_ARGUMENT';
  readonly kind = 'user';
}

/**
 * A worker's workflow task completion carried a command the server refused: the task was failed
 * (the worker is told why) and nothing of the completion was written. INVALID_ARGUMENT on the wire;
 * its own class so operators see it in the log (it is a bug in workflow code or the SDK).
 */
export class CommandRejectedError extends InvalidArgumentError {}

export class NotFoundError extends HourglassError {
  readonly code = 'NOT_FOUND';
  readonly kind = 'user';
}

export class NamespaceNotFoundError extends HourglassError {
  readonly code = 'NOT_FOUND';
  readonly kind = 'user';
  constructor(readonly namespace: string) {
    super(`Namespace ${namespace} is not found.`, { type: 'NamespaceNotFoundFailure', namespace });
  }
}

export class AlreadyExistsError extends HourglassError {
  readonly code = 'ALREADY_EXISTS';
  readonly kind = 'user';
}

export class WorkflowExecutionAlreadyStartedError extends HourglassError {
  readonly code = 'ALREADY_EXISTS';
  readonly kind = 'user';
  constructor(message: string, readonly startRequestId: string, readonly runId: string) {
    super(message, { type: 'WorkflowExecutionAlreadyStartedFailure', startRequestId, runId });
  }
}

/** A standalone activity with this id is running (or its id may not be reused): ALREADY_EXISTS with ActivityExecutionAlreadyStartedFailure. */
export class ActivityExecutionAlreadyStartedError extends HourglassError {
  readonly code = 'ALREADY_EXISTS';
  readonly kind = 'user';
  constructor(message: string, readonly startRequestId: string, readonly runId: string) {
    super(message, { type: 'ActivityExecutionAlreadyStartedFailure', startRequestId, runId });
  }
}

export class FailedPreconditionError extends HourglassError {
  readonly code = 'FAILED_PRECONDITION';
  readonly kind = 'user';
}

export class PermissionDeniedError extends HourglassError {
  readonly code = 'PERMISSION_DENIED';
  readonly kind = 'user';
}

export class UnauthenticatedError extends HourglassError {
  readonly code = 'UNAUTHENTICATED';
  readonly kind = 'user';
}

export class ResourceExhaustedError extends HourglassError {
  readonly code = 'RESOURCE_EXHAUSTED';
  readonly kind = 'operational';
}

export class UnavailableError extends HourglassError {
  readonly code = 'UNAVAILABLE';
  readonly kind = 'operational';
}

export class DeadlineExceededError extends HourglassError {
  readonly code = 'DEADLINE_EXCEEDED';
  readonly kind = 'operational';
}

export class CancelledError extends HourglassError {
  readonly code = 'CANCELLED';
  readonly kind = 'operational';
}

export class UnimplementedError extends HourglassError {
  readonly code = 'UNIMPLEMENTED';
  readonly kind = 'user';
}

/** A broken invariant: a bug in Hourglass. Logged loudly at the edge. */
export class InvariantViolationError extends HourglassError {
  readonly code = 'INTERNAL';
  readonly kind = 'invariant';
}

/**
 * ExecuteMultiOperation (update-with-start) failed: one operation's error, the others aborted, as
 * Temporal's MultiOperationExecutionFailure carries them. The call's own status is the failed
 * operation's (ALREADY_EXISTS for a running workflow under conflict policy FAIL, which the SDK turns
 * into WorkflowExecutionAlreadyStartedError).
 */
export class MultiOperationExecutionError extends HourglassError {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;

  constructor(failedIndex: number, count: number, cause: HourglassError) {
    const statuses: MultiOperationStatus[] = [];
    for (let i = 0; i < count; i++) {
      statuses.push(
        i === failedIndex ? { aborted: false, code: cause.code, message: cause.message, ...(cause.detail ? { detail: cause.detail } : {}) } : { aborted: true },
      );
    }
    super(`Update-with-Start could not be executed: operation ${failedIndex + 1} of ${count} failed: ${cause.message}`, { type: 'MultiOperationExecutionFailure', statuses }, { cause });
    this.code = cause.code;
    this.kind = cause.kind;
  }
}

export function isHourglassError(err: unknown): err is HourglassError {
  return err instanceof HourglassError;
}

/** Exhaustiveness check for `switch` over unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new InvariantViolationError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** No worker has polled a sticky queue recently: history falls back to the normal queue. */
export class StickyWorkerUnavailableError extends HourglassError {
  readonly code = 'UNAVAILABLE';
  readonly kind = 'operational';
}

/**
 * The history shard (or, later, the task-queue partition) a request needs is not served by this
 * host: another host owns it, or ownership is moving. UNAVAILABLE (retryable): a router retries on
 * the owner it names (`ownerHostId`/`ownerAddress`, when this host knows it) or after a short wait.
 */
/**
 * Cluster mode, partitions across hosts: a matching host asked to store backlog in a task queue
 * partition that membership places on another host. Retry on `ownerAddress` (this host's view).
 */
export class PartitionNotOwnedError extends UnavailableError {
  constructor(
    message: string,
    readonly ownerAddress: string | undefined,
  ) {
    super(ownerAddress ? `${message}; its owner is at ${ownerAddress}` : message);
  }
}

export class ShardNotOwnedError extends UnavailableError {
  readonly ownerHostId: string | undefined;
  readonly ownerAddress: string | undefined;

  constructor(readonly shardId: number, owner?: { hostId: string; address: string }, message?: string, options?: { cause?: unknown }) {
    const where = owner ? `; its owner is ${owner.hostId} at ${owner.address || 'an unknown address'}` : '';
    super(message ?? `shard ${shardId} is not owned by this host${where}; retry on its owner`, undefined, options);
    this.ownerHostId = owner?.hostId;
    this.ownerAddress = owner?.address;
  }
}
