/**
 * Edge validation: enums by reflection, ids in UTF-8 bytes, payload, memo and transaction sizes,
 * policy pairs, durations, task tokens; and every message short, naming the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CommandType,
  DEFAULT_SETTINGS,
  InvalidArgumentError,
  SettingsRegistry,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  temporal,
} from '@hourglass/common';
import { encodeTaskToken } from '@hourglass/contracts';
import type { NamespaceRecord } from '@hourglass/persistence';
import { WORKFLOW_SERVICE } from '../method-table';
import { validateNamespaceName } from './namespace-name';
import { RequestValidator } from './request-validator';

const ws = temporal.api.workflowservice.v1;
type Messages = typeof ws;

const NAMESPACE: NamespaceRecord = {
  id: 'ns-1',
  name: 'default',
  accountId: 'acct1', resourceVersion: 1, limits: {}, state: 'registered',
  description: '',
  ownerEmail: '',
  retentionMs: 1,
  data: {},
  createdAt: 0,
  updatedAt: 0,
};

const validator = new RequestValidator(DEFAULT_SETTINGS);

/** The request as grpc-js hands it over: encoded and decoded, with defaults on the prototype. */
function decoded<K extends keyof Messages & `${string}Request`>(type: K, value: object): unknown {
  const codec = ws[type] as unknown as { encode(v: object): { finish(): Uint8Array }; decode(b: Uint8Array): unknown };
  return codec.decode(codec.encode(value).finish());
}

function check(method: string, request: unknown, v: RequestValidator = validator) {
  return v.validate(WORKFLOW_SERVICE, method, request, NAMESPACE);
}

/** Asserts INVALID_ARGUMENT whose message matches `pattern` and stays short. */
function refuses(method: string, request: unknown, pattern: RegExp, v: RequestValidator = validator): string {
  let message = '';
  assert.throws(
    () => check(method, request, v),
    (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `INVALID_ARGUMENT, got ${String(err)}`);
      message = err.message;
      assert.match(message, pattern);
      assert.ok(message.length < 300, `message of ${message.length} characters: ${message.slice(0, 400)}`);
      return true;
    },
  );
  return message;
}

const start = (extra: object = {}) =>
  decoded('StartWorkflowExecutionRequest', {
    namespace: 'default',
    workflowId: 'wf',
    workflowType: { name: 'Greet' },
    taskQueue: { name: 'tq' },
    requestId: 'req',
    identity: 'me',
    ...extra,
  });

const payloads = (bytes: number) => ({ payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(bytes, 0x61) }] });

