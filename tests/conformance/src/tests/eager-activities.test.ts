// Eager activity dispatch, driven by hand over the official client's raw WorkflowService calls so
// that what the server returns is seen as is: activities scheduled with request_eager_execution on
// the workflow's own task queue come back started in RespondWorkflowTaskCompleted's activity_tasks
// (never more than requested, never more than the namespace allows), the others go through
// matching; a returned task that never reaches a worker times out and is retried through matching;
// a completion that closes the run starts nothing. The official SDK worker asks for eager execution
// for every activity on its own queue, so every other conformance file runs them too.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import Long from 'long';
import { temporal } from '@temporalio/proto';
import { EventType, NAMESPACE, conformanceFile, uniqueName, type HistoryEvent } from '../harness';

const CAPPED_NAMESPACE = 'eager-capped';
const OFF_NAMESPACE = 'eager-off';
const file = conformanceFile({
  name: 'eager-activities',
  worker: false,
  server: {
    extraArgs: ['-n', CAPPED_NAMESPACE, '-n', OFF_NAMESPACE],
    settings: {
      'history.maxEagerActivitiesPerWorkflowTask': [{ value: 2, constraints: { namespace: CAPPED_NAMESPACE } }],
      'history.enableActivityEagerExecution': [{ value: false, constraints: { namespace: OFF_NAMESPACE } }],
    },
  },
});

const CommandType = temporal.api.enums.v1.CommandType;
type Command = temporal.api.command.v1.ICommand;
type ActivityTask = temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse;

function schedule(activityId: string, taskQueue: string, eager: boolean, options: { startToCloseSeconds?: number; maximumAttempts?: number } = {}): Command {
  return {
    commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
    scheduleActivityTaskCommandAttributes: {
      activityId,
      activityType: { name: 'work' },
      taskQueue: { name: taskQueue },
      input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(activityId)) }] },
      startToCloseTimeout: { seconds: Long.fromNumber(options.startToCloseSeconds ?? 30) },
      retryPolicy: { maximumAttempts: options.maximumAttempts ?? 3, initialInterval: { seconds: Long.ZERO, nanos: 100_000_000 } },
      requestEagerExecution: eager,
    },
  };
}

/** Starts a workflow on `taskQueue` and takes its first workflow task. */
async function firstWorkflowTask(client: Client, namespace: string, taskQueue: string): Promise<{ workflowId: string; token: Uint8Array }> {
  const workflowId = uniqueName('eager');
  await client.workflowService.startWorkflowExecution({ namespace, workflowId, workflowType: { name: 'eagerWorkflow' }, taskQueue: { name: taskQueue }, requestId: randomUUID() });
  const task = await client.workflowService.pollWorkflowTaskQueue({ namespace, taskQueue: { name: taskQueue }, identity: 'hand' });
  assert.ok(task.taskToken && task.taskToken.length > 0, 'a workflow task');
  assert.equal(task.workflowExecution?.workflowId, workflowId);
  return { workflowId, token: task.taskToken };
}

async function complete(client: Client, namespace: string, token: Uint8Array, commands: Command[]): Promise<ActivityTask[]> {
  const response = await client.workflowService.respondWorkflowTaskCompleted({ namespace, taskToken: token, commands, identity: 'hand' });
  return response.activityTasks ?? [];
}

async function pollActivity(client: Client, namespace: string, taskQueue: string): Promise<ActivityTask> {
  const task = await client.workflowService.pollActivityTaskQueue({ namespace, taskQueue: { name: taskQueue }, identity: 'poller' });
  assert.ok(task.taskToken && task.taskToken.length > 0, `an activity task on ${taskQueue}`);
  return task;
}

async function historyOf(client: Client, namespace: string, workflowId: string): Promise<HistoryEvent[]> {
  const page = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId } });
  return page.history?.events ?? [];
}

function payloadText(task: ActivityTask): string {
  return Buffer.from(task.input?.payloads?.[0]?.data ?? new Uint8Array()).toString();
}

