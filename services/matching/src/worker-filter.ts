/**
 * Evaluates a ListWorkers/CountWorkers filter (checked and compiled by the frontend from Temporal's
 * query language) against one worker's last heartbeat, as Temporal's worker registry does.
 */
import { temporal, timestampToMs } from '@hourglass/common';
import type { WorkerFilter, WorkerHeartbeat, WorkerStringField, WorkerTimeField } from '@hourglass/contracts';

const WorkerStatus = temporal.api.enums.v1.WorkerStatus;

function stringField(hb: WorkerHeartbeat, field: WorkerStringField): string {
  switch (field) {
    case 'WorkerInstanceKey':
      return hb.workerInstanceKey ?? '';
    case 'WorkerIdentity':
      return hb.workerIdentity ?? '';
    case 'HostName':
      return hb.hostInfo?.hostName ?? '';
    case 'TaskQueue':
      return hb.taskQueue ?? '';
    case 'DeploymentName':
      return hb.deploymentVersion?.deploymentName ?? '';
    case 'BuildId':
      return hb.deploymentVersion?.buildId ?? '';
    case 'SdkName':
      return hb.sdkName ?? '';
    case 'SdkVersion':
      return hb.sdkVersion ?? '';
    case 'WorkerStatus':
      return WorkerStatus[hb.status ?? 0] ?? String(hb.status);
  }
}

function timeField(hb: WorkerHeartbeat, field: WorkerTimeField): number | undefined {
  return timestampToMs(field === 'StartTime' ? hb.startTime : hb.heartbeatTime);
}

export function matchesWorker(filter: WorkerFilter, hb: WorkerHeartbeat): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.operands.every((f) => matchesWorker(f, hb));
    case 'or':
      return filter.operands.some((f) => matchesWorker(f, hb));
    case 'not':
      return !matchesWorker(filter.operand, hb);
    case 'string': {
      const value = stringField(hb, filter.field);
      const [first = ''] = filter.values;
      switch (filter.op) {
        case '=':
          return value === first;
        case '!=':
          return value !== first;
        case 'startsWith':
          return value.startsWith(first);
        case 'notStartsWith':
          return !value.startsWith(first);
        case 'in':
          return filter.values.includes(value);
        case 'notIn':
          return !filter.values.includes(value);
      }
      return false;
    }
    case 'time': {
      const value = timeField(hb, filter.field);
      if (value === undefined) return false;
      const [a = 0, b = 0] = filter.values;
      switch (filter.op) {
        case '=':
          return value === a;
        case '!=':
          return value !== a;
        case '>':
          return value > a;
        case '>=':
          return value >= a;
        case '<':
          return value < a;
        case '<=':
          return value <= a;
        case 'between':
          return value >= a && value <= b;
        case 'notBetween':
          return value < a || value > b;
      }
      return false;
    }
  }
}
