import Database from 'better-sqlite3';
import { InvalidArgumentError } from '@hourglass/common';

/** True for a PRIMARY KEY or UNIQUE violation: a row with that key is already there. */
export function isDuplicateKey(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE')
  );
}

/** SQLite reads a negative LIMIT as "no limit"; a caller bug must not turn into a full scan. */
export function checkLimit(limit: number, what = 'limit'): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${limit}`);
  }
}

/** better-sqlite3 returns BLOBs as Buffers; hand out plain Uint8Array views (no copy). */
export function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
