/**
 * Internal gRPC over a real loopback server: contract data and Temporal messages arrive as the
 * in-process path delivers them, errors arrive as the same class with the same fields, deadlines and
 * cancellation cross the boundary, and only idempotent methods are retried on a transport failure.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  CancelledError,
  DeadlineExceededError,
  HourglassError,
  InvalidArgumentError,
  Long,
  MultiOperationExecutionError,
  NamespaceNotFoundError,
  NotFoundError,
  ResourceExhaustedError,
  StickyWorkerUnavailableError,
  UnavailableError,
  WorkflowExecutionAlreadyStartedError,
  temporal,
} from '@hourglass/common';
import type { CallOptions, HistoryService, MatchingService, WorkerFilter } from '@hourglass/contracts';
import { ShardOwnershipLostError } from '@hourglass/persistence';
import { HISTORY_METHODS, HistoryClient, addHistoryService } from './history';
import { MATCHING_METHODS, MatchingClient, addMatchingService } from './matching';
import { HISTORY_SERVICE, MATCHING_SERVICE, internalProtoRoot } from './protos';

type Call = { method: string; request: unknown; call: CallOptions | undefined };
type Answer = (method: string, request: unknown, call: CallOptions | undefined) => unknown;

/** A contract implementation that records each call and answers with `answer` (set per test). */
function recorder<S>(calls: Call[], answer: () => Answer): S {
  return new Proxy(
    {},
    {
      get: (_target, method: string) =>
        async (request: unknown, call: CallOptions | undefined) => {
          calls.push({ method, request, call });
          return answer()(method, request, call);
        },
    },
  ) as S;
}

const calls: Call[] = [];
let answer: Answer = () => undefined;
let server: grpc.Server;
let history: HistoryClient;
let matching: MatchingClient;
let address: string;

before(async () => {
  server = new grpc.Server();
  addHistoryService(server, recorder<HistoryService>(calls, () => answer));
  addMatchingService(server, recorder<MatchingService>(calls, () => answer));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  address = `127.0.0.1:${port}`;
  history = new HistoryClient(address);
  matching = new MatchingClient(address);
});

