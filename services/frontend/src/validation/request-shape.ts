/**
 * The checks every request gets, driven by protobufjs reflection over its message type rather than
 * written per field: so a field added to Temporal's API is covered the day the proto is upgraded.
 *
 * - every enum field holds a value its enum defines (proto3 decoding keeps unknown numbers, which
 *   history would otherwise store or act on);
 * - every id and name (workflow/run/activity/update id, task queue, type names, signal name, query
 *   type, identity, request id, namespace…) is at most `maxIdBytes` long, counted in UTF-8 bytes as
 *   Temporal counts them; a task queue name does not start with `/_sys/` (the names of task queue
 *   partitions, as in Temporal);
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
import { TASK_QUEUE_PARTITION_PREFIX } from '@hourglass/contracts';

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
const TASK_QUEUE_TYPE = '.temporal.api.taskqueue.v1.TaskQueue';
const ID_FIELDS_BY_TYPE: Readonly<Record<string, ReadonlySet<string>>> = {
  [TASK_QUEUE_TYPE]: new Set(['name', 'normalName']),
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
  | { kind: 'id'; field: ReflectedField }
  | { kind: 'taskQueueName'; field: ReflectedField };

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
      if (field.type === 'string' && !field.map && typeIds?.has(field.name) && type.fullName === TASK_QUEUE_TYPE) plan.push({ kind: 'taskQueueName', field });
      else if (field.type === 'string' && !field.map && (ID_FIELD_NAMES.has(field.name) || typeIds?.has(field.name))) plan.push({ kind: 'id', field });
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

/**
 * Where a value sits in the request, built into a path string only for an error message: a walk
 * over a valid request allocates one of these per nested message, not a string per field.
 */
interface Loc {
  parent: Loc | undefined;
  name: string;
  /** Element index of a repeated field, or key of a map field. */
  key: number | string | undefined;
}

function pathOf(parent: Loc | undefined, name: string, key: number | string | undefined): string {
  const parts: string[] = [];
  for (let loc: Loc | undefined = { parent, name, key }; loc; loc = loc.parent) {
    const keyPart = loc.key === undefined ? '' : typeof loc.key === 'number' ? `[${loc.key}]` : `[${JSON.stringify(loc.key.slice(0, 40))}]`;
    parts.push(loc.name + keyPart);
  }
  return parts.reverse().join('.');
}

interface Pending {
  type: ReflectedType;
  message: Record<string, unknown>;
  loc: Loc | undefined;
  /** Inside a Failure: only enums are checked (its payloads were measured with it). */
  enumsOnly: boolean;
}

interface Blob {
  parent: Loc | undefined;
  name: string;
  key: number | string | undefined;
  bytes: number;
}

export interface ShapeOptions {
  /** Top-level fields left to the handler's own checks (RespondWorkflowTaskCompleted's commands and messages). */
  skipFields?: ReadonlySet<string>;
}

/** Checks one request; throws InvalidArgumentError naming the first bad field. */
export function checkRequestShape(type: ReflectedType, request: unknown, limits: ShapeLimits, options: ShapeOptions = {}): void {
  if (request === null || typeof request !== 'object') return;
  const walk = new ShapeWalk(limits);
  const stack: Pending[] = [{ type, message: request as Record<string, unknown>, loc: undefined, enumsOnly: false }];
  while (stack.length > 0) {
    const pending = stack.pop() as Pending;
    for (const plan of planOf(pending.type)) {
      const { field } = plan;
      if (pending.loc === undefined && options.skipFields?.has(field.name)) continue;
      const value = pending.message[field.name];
      if (value === null || value === undefined) continue;
      if (field.map) {
        for (const [key, element] of Object.entries(value as Record<string, unknown>)) walk.visit(plan, element, pending, key, stack);
      } else if (field.repeated) {
        const list = value as unknown[];
        for (let i = 0; i < list.length; i++) walk.visit(plan, list[i], pending, i, stack);
      } else {
        walk.visit(plan, value, pending, undefined, stack);
      }
    }
  }
  walk.checkTotal();
}

/** One request's walk: the per-value checks and the payload bytes seen so far. */
class ShapeWalk {
  private readonly blobs: Blob[] = [];

  constructor(private readonly limits: ShapeLimits) {}

