/**
 * The checks every request gets, driven by protobufjs reflection over its message type rather than
 * written per field: so a field added to Temporal's API is covered the day the proto is upgraded.
 *
 * - every enum field holds a value its enum defines (proto3 decoding keeps unknown numbers, which
 *   history would otherwise store or act on);
 * - every id and name (workflow/run/activity/update id, task queue, type names, signal name, query
 *   type, identity, request id, namespace…) is at most `maxIdBytes` long, counted in UTF-8 bytes as
 *   Temporal counts them;
 * - every payload-carrying field (Payloads, Payload, Header, Failure, SearchAttributes) is at most
 *   `blobBytes` encoded, a Memo at most `memoBytes`, and all of them together at most what one
 *   history transaction may write (`transactionBytes`): oversized fields spread over a request are
 *   refused like one oversized field;
 * - durations are well formed and not negative (a positive fraction of a millisecond is fine:
 *   history rounds it up to 1 ms).
 *
 * The walk is iterative (a deeply nested Failure chain cannot overflow the stack) and each message
 * type's field plan is computed once.
 */
import { InvalidArgumentError, formatBytes, quote, toNumber, utf8Length } from '@hourglass/common';

export interface ShapeLimits {
  maxIdBytes: number;
  blobBytes: number;
  memoBytes: number;
  transactionBytes: number;
}

/** The parts of protobufjs reflection used here (duck-typed: @temporalio/proto ships its own protobufjs copy). */
export interface ReflectedField {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
  resolvedType: ReflectedType | ReflectedEnum | null;
  resolve(): unknown;
}

export interface ReflectedType {
  fullName: string;
  name: string;
  fieldsArray: ReflectedField[];
  encode(message: unknown): { len: number };
}

export interface ReflectedEnum {
  fullName: string;
  name: string;
  valuesById: Record<number, string>;
}

function isType(t: ReflectedType | ReflectedEnum | null): t is ReflectedType {
  return t !== null && Array.isArray((t as ReflectedType).fieldsArray);
}

/** Field names that hold an id or name wherever they appear. */
const ID_FIELD_NAMES: ReadonlySet<string> = new Set([
  'namespace',
  'workflowId',
  'runId',
  'firstExecutionRunId',
  'activityId',
  'timerId',
  'signalName',
  'queryType',
  'updateId',
  'identity',
  'requestId',
  'taskQueue',
  'stickyTaskQueue',
  'binaryChecksum',
  'buildId',
  'scheduleId',
  'jobId',
  'workerInstanceKey',
  'workerControlTaskQueue',
  'pollerGroupId',
]);

/** `name` fields that are ids, by message type: task queue names and type names. */
const ID_FIELDS_BY_TYPE: Readonly<Record<string, ReadonlySet<string>>> = {
  '.temporal.api.taskqueue.v1.TaskQueue': new Set(['name', 'normalName']),
  '.temporal.api.common.v1.WorkflowType': new Set(['name']),
  '.temporal.api.common.v1.ActivityType': new Set(['name']),
  '.temporal.api.update.v1.Input': new Set(['name']),
};

type BlobKind = 'blob' | 'memo';
/** Fields of these types are measured as one payload each (Failure is then walked for its enums). */
const BLOB_TYPES: Readonly<Record<string, BlobKind>> = {
  '.temporal.api.common.v1.Payloads': 'blob',
  '.temporal.api.common.v1.Payload': 'blob',
  '.temporal.api.common.v1.Header': 'blob',
  '.temporal.api.common.v1.SearchAttributes': 'blob',
  '.temporal.api.failure.v1.Failure': 'blob',
  '.temporal.api.common.v1.Memo': 'memo',
};
const FAILURE_TYPE = '.temporal.api.failure.v1.Failure';
const SEARCH_ATTRIBUTES_TYPE = '.temporal.api.common.v1.SearchAttributes';
const DURATION_TYPE = '.google.protobuf.Duration';
const SEARCH_ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_NANOS = 999_999_999;

type Plan =
  | { kind: 'enum'; field: ReflectedField; enumType: ReflectedEnum }
  | { kind: 'message'; field: ReflectedField; type: ReflectedType }
  | { kind: 'blob'; field: ReflectedField; type: ReflectedType; blob: BlobKind }
  | { kind: 'duration'; field: ReflectedField }
  | { kind: 'id'; field: ReflectedField };

const plans = new WeakMap<ReflectedType, Plan[]>();

function planOf(type: ReflectedType): Plan[] {
  let plan = plans.get(type);
  if (plan) return plan;
  plan = [];
  const typeIds = ID_FIELDS_BY_TYPE[type.fullName];
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    if (resolved === null) {
      if (field.type === 'string' && !field.map && (ID_FIELD_NAMES.has(field.name) || typeIds?.has(field.name))) plan.push({ kind: 'id', field });
    } else if (!isType(resolved)) {
      plan.push({ kind: 'enum', field, enumType: resolved });
    } else if (resolved.fullName === DURATION_TYPE) {
      plan.push({ kind: 'duration', field });
    } else if (BLOB_TYPES[resolved.fullName]) {
      plan.push({ kind: 'blob', field, type: resolved, blob: BLOB_TYPES[resolved.fullName] as BlobKind });
    } else if (!resolved.fullName.startsWith('.google.protobuf.')) {
      plan.push({ kind: 'message', field, type: resolved });
    }
  }
  plans.set(type, plan);
  return plan;
}