after(async () => {
  history.close();
  matching.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

function lastCall(): Call {
  const c = calls.at(-1);
  assert.ok(c, 'the server was called');
  return c;
}

const ws = temporal.api.workflowservice.v1;

test('every rpc of both proto services has a table row, and every row an rpc', () => {
  for (const [service, table] of [
    [HISTORY_SERVICE, HISTORY_METHODS],
    [MATCHING_SERVICE, MATCHING_METHODS],
  ] as const) {
    const rpcs = Object.keys(internalProtoRoot().lookupService(service).methods).sort();
    assert.deepEqual(Object.values(table).map((row) => row.rpc).sort(), rpcs, service);
  }
});

test('a Temporal request arrives as the frontend decoded it: Long int64, Buffer bytes, unset fields as on the prototype', async () => {
  // What the frontend hands history in process: the message protobufjs decoded off the wire.
  const original = ws.StartWorkflowExecutionRequest.decode(
    ws.StartWorkflowExecutionRequest.encode({
      namespace: 'default',
      workflowId: 'order-1',
      workflowType: { name: 'process' },
      taskQueue: { name: 'orders' },
      input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"a":1}') }] },
      workflowRunTimeout: { seconds: Long.fromNumber(60) },
      requestId: 'req-1',
      searchAttributes: { indexedFields: { CustomKeywordField: { data: Buffer.from('"x"') } } },
    }).finish(),
  );
  answer = () => ({ runId: 'run-1', started: true });
  const response = await history.startWorkflowExecution({ namespaceId: 'ns-1', request: original });
  const { request } = lastCall();
  const got = (request as { namespaceId: string; request: typeof original }).request;
  assert.equal((request as { namespaceId: string }).namespaceId, 'ns-1');
  assert.deepEqual(ws.StartWorkflowExecutionRequest.toObject(got as never), ws.StartWorkflowExecutionRequest.toObject(original));
  assert.ok(Long.isLong(got.workflowRunTimeout?.seconds), 'int64 is a Long');
  assert.ok(Buffer.isBuffer(got.input?.payloads?.[0]?.data), 'bytes are a Buffer');
  assert.equal(got.workflowExecutionTimeout, original.workflowExecutionTimeout, 'an unset message field reads as in process (null)');
  assert.equal(got.cronSchedule, original.cronSchedule, 'an unset string reads as in process');
  assert.deepEqual(Object.keys(got).sort(), Object.keys(original).sort(), 'the same fields are set');
  assert.equal(response.runId, 'run-1');
  assert.equal(response.started, true);
});

test('a poll response with history events keeps its int64 and bytes; an empty poll is null', async () => {
  const event = { eventId: Long.fromNumber(1), eventType: temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, eventTime: { seconds: Long.fromNumber(1_700_000_000) } };
  answer = () => ({ taskToken: Buffer.from('tok'), startedEventId: Long.fromNumber(3), history: { events: [event] }, attempt: 1 });
  const poll = { namespaceId: 'ns-1', namespaceName: 'default', taskQueueName: 'orders', kind: 'normal' as const, identity: 'worker-1' };
  const got = await matching.pollWorkflowTaskQueue(poll, { deadline: Date.now() + 5_000 });
  assert.ok(got);
  assert.deepEqual(lastCall().request, poll);
  assert.ok(Long.isLong(got.startedEventId) && got.startedEventId.toNumber() === 3);
  assert.deepEqual(Buffer.from(got.taskToken ?? []), Buffer.from('tok'));
  assert.equal(got.history?.events?.[0]?.eventType, temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  answer = () => null;
  assert.equal(await matching.pollWorkflowTaskQueue(poll, { deadline: Date.now() + 5_000 }), null);
  assert.equal(await matching.pollNexusTaskQueue(poll, { deadline: Date.now() + 5_000 }), null);
});

test('contract data round-trips: tokens, activity targets, optional payloads, task refs', async () => {
  answer = () => undefined;
  const token = { kind: 'activity' as const, namespaceId: 'ns-1', workflowId: 'w', runId: 'r', scheduledEventId: 12, attempt: 3, activityId: 'a1' };
  const result = { payloads: [{ data: Buffer.from('42') }] };
  await history.respondActivityTaskCompleted({ target: { by: 'token', token }, result, identity: 'me' });
  const byToken = lastCall().request as { target: unknown; result: typeof result; identity: string };
  assert.deepEqual(byToken.target, { by: 'token', token });
  assert.deepEqual(Buffer.from(byToken.result.payloads[0]?.data ?? []), Buffer.from('42'));
  await history.respondActivityTaskCompleted({ target: { by: 'id', namespaceId: 'ns-1', workflowId: 'w', runId: '', activityId: 'a1' }, identity: 'me' });
  assert.deepEqual(lastCall().request, { target: { by: 'id', namespaceId: 'ns-1', workflowId: 'w', runId: '', activityId: 'a1' }, identity: 'me' }, 'no result: the key is absent');
  await history.respondActivityTaskCompleted({ target: { by: 'token', token }, result: null, identity: 'me' });
  assert.equal((lastCall().request as { result?: unknown }).result, undefined, 'null payloads arrive absent');

  const wft = { kind: 'workflow' as const, namespaceId: 'ns-1', workflowId: 'w', runId: 'r', scheduledEventId: 2, startedEventId: 3, attempt: 1 };
  answer = () => ({});
  await history.respondWorkflowTaskCompleted({ namespaceId: 'ns-1', token: wft, request: { identity: 'me', commands: [] } });
  assert.deepEqual((lastCall().request as { token: unknown }).token, wft);

  answer = (method) => (method === 'recordWorkflowTaskStarted' ? {} : undefined);
  await history.recordWorkflowTaskStarted({ namespaceId: 'ns-1', task: { workflowId: 'w', runId: 'r', scheduledEventId: 2 }, pollKind: 'sticky', identity: 'me', pollRequestId: 'p1' });
  assert.deepEqual(lastCall().request, { namespaceId: 'ns-1', task: { workflowId: 'w', runId: 'r', scheduledEventId: 2 }, pollKind: 'sticky', identity: 'me', pollRequestId: 'p1' });
  await history.redispatchTask({ namespaceId: 'ns-1', type: 'activity', task: { workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 0 } });
  assert.deepEqual((lastCall().request as { task: unknown }).task, { workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 0 }, 'attempt 0 is kept, not dropped');

  await history.onNamespaceDeleted();
  assert.equal(lastCall().method, 'onNamespaceDeleted');
  answer = () => [{ deploymentName: 'orders', buildId: 'v2' }];
  assert.deepEqual(await history.taskQueueVersions({ namespaceId: 'ns-1', taskQueue: { name: 'q', type: 'workflow' } }), [{ deploymentName: 'orders', buildId: 'v2' }]);
  answer = () => [];
  assert.deepEqual(await history.taskQueueVersions({ namespaceId: 'ns-1', taskQueue: { name: 'q', type: 'workflow' } }), []);
});

test('cross-execution calls: child start outcomes, every child close outcome, scheduled starts, current runs', async () => {
  const parent = { namespaceId: 'ns-1', namespaceName: 'default', workflowId: 'p', runId: 'pr', initiatedEventId: 5 };
  const attributes = { workflowId: 'c', workflowType: { name: 'child' }, taskQueue: { name: 'q' }, workflowRunTimeout: { seconds: Long.fromNumber(30) } };
  answer = () => ({ runId: '' });
  assert.deepEqual(await history.startChildExecution({ namespaceId: 'ns-1', workflowId: 'c', attributes, parent, root: { workflowId: 'p', runId: 'pr' } }), { runId: '' }, 'an empty run id is still a run id');
  const sent = lastCall().request as { parent: unknown; parentPinnedVersion?: unknown; attributes: { workflowRunTimeout: { seconds: unknown } } };
  assert.deepEqual(sent.parent, parent);
  assert.equal('parentPinnedVersion' in sent, false);
  assert.ok(Long.isLong(sent.attributes.workflowRunTimeout.seconds));
  answer = () => ({ alreadyStarted: true });
  assert.deepEqual(await history.startChildExecution({ namespaceId: 'ns-1', workflowId: 'c', attributes, parent, root: { workflowId: 'p', runId: 'pr' }, parentPinnedVersion: { deploymentName: 'd', buildId: 'b' } }), { alreadyStarted: true });
  assert.deepEqual((lastCall().request as { parentPinnedVersion: unknown }).parentPinnedVersion, { deploymentName: 'd', buildId: 'b' });

  answer = () => undefined;
  const failure = { message: 'child failed' };
  for (const outcome of [{ status: 'completed' }, { status: 'failed', failure, retryState: 2 }, { status: 'canceled' }, { status: 'terminated' }, { status: 'timed-out', retryState: 3 }] as const) {
    await history.recordChildExecutionClosed({ namespaceId: 'ns-1', workflowId: 'p', runId: 'pr', initiatedEventId: 5, child: { workflowId: 'c', runId: 'cr' }, outcome });
    const got = (lastCall().request as { outcome: { status: string; failure?: { message: string } } }).outcome;
    assert.equal(got.status, outcome.status);
    if (outcome.status === 'failed') assert.equal(got.failure?.message, 'child failed');
    else assert.deepEqual(got, outcome);
  }

  answer = () => true;
  assert.equal(await history.deliverExternalSignal({ namespaceId: 'ns-1', workflowId: 't', runId: '', childWorkflowOnly: false, source: { workflowId: 's', runId: 'sr' }, initiatedEventId: 7, signal: { signalName: 'go' } }), true);
  answer = () => false;
  assert.equal(await history.deliverExternalCancel({ namespaceId: 'ns-1', workflowId: 't', runId: '', childWorkflowOnly: true, source: { workflowId: 's', runId: 'sr' }, initiatedEventId: 7, reason: 'r' }), false);

  answer = () => ({ runId: 'r1', started: true });
  await history.startScheduledWorkflow({ namespaceId: 'ns-1', workflowId: 'w', request: { workflowId: 'w' }, systemSearchAttributes: { TemporalScheduledById: { data: Buffer.from('"sched"') } } });
  const scheduled = lastCall().request as { systemSearchAttributes: Record<string, { data: Uint8Array }> };
  assert.deepEqual(Buffer.from(scheduled.systemSearchAttributes.TemporalScheduledById?.data ?? []), Buffer.from('"sched"'));
  await history.startScheduledWorkflow({ namespaceId: 'ns-1', workflowId: 'w', request: { workflowId: 'w' }, systemSearchAttributes: {} });
  assert.deepEqual((lastCall().request as { systemSearchAttributes: unknown }).systemSearchAttributes, {}, 'an empty map arrives as an empty record');

  answer = () => null;
  assert.equal(await history.currentExecution({ namespaceId: 'ns-1', workflowId: 'none' }), null);
  answer = () => ({ runId: 'r1', running: false, status: 2 });
  assert.deepEqual(await history.currentExecution({ namespaceId: 'ns-1', workflowId: 'w' }), { runId: 'r1', running: false, status: 2 });
});

test('matching views: descriptions, worker filters (recursive), counts, absent workers', async () => {
  answer = () => ({ waitingPollers: 2, backlogTasks: 7, pendingQueries: 0, oldestBacklogTime: 1_700_000_000_123, pollers: [{ identity: 'w1', lastAccessTime: 1_700_000_000_456 }] });
  const key = { namespaceId: 'ns-1', taskQueueName: 'orders', type: 'activity' as const, kind: 'normal' as const };
  assert.deepEqual(await matching.describeTaskQueue(key), { waitingPollers: 2, backlogTasks: 7, pendingQueries: 0, oldestBacklogTime: 1_700_000_000_123, pollers: [{ identity: 'w1', lastAccessTime: 1_700_000_000_456 }] });
  assert.deepEqual(lastCall().request, key);
  answer = () => ({ waitingPollers: 0, backlogTasks: 0, pendingQueries: 0, oldestBacklogTime: undefined, pollers: [] });
  assert.equal((await matching.describeTaskQueue(key)).oldestBacklogTime, undefined);

  const filter: WorkerFilter = {
    kind: 'or',
    operands: [
      { kind: 'and', operands: [{ kind: 'string', field: 'TaskQueue', op: 'in', values: ['a', 'b'] }, { kind: 'not', operand: { kind: 'time', field: 'HeartbeatTime', op: 'between', values: [1, 1_700_000_000_000] } }] },
      { kind: 'string', field: 'SdkName', op: 'startsWith', values: ['temporal'] },
    ],
  };
  answer = () => 4;
  assert.equal(await matching.countWorkers({ namespaceId: 'ns-1', filter }), 4);
  assert.deepEqual(lastCall().request, { namespaceId: 'ns-1', filter });
  answer = () => ({ workers: [{ workerInstanceKey: 'k1', taskQueue: 'orders' }], nextPageToken: '10' });
  const page = await matching.listWorkers({ namespaceId: 'ns-1', pageSize: 10 });
  assert.deepEqual(lastCall().request, { namespaceId: 'ns-1', pageSize: 10 });
  assert.equal(page.workers[0]?.workerInstanceKey, 'k1');
  assert.equal(page.nextPageToken, '10');
  answer = () => undefined;
  assert.equal(await matching.describeWorker({ namespaceId: 'ns-1', workerInstanceKey: 'gone' }), undefined);
  answer = () => true;
  const query = { workflowId: 'w', runId: 'r', queryId: 'q1', query: { queryType: 'state', queryArgs: { payloads: [{ data: Buffer.from('1') }] } } };
  assert.equal(await matching.dispatchQueryTask({ namespaceId: 'ns-1', taskQueueName: 'orders', kind: 'sticky', task: query, timeoutMs: 5_000 }), true);
  const sent = lastCall().request as { task: typeof query; timeoutMs: number };
  assert.equal(sent.timeoutMs, 5_000);
  assert.equal(sent.task.query.queryType, 'state');
  answer = () => 3;
  assert.equal(await matching.redirectBacklog({ namespaceId: 'ns-1', taskQueueName: 'orders', type: 'workflow' }), 3);
});

test('partitions: adds, polls, describes and redirects name their partition; a forwarded task is offered with its partitions and answers taken or not', async () => {
  answer = () => undefined;
  const add = { namespaceId: 'ns-1', taskQueueName: 'orders', workflowId: 'w', runId: 'r', scheduledEventId: 5, attempt: 2, partition: 3 };
  await matching.addActivityTask(add);
  assert.deepEqual(lastCall().request, add);
  await matching.addWorkflowTask({ namespaceId: 'ns-1', taskQueueName: 'orders', kind: 'normal', workflowId: 'w', runId: 'r', scheduledEventId: 5 });
  assert.equal((lastCall().request as { partition?: number }).partition, undefined, 'no partition named: none arrives');
  answer = () => null;
  const poll = { namespaceId: 'ns-1', namespaceName: 'default', taskQueueName: 'orders', kind: 'normal' as const, identity: 'worker-1', partition: 0, forwardedFrom: 2 };
  assert.equal(await matching.pollActivityTaskQueue(poll, { deadline: Date.now() + 5_000 }), null);
  assert.deepEqual(lastCall().request, poll);
  answer = () => ({ waitingPollers: 0, backlogTasks: 0, pendingQueries: 0, pollers: [] });
  await matching.describeTaskQueue({ namespaceId: 'ns-1', taskQueueName: 'orders', type: 'workflow', kind: 'normal', partition: 0 });
  assert.equal((lastCall().request as { partition?: number }).partition, 0, 'partition 0 is sent, not taken for absent');
  answer = () => 1;
  await matching.redirectBacklog({ namespaceId: 'ns-1', taskQueueName: 'orders', type: 'workflow', partition: 2 });
  assert.equal((lastCall().request as { partition?: number }).partition, 2);
  const offer = { namespaceId: 'ns-1', taskQueueName: 'orders', type: 'workflow' as const, kind: 'normal' as const, partition: 0, forwardedFrom: 3, task: { workflowId: 'w', runId: 'r', scheduledEventId: 7, attempt: 0, createdAt: 1_700_000_000_123 } };
  answer = () => true;
  assert.equal(await matching.offerForwardedTask(offer), true);
  assert.deepEqual(lastCall().request, offer);
  answer = () => false;
  assert.equal(await matching.offerForwardedTask(offer), false);
});

/** The error the client call fails with when the server's implementation throws `err`. */
async function thrownThrough(err: unknown): Promise<Error> {
  answer = () => {
    throw err;
  };
  const failed = await history.describeWorkflowExecution({ namespaceId: 'ns-1', request: {} }).then(
    () => assert.fail('the call should fail'),
    (e: unknown) => e as Error,
  );
  return failed;
}

test('domain errors arrive as the same class with the same message, detail and fields', async () => {
  const started = await thrownThrough(new WorkflowExecutionAlreadyStartedError('Workflow execution is already running. WorkflowId: w, RunId: r1.', 'req-9', 'r1'));
  assert.ok(started instanceof WorkflowExecutionAlreadyStartedError);
  assert.equal(started.message, 'Workflow execution is already running. WorkflowId: w, RunId: r1.');
  assert.deepEqual(started.detail, { type: 'WorkflowExecutionAlreadyStartedFailure', startRequestId: 'req-9', runId: 'r1' });
  assert.equal(started.runId, 'r1');
  assert.equal(started.code, 'ALREADY_EXISTS');
  assert.equal(started.name, 'WorkflowExecutionAlreadyStartedError');

  const ns = await thrownThrough(new NamespaceNotFoundError('nope'));
  assert.ok(ns instanceof NamespaceNotFoundError && ns instanceof HourglassError);
  assert.equal(ns.namespace, 'nope');
  assert.deepEqual(ns.detail, { type: 'NamespaceNotFoundFailure', namespace: 'nope' });

  const shard = await thrownThrough(new ShardOwnershipLostError(3, 7, 8));
  assert.ok(shard instanceof ShardOwnershipLostError);
  assert.deepEqual([shard.shardId, shard.expectedRangeId, shard.actualRangeId], [3, 7, 8]);

  const limited = await thrownThrough(new ResourceExhaustedError('namespace rate limit exceeded', { type: 'ResourceExhaustedFailure', cause: 1, scope: 1 }));
  assert.ok(limited instanceof ResourceExhaustedError);
  assert.deepEqual(limited.detail, { type: 'ResourceExhaustedFailure', cause: 1, scope: 1 });

  for (const e of [new NotFoundError('workflow not found'), new InvalidArgumentError('workflowId must not be empty')]) {
    const got = await thrownThrough(e);
    assert.equal(got.constructor, e.constructor);
    assert.equal(got.message, e.message);
  }

  const multi = await thrownThrough(new MultiOperationExecutionError(0, 2, new WorkflowExecutionAlreadyStartedError('running', 'req', 'r2')));
  assert.ok(multi instanceof MultiOperationExecutionError);
  assert.equal(multi.code, 'ALREADY_EXISTS');
  assert.ok(multi.cause instanceof WorkflowExecutionAlreadyStartedError, 'the cause keeps its class');
  assert.deepEqual(multi.detail, new MultiOperationExecutionError(0, 2, new WorkflowExecutionAlreadyStartedError('running', 'req', 'r2')).detail);

  const failure = temporal.api.failure.v1.Failure.decode(
    temporal.api.failure.v1.Failure.encode({ message: 'boom', encodedAttributes: { data: Buffer.from('attrs') }, applicationFailureInfo: { type: 'Err' } }).finish(),
  );
  const queryFailed = await thrownThrough(new InvalidArgumentError('query failed', { type: 'QueryFailedFailure', failure }));
  const carried = (queryFailed as HourglassError).detail as { failure: typeof failure };
  assert.ok(Buffer.isBuffer(carried.failure.encodedAttributes?.data), 'bytes inside a detail come back as bytes');
  assert.equal(temporal.api.failure.v1.Failure.encode(carried.failure).finish().length, temporal.api.failure.v1.Failure.encode(failure).finish().length);

  // A class this side does not know (another package's) arrives as its nearest known ancestor.
  class AttributeTypeError extends InvalidArgumentError {}
  const unknown = await thrownThrough(new AttributeTypeError('search attribute CustomIntField must be an Int, got "x"'));
  assert.ok(unknown instanceof InvalidArgumentError && !(unknown instanceof AttributeTypeError));
  assert.equal((unknown as InvalidArgumentError).code, 'INVALID_ARGUMENT');
  assert.equal(unknown.name, 'AttributeTypeError');
  assert.equal(unknown.message, 'search attribute CustomIntField must be an Int, got "x"');

  const plain = await thrownThrough(new TypeError('cannot read x of undefined'));
  assert.ok(plain instanceof TypeError);
  assert.equal(plain.message, 'cannot read x of undefined');
});

test('an UNAVAILABLE domain error (sticky worker gone) is not retried and keeps its class', async () => {
  const before = calls.length;
  answer = () => {
    throw new StickyWorkerUnavailableError('sticky queue has no poller');
  };
  // shutdownStickyQueue is idempotent (retried on transport failures), yet a domain error is final.
  const err = await matching.shutdownStickyQueue({ namespaceId: 'ns-1', stickyQueueName: 'sticky-1' }).then(() => assert.fail('should fail'), (e: unknown) => e);
  assert.ok(err instanceof StickyWorkerUnavailableError);
  assert.equal(calls.length - before, 1);
});

test("the caller's deadline reaches the implementation; none stays none", async () => {
  answer = () => ({});
  const deadline = Date.now() + 12_345;
  await history.describeWorkflowExecution({ namespaceId: 'ns-1', request: {} }, { deadline });
  assert.equal(lastCall().call?.deadline, deadline);
  await history.describeWorkflowExecution({ namespaceId: 'ns-1', request: {} });
  assert.equal(lastCall().call?.deadline, 0);
});

/** An answer that waits until the call's signal aborts, noting that it did. */
function untilAborted(seen: { aborted: boolean }): Answer {
  return (_m, _r, call) =>
    new Promise((_resolve, reject) => {
      call?.signal?.addEventListener('abort', () => {
        seen.aborted = true;
        reject(new CancelledError('aborted'));
      });
    });
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 3_000;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('cancelling the caller cancels the call and aborts the implementation', async () => {
  const seen = { aborted: false };
  answer = untilAborted(seen);
  const controller = new AbortController();
  const pending = matching.pollActivityTaskQueue(
    { namespaceId: 'ns-1', namespaceName: 'default', taskQueueName: 'orders', kind: 'normal', identity: 'w' },
    { deadline: Date.now() + 30_000, signal: controller.signal },
  );
  await eventually(() => lastCall().method === 'pollActivityTaskQueue', 'the poll reaches the server');
  controller.abort();
  await assert.rejects(pending, CancelledError);
  await eventually(() => seen.aborted, "the server aborts the implementation's signal");
});

test('a call past its deadline fails with DEADLINE_EXCEEDED and the implementation is aborted', async () => {
  const seen = { aborted: false };
  answer = untilAborted(seen);
  const started = Date.now();
  await assert.rejects(history.queryWorkflow({ namespaceId: 'ns-1', request: {} }, { deadline: Date.now() + 200 }), DeadlineExceededError);
  assert.ok(Date.now() - started < 2_000, 'fails at the deadline, not later');
  await eventually(() => seen.aborted, "the server aborts the implementation's signal");
});

test('idempotent calls are retried while the server is down; others fail at once with UNAVAILABLE', async () => {
  // A port that was free: nothing listens there until the server below starts.
  const probe = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => probe.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  await new Promise<void>((resolve) => probe.tryShutdown(() => resolve()));
  const client = new MatchingClient(`127.0.0.1:${port}`);
  const late = new grpc.Server();
  const lateCalls: Call[] = [];
  try {
    await assert.rejects(client.addWorkflowTask({ namespaceId: 'ns-1', taskQueueName: 'q', kind: 'normal', workflowId: 'w', runId: 'r', scheduledEventId: 2 }), UnavailableError);
    addMatchingService(late, recorder<MatchingService>(lateCalls, () => () => ({ waitingPollers: 1, backlogTasks: 0, pendingQueries: 0, pollers: [] })));
    const described = client.describeTaskQueue({ namespaceId: 'ns-1', taskQueueName: 'q', type: 'workflow', kind: 'normal' });
    setTimeout(() => late.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), () => undefined), 300);
    assert.equal((await described).waitingPollers, 1);
    assert.equal(lateCalls.length, 1);
  } finally {
    client.close();
    await new Promise<void>((resolve) => late.tryShutdown(() => resolve()));
  }
});
