/**
 * Database round trips per operation, measured on a quiet MySQL-backed server: the MariaDB
 * `Questions` counter (statements executed for clients) is read around each step of one
 * single-activity workflow driven through raw WorkflowService RPCs, with a poller already waiting
 * so each step includes the dispatch it causes (the sync-match hot path).
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import { createConnection } from 'mysql2/promise';
import Long from 'long';
import { temporal } from '@temporalio/proto';

const CommandType = temporal.api.enums.v1.CommandType;

export interface RoundTrips {
  startWorkflow: number;
  workflowTaskScheduleActivity: number;
  activityCompletion: number;
  workflowTaskCompleteWorkflow: number;
  perWorkflow: number;
}

/** Statements since the previous call (minus the probe's own query), after background work settled. */
async function questions(mysqlUrl: string): Promise<{ step(): Promise<number>; close(): Promise<void> }> {
  const c = await createConnection(mysqlUrl);
  const read = async (): Promise<number> => {
    const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Questions'");
    return Number((rows as { Value: string }[])[0]?.Value ?? 0);
  };
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 300));
  /** Waits until nothing else talks to the database (earlier load's timers firing, task acks). */
  const settle = async (): Promise<number> => {
    let previous = await read();
    for (let i = 0; i < 100; i++) {
      await pause();
      const now = await read();
      if (now - previous <= 1) return now;
      previous = now;
    }
    return previous;
  };
  let last = await settle();
  return {
    step: async () => {
      await pause(); // let the step's own background work (transfer tasks, acks) finish
      const now = await read();
      const delta = now - last - 1;
      last = await settle();
      return delta;
    },
    close: () => c.end(),
  };
}

export async function measureRoundTrips(connection: Connection, mysqlUrl: string): Promise<RoundTrips> {
  const service = connection.workflowService;
  const namespace = 'default';
  const taskQueue = { name: `roundtrips-${randomUUID().slice(0, 8)}` };
  const probe = await questions(mysqlUrl);
  const step = probe.step;
  const pollWorkflow = (): Promise<temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse> => service.pollWorkflowTaskQueue({ namespace, taskQueue, identity: 'roundtrips' });
  // Warm the queues (first use leases and loads them), then measure.
  await step();

  let poll = pollWorkflow();
  await new Promise((r) => setTimeout(r, 200));
  await step();
  const workflowId = `roundtrips-${randomUUID()}`;
  await service.startWorkflowExecution({ namespace, workflowId, workflowType: { name: 'singleActivity' }, taskQueue, requestId: randomUUID(), identity: 'roundtrips' });
  const first = await poll;
  const startWorkflow = await step();

  const activityPoll = service.pollActivityTaskQueue({ namespace, taskQueue, identity: 'roundtrips' });
  await new Promise((r) => setTimeout(r, 200));
  await step();
  await service.respondWorkflowTaskCompleted({
    namespace,
    taskToken: first.taskToken,
    identity: 'roundtrips',
    commands: [
      {
        commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        scheduleActivityTaskCommandAttributes: { activityId: '1', activityType: { name: 'noop' }, taskQueue, startToCloseTimeout: { seconds: Long.fromNumber(30) } },
      },
    ],
  });
  const activity = await activityPoll;
  const workflowTaskScheduleActivity = await step();

  poll = pollWorkflow();
  await new Promise((r) => setTimeout(r, 200));
  await step();
  await service.respondActivityTaskCompleted({ namespace, taskToken: activity.taskToken, identity: 'roundtrips', result: { payloads: [] } });
  const second = await poll;
  const activityCompletion = await step();

  await service.respondWorkflowTaskCompleted({
    namespace,
    taskToken: second.taskToken,
    identity: 'roundtrips',
    commands: [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }],
  });
  const workflowTaskCompleteWorkflow = await step();
  await probe.close();
  return {
    startWorkflow,
    workflowTaskScheduleActivity,
    activityCompletion,
    workflowTaskCompleteWorkflow,
    perWorkflow: startWorkflow + workflowTaskScheduleActivity + activityCompletion + workflowTaskCompleteWorkflow,
  };
}
