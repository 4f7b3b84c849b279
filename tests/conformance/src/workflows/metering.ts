// Workflows whose billable actions metering.test.ts counts by hand. Every action type Temporal
// Cloud bills appears a known number of times.
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

const retried = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumAttempts: 5 } });
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });

export const meterSignal = defineSignal<[string]>('meterSignal');
export const meterQuery = defineQuery<number>('meterQuery');
export const meterUpdate = defineUpdate<number, [number]>('meterUpdate');

/** A child that only returns. */
export async function meteredChild(n: number): Promise<number> {
  return n * 2;
}

/**
 * Run 1: upserts a memo, runs a local activity, an activity that succeeds on attempt 3, an
 * activity that heartbeats once, a timer and a child, waits for two signals and one update (and
 * answers queries meanwhile), then continues as new; run 2 returns.
 */
export async function meteredWorkflow(continued: boolean): Promise<string> {
  if (continued) return 'done';
  let signals = 0;
  let updated = false;
  setHandler(meterSignal, () => void (signals += 1));
  setHandler(meterQuery, () => signals);
  setHandler(meterUpdate, (n: number) => {
    updated = true;
    return n + 1;
  });
  upsertMemo({ stage: 'started' });
  await local.echo('local');
  await retried.failUntilAttempt(3);
  await retried.heartbeatThenGoSilent(1, 300);
  await sleep(100);
  await executeChild(meteredChild, { args: [21], workflowId: `${workflowInfo().workflowId}-child` });
  await condition(() => signals >= 2 && updated);
  return continueAsNew<typeof meteredWorkflow>(true);
}

/** Started by signal-with-start: returns once signalled. */
export async function meteredSignalTarget(): Promise<number> {
  let got = 0;
  setHandler(meterSignal, () => void (got += 1));
  await condition(() => got >= 1);
  return got;
}

/** Sleeps on a durable timer, then waits for one signal: the crash test kills the server meanwhile. */
export async function meteredSleeper(ms: number): Promise<string> {
  let got = false;
  setHandler(meterSignal, () => void (got = true));
  await sleep(ms);
  await condition(() => got);
  return 'slept';
}
