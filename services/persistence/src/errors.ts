import { FailedPreconditionError, HourglassError, quote } from '@hourglass/common';
import type { CurrentExecutionRecord } from './types';

/** A conditional write lost a race (stale db version or event ids, or a task queue lease moved). Retry from a fresh read. */
export class ConditionFailedError extends HourglassError {
  readonly code = 'UNAVAILABLE';
  readonly kind = 'operational';
}

/** The shard's range_id moved: another host owns it now. Stop writing, drop caches. */
export class ShardOwnershipLostError extends HourglassError {
  readonly code = 'UNAVAILABLE';
  readonly kind = 'operational';
  constructor(readonly shardId: number, readonly expectedRangeId: number, readonly actualRangeId: number) {
    super(`shard ${shardId} ownership lost: range_id is ${actualRangeId}, this host holds ${expectedRangeId}`);
  }
}

/** The current-run pointer of a workflow id was not where the writer expected it. */
export class CurrentExecutionConditionFailedError extends HourglassError {
  readonly code = 'UNAVAILABLE';
  readonly kind = 'operational';
  constructor(message: string, readonly actual: CurrentExecutionRecord | undefined) {
    super(message);
  }
}

/** The database was migrated by a newer build; opening it with this one could corrupt it. Upgrade the binary. */
export class SchemaVersionTooNewError extends HourglassError {
  readonly code = 'FAILED_PRECONDITION';
  readonly kind = 'user';
  constructor(readonly databaseVersion: number, readonly supportedVersion: number) {
    super(`database schema version ${databaseVersion} is newer than this build supports (${supportedVersion})`);
  }
}

/** Who holds a store file, as recorded by the holder when it took the lock. */
export interface StoreOwner {
  pid: number;
  host: string;
  /** ISO 8601 time the holder opened the store. */
  since: string;
}

/**
 * Another process has the SQLite file open for serving. Two servers on one file would fence each
 * other's shards for good, so the second one is refused before it touches anything.
 */
export class StoreInUseError extends FailedPreconditionError {
  constructor(readonly path: string, readonly owner: StoreOwner | undefined) {
    const holder = owner ? `pid ${owner.pid} on host ${owner.host}, since ${owner.since}` : 'a process that recorded no owner information';
    super(`SQLite file ${quote(path)} is in use by another process (${holder}): stop it, or use another file`);
  }
}

/**
 * The options a store was opened with contradict what it recorded at creation (its number of
 * history shards, its MySQL shard databases). Opening it anyway would hide or misroute data.
 */
export class StoreMismatchError extends FailedPreconditionError {}
