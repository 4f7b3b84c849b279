// Round trips the server saves, as Temporal does: eager workflow start (the first workflow task of a
// new run comes back in StartWorkflowExecution's response, started in the same commit, never through
// matching) and the next workflow task inline in RespondWorkflowTaskCompleted's response (events that
// arrived while a sticky worker ran its task are handed straight back to it). Driven by hand over the
// official client's raw calls, to see exactly what the server returns, and with the official SDK:
// its client sharing a NativeConnection with a worker asks for eager start, and its worker asks for
// inline tasks whenever it caches the run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, type Client as ClientType } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { EventType, NAMESPACE, conformanceFile, eventually, uniqueName, type HistoryEvent } from '../harness';
import { echoWorkflow, roundTripTick, ticksAfterLocalActivity } from '../workflows';

const OFF_NAMESPACE = 'eager-start-off';
const file = conformanceFile({
  name: 'eager-start-inline',
  server: {
    extraArgs: ['-n', OFF_NAMESPACE],
    settings: { 'history.enableEagerWorkflowStart': [{ value: false, constraints: { namespace: OFF_NAMESPACE } }] },
  },
});

const CommandType = temporal.api.enums.v1.CommandType;
type PollResponse = temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse;

const complete = { commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} };

function typesOf(events: HistoryEvent[] | null | undefined): string[] {
  return (events ?? []).map((e) => EventType[e.eventType ?? 0] ?? String(e.eventType));
}

async function start(client: ClientType, namespace: string, taskQueue: string, options: { eager?: boolean; requestId?: string; workflowId?: string; taskTimeoutSeconds?: number } = {}) {
  const workflowId = options.workflowId ?? uniqueName('round-trip');
  const response = await client.workflowService.startWorkflowExecution({
    namespace,
    workflowId,
    workflowType: { name: 'byHand' },
    taskQueue: { name: taskQueue },
    requestId: options.requestId ?? randomUUID(),
    identity: 'starter',
    requestEagerExecution: options.eager ?? false,
    ...(options.taskTimeoutSeconds ? { workflowTaskTimeout: { seconds: Long.fromNumber(options.taskTimeoutSeconds) } } : {}),
  });
  return { workflowId, response };
}

async function poll(client: ClientType, namespace: string, queue: string, kind = temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL): Promise<PollResponse> {
  const task = await client.workflowService.pollWorkflowTaskQueue({ namespace, taskQueue: { name: queue, kind }, identity: 'poller' });
  assert.ok(task.taskToken && task.taskToken.length > 0, `a workflow task on ${queue}`);
  return task;
}

async function statusOf(client: ClientType, namespace: string, workflowId: string): Promise<number> {
  const d = await client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } });
  return d.workflowExecutionInfo?.status ?? 0;
}

const COMPLETED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;

