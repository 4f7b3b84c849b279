// Workflow code for the conformance suite. It runs in the SDK's deterministic sandbox: import only
// from '@temporalio/workflow' (the activity import below is type-only and erased at compile time).
import {
  ApplicationFailure,
  condition,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

const quick = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumAttempts: 3 },
});

/** Calls activities one after another and in parallel, and combines their results. */
export async function greetAndAdd(name: string, a: number, b: number): Promise<string> {
  const greeting = await quick.greet(name);
  const sum = await quick.add(a, b);
  const [left, right] = await Promise.all([quick.echo('left'), quick.echo('right')]);
  return `${greeting} ${a}+${b}=${sum} ${left}/${right}`;
}

export interface SagaInput {
  steps: string[];
  failingStep: string;
}

/**
 * Runs the steps in order; when one fails, runs the compensations of the completed steps in
 * reverse order, one at a time, then fails with the original error.
 */
export async function bookTrip(input: SagaInput): Promise<string[]> {
  const confirmations: string[] = [];
  const compensations: string[] = [];
  try {
    for (const step of input.steps) {
      confirmations.push(await quick.sagaStep(step, step === input.failingStep));
      compensations.unshift(step);
    }
    return confirmations;
  } catch (err) {
    for (const step of compensations) {
      await quick.compensate(step);
    }
    throw err;
  }
}

/** Sleeps on a durable timer; returns the elapsed workflow time in ms. */
export async function sleeper(ms: number): Promise<number> {
  const before = Date.now();
  await sleep(ms);
  return Date.now() - before;
}

/** Sleeps on a durable timer, then returns `value`. */
export async function sleepThenReturn(value: string, ms: number): Promise<string> {
  await sleep(ms);
  return value;
}

/** Runs one activity by name with the given options and returns its result (or fails with it). */
export async function runActivity(name: keyof Activities, args: unknown[], options: ActivityOptions): Promise<unknown> {
  const activities = proxyActivities<Record<string, (...a: unknown[]) => Promise<unknown>>>(options);
  const fn = activities[name];
  if (!fn) throw ApplicationFailure.nonRetryable(`no activity ${name}`, 'BadTest');
  return fn(...args);
}

/** Fails the workflow with an ApplicationFailure of the given type. */
export async function failingWorkflow(message: string, type: string): Promise<never> {
  throw ApplicationFailure.create({ message, type, details: ['detail-1'] });
}

export const finishSignal = defineSignal<[string]>('finish');

/** Waits (no timer) until signalled `finish`, then returns the signal's value. */
export async function waitForFinish(): Promise<string> {
  let value: string | undefined;
  setHandler(finishSignal, (v: string) => {
    value = v;
  });
  await condition(() => value !== undefined);
  return value!;
}

/** Returns its input at once. */
export async function echoWorkflow(value: string): Promise<string> {
  return value;
}

/** Activity A, then a durable timer, then activity B. */
export async function activityThenTimer(input: string, timerMs: number): Promise<string> {
  const a = await quick.echo(`A:${input}`);
  await sleep(timerMs);
  const b = await quick.echo(`B:${input}`);
  return `${a}|${b}`;
}

const slow = proxyActivities<Activities>({
  // Short enough that an attempt whose completion was lost is retried within the test's deadline.
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 10 },
});

/** One activity that takes `ms`, returning `value`. */
export async function slowActivity(value: string, ms: number): Promise<string> {
  return slow.sleepThenEcho(value, ms);
}

/** A quick activity, then a durable timer; returns the activity's result. */
export async function activityThenSleep(value: string, ms: number): Promise<string> {
  const echoed = await slow.echo(value);
  await sleep(ms);
  return echoed;
}
export * from './features';
export * from './limits';
export * from './visibility';
export * from './metering';
export * from './nexus';
export * from './versioning';
export * from './round-trips';
