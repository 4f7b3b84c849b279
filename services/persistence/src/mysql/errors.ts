import { FailedPreconditionError, InvariantViolationError, UnavailableError } from '@hourglass/common';
import { SchemaVersionTooNewError } from '../errors';

/**
 * A MySQL database could not be reached or refused us (unreachable host, unknown database, access
 * denied, connection lost). The message is one line naming the host and the database.
 */
export class MysqlConnectionError extends UnavailableError {
  constructor(message: string, readonly address: string, readonly database: string, options?: { cause?: unknown }) {
    super(message, undefined, options);
  }
}

/** A database has not been migrated to the schema this build needs; `hourglass db migrate` fixes it. */
export class SchemaVersionTooOldError extends FailedPreconditionError {
  constructor(readonly database: string, readonly databaseVersion: number, readonly requiredVersion: number) {
    super(`database ${database} has schema version ${databaseVersion}, this build needs ${requiredVersion}: run \`hourglass db migrate\``);
  }
}

/** SchemaVersionTooNewError that also names the database, since a deployment has several. */
export class MysqlSchemaVersionTooNewError extends SchemaVersionTooNewError {
  constructor(readonly database: string, databaseVersion: number, supportedVersion: number) {
    super(databaseVersion, supportedVersion);
    this.message = `database ${database} has schema version ${databaseVersion}, newer than this build supports (${supportedVersion}): upgrade hourglass`;
  }
}

/**
 * A PRIMARY KEY or UNIQUE violation. Stores catch it where a duplicate means a lost race or a
 * taken name and translate it; one that escapes is a bug (nothing expected the duplicate).
 */
export class DuplicateKeyError extends InvariantViolationError {
  constructor(message: string, readonly key: string, options?: { cause?: unknown }) {
    super(message, undefined, options);
  }
}
