// Standalone activities (client.activity of the 1.24 SDK: StartActivityExecution, PollActivityExecution,
// DescribeActivityExecution, RequestCancel/Terminate, List/Count): started without a workflow, run
// by the official worker through the same task queues as workflow activities, retried by their
// retry policy and timed out by persisted timers, canceled through the worker's heartbeat, listed
// apart from workflows, and still exactly once after a SIGKILL of the server.
import assert from 'node:assert/strict';
import { CancelledFailure, CompleteAsyncError, Context } from '@temporalio/activity';
import { ActivityExecutionAlreadyStartedError, ActivityExecutionFailedError, type ActivityHandle } from '@temporalio/client';
import { ApplicationFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { status as grpcStatus } from '@grpc/grpc-js';
import Long from 'long';
import { NAMESPACE, conformanceFile, eventually, uniqueName, type RunningWorker } from '../harness';

const file = conformanceFile({ name: 'standalone-activities', worker: false });

/** What this file's activities did, by activity id. */
const runs = new Map<string, number[]>();
const sawCancel = new Set<string>();
const asyncTokens = new Map<string, Uint8Array>();
/** The gate `gated` waits for: closed until the test opens it. */
let gateOpen = false;
const gateWaiters: (() => void)[] = [];
function openGate(): void {
  gateOpen = true;
  for (const resolve of gateWaiters.splice(0)) resolve();
}

function record(): { id: string; attempt: number } {
  const info = Context.current().info;
  const list = runs.get(info.activityId) ?? [];
  list.push(info.attempt);
  runs.set(info.activityId, list);
  return { id: info.activityId, attempt: info.attempt };
}

const activities = {
  async echo(text: string): Promise<string> {
    record();
    return `echo:${text}`;
  },
  /** Fails its first two attempts. */
  async flaky(): Promise<number> {
    const { attempt } = record();
    if (attempt < 3) throw ApplicationFailure.retryable(`attempt ${attempt} fails`, 'Flaky');
    return attempt;
  },
  /** Its first attempt outlives its start-to-close timeout; the next one answers at once. */
  async slowFirst(): Promise<number> {
    const { attempt } = record();
    if (attempt === 1) await new Promise((resolve) => setTimeout(resolve, 4000));
    return attempt;
  },
  /** Its first attempt stops heartbeating (a heartbeat timeout); the next one answers at once. */
  async silentFirst(): Promise<number> {
    const { attempt } = record();
    if (attempt === 1) {
      Context.current().heartbeat('once');
      await new Promise((resolve) => setTimeout(resolve, 4000));
    }
    return attempt;
  },
  /** Heartbeats until canceled. */
  async heartbeatLoop(): Promise<string> {
    const { id } = record();
    const ctx = Context.current();
    try {
      for (;;) {
        ctx.heartbeat('beat');
        await ctx.sleep(100);
      }
    } catch (err) {
      if (err instanceof CancelledFailure) sawCancel.add(id);
      throw err;
    }
  },
  /** Completed later by the client, by id or by its task token (kept in `asyncTokens`). */
  async completeLater(): Promise<string> {
    const { id } = record();
    asyncTokens.set(id, Context.current().info.taskToken);
    throw new CompleteAsyncError();
  },
  /** Waits until the test opens the gate. */
  async gated(): Promise<string> {
    record();
    if (!gateOpen) await new Promise<void>((resolve) => gateWaiters.push(resolve));
    return 'through';
  },
};

let worker: RunningWorker | undefined;
const taskQueue = uniqueName('tq-standalone');

/** The file's worker, with this file's activities (shut down with the file's environment). */
async function ensureWorker(): Promise<void> {
  worker ??= await file.env.startExtraWorker({ taskQueue, activities });
}

function grpcCode(err: unknown): number | undefined {
  const cause = (err as { cause?: { code?: number } }).cause;
  return (err as { code?: number }).code ?? cause?.code;
}

const FAST_RETRY = { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 5 };

file.test('an activity started with client.activity.start runs on the official worker and result() returns its value', async (_t, env) => {
  await ensureWorker();
  const id = uniqueName('sa-echo');
  const handle = await env.client.activity.start('echo', { id, taskQueue, startToCloseTimeout: '10s', args: ['hi'] });
  assert.ok(handle.runId, 'start returns the run id');
  assert.equal(await handle.result(), 'echo:hi');
  assert.deepEqual(runs.get(id), [1]);
  const described = await env.client.activity.getHandle(id).describe({ includeOutcome: true, includeInput: true });
  assert.equal(described.status, 'COMPLETED');
  assert.equal(described.activityRunId, handle.runId);
  assert.equal(described.activityType, 'echo');
  assert.equal(described.attempt, 1);
  assert.deepEqual(await described.getInput(), ['hi']);
  assert.equal(await described.getResult(), 'echo:hi');
  assert.equal(await env.client.activity.execute('echo', { id: uniqueName('sa-exec'), taskQueue, scheduleToCloseTimeout: '10s', args: ['again'] }), 'echo:again');
});

file.test('an activity that fails twice is retried by its retry policy and succeeds on attempt 3, visible in describe', async (_t, env) => {
  await ensureWorker();
  const id = uniqueName('sa-flaky');
  const handle = await env.client.activity.start('flaky', { id, taskQueue, startToCloseTimeout: '10s', retry: FAST_RETRY });
  assert.equal(await handle.result(), 3);
  assert.deepEqual(runs.get(id), [1, 2, 3]);
  const described = await handle.describe({ includeLastFailure: true });
  assert.equal(described.attempt, 3);
  assert.equal(described.status, 'COMPLETED');
  const last = await described.getLastFailure();
  assert.match(String(last?.message), /attempt 2 fails/);

  // Out of attempts: the outcome is the last failure.
  const failing = await env.client.activity.start('flaky', { id: uniqueName('sa-flaky-out'), taskQueue, startToCloseTimeout: '10s', retry: { ...FAST_RETRY, maximumAttempts: 2 } });
  const err = await failing.result().then(
    () => assert.fail('the activity ran out of attempts'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ActivityExecutionFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  assert.match(err.cause.message, /attempt 2 fails/);
  assert.equal((await failing.describe()).status, 'FAILED');
});

file.test('a start-to-close timeout and a heartbeat timeout each lead to a retry that succeeds', async (_t, env) => {
  await ensureWorker();
  const slowId = uniqueName('sa-slow');
  const slow = await env.client.activity.start('slowFirst', { id: slowId, taskQueue, startToCloseTimeout: '1s', retry: FAST_RETRY });
  const silentId = uniqueName('sa-silent');
  const silent = await env.client.activity.start('silentFirst', { id: silentId, taskQueue, startToCloseTimeout: '30s', heartbeatTimeout: '1s', retry: FAST_RETRY });
  assert.equal(await slow.result(), 2);
  assert.equal(await silent.result(), 2);
  const slowFailure = await (await slow.describe({ includeLastFailure: true })).getLastFailure();
  assert.ok(slowFailure instanceof TimeoutFailure, String(slowFailure));
  const silentFailure = await (await silent.describe({ includeLastFailure: true })).getLastFailure();
  assert.ok(silentFailure instanceof TimeoutFailure, String(silentFailure));
  assert.deepEqual(runs.get(slowId)?.slice(0, 2), [1, 2]);

  // No worker on the queue: the schedule-to-close timeout closes it (a persisted timer, no retry).
  const unpolled = await env.client.activity.start('echo', { id: uniqueName('sa-unpolled'), taskQueue: uniqueName('tq-nobody'), scheduleToCloseTimeout: '1s', args: ['x'] });
  const err = await unpolled.result().then(
    () => assert.fail('nobody ran it'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ActivityExecutionFailedError && err.cause instanceof TimeoutFailure, String(err));
  assert.equal((await unpolled.describe()).status, 'TIMED_OUT');
});

file.test('cancel reaches a heartbeating activity through its heartbeat; an activity no worker took is canceled at once', async (_t, env) => {
  await ensureWorker();
  const id = uniqueName('sa-cancel');
  const handle = await env.client.activity.start('heartbeatLoop', { id, taskQueue, startToCloseTimeout: '60s', heartbeatTimeout: '5s' });
  await eventually(async () => (await handle.describe()).runState === 'STARTED', { timeoutMs: 10_000, description: 'the worker took the activity' });
  await handle.cancel('enough');
  assert.equal((await handle.describe()).runState, 'CANCEL_REQUESTED');
  // A second request (another request id) is refused, as Temporal does.
  await assert.rejects(handle.cancel('twice'), (e: unknown) => grpcCode(e) === grpcStatus.FAILED_PRECONDITION);
  const err = await handle.result().then(
    () => assert.fail('canceled'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ActivityExecutionFailedError && err.cause instanceof CancelledFailure, String(err));
  assert.ok(sawCancel.has(id), 'the activity saw its cancellation');
  const described = await handle.describe();
  assert.equal(described.status, 'CANCELED');
  assert.equal(described.canceledReason, 'enough');

  const queued = await env.client.activity.start('echo', { id: uniqueName('sa-cancel-queued'), taskQueue: uniqueName('tq-nobody'), startToCloseTimeout: '10s' });
  await queued.cancel('not needed');
  assert.equal((await queued.describe()).status, 'CANCELED');
});

file.test('terminate closes a running activity at once and the worker cannot complete it afterwards', async (_t, env) => {
  await ensureWorker();
  const id = uniqueName('sa-terminate');
  const handle = await env.client.activity.start('heartbeatLoop', { id, taskQueue, startToCloseTimeout: '60s', heartbeatTimeout: '5s' });
  await eventually(async () => (await handle.describe()).runState === 'STARTED', { timeoutMs: 10_000, description: 'the worker took the activity' });
  await handle.terminate('stop now');
  const described = await handle.describe({ includeOutcome: true });
  assert.equal(described.status, 'TERMINATED');
  const failure = await described.getOutcomeFailure();
  assert.ok(failure instanceof TerminatedFailure, String(failure));
  assert.match(failure.message, /stop now/);
  await assert.rejects(handle.result(), (e: unknown) => e instanceof ActivityExecutionFailedError && e.cause instanceof TerminatedFailure);
  // Terminating again, or canceling, a closed activity is refused.
  await assert.rejects(handle.cancel('again'), (e: unknown) => grpcCode(e) === grpcStatus.FAILED_PRECONDITION);
});

file.test('an activity completed asynchronously: heartbeat and complete by activity id (no workflow id), fail by task token', async (_t, env) => {
  await ensureWorker();
  const id = uniqueName('sa-async');
  const handle = await env.client.activity.start('completeLater', { id, taskQueue, startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });
  await eventually(() => asyncTokens.has(id), { timeoutMs: 10_000, description: 'the worker took the activity' });
  await env.client.activity.heartbeat({ activityId: id }, 'progress');
  const described = await handle.describe({ includeHeartbeatDetails: true });
  assert.equal(await described.getHeartbeatDetails(), 'progress');
  await env.client.activity.complete({ activityId: id, runId: handle.runId }, 'async-done');
  assert.equal(await handle.result(), 'async-done');
  await assert.rejects(env.client.activity.complete({ activityId: id }, 'again'), /not found/i);

  const failingId = uniqueName('sa-async-fail');
  const failing = await env.client.activity.start('completeLater', { id: failingId, taskQueue, startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });
  await eventually(() => asyncTokens.has(failingId), { timeoutMs: 10_000, description: 'the worker took the activity' });
  await env.client.activity.fail(asyncTokens.get(failingId) as Uint8Array, ApplicationFailure.nonRetryable('given up', 'GivenUp'));
  await assert.rejects(failing.result(), (e: unknown) => e instanceof ActivityExecutionFailedError && e.cause instanceof ApplicationFailure && e.cause.type === 'GivenUp');
});

file.test('list and count find the activities by query, never workflows; ListWorkflowExecutions never finds activities', async (_t, env) => {
  await ensureWorker();
  const type = 'echo';
  const ids = [uniqueName('sa-list'), uniqueName('sa-list')];
  for (const id of ids) await env.client.activity.execute(type, { id, taskQueue, startToCloseTimeout: '10s', args: [id] });
  const workflowId = uniqueName('sa-list-wf');
  const workflowQueue = uniqueName('tq-nobody');
  await env.client.workflow.start('noSuchWorkflow', { workflowId, taskQueue: workflowQueue });
  const query = `ActivityId = '${ids[0]}' OR ActivityId = '${ids[1]}'`;
  await eventually(async () => (await env.client.activity.count(query)).count === 2, { timeoutMs: 10_000, description: 'both activities are indexed' });
  const listed = [];
  for await (const a of env.client.activity.list(query)) listed.push(a);
  assert.deepEqual(listed.map((a) => a.activityId).sort(), [...ids].sort());
  for (const a of listed) {
    assert.equal(a.activityType, type);
    assert.equal(a.status, 'COMPLETED');
    assert.equal(a.taskQueue, taskQueue);
  }
  assert.equal((await env.client.activity.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed' AND ActivityType = 'echo'`)).count >= 2, true);
  // No workflow among activities, no activity among workflows.
  assert.equal((await env.client.activity.count(`WorkflowId = '${workflowId}'`)).count, 0);
  await eventually(async () => (await env.client.workflow.count(`WorkflowId = '${workflowId}'`)).count === 1, { timeoutMs: 10_000, description: 'the workflow is indexed' });
  assert.equal((await env.client.workflow.count(`WorkflowId = '${ids[0]}' OR WorkflowId = '${ids[1]}'`)).count, 0);
  const page = await env.client.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query: `TaskQueue = '${taskQueue}' OR TaskQueue = '${workflowQueue}'` });
  assert.deepEqual(
    (page.executions ?? []).map((e) => e.execution?.workflowId),
    [workflowId],
  );
  await env.client.workflow.getHandle(workflowId).terminate();
});

file.test('a second start of a running id is refused with the SDK\'s already-started error; the same request id is answered again', async (_t, env) => {
  const id = uniqueName('sa-dup');
  const queue = uniqueName('tq-nobody');
  const first = await env.client.activity.start('echo', { id, taskQueue: queue, startToCloseTimeout: '10s' });
  const err = await env.client.activity.start('echo', { id, taskQueue: queue, startToCloseTimeout: '10s' }).then(
    () => assert.fail('a second start of a running id must fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ActivityExecutionAlreadyStartedError, String(err));
  assert.equal(err.runId, first.runId);
  const request = { namespace: NAMESPACE, activityId: id, activityType: { name: 'echo' }, taskQueue: { name: queue }, startToCloseTimeout: { seconds: Long.fromNumber(10) }, requestId: 'same-request' };
  const conflicting = uniqueName('sa-dup-req');
  const a = await env.client.workflowService.startActivityExecution({ ...request, activityId: conflicting });
  const b = await env.client.workflowService.startActivityExecution({ ...request, activityId: conflicting });
  assert.equal(a.runId, b.runId, 'a retried request is answered with the run it started');
  // USE_EXISTING answers the running run.
  const existing = await env.client.workflowService.startActivityExecution({ ...request, requestId: 'other', idConflictPolicy: 2 });
  assert.equal(existing.runId, first.runId);
  assert.equal(existing.started, false);
  // After it closed, the default reuse policy allows a new run.
  await first.terminate('done');
  const second = await env.client.activity.start('echo', { id, taskQueue: queue, startToCloseTimeout: '10s' });
  assert.notEqual(second.runId, first.runId);
  await second.terminate('done');
});

file.test('bad input is refused with INVALID_ARGUMENT or NOT_FOUND and a short message, and creates nothing', async (_t, env) => {
  const svc = env.client.workflowService;
  const base = { namespace: NAMESPACE, activityId: uniqueName('sa-bad'), activityType: { name: 'echo' }, taskQueue: { name: 'q' }, startToCloseTimeout: { seconds: Long.fromNumber(10) }, requestId: 'r' };
  const cases: [string, object, number, RegExp][] = [
    ['empty activity id', { ...base, activityId: '' }, grpcStatus.INVALID_ARGUMENT, /activityId/],
    ['missing task queue', { ...base, taskQueue: undefined }, grpcStatus.INVALID_ARGUMENT, /taskQueue/],
    ['missing activity type', { ...base, activityType: undefined }, grpcStatus.INVALID_ARGUMENT, /activityType/],
    ['no timeout', { ...base, startToCloseTimeout: undefined }, grpcStatus.INVALID_ARGUMENT, /Timeout/],
    ['unknown namespace', { ...base, namespace: uniqueName('no-such-ns') }, grpcStatus.NOT_FOUND, /namespace/i],
    ['bad retry policy', { ...base, retryPolicy: { backoffCoefficient: 0.5 } }, grpcStatus.INVALID_ARGUMENT, /backoffCoefficient/],
  ];
  for (const [what, request, code, message] of cases) {
    await assert.rejects(svc.startActivityExecution(request), (e: { code?: number; details?: string }) => {
      assert.equal(e.code, code, `${what}: ${e.details}`);
      assert.match(String(e.details), message, what);
      assert.ok(String(e.details).length < 300, `${what}: a short message`);
      return true;
    });
  }
  await assert.rejects(env.client.activity.getHandle(base.activityId).describe(), (e: unknown) => /not found/i.test(String(e)));
  await assert.rejects(svc.describeActivityExecution({ namespace: NAMESPACE, activityId: '' }), (e: { code?: number }) => e.code === grpcStatus.INVALID_ARGUMENT);
});

file.test('a SIGKILL of the server while activities are pending or in retry backoff: after a restart each completes exactly once', async (_t, env) => {
  // Stop the worker: nothing polls while the server dies.
  const queue = uniqueName('tq-crash');
  const pendingId = uniqueName('sa-crash-pending');
  const pending = await env.client.activity.start('echo', { id: pendingId, taskQueue: queue, startToCloseTimeout: '10s', args: ['survived'] });
  // A gated activity on the file's worker is running when the server dies; its worker completes it after the restart.
  await ensureWorker();
  const gatedId = uniqueName('sa-crash-gated');
  const gated: ActivityHandle = await env.client.activity.start('gated', { id: gatedId, taskQueue, startToCloseTimeout: '5s', retry: FAST_RETRY });
  // One in its retry backoff (a persisted timer) when the server dies.
  const backoffId = uniqueName('sa-crash-backoff');
  const backoff = await env.client.activity.start('flaky', { id: backoffId, taskQueue, startToCloseTimeout: '10s', retry: { initialInterval: '3s', backoffCoefficient: 1, maximumAttempts: 5 } });
  await eventually(async () => (runs.get(gatedId)?.length ?? 0) >= 1, { timeoutMs: 10_000, description: 'the gated activity started' });
  await eventually(async () => (await backoff.describe()).attempt === 2, { timeoutMs: 10_000, description: 'the flaky activity failed once' });
  await env.server.kill();
  await env.server.restart();
  openGate();
  await env.startExtraWorker({ taskQueue: queue, activities });
  {
    assert.equal(await pending.result(), 'echo:survived');
    assert.deepEqual(runs.get(pendingId), [1], 'ran exactly once');
    const described = await env.client.activity.getHandle(pendingId).describe();
    assert.equal(described.status, 'COMPLETED');
    assert.equal(described.attempt, 1);
    // The gated one completes: either its first attempt's answer got through, or its start-to-close timer (persisted) retried it.
    assert.equal(await gated.result(), 'through');
    const gatedRuns = runs.get(gatedId) ?? [];
    assert.equal((await gated.describe()).attempt, gatedRuns[gatedRuns.length - 1]);
    assert.equal(await backoff.result(), 3);
    assert.deepEqual(runs.get(backoffId), [1, 2, 3], 'each attempt ran once, the retry timers survived the restart');
  }
}, { timeoutMs: 90_000 });