  visit(plan: Plan, value: unknown, at: Pending, key: number | string | undefined, stack: Pending[]): void {
    if (value === null || value === undefined) return;
    const name = plan.field.name;
    switch (plan.kind) {
      case 'enum':
        checkEnum(plan.enumType, value, at.loc, name, key);
        break;
      case 'duration':
        if (!at.enumsOnly) checkDuration(value as DurationLike, at.loc, name, key);
        break;
      case 'id':
        if (!at.enumsOnly) checkIdAt(value as string, this.limits.maxIdBytes, at.loc, name, key);
        break;
      case 'taskQueueName':
        if (at.enumsOnly) break;
        checkIdAt(value as string, this.limits.maxIdBytes, at.loc, name, key);
        if ((value as string).startsWith(TASK_QUEUE_PARTITION_PREFIX)) {
          throw new InvalidArgumentError(`${pathOf(at.loc, name, key)} ${quote(value as string)} starts with ${TASK_QUEUE_PARTITION_PREFIX}, which is reserved for task queue partitions`);
        }
        break;
      case 'message':
        stack.push({ type: plan.type, message: value as Record<string, unknown>, loc: { parent: at.loc, name, key }, enumsOnly: at.enumsOnly });
        break;
      case 'blob':
        if (!at.enumsOnly) {
          const bytes = plan.type.encode(value).len;
          const limit = plan.blob === 'memo' ? this.limits.memoBytes : this.limits.blobBytes;
          if (bytes > limit) throw new InvalidArgumentError(`${pathOf(at.loc, name, key)} is ${formatBytes(bytes)}, more than the ${formatBytes(limit)} limit`);
          this.blobs.push({ parent: at.loc, name, key, bytes });
          if (plan.type.fullName === SEARCH_ATTRIBUTES_TYPE) checkSearchAttributeNames(value, pathOf(at.loc, name, key));
        }
        if (plan.type.fullName === FAILURE_TYPE) stack.push({ type: plan.type, message: value as Record<string, unknown>, loc: { parent: at.loc, name, key }, enumsOnly: true });
        break;
    }
  }

  /** All payloads together fit in one history transaction. */
  checkTotal(): void {
    const total = this.blobs.reduce((sum, b) => sum + b.bytes, 0);
    if (total <= this.limits.transactionBytes) return;
    const largest = [...this.blobs]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3)
      .map((b) => `${pathOf(b.parent, b.name, b.key)} ${formatBytes(b.bytes)}`);
    throw new InvalidArgumentError(
      `the payloads of this request total ${formatBytes(total)} (${largest.join(', ')}${this.blobs.length > 3 ? ', …' : ''}), more than the ${formatBytes(this.limits.transactionBytes)} one history transaction may write`,
    );
  }
}

function checkEnum(enumType: ReflectedEnum, value: unknown, parent: Loc | undefined, name: string, key: Loc['key']): void {
  if (typeof value === 'number' && enumType.valuesById[value] !== undefined) return;
  const shown = typeof value === 'number' ? String(value) : quote(String(value));
  throw new InvalidArgumentError(`${pathOf(parent, name, key)} is ${shown}, which is not a defined ${enumType.name} value`);
}

/** An id or name: at most `max` UTF-8 bytes (empty is allowed here; required fields are per method). */
export function checkId(value: string, path: string, max: number): void {
  checkIdAt(value, max, undefined, path, undefined);
}

function checkIdAt(value: string, max: number, parent: Loc | undefined, name: string, key: Loc['key']): void {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: short ones need no count.
  if (value.length * 3 <= max) return;
  const bytes = utf8Length(value);
  if (bytes > max) throw new InvalidArgumentError(`${pathOf(parent, name, key)} ${quote(value)} is ${bytes} bytes long in UTF-8, more than the limit of ${max}`);
}

interface DurationLike {
  seconds?: unknown;
  nanos?: number | null;
}

function checkDuration(value: DurationLike, parent: Loc | undefined, name: string, key: Loc['key']): void {
  const at = (): string => pathOf(parent, name, key);
  const seconds = toNumber(value.seconds as Parameters<typeof toNumber>[0]);
  const nanos = value.nanos ?? 0;
  if (!Number.isFinite(seconds) || !Number.isInteger(nanos) || Math.abs(nanos) > MAX_NANOS) {
    throw new InvalidArgumentError(`${at()} is not a valid duration (seconds ${seconds}, nanos ${nanos})`);
  }
  if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    throw new InvalidArgumentError(`${at()} is not a valid duration: seconds (${seconds}) and nanos (${nanos}) have different signs`);
  }
  if (seconds < 0 || nanos < 0) throw new InvalidArgumentError(`${at()} must not be negative`);
}

function checkSearchAttributeNames(value: unknown, path: string): void {
  const fields = (value as { indexedFields?: Record<string, unknown> | null }).indexedFields ?? {};
  for (const name of Object.keys(fields)) {
    if (!SEARCH_ATTRIBUTE_NAME.test(name)) {
      throw new InvalidArgumentError(`${path}: search attribute name ${quote(name)} is invalid: use letters, digits and _ (at most 64 characters)`);
    }
  }
}
