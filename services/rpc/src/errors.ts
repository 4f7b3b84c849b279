/**
 * Errors across the internal boundary. The server sends the gRPC status of the error's code and,
 * in the trailing metadata `hourglass-error-bin`, its class name, message and own fields (detail,
 * context fields such as ShardOwnershipLostError's range ids, a cause); the client rebuilds an
 * instance of the same class, so the caller's `instanceof` checks and the frontend's mapping to
 * public statuses and Temporal failure details work as in one process. A status without that
 * trailer is the transport's own (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED...).
 */
import { Metadata, status as Status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import * as common from '@hourglass/common';
import { CancelledError, DeadlineExceededError, HourglassError, InvariantViolationError, UnavailableError, type ErrorCode } from '@hourglass/common';
import * as persistence from '@hourglass/persistence';
import Long from 'long';

export const ERROR_METADATA_KEY = 'hourglass-error-bin';

type ErrorClass = abstract new (...args: never[]) => Error;

const classes = new Map<string, ErrorClass>();

/** Makes an error class (beyond common's and persistence's, registered here) arrive as itself. */
export function registerErrorClass(cls: ErrorClass): void {
  classes.set(cls.name, cls);
}

for (const cls of [Error, TypeError, RangeError, SyntaxError, ReferenceError]) registerErrorClass(cls);
for (const module of [common, persistence] as Record<string, unknown>[]) {
  for (const value of Object.values(module)) {
    if (typeof value === 'function' && value.prototype instanceof Error) registerErrorClass(value as ErrorClass);
  }
}

const STATUS_OF: Record<ErrorCode, Status> = {
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  NOT_FOUND: Status.NOT_FOUND,
  ALREADY_EXISTS: Status.ALREADY_EXISTS,
  FAILED_PRECONDITION: Status.FAILED_PRECONDITION,
  PERMISSION_DENIED: Status.PERMISSION_DENIED,
  UNAUTHENTICATED: Status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: Status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: Status.UNAVAILABLE,
  DEADLINE_EXCEEDED: Status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: Status.UNIMPLEMENTED,
  CANCELLED: Status.CANCELLED,
  INTERNAL: Status.INTERNAL,
};

interface WireError {
  name: string;
  /** The class's ancestors, nearest first: an unregistered class arrives as the nearest registered one. */
  ancestors?: string[];
  message: string;
  /** Own enumerable fields (code, kind, detail, context fields). */
  fields: Record<string, unknown>;
  cause?: WireError;
}

function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (k !== 'stack' && k !== 'cause') fields[k] = v;
  const className = err.constructor?.name ?? err.name;
  const ancestors: string[] = [];
  for (let proto = Object.getPrototypeOf(Object.getPrototypeOf(err) as object) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    ancestors.push((proto.constructor as { name: string }).name);
  }
  return { name: className, ancestors, message: err.message, fields, ...(err.cause !== undefined ? { cause: toWireError(err.cause) } : {}) };
}

function fromWireError(wire: WireError, where: string): Error {
  const cls = [wire.name, ...(wire.ancestors ?? [])].map((name) => classes.get(name)).find((c) => c !== undefined) ?? Error;
  const err = Object.create(cls.prototype as object) as Error;
  Object.assign(err, wire.fields);
  Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true, enumerable: false });
  if (!Object.prototype.hasOwnProperty.call(err, 'name')) Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
  if (wire.cause) Object.defineProperty(err, 'cause', { value: fromWireError(wire.cause, where), writable: true, configurable: true, enumerable: false });
  Object.defineProperty(err, 'stack', { value: `${wire.name}: ${wire.message}\n    at ${where} (internal gRPC)`, writable: true, configurable: true, enumerable: false });
  return err;
}

/**
 * Details may hold Temporal messages (QueryFailedFailure's failure): their bytes and int64 fields
 * are marked so that they come back as Buffer and Long (a message's own toJSON would turn them,
 * and its enums, into strings). A bigint or function is dropped rather than failing the answer.
 */
function jsonSafe(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' || typeof value === 'function' ? undefined : value;
  if (depth > 32) return undefined;
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Long.isLong(value)) return { $long: value.toString(), unsigned: value.unsigned };
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v, depth + 1);
  return out;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const v = value as { $bytes?: unknown; $long?: unknown; unsigned?: unknown };
    if (typeof v.$bytes === 'string') return Buffer.from(v.$bytes, 'base64');
    if (typeof v.$long === 'string') return Long.fromString(v.$long, v.unsigned === true);
  }
  return value;
}

/** What a server handler answers for a thrown error. */
export function errorToStatus(err: unknown): Partial<StatusObject> {
  const code = err instanceof HourglassError ? STATUS_OF[err.code] : Status.INTERNAL;
  const metadata = new Metadata();
  metadata.set(ERROR_METADATA_KEY, Buffer.from(JSON.stringify(jsonSafe(toWireError(err))), 'utf8'));
  return { code, details: err instanceof Error ? err.message : String(err), metadata };
}

/** The error a client call failed with, as the caller would have seen it in one process. */
export function errorFromStatus(error: ServiceError, where: string): Error {
  const carried = error.metadata?.get(ERROR_METADATA_KEY)[0];
  if (carried !== undefined) {
    try {
      return fromWireError(JSON.parse(Buffer.from(carried as Buffer).toString('utf8'), reviver) as WireError, where);
    } catch {
      // A trailer we cannot read is reported below as the status it came with.
    }
  }
  return transportError(error, where);
}

/** True when the status is the transport's (no error of ours came with it). */
export function isTransportStatus(error: ServiceError): boolean {
  return error.metadata?.get(ERROR_METADATA_KEY).length === 0 || error.metadata === undefined;
}

function transportError(error: ServiceError, where: string): Error {
  const message = `${where}: ${error.details || Status[error.code]}`;
  switch (error.code) {
    case Status.UNAVAILABLE:
      return new UnavailableError(message, undefined, { cause: error });
    case Status.DEADLINE_EXCEEDED:
      return new DeadlineExceededError(message, undefined, { cause: error });
    case Status.CANCELLED:
      return new CancelledError(message, undefined, { cause: error });
    default:
      return new InvariantViolationError(message, undefined, { cause: error });
  }
}