file.test('activities that ask to run eagerly come back started in the completion; the others go through matching', async (_t, env) => {
  const queue = uniqueName('eager-q');
  const otherQueue = uniqueName('eager-other-q');
  const { workflowId, token } = await firstWorkflowTask(env.client, NAMESPACE, queue);
  const tasks = await complete(env.client, NAMESPACE, token, [
    schedule('a-eager', queue, true),
    schedule('b-normal', queue, false),
    schedule('c-eager', queue, true),
    // Another task queue's activity cannot run on the completing worker: it is dispatched normally.
    schedule('d-elsewhere', otherQueue, true),
  ]);
  assert.deepEqual(
    tasks.map((t) => t.activityId),
    ['a-eager', 'c-eager'],
  );
  for (const task of tasks) {
    assert.equal(task.attempt, 1);
    assert.equal(task.workflowExecution?.workflowId, workflowId);
    assert.equal(task.activityType?.name, 'work');
    assert.equal(payloadText(task), JSON.stringify(task.activityId));
    assert.ok(task.startedTime?.seconds, 'started');
    assert.equal(Number(task.startToCloseTimeout?.seconds), 30);
  }
  // The eager ones are not in matching: the next activity task polled from the queue is b-normal.
  const polled = await pollActivity(env.client, NAMESPACE, queue);
  assert.equal(polled.activityId, 'b-normal');
  assert.equal((await pollActivity(env.client, NAMESPACE, otherQueue)).activityId, 'd-elsewhere');
  for (const task of [...tasks, polled]) {
    await env.client.workflowService.respondActivityTaskCompleted({ namespace: NAMESPACE, taskToken: task.taskToken, identity: 'hand', result: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"done"') }] } });
  }
  const events = await historyOf(env.client, NAMESPACE, workflowId);
  const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  assert.equal(completed.length, 3);
  const started = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  assert.equal(started.length, 3);
  // An eagerly started activity records the completing worker as the one it was handed to.
  const scheduledIds = new Map(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => [Number(e.eventId), e.activityTaskScheduledEventAttributes?.activityId]));
  const identities = new Map(started.map((e) => [scheduledIds.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId)), e.activityTaskStartedEventAttributes?.identity]));
  assert.deepEqual(Object.fromEntries(identities), { 'a-eager': 'hand', 'b-normal': 'poller', 'c-eager': 'hand' });
});

file.test("never more eager tasks than the namespace allows per completion, and none where it has eager dispatch off", async (_t, env) => {
  const queue = uniqueName('eager-cap-q');
  const capped = await firstWorkflowTask(env.client, CAPPED_NAMESPACE, queue);
  const ids = ['e1', 'e2', 'e3', 'e4'];
  const tasks = await complete(env.client, CAPPED_NAMESPACE, capped.token, ids.map((id) => schedule(id, queue, true)));
  assert.deepEqual(
    tasks.map((t) => t.activityId),
    ['e1', 'e2'],
  );
  const rest = [await pollActivity(env.client, CAPPED_NAMESPACE, queue), await pollActivity(env.client, CAPPED_NAMESPACE, queue)];
  assert.deepEqual(rest.map((t) => t.activityId).sort(), ['e3', 'e4']);

  const off = await firstWorkflowTask(env.client, OFF_NAMESPACE, queue);
  assert.deepEqual(await complete(env.client, OFF_NAMESPACE, off.token, [schedule('x1', queue, true)]), []);
  assert.equal((await pollActivity(env.client, OFF_NAMESPACE, queue)).activityId, 'x1');
});

file.test('an eager task that never reaches a worker times out on its start-to-close timer and is retried through matching', async (_t, env) => {
  const queue = uniqueName('eager-lost-q');
  const { workflowId, token } = await firstWorkflowTask(env.client, NAMESPACE, queue);
  const tasks = await complete(env.client, NAMESPACE, token, [schedule('lost', queue, true, { startToCloseSeconds: 1, maximumAttempts: 2 })]);
  assert.equal(tasks.length, 1, 'handed out eagerly');
  // The response is dropped, as if the worker died with it: attempt 2 arrives through matching.
  const retried = await pollActivity(env.client, NAMESPACE, queue);
  assert.equal(retried.activityId, 'lost');
  assert.equal(retried.attempt, 2);
  // The first attempt's token is stale now.
  await assert.rejects(env.client.workflowService.respondActivityTaskCompleted({ namespace: NAMESPACE, taskToken: tasks[0]!.taskToken, identity: 'late' }), /not found|NOT_FOUND|5 /i);
  await env.client.workflowService.respondActivityTaskCompleted({ namespace: NAMESPACE, taskToken: retried.taskToken, identity: 'poller' });
  const events = await historyOf(env.client, NAMESPACE, workflowId);
  const started = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  assert.equal(started.length, 1);
  assert.equal(started[0]?.activityTaskStartedEventAttributes?.attempt, 2);
  assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 1);
});

file.test('a completion that closes the run starts no activity eagerly', async (_t, env) => {
  const queue = uniqueName('eager-close-q');
  const { workflowId, token } = await firstWorkflowTask(env.client, NAMESPACE, queue);
  const tasks = await complete(env.client, NAMESPACE, token, [
    schedule('never', queue, true),
    { commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} },
  ]);
  assert.deepEqual(tasks, []);
  const described = await env.client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } });
  assert.equal(described.workflowExecutionInfo?.status, temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
});