describe('request validation', () => {
  it('accepts a well-formed start', () => {
    assert.deepEqual(check('StartWorkflowExecution', start()), {});
  });

  describe('enums', () => {
    it('refuses an undefined value of a top-level enum field, naming it', () => {
      refuses('StartWorkflowExecution', start({ workflowIdReusePolicy: 17 }), /^workflowIdReusePolicy is 17, which is not a defined WorkflowIdReusePolicy value$/);
    });

    it('refuses undefined values of nested enum fields', () => {
      refuses(
        'PollWorkflowTaskQueue',
        decoded('PollWorkflowTaskQueueRequest', { namespace: 'default', taskQueue: { name: 'tq', kind: 9 } }),
        /taskQueue\.kind is 9, which is not a defined TaskQueueKind value/,
      );
      refuses(
        'UpdateWorkflowExecution',
        decoded('UpdateWorkflowExecutionRequest', {
          namespace: 'default',
          workflowExecution: { workflowId: 'w' },
          waitPolicy: { lifecycleStage: 77 },
          request: { meta: { updateId: 'u' }, input: { name: 'n' } },
        }),
        /waitPolicy\.lifecycleStage is 77/,
      );
    });

    it('names the element of a repeated field and the key of a map field', () => {
      refuses(
        'ExecuteMultiOperation',
        decoded('ExecuteMultiOperationRequest', {
          namespace: 'default',
          operations: [
            { startWorkflow: { namespace: 'default', workflowId: 'w', workflowType: { name: 't' }, taskQueue: { name: 'tq' } } },
            { startWorkflow: { namespace: 'default', workflowId: 'w', workflowType: { name: 't' }, taskQueue: { name: 'tq' }, workflowIdReusePolicy: 17 } },
          ],
        }),
        /^operations\[1\]\.startWorkflow\.workflowIdReusePolicy is 17, which is not a defined WorkflowIdReusePolicy value$/,
      );
      const taskToken = encodeTaskToken({ kind: 'workflow', namespaceId: NAMESPACE.id, workflowId: 'w', runId: 'r', scheduledEventId: 2, startedEventId: 3, attempt: 1 });
      refuses(
        'RespondWorkflowTaskCompleted',
        decoded('RespondWorkflowTaskCompletedRequest', { namespace: 'default', taskToken, queryResults: { 'q-1': { resultType: 9 } } }),
        /^queryResults\["q-1"\]\.resultType is 9, which is not a defined QueryResultType value$/,
      );
    });

    it('refuses undefined enums inside a failure (its payloads count as the failure)', () => {
      refuses(
        'RespondActivityTaskFailedById',
        decoded('RespondActivityTaskFailedByIdRequest', {
          namespace: 'default',
          workflowId: 'w',
          activityId: 'a',
          failure: { message: 'x', cause: { message: 'y', timeoutFailureInfo: { timeoutType: 99 } } },
        }),
        /failure\.cause\.timeoutFailureInfo\.timeoutType is 99/,
      );
    });

    it('leaves the commands and messages of RespondWorkflowTaskCompleted to history', () => {
      const taskToken = encodeTaskToken({ kind: 'workflow', namespaceId: NAMESPACE.id, workflowId: 'w', runId: 'r', scheduledEventId: 2, startedEventId: 3, attempt: 1 });
      const request = decoded('RespondWorkflowTaskCompletedRequest', {
        namespace: 'default',
        taskToken,
        commands: [{ commandType: 999, startTimerCommandAttributes: { timerId: 't', startToFireTimeout: { seconds: -5 } } }],
        messages: [{ id: 'm'.repeat(5000), protocolInstanceId: 'p' }],
      });
      const validated = check('RespondWorkflowTaskCompleted', request);
      assert.equal(validated.taskToken?.kind, 'workflow');
      // …but not the rest of the request.
      refuses(
        'RespondWorkflowTaskCompleted',
        decoded('RespondWorkflowTaskCompletedRequest', { namespace: 'default', taskToken, commands: [{ commandType: CommandType.COMMAND_TYPE_START_TIMER }], versioningBehavior: 55 }),
        /versioningBehavior is 55/,
      );
    });
  });

  describe('ids and names in UTF-8 bytes', () => {
    const euro = '€'; // 3 bytes in UTF-8, 1 UTF-16 unit
    it('accepts 1000 bytes and refuses 1001 (ASCII)', () => {
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ workflowId: 'a'.repeat(1000) })));
      refuses('StartWorkflowExecution', start({ workflowId: 'a'.repeat(1001) }), /^workflowId "a{100}…" \(1001 characters\) is 1001 bytes long in UTF-8, more than the limit of 1000$/);
    });

    it('counts multi-byte characters in bytes, not UTF-16 units', () => {
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ workflowId: euro.repeat(333) + 'a' })), '999 + 1 = 1000 bytes');
      refuses('StartWorkflowExecution', start({ workflowId: euro.repeat(334) }), /workflowId .* is 1002 bytes long/);
      // 334 UTF-16 units: a length check in characters would have passed it.
      refuses('StartWorkflowExecution', start({ workflowId: euro.repeat(333) + 'ab' }), /is 1001 bytes long/);
    });

    const cases: Array<[string, string, object, RegExp]> = [
      ['StartWorkflowExecution', 'StartWorkflowExecutionRequest', { workflowType: { name: 'x'.repeat(1001) } }, /^workflowType\.name /],
      ['StartWorkflowExecution', 'StartWorkflowExecutionRequest', { taskQueue: { name: 'x'.repeat(1001) } }, /^taskQueue\.name /],
      ['StartWorkflowExecution', 'StartWorkflowExecutionRequest', { identity: 'x'.repeat(1001) }, /^identity /],
      ['StartWorkflowExecution', 'StartWorkflowExecutionRequest', { requestId: 'x'.repeat(1001) }, /^requestId /],
    ];
    for (const [method, , extra, pattern] of cases) {
      it(`${method}: ${pattern.source}`, () => {
        refuses(method, start(extra), pattern);
      });
    }

    it('refuses task queue names with the /_sys/ prefix of partition names, wherever a TaskQueue appears', () => {
      refuses('StartWorkflowExecution', start({ taskQueue: { name: '/_sys/orders/1' } }), /^taskQueue\.name "\/_sys\/orders\/1" starts with \/_sys\/, which is reserved for task queue partitions$/);
      refuses('PollWorkflowTaskQueue', decoded('PollWorkflowTaskQueueRequest', { namespace: 'default', taskQueue: { name: 'sticky-1', kind: 2, normalName: '/_sys/x' } }), /^taskQueue\.normalName /);
      refuses('PollActivityTaskQueue', decoded('PollActivityTaskQueueRequest', { namespace: 'default', taskQueue: { name: '/_sys/' } }), /reserved for task queue partitions/);
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ taskQueue: { name: 'orders/_sys/1' } })), 'only as a prefix');
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ taskQueue: { name: '/_system' } })));
    });

    it('checks the ids of every request type', () => {
      const long = 'x'.repeat(1001);
      refuses('SignalWorkflowExecution', decoded('SignalWorkflowExecutionRequest', { namespace: 'default', workflowExecution: { workflowId: 'w' }, signalName: long }), /^signalName /);
      refuses('SignalWorkflowExecution', decoded('SignalWorkflowExecutionRequest', { namespace: 'default', workflowExecution: { workflowId: 'w', runId: long }, signalName: 's' }), /^workflowExecution\.runId /);
      refuses('QueryWorkflow', decoded('QueryWorkflowRequest', { namespace: 'default', execution: { workflowId: 'w' }, query: { queryType: long } }), /^query\.queryType /);
      refuses(
        'UpdateWorkflowExecution',
        decoded('UpdateWorkflowExecutionRequest', { namespace: 'default', workflowExecution: { workflowId: 'w' }, request: { meta: { updateId: long }, input: { name: 'n' } } }),
        /^request\.meta\.updateId /,
      );
      refuses(
        'UpdateWorkflowExecution',
        decoded('UpdateWorkflowExecutionRequest', { namespace: 'default', workflowExecution: { workflowId: 'w' }, request: { meta: { updateId: 'u' }, input: { name: long } } }),
        /^request\.input\.name /,
      );
      refuses('RecordActivityTaskHeartbeatById', decoded('RecordActivityTaskHeartbeatByIdRequest', { namespace: 'default', workflowId: 'w', activityId: long }), /^activityId /);
      refuses('PollActivityTaskQueue', decoded('PollActivityTaskQueueRequest', { namespace: 'default', taskQueue: { name: 'tq' }, identity: long }), /^identity /);
      refuses('ShutdownWorker', decoded('ShutdownWorkerRequest', { namespace: 'default', stickyTaskQueue: long }), /^stickyTaskQueue /);
      refuses('TerminateWorkflowExecution', decoded('TerminateWorkflowExecutionRequest', { namespace: 'default', workflowExecution: { workflowId: long } }), /^workflowExecution\.workflowId /);
    });

    it('follows a per-namespace maxIdLength', () => {
      const strict = new RequestValidator(new SettingsRegistry({ 'limit.maxIDLength': [{ value: 255, constraints: { namespace: 'default' } }] }));
      refuses('StartWorkflowExecution', start({ workflowId: 'a'.repeat(256) }), /limit of 255/, strict);
    });

    it('checks the ids inside a task token', () => {
      const token = encodeTaskToken({ kind: 'activity', namespaceId: NAMESPACE.id, workflowId: 'w'.repeat(5000), runId: 'r', scheduledEventId: 5, attempt: 1, activityId: 'a' });
      refuses('RespondActivityTaskCompleted', decoded('RespondActivityTaskCompletedRequest', { namespace: 'default', taskToken: token }), /^taskToken\.workflowId "w{100}…" \(5000 characters\) is 5000 bytes/);
    });
  });

  describe('task tokens', () => {
    it('refuses a token of another namespace or of the wrong kind', () => {
      const other = encodeTaskToken({ kind: 'activity', namespaceId: 'other-ns', workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 1, activityId: 'a' });
      refuses('RecordActivityTaskHeartbeat', decoded('RecordActivityTaskHeartbeatRequest', { namespace: 'default', taskToken: other }), /task token does not belong to namespace "default"/);
      const workflowToken = encodeTaskToken({ kind: 'workflow', namespaceId: NAMESPACE.id, workflowId: 'w', runId: 'r', scheduledEventId: 2, startedEventId: 3, attempt: 1 });
      refuses('RecordActivityTaskHeartbeat', decoded('RecordActivityTaskHeartbeatRequest', { namespace: 'default', taskToken: workflowToken }), /task token is for a workflow task, not an activity task/);
      refuses('RespondActivityTaskCompleted', decoded('RespondActivityTaskCompletedRequest', { namespace: 'default', taskToken: Buffer.from('garbage') }), /task token is malformed/);
    });
  });

  describe('payload sizes', () => {
    it('refuses one payload field over limit.blobSize.error, naming it and its size', () => {
      refuses('StartWorkflowExecution', start({ input: payloads(2.5 * 1024 * 1024) }), /^input is 2\.5 MB, more than the 2 MB limit$/);
      refuses(
        'SignalWithStartWorkflowExecution',
        decoded('SignalWithStartWorkflowExecutionRequest', { namespace: 'default', workflowId: 'w', workflowType: { name: 't' }, taskQueue: { name: 'q' }, signalName: 's', signalInput: payloads(3 * 1024 * 1024) }),
        /^signalInput is 3 MB/,
      );
      refuses('StartWorkflowExecution', start({ userMetadata: { summary: payloads(2.2 * 1024 * 1024).payloads[0] } }), /^userMetadata\.summary is 2\.2 MB/);
    });

    it('refuses a memo over limit.memoSize.error', () => {
      const v = new RequestValidator(new SettingsRegistry({ 'limit.memoSize.error': [{ value: 1024 }] }));
      refuses('StartWorkflowExecution', start({ memo: { fields: { note: payloads(2000).payloads[0] } } }), /^memo is 2 KB, more than the 1 KB limit$/, v);
    });

    it('refuses oversized fields spread over one request: their sum against limit.transactionSize', () => {
      const v = new RequestValidator(new SettingsRegistry({ 'limit.transactionSize': [{ value: 256 * 1024 }] }));
      const spread = start({ input: payloads(100 * 1024), memo: { fields: { a: payloads(100 * 1024).payloads[0] } }, header: { fields: { h: payloads(100 * 1024).payloads[0] } } });
      assert.doesNotThrow(() => check('StartWorkflowExecution', spread), 'each field alone is fine under the defaults');
      const message = refuses('StartWorkflowExecution', spread, /^the payloads of this request total 300(\.\d)? KB \((input|memo|header) 100(\.\d)? KB.*\), more than the 256 KB one history transaction may write$/, v);
      assert.match(message, /input/);
    });

    it('refuses an invalid search attribute name', () => {
      refuses('StartWorkflowExecution', start({ searchAttributes: { indexedFields: { 'bad name!': payloads(1).payloads[0] } } }), /search attribute name "bad name!" is invalid/);
    });
  });

  describe('workflow id policies', () => {
    const { WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE: REJECT, WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING: TERMINATE_IF_RUNNING, WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE: ALLOW } = WorkflowIdReusePolicy;
    const { WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: TERMINATE, WORKFLOW_ID_CONFLICT_POLICY_FAIL: FAIL, WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING: USE } = WorkflowIdConflictPolicy;

    it('refuses REJECT_DUPLICATE with TERMINATE_EXISTING', () => {
      refuses('StartWorkflowExecution', start({ workflowIdReusePolicy: REJECT, workflowIdConflictPolicy: TERMINATE }), /WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be combined with workflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING/);
    });

    it('refuses TERMINATE_IF_RUNNING with any conflict policy, and accepts it alone', () => {
      for (const conflict of [FAIL, USE, TERMINATE]) {
        refuses('StartWorkflowExecution', start({ workflowIdReusePolicy: TERMINATE_IF_RUNNING, workflowIdConflictPolicy: conflict }), /TERMINATE_IF_RUNNING cannot be combined/);
      }
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ workflowIdReusePolicy: TERMINATE_IF_RUNNING })));
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ workflowIdReusePolicy: ALLOW, workflowIdConflictPolicy: TERMINATE })));
    });

    it('refuses conflict policy FAIL on SignalWithStart', () => {
      refuses(
        'SignalWithStartWorkflowExecution',
        decoded('SignalWithStartWorkflowExecutionRequest', { namespace: 'default', workflowId: 'w', workflowType: { name: 't' }, taskQueue: { name: 'q' }, signalName: 's', workflowIdConflictPolicy: FAIL }),
        /WORKFLOW_ID_CONFLICT_POLICY_FAIL is not supported by SignalWithStartWorkflowExecution/,
      );
    });
  });

  describe('durations', () => {
    it('accepts a sub-millisecond duration (history rounds it up to 1 ms)', () => {
      assert.doesNotThrow(() => check('StartWorkflowExecution', start({ workflowStartDelay: { seconds: 0, nanos: 500_000 } })));
    });

    it('refuses negative and malformed durations, naming the field', () => {
      refuses('StartWorkflowExecution', start({ workflowRunTimeout: { seconds: -1 } }), /^workflowRunTimeout must not be negative$/);
      refuses('StartWorkflowExecution', start({ workflowTaskTimeout: { seconds: 1, nanos: -5 } }), /^workflowTaskTimeout is not a valid duration: seconds \(1\) and nanos \(-5\) have different signs$/);
      refuses('StartWorkflowExecution', start({ retryPolicy: { initialInterval: { seconds: 0, nanos: -1 } } }), /^retryPolicy\.initialInterval must not be negative$/);
    });
  });

  describe('required fields', () => {
    it('names the missing field', () => {
      refuses('StartWorkflowExecution', start({ workflowId: '' }), /^workflowId is not set$/);
      refuses('StartWorkflowExecution', start({ taskQueue: {} }), /^taskQueue\.name is not set$/);
      refuses('SignalWorkflowExecution', decoded('SignalWorkflowExecutionRequest', { namespace: 'default', workflowExecution: { workflowId: 'w' } }), /^signalName is not set$/);
      refuses('RespondActivityTaskFailedById', decoded('RespondActivityTaskFailedByIdRequest', { namespace: 'default', workflowId: 'w', activityId: 'a' }), /^failure is not set$/);
    });
  });

  describe('namespace names', () => {
    it('has one rule for RegisterNamespace and start-dev', () => {
      assert.equal(validateNamespaceName('orders-eu.prod_1'), 'orders-eu.prod_1');
      assert.throws(() => validateNamespaceName('bad name!'), /namespace name "bad name!" is invalid/);
      refuses('RegisterNamespace', decoded('RegisterNamespaceRequest', { namespace: 'bad name!' }), /namespace name "bad name!" is invalid/);
      refuses('RegisterNamespace', decoded('RegisterNamespaceRequest', { namespace: `-${'x'.repeat(5000)}` }), /^namespace "-x{99}…" \(5001 characters\) is 5001 bytes long/);
      refuses('RegisterNamespace', decoded('RegisterNamespaceRequest', { namespace: `-${'x'.repeat(200)}` }), /^namespace name "-x{99}…" \(201 characters\) is invalid/);
      assert.doesNotThrow(() => check('RegisterNamespace', decoded('RegisterNamespaceRequest', { namespace: 'fine' })));
    });
  });
});