file.test('an eager start returns the first workflow task, started, with the full history; it never reaches matching', async (_t, env) => {
  const queue = uniqueName('eager-start-q');
  const requestId = randomUUID();
  const { workflowId, response } = await start(env.client, NAMESPACE, queue, { eager: true, requestId });
  assert.equal(response.started, true);
  const task = response.eagerWorkflowTask;
  assert.ok(task?.taskToken && task.taskToken.length > 0, 'an eager workflow task');
  assert.equal(task.workflowExecution?.workflowId, workflowId);
  assert.equal(task.workflowExecution?.runId, response.runId);
  assert.equal(task.workflowType?.name, 'byHand');
  assert.deepEqual(typesOf(task.history?.events), ['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_TASK_STARTED']);
  assert.equal(Number(task.startedEventId), 3);
  assert.equal(task.attempt, 1);
  assert.equal(task.history?.events?.[2]?.workflowTaskStartedEventAttributes?.requestId, requestId);
  // Nothing waits in matching: the queue's backlog is empty.
  const described = await env.client.workflowService.describeTaskQueue({
    namespace: NAMESPACE,
    taskQueue: { name: queue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    apiMode: temporal.api.enums.v1.DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
    reportStats: true,
  });
  const stats = described.versionsInfo?.['']?.typesInfo?.[temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW]?.stats;
  assert.equal(Number(stats?.approximateBacklogCount ?? 0), 0);
  // The same start again (a client retry) answers the run, without a second task.
  const again = await start(env.client, NAMESPACE, queue, { eager: true, requestId, workflowId });
  assert.equal(again.response.runId, response.runId);
  assert.equal(again.response.eagerWorkflowTask, null);
  await env.client.workflowService.respondWorkflowTaskCompleted({ namespace: NAMESPACE, taskToken: task.taskToken, commands: [complete], identity: 'eager' });
  assert.equal(await statusOf(env.client, NAMESPACE, workflowId), COMPLETED);
});

file.test('without the request, or in a namespace with eager start off, the first task goes through matching', async (_t, env) => {
  const queue = uniqueName('eager-none-q');
  const plain = await start(env.client, NAMESPACE, queue);
  assert.equal(plain.response.eagerWorkflowTask, null);
  assert.equal((await poll(env.client, NAMESPACE, queue)).workflowExecution?.workflowId, plain.workflowId);
  const off = await start(env.client, OFF_NAMESPACE, queue, { eager: true });
  assert.equal(off.response.eagerWorkflowTask, null);
  assert.equal((await poll(env.client, OFF_NAMESPACE, queue)).workflowExecution?.workflowId, off.workflowId);
});

file.test('an eager task whose response is lost times out and its next attempt comes through matching', async (_t, env) => {
  const queue = uniqueName('eager-lost-q');
  const { workflowId, response } = await start(env.client, NAMESPACE, queue, { eager: true, taskTimeoutSeconds: 1 });
  assert.ok(response.eagerWorkflowTask?.taskToken, 'handed out eagerly');
  // Dropped, as if the worker died with it.
  const retried = await poll(env.client, NAMESPACE, queue);
  assert.equal(retried.workflowExecution?.workflowId, workflowId);
  assert.equal(retried.attempt, 2);
  await assert.rejects(
    env.client.workflowService.respondWorkflowTaskCompleted({ namespace: NAMESPACE, taskToken: response.eagerWorkflowTask.taskToken, commands: [complete], identity: 'late' }),
    /not found|NOT_FOUND|5 /i,
  );
  await env.client.workflowService.respondWorkflowTaskCompleted({ namespace: NAMESPACE, taskToken: retried.taskToken, commands: [complete], identity: 'poller' });
  assert.equal(await statusOf(env.client, NAMESPACE, workflowId), COMPLETED);
});

/** Starts a run on `queue`, takes its first task and signals the run while that task is started (the signal is buffered). */
async function taskWithBufferedSignal(client: ClientType, queue: string): Promise<{ workflowId: string; task: PollResponse }> {
  const { workflowId } = await start(client, NAMESPACE, queue);
  const task = await poll(client, NAMESPACE, queue);
  await client.workflowService.signalWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId }, signalName: 'tick', identity: 'signaller', requestId: randomUUID() });
  return { workflowId, task };
}

function completion(task: PollResponse, sticky: string | undefined, returnNew: boolean) {
  return {
    namespace: NAMESPACE,
    taskToken: task.taskToken,
    commands: [],
    identity: 'sticky-worker',
    returnNewWorkflowTask: returnNew,
    ...(sticky ? { stickyAttributes: { workerTaskQueue: { name: sticky, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY }, scheduleToStartTimeout: { seconds: Long.fromNumber(5) } } } : {}),
  };
}

