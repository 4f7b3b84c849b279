import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@hourglass/common';
import { compileWorkerQuery } from './worker-query';

const refusal = (query: string, pattern: RegExp): void => {
  assert.throws(() => compileWorkerQuery(query), (err: unknown) => err instanceof InvalidArgumentError && pattern.test(err.message), query);
};

describe('ListWorkers queries', () => {
  it('compiles string and time conditions of the worker fields, with their aliases', () => {
    assert.equal(compileWorkerQuery(''), undefined);
    assert.deepEqual(compileWorkerQuery("TaskQueue = 'orders' AND (SdkName STARTS_WITH 'temporal' OR HostName IN ('a', 'b'))"), {
      kind: 'and',
      operands: [
        { kind: 'string', field: 'TaskQueue', op: '=', values: ['orders'] },
        {
          kind: 'or',
          operands: [
            { kind: 'string', field: 'SdkName', op: 'startsWith', values: ['temporal'] },
            { kind: 'string', field: 'HostName', op: 'in', values: ['a', 'b'] },
          ],
        },
      ],
    });
    assert.deepEqual(compileWorkerQuery("Status = 'running'"), { kind: 'string', field: 'WorkerStatus', op: '=', values: ['WORKER_STATUS_RUNNING'] });
    assert.deepEqual(compileWorkerQuery("WorkerStatus != 'WORKER_STATUS_SHUTDOWN'"), { kind: 'string', field: 'WorkerStatus', op: '!=', values: ['WORKER_STATUS_SHUTDOWN'] });
    assert.deepEqual(compileWorkerQuery("LastHeartbeatTime > '2026-01-02T03:04:05Z'"), { kind: 'time', field: 'HeartbeatTime', op: '>', values: [Date.UTC(2026, 0, 2, 3, 4, 5)] });
    assert.deepEqual(compileWorkerQuery("StartTime NOT BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-01T01:00:00+01:00'"), {
      kind: 'time',
      field: 'StartTime',
      op: 'notBetween',
      values: [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1)],
    });
  });

  it('refuses what Temporal refuses, saying where and why', () => {
    refusal("taskqueue = 'x'", /unknown worker field "taskqueue" .*at position 0/);
    refusal("TaskQueue > 'x'", /TaskQueue compares with =, !=, IN and STARTS_WITH, not >/);
    refusal('TaskQueue = 5', /TaskQueue takes a quoted string/);
    refusal("TaskQueue = ''", /cannot be compared with an empty string/);
    refusal("StartTime = 'yesterday'", /StartTime takes an RFC 3339 time/);
    refusal("StartTime STARTS_WITH '2026'", /StartTime is a time/);
    refusal("HostName BETWEEN 'a' AND 'b'", /BETWEEN applies to StartTime and HeartbeatTime/);
    refusal("WorkerStatus = 'sleeping'", /unknown worker status/);
    refusal('TaskQueue IS NULL', /IS NULL is not supported/);
    refusal("TaskQueue = 'x' ORDER BY StartTime", /ORDER BY and GROUP BY are not supported/);
    refusal("TaskQueue = 'x' AND", /invalid query/);
  });
});
