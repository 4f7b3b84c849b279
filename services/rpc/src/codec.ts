/**
 * Plain contract data ⇄ internal proto messages. Hourglass's own messages convert field by field
 * (int64 → number, proto3 `optional` and message fields absent → key left out, unions through the
 * hooks below); Temporal's messages embedded in them pass through untouched, so a handler gets the
 * same protobufjs message objects the frontend decoded (Long for int64, Buffer for bytes).
 */
import { InvalidArgumentError, assertNever } from '@hourglass/common';
import type { ActivityTarget, ChildCloseOutcome, WorkerFilter } from '@hourglass/contracts';
import type Long from 'long';
import protobuf from 'protobufjs';
import { INTERNAL_PACKAGE, isInternalType, lookupType } from './protos';

type Plain = Record<string, unknown>;

/** A union (contract) ⇄ oneof (proto) conversion for one of our message types. */
interface Hook {
  toWire(value: unknown): Plain;
  fromWire(message: Plain): unknown;
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function isLong(v: unknown): v is Long {
  return typeof v === 'object' && v !== null && typeof (v as Long).toNumber === 'function';
}

function scalarToPlain(field: protobuf.Field, v: unknown): unknown {
  return LONG_TYPES.has(field.type) ? (isLong(v) ? v.toNumber() : Number(v)) : v;
}

function has(message: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, key);
}

function scalarOrMessage(field: protobuf.Field, sub: protobuf.Type | undefined, v: unknown): unknown {
  return sub ? v : scalarToPlain(field, v);
}

/** A decoded message of our package → the contract's plain object. */
export function toPlain(type: protobuf.Type, message: Plain): unknown {
  const hook = HOOKS[type.fullName.slice(1)];
  if (hook) return hook.fromWire(message);
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const name = field.name;
    const value = message[name];
    const own = has(message, name) && value !== null && value !== undefined;
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (field.map) {
      // A map is always there (empty when nothing was sent), as the contract's Record is.
      const entries = Object.entries(own ? (value as Plain) : {});
      out[name] = Object.fromEntries(entries.map(([k, v]) => [k, sub && isInternalType(sub) ? toPlain(sub, v as Plain) : scalarOrMessage(field, sub, v)]));
    } else if (field.repeated) {
      const list = (own ? value : []) as unknown[];
      out[name] = sub ? (isInternalType(sub) ? list.map((m) => toPlain(sub, m as Plain)) : list) : list.map((v) => scalarToPlain(field, v));
    } else if (sub) {
      if (own) out[name] = isInternalType(sub) ? toPlain(sub, value as Plain) : value;
    } else if (field.partOf) {
      // proto3 `optional` and oneof members: only what was sent.
      if (own) out[name] = scalarToPlain(field, value);
    } else {
      out[name] = scalarToPlain(field, value);
    }
  }
  return out;
}

/** A contract's plain object → what `encode` takes for our message type (unions become oneofs). */
export function toWire(type: protobuf.Type, value: unknown): Plain {
  const hook = HOOKS[type.fullName.slice(1)];
  if (hook) return hook.toWire(value);
  const plain = value as Plain;
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const v = plain[field.name];
    if (v === undefined || v === null) continue;
    const sub = field.resolvedType instanceof protobuf.Type && isInternalType(field.resolvedType) ? field.resolvedType : undefined;
    if (sub && field.map) out[field.name] = Object.fromEntries(Object.entries(v as Plain).map(([k, x]) => [k, toWire(sub, x)]));
    else out[field.name] = sub ? (field.repeated ? (v as unknown[]).map((x) => toWire(sub, x)) : toWire(sub, v)) : v;
  }
  return out;
}

const t = (name: string): protobuf.Type => lookupType(`${INTERNAL_PACKAGE}.${name}`);

/** ChildCloseOutcome's `status` ⇄ the oneof member of that name (`timed-out` ⇄ timedOut). */
const CHILD_OUTCOMES = { completed: 'ChildCompleted', failed: 'ChildFailed', canceled: 'ChildCanceled', terminated: 'ChildTerminated', 'timed-out': 'ChildTimedOut' } as const;
const outcomeMember = (status: string): string => status.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());

const HOOKS: Record<string, Hook> = {
  [`${INTERNAL_PACKAGE}.ChildCloseOutcome`]: {
    toWire(value) {
      const { status, ...rest } = value as ChildCloseOutcome;
      return { [outcomeMember(status)]: toWire(t(CHILD_OUTCOMES[status]), rest) };
    },
    fromWire(message) {
      for (const [status, type] of Object.entries(CHILD_OUTCOMES)) {
        const member = message[outcomeMember(status)];
        if (member) return { status, ...(toPlain(t(type), member as Plain) as Plain) };
      }
      throw new InvalidArgumentError('internal request carries a child close outcome without a status');
    },
  },
  [`${INTERNAL_PACKAGE}.ActivityTarget`]: {
    toWire(value) {
      const target = value as ActivityTarget;
      if (target.by === 'token') return { token: toWire(t('ActivityTaskToken'), target.token) };
      const { namespaceId, workflowId, runId, activityId } = target;
      return { id: { namespaceId, workflowId, runId, activityId } };
    },
    fromWire(message) {
      if (message.token) return { by: 'token', token: toPlain(t('ActivityTaskToken'), message.token as Plain) };
      if (message.id) return { by: 'id', ...(toPlain(t('ActivityById'), message.id as Plain) as Plain) };
      throw new InvalidArgumentError('internal request names no activity: its target is neither a token nor an id');
    },
  },
  [`${INTERNAL_PACKAGE}.WorkerFilter`]: {
    toWire(value) {
      const filter = value as WorkerFilter;
      const self = t('WorkerFilter');
      switch (filter.kind) {
        case 'and':
          return { all: { operands: filter.operands.map((f) => toWire(self, f)) } };
        case 'or':
          return { any: { operands: filter.operands.map((f) => toWire(self, f)) } };
        case 'not':
          return { negation: toWire(self, filter.operand) };
        case 'string':
          return { stringCondition: { field: filter.field, op: filter.op, values: filter.values } };
        case 'time':
          return { timeCondition: { field: filter.field, op: filter.op, values: filter.values } };
        default:
          return assertNever(filter, 'worker filter');
      }
    },
    fromWire(message) {
      const self = t('WorkerFilter');
      const list = (m: unknown): WorkerFilter[] => (((m as Plain).operands ?? []) as Plain[]).map((f) => toPlain(self, f) as WorkerFilter);
      if (message.all) return { kind: 'and', operands: list(message.all) };
      if (message.any) return { kind: 'or', operands: list(message.any) };
      if (message.negation) return { kind: 'not', operand: toPlain(self, message.negation as Plain) };
      if (message.stringCondition) return { kind: 'string', ...(toPlain(t('WorkerStringCondition'), message.stringCondition as Plain) as Plain) };
      if (message.timeCondition) return { kind: 'time', ...(toPlain(t('WorkerTimeCondition'), message.timeCondition as Plain) as Plain) };
      throw new InvalidArgumentError('internal request carries an empty worker filter');
    },
  },
};

/** Encodes a message of any type of the internal root. */
export function encode(type: protobuf.Type, message: unknown): Buffer {
  return Buffer.from(type.encode(message as Plain).finish());
}