file.test('events that arrived during a sticky worker\'s task come back inline in the completion, as a started task with partial history', async (_t, env) => {
  const queue = uniqueName('inline-q');
  const { workflowId, task } = await taskWithBufferedSignal(env.client, queue);
  const response = await env.client.workflowService.respondWorkflowTaskCompleted(completion(task, uniqueName('sticky'), true));
  const next = response.workflowTask;
  assert.ok(next?.taskToken && next.taskToken.length > 0, 'the next workflow task inline');
  assert.equal(next.workflowExecution?.workflowId, workflowId);
  assert.equal(Number(next.previousStartedEventId), 3);
  assert.equal(Number(next.startedEventId), 7);
  // Partial history: what the worker has not seen since its last task.
  assert.deepEqual(typesOf(next.history?.events), [
    'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
    'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
    'EVENT_TYPE_WORKFLOW_TASK_STARTED',
  ]);
  assert.equal(next.history?.events?.[1]?.workflowExecutionSignaledEventAttributes?.signalName, 'tick');
  await env.client.workflowService.respondWorkflowTaskCompleted({ namespace: NAMESPACE, taskToken: next.taskToken, commands: [complete], identity: 'sticky-worker' });
  assert.equal(await statusOf(env.client, NAMESPACE, workflowId), COMPLETED);
});

file.test('no inline task unless asked, without a sticky queue, or with nothing new to deliver', async (_t, env) => {
  // Not asked: the next task goes to the sticky queue.
  const queue = uniqueName('inline-no-q');
  const sticky = uniqueName('sticky');
  const notAsked = await taskWithBufferedSignal(env.client, queue);
  // The sticky worker polls its queue (matching sends a sticky task nobody polls to the normal queue).
  const fromSticky = poll(env.client, NAMESPACE, sticky, temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const r1 = await env.client.workflowService.respondWorkflowTaskCompleted(completion(notAsked.task, sticky, false));
  assert.equal(r1.workflowTask, null);
  assert.equal((await fromSticky).workflowExecution?.workflowId, notAsked.workflowId);
  // No sticky queue: the worker does not cache the run, so a partial history would be useless to it.
  const noSticky = await taskWithBufferedSignal(env.client, queue);
  const r2 = await env.client.workflowService.respondWorkflowTaskCompleted(completion(noSticky.task, undefined, true));
  assert.equal(r2.workflowTask, null);
  assert.equal((await poll(env.client, NAMESPACE, queue)).workflowExecution?.workflowId, noSticky.workflowId);
  // Nothing new: no task at all.
  const { workflowId } = await start(env.client, NAMESPACE, queue);
  const quiet = await poll(env.client, NAMESPACE, queue);
  const r3 = await env.client.workflowService.respondWorkflowTaskCompleted(completion(quiet, uniqueName('sticky'), true));
  assert.equal(r3.workflowTask, null);
  const history = await env.client.workflowService.getWorkflowExecutionHistory({ namespace: NAMESPACE, execution: { workflowId } });
  assert.equal(typesOf(history.history?.events).at(-1), 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
});

file.test("the official SDK's client, sharing a NativeConnection with a worker, starts a workflow eagerly", async (_t, env) => {
  const client = new Client({ connection: env.nativeConnection, namespace: NAMESPACE });
  const handle = await client.workflow.start(echoWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('sdk-eager'), args: ['eager'], requestEagerStart: true });
  assert.equal(handle.eagerlyStarted, true);
  assert.equal(await handle.result(), 'eager');
});

file.test("the official SDK's worker takes the next task inline when a signal arrives during its task", async (_t, env) => {
  const workflowId = uniqueName('sdk-inline');
  const handle = await env.client.workflow.start(ticksAfterLocalActivity, { taskQueue: env.taskQueue, workflowId, args: [1500, 1] });
  // The local activity runs inside the first workflow task: the signal is buffered until it completes.
  await eventually(() => env.recorder.forWorkflow(workflowId).length > 0, { description: 'the local activity started' });
  await handle.signal(roundTripTick);
  assert.equal(await handle.result(), 1);
  const events = (await env.client.workflowService.getWorkflowExecutionHistory({ namespace: NAMESPACE, execution: { workflowId } })).history?.events ?? [];
  const started = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  assert.ok(
    started.some((e) => e.workflowTaskStartedEventAttributes?.requestId?.startsWith('inline:')),
    `a workflow task started inline; started by: ${started.map((e) => e.workflowTaskStartedEventAttributes?.requestId).join(', ')}`,
  );
});
