/**
 * Database round trips per operation, measured on a quiet MySQL-backed server around each step of
 * one single-activity workflow driven through raw WorkflowService RPCs, with a poller already
 * waiting so each step includes the dispatch it causes (the sync-match hot path). Three counts:
 * the server's own `hourglass_mysql_round_trips_total` (requests it waited on: a multi-statement
 * packet is one) and `hourglass_mysql_statements_total` (the statements in them), read off its
 * metrics endpoint, and MariaDB's global `Questions` counter (statements executed for every
 * client of the database server, so other users of it add to it).
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import { createConnection } from 'mysql2/promise';
import Long from 'long';
import { temporal } from '@temporalio/proto';

const CommandType = temporal.api.enums.v1.CommandType;

/** One count per step of the workflow, and their sum. */
export interface StepCounts {
  startWorkflow: number;
  workflowTaskScheduleActivity: number;
  activityCompletion: number;
  workflowTaskCompleteWorkflow: number;
  perWorkflow: number;
}

export interface RoundTrips {
  /** How many times the workflow ran (each count is the median of its runs). */
  runs: number;
  /** The server's round trips to MySQL (hourglass_mysql_round_trips_total). */
  roundTrips: StepCounts;
  /** The statements in them (hourglass_mysql_statements_total). */
  statements: StepCounts;
  /** MariaDB's global Questions counter (minus the probe's own reads): every client's statements. */
  questions: StepCounts;
}

interface Counts {
  roundTrips: number;
  statements: number;
  questions: number;
}

/** Counts since the previous call, after the server's background work settled. */
async function counters(mysqlUrl: string, metricsUrl: string): Promise<{ step(): Promise<Counts>; close(): Promise<void> }> {
  const c = await createConnection(mysqlUrl);
  const read = async (): Promise<Counts> => {
    const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Questions'");
    const response = await fetch(`${metricsUrl}/metrics`);
    if (!response.ok) throw new Error(`GET ${metricsUrl}/metrics answered ${response.status}`);
    const text = await response.text();
    const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return {
      roundTrips: metric('hourglass_mysql_round_trips_total'),
      statements: metric('hourglass_mysql_statements_total'),
      questions: Number((rows as { Value: string }[])[0]?.Value ?? 0),
    };
  };
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 300));
  /** Waits until the server sends nothing more to the database (earlier load's timers firing, task acks). */
  const settle = async (): Promise<Counts> => {
    let previous = await read();
    for (let i = 0; i < 100; i++) {
      await pause();
      const now = await read();
      if (now.roundTrips === previous.roundTrips) return now;
      previous = now;
    }
    return previous;
  };
  let last = await settle();
  return {
    step: async () => {
      await pause(); // let the step's own background work (transfer tasks, acks) finish
      const now = await read();
      const delta = { roundTrips: now.roundTrips - last.roundTrips, statements: now.statements - last.statements, questions: now.questions - last.questions - 1 };
      last = await settle();
      return delta;
    },
    close: () => c.end(),
  };
}

/**
 * The workflow `runs` times, each step's counts the median of its runs: the server's periodic
 * background work (queue scans, lease renewals) now and then falls inside a step.
 */
export async function measureRoundTrips(connection: Connection, mysqlUrl: string, metricsUrl: string, runs = 5): Promise<RoundTrips> {
  const probe = await counters(mysqlUrl, metricsUrl);
  const all: Steps[] = [];
  try {
    for (let i = 0; i < runs; i++) all.push(await oneWorkflow(connection, probe.step));
  } finally {
    await probe.close();
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const steps = (count: keyof Counts): StepCounts => {
    const of = (name: keyof Steps): number => median(all.map((run) => run[name][count]));
    const startWorkflow = of('startWorkflow');
    const workflowTaskScheduleActivity = of('workflowTaskScheduleActivity');
    const activityCompletion = of('activityCompletion');
    const workflowTaskCompleteWorkflow = of('workflowTaskCompleteWorkflow');
    return { startWorkflow, workflowTaskScheduleActivity, activityCompletion, workflowTaskCompleteWorkflow, perWorkflow: startWorkflow + workflowTaskScheduleActivity + activityCompletion + workflowTaskCompleteWorkflow };
  };
  return { runs, roundTrips: steps('roundTrips'), statements: steps('statements'), questions: steps('questions') };
}

interface Steps {
  startWorkflow: Counts;
  workflowTaskScheduleActivity: Counts;
  activityCompletion: Counts;
  workflowTaskCompleteWorkflow: Counts;
}

async function oneWorkflow(connection: Connection, step: () => Promise<Counts>): Promise<Steps> {
  const service = connection.workflowService;
  const namespace = 'default';
  const taskQueue = { name: `roundtrips-${randomUUID().slice(0, 8)}` };
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
  return { startWorkflow, workflowTaskScheduleActivity, activityCompletion, workflowTaskCompleteWorkflow };
}
