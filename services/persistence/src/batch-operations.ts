/** Shared by the SQLite and MySQL batch operation stores: the table, its page tokens, its checks. */
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, quote } from '@hourglass/common';
import type { BatchOperationRecord } from './types';

export const BATCH_OPERATIONS_SQLITE = `
CREATE TABLE batch_operations (
  namespace_id TEXT NOT NULL,
  job_id       TEXT NOT NULL,
  state        TEXT NOT NULL,
  version      INTEGER NOT NULL,
  start_time   INTEGER NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (namespace_id, job_id)
);
CREATE INDEX batch_operations_by_start ON batch_operations (namespace_id, start_time, job_id);
CREATE INDEX batch_operations_by_state ON batch_operations (state, namespace_id);
`;

export const BATCH_OPERATIONS_MYSQL = [
  `CREATE TABLE IF NOT EXISTS batch_operations (
  namespace_id VARCHAR(64) NOT NULL,
  job_id       VARCHAR(255) NOT NULL,
  state        VARCHAR(16) NOT NULL,
  version      BIGINT NOT NULL,
  start_time   BIGINT NOT NULL,
  data         MEDIUMTEXT NOT NULL,
  PRIMARY KEY (namespace_id, job_id),
  KEY batch_operations_by_start (namespace_id, start_time, job_id),
  KEY batch_operations_by_state (state, namespace_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
];

export interface BatchRow {
  namespace_id: string | Buffer;
  job_id: string | Buffer;
  state: string | Buffer;
  version: number | string;
  start_time: number | string;
  data: string | Buffer;
}

export function batchRecordOf(row: BatchRow): BatchOperationRecord {
  return {
    namespaceId: String(row.namespace_id),
    jobId: String(row.job_id),
    state: String(row.state) as BatchOperationRecord['state'],
    version: Number(row.version),
    startTime: Number(row.start_time),
    data: String(row.data),
  };
}

export function batchJobExists(jobId: string): AlreadyExistsError {
  return new AlreadyExistsError(`batch operation ${quote(jobId)} already exists in this namespace`);
}

export function batchAlreadyRunning(runningJobId: string): FailedPreconditionError {
  return new FailedPreconditionError(`the namespace already runs batch operation ${quote(runningJobId)}: one batch operation runs at a time; stop it or wait for it to finish`);
}

/** Page tokens: the (start time, job id) of the last record, newest first. */
export function encodeBatchToken(record: BatchOperationRecord): string {
  return Buffer.from(JSON.stringify([record.startTime, record.jobId]), 'utf8').toString('base64url');
}

export function decodeBatchToken(token: string): [number, string] {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') return [parsed[0], parsed[1]];
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('nextPageToken is not a batch operation page token');
}
