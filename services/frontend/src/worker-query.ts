/**
 * ListWorkers / CountWorkers filters: Temporal's list-filter language over the fields of a worker's
 * heartbeat (as Temporal's worker registry reads them), parsed by the visibility parser and checked
 * here into the plain-data filter matching evaluates. Field names are case-sensitive, as in Temporal:
 * WorkerInstanceKey, WorkerIdentity, HostName, TaskQueue, DeploymentName, BuildId, SdkName,
 * SdkVersion, WorkerStatus (alias Status) compare as strings (=, !=, IN, STARTS_WITH); StartTime and
 * HeartbeatTime (alias LastHeartbeatTime) compare as RFC 3339 times (=, !=, <, <=, >, >=, BETWEEN).
 */
import { temporal } from '@hourglass/common';
import type { WorkerFilter, WorkerStringField, WorkerTimeField } from '@hourglass/contracts';
import { VisibilityQueryError, parseQuery, type AttributeName, type Expr, type Literal } from '@hourglass/visibility';

const STRING_FIELDS: Record<string, WorkerStringField> = {
  WorkerInstanceKey: 'WorkerInstanceKey',
  WorkerIdentity: 'WorkerIdentity',
  HostName: 'HostName',
  TaskQueue: 'TaskQueue',
  DeploymentName: 'DeploymentName',
  BuildId: 'BuildId',
  SdkName: 'SdkName',
  SdkVersion: 'SdkVersion',
  WorkerStatus: 'WorkerStatus',
  Status: 'WorkerStatus',
};
const TIME_FIELDS: Record<string, WorkerTimeField> = { StartTime: 'StartTime', HeartbeatTime: 'HeartbeatTime', LastHeartbeatTime: 'HeartbeatTime' };
const FIELD_NAMES = [...Object.keys(STRING_FIELDS), ...Object.keys(TIME_FIELDS)].join(', ');

/** WORKER_STATUS_RUNNING, RUNNING, Running → WORKER_STATUS_RUNNING. */
const STATUS_NAMES = Object.keys(temporal.api.enums.v1.WorkerStatus).filter((k) => k.startsWith('WORKER_STATUS_') && k !== 'WORKER_STATUS_UNSPECIFIED');

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** The filter of a ListWorkers/CountWorkers query; undefined for an empty one. Bad queries throw INVALID_ARGUMENT. */
export function compileWorkerQuery(query: string): WorkerFilter | undefined {
  const ast = parseQuery(query);
  const extra = ast.orderBy[0]?.attribute ?? ast.groupBy[0];
  if (extra) throw new VisibilityQueryError(extra.position, 'ORDER BY and GROUP BY are not supported in a worker query');
  return ast.where ? compile(ast.where) : undefined;
}

function compile(expr: Expr): WorkerFilter {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return { kind: expr.kind, operands: expr.operands.map(compile) };
    case 'not':
      return { kind: 'not', operand: compile(expr.operand) };
    case 'isNull':
      throw new VisibilityQueryError(expr.position, 'IS NULL is not supported in a worker query');
    case 'compare': {
      const time = TIME_FIELDS[expr.attribute.name];
      if (time) return { kind: 'time', field: time, op: expr.op, values: [timeOf(expr.value, expr.attribute)] };
      const field = stringField(expr.attribute);
      if (expr.op !== '=' && expr.op !== '!=') throw new VisibilityQueryError(expr.position, `${expr.attribute.name} compares with =, !=, IN and STARTS_WITH, not ${expr.op}`);
      return { kind: 'string', field, op: expr.op, values: [stringOf(expr.value, field, expr.attribute)] };
    }
    case 'in': {
      const field = stringField(expr.attribute);
      return { kind: 'string', field, op: expr.negated ? 'notIn' : 'in', values: expr.values.map((v) => stringOf(v, field, expr.attribute)) };
    }
    case 'startsWith': {
      const field = stringField(expr.attribute);
      return { kind: 'string', field, op: expr.negated ? 'notStartsWith' : 'startsWith', values: [stringOf(expr.value, field, expr.attribute)] };
    }
    case 'between': {
      const time = TIME_FIELDS[expr.attribute.name];
      if (!time) throw new VisibilityQueryError(expr.attribute.position, `BETWEEN applies to StartTime and HeartbeatTime, not ${expr.attribute.name}`);
      return { kind: 'time', field: time, op: expr.negated ? 'notBetween' : 'between', values: [timeOf(expr.low, expr.attribute), timeOf(expr.high, expr.attribute)] };
    }
  }
}

function stringField(attribute: AttributeName): WorkerStringField {
  const field = STRING_FIELDS[attribute.name];
  if (field) return field;
  const reason = TIME_FIELDS[attribute.name] ? `${attribute.name} is a time: compare it with =, !=, <, <=, >, >= or BETWEEN` : `unknown worker field ${JSON.stringify(attribute.name.slice(0, 40))} (fields: ${FIELD_NAMES})`;
  throw new VisibilityQueryError(attribute.position, reason);
}

function stringOf(literal: Literal, field: WorkerStringField, attribute: AttributeName): string {
  if (literal.kind !== 'string') throw new VisibilityQueryError(literal.position, `${attribute.name} takes a quoted string`);
  if (literal.value === '') throw new VisibilityQueryError(literal.position, `${attribute.name} cannot be compared with an empty string`);
  if (field !== 'WorkerStatus') return literal.value;
  const upper = literal.value.toUpperCase();
  const name = STATUS_NAMES.find((s) => s === upper || s === `WORKER_STATUS_${upper}`);
  if (!name) throw new VisibilityQueryError(literal.position, `unknown worker status (one of ${STATUS_NAMES.join(', ')})`);
  return name;
}

function timeOf(literal: Literal, attribute: AttributeName): number {
  const text = literal.kind === 'string' || literal.kind === 'datetime' ? literal.value : undefined;
  const ms = text !== undefined && RFC3339.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new VisibilityQueryError(literal.position, `${attribute.name} takes an RFC 3339 time such as '2026-01-02T15:04:05Z'`);
  return ms;
}