/** The values a field holds: one, the elements of a repeated field, or a map's values (with keys for paths). */
function valuesOf(field: ReflectedField, value: unknown, path: string): Array<[unknown, string]> {
  if (value === null || value === undefined) return [];
  if (field.map) return Object.entries(value as Record<string, unknown>).map(([k, v]) => [v, `${path}[${JSON.stringify(k.slice(0, 40))}]`]);
  if (field.repeated) return (value as unknown[]).map((v, i) => [v, `${path}[${i}]`]);
  return [[value, path]];
}

interface Pending {
  type: ReflectedType;
  message: Record<string, unknown>;
  path: string;
  /** Inside a Failure: only enums are checked (its payloads were measured with it). */
  enumsOnly: boolean;
}

export interface ShapeOptions {
  /** Top-level fields left to the handler's own checks (RespondWorkflowTaskCompleted's commands and messages). */
  skipFields?: ReadonlySet<string>;
}

/** Checks one request; throws InvalidArgumentError naming the first bad field. */
export function checkRequestShape(type: ReflectedType, request: unknown, limits: ShapeLimits, options: ShapeOptions = {}): void {
  if (request === null || typeof request !== 'object') return;
  const blobs: Array<{ path: string; bytes: number }> = [];
  const stack: Pending[] = [{ type, message: request as Record<string, unknown>, path: '', enumsOnly: false }];
  while (stack.length > 0) {
    const { type: current, message, path: prefix, enumsOnly } = stack.pop() as Pending;
    for (const plan of planOf(current)) {
      const { field } = plan;
      if (prefix === '' && options.skipFields?.has(field.name)) continue;
      const path = prefix ? `${prefix}.${field.name}` : field.name;
      for (const [value, at] of valuesOf(field, message[field.name], path)) {
        if (value === null || value === undefined) continue;
        switch (plan.kind) {
          case 'enum':
            checkEnum(plan.enumType, value, at);
            break;
          case 'duration':
            if (!enumsOnly) checkDuration(value as DurationLike, at);
            break;
          case 'id':
            if (!enumsOnly) checkId(value as string, at, limits.maxIdBytes);
            break;
          case 'message':
            stack.push({ type: plan.type, message: value as Record<string, unknown>, path: at, enumsOnly });
            break;
          case 'blob':
            if (!enumsOnly) {
              const bytes = plan.type.encode(value).len;
              const limit = plan.blob === 'memo' ? limits.memoBytes : limits.blobBytes;
              if (bytes > limit) throw new InvalidArgumentError(`${at} is ${formatBytes(bytes)}, more than the ${formatBytes(limit)} limit`);
              blobs.push({ path: at, bytes });
              if (plan.type.fullName === SEARCH_ATTRIBUTES_TYPE) checkSearchAttributeNames(value, at);
            }
            if (plan.type.fullName === FAILURE_TYPE) stack.push({ type: plan.type, message: value as Record<string, unknown>, path: at, enumsOnly: true });
            break;
        }
      }
    }
  }
  const total = blobs.reduce((sum, b) => sum + b.bytes, 0);
  if (total > limits.transactionBytes) {
    const largest = [...blobs].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((b) => `${b.path} ${formatBytes(b.bytes)}`);
    throw new InvalidArgumentError(
      `the payloads of this request total ${formatBytes(total)} (${largest.join(', ')}${blobs.length > 3 ? ', …' : ''}), more than the ${formatBytes(limits.transactionBytes)} one history transaction may write`,
    );
  }
}

function checkEnum(enumType: ReflectedEnum, value: unknown, path: string): void {
  if (typeof value === 'number' && enumType.valuesById[value] !== undefined) return;
  const shown = typeof value === 'number' ? String(value) : quote(String(value));
  throw new InvalidArgumentError(`${path} is ${shown}, which is not a defined ${enumType.name} value`);
}

/** An id or name: at most `max` UTF-8 bytes (empty is allowed here; required fields are per method). */
export function checkId(value: string, path: string, max: number): void {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: short ones need no count.
  if (value.length * 3 <= max) return;
  const bytes = utf8Length(value);
  if (bytes > max) throw new InvalidArgumentError(`${path} ${quote(value)} is ${bytes} bytes long in UTF-8, more than the limit of ${max}`);
}

interface DurationLike {
  seconds?: unknown;
  nanos?: number | null;
}

function checkDuration(value: DurationLike, path: string): void {
  const seconds = toNumber(value.seconds as Parameters<typeof toNumber>[0]);
  const nanos = value.nanos ?? 0;
  if (!Number.isFinite(seconds) || !Number.isInteger(nanos) || Math.abs(nanos) > MAX_NANOS) {
    throw new InvalidArgumentError(`${path} is not a valid duration (seconds ${seconds}, nanos ${nanos})`);
  }
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    throw new InvalidArgumentError(`${path} is not a valid duration: seconds (${seconds}) and nanos (${nanos}) have different signs`);
  }
  if (seconds < 0 || nanos < 0) throw new InvalidArgumentError(`${path} must not be negative`);
}

function checkSearchAttributeNames(value: unknown, path: string): void {
  const fields = (value as { indexedFields?: Record<string, unknown> | null }).indexedFields ?? {};
  for (const name of Object.keys(fields)) {
    if (!SEARCH_ATTRIBUTE_NAME.test(name)) {
      throw new InvalidArgumentError(`${path}: search attribute name ${quote(name)} is invalid: use letters, digits and _ (at most 64 characters)`);
    }
  }
}
