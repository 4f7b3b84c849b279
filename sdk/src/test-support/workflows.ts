/**
 * Workflows of the sdk's own tests, bundled once per test file. Only `@temporalio/workflow` and
 * the workflow-safe entry (`../workflow`) are imported here.
 */
import { CancellationScope, condition, defineQuery, isCancellation, proxyActivities, setHandler } from '@temporalio/workflow';
import { Saga } from '../workflow';
import type { TestActivities } from './activities';

const noRetry = { startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 1 } } as const;
const acts = proxyActivities<TestActivities>(noRetry);

export interface SagaInput {
  /** Step names; the tests' activities fail `doStep` of `failing-*` and `undoStep` of `fragile-*`. */
  steps: string[];
  parallelCompensation?: boolean;
  continueOnError?: boolean;
}

/** Runs the steps, recording `undoStep(step)` after each; compensates and rethrows on failure. */
export async function sagaWorkflow(input: SagaInput): Promise<string[]> {
  const saga = new Saga({
    ...(input.parallelCompensation !== undefined ? { parallelCompensation: input.parallelCompensation } : {}),
    ...(input.continueOnError !== undefined ? { continueOnError: input.continueOnError } : {}),
  });
  const done: string[] = [];
  try {
    for (const step of input.steps) {
      done.push(await acts.doStep(step));
      saga.addCompensation(acts.undoStep, step);
    }
    return done;
  } catch (err) {
    await saga.compensate();
    throw err;
  }
}

export const stepsDoneQuery = defineQuery<number>('stepsDone');

/** Does the steps, then waits (with no timer) until cancelled; the saga undoes them after the cancellation. */
export async function cancellableSaga(steps: string[]): Promise<void> {
  const saga = new Saga();
  let stepsDone = 0;
  setHandler(stepsDoneQuery, () => stepsDone);
  try {
    for (const step of steps) {
      await acts.doStep(step);
      saga.addCompensation(acts.undoStep, step);
      stepsDone++;
    }
    await condition(() => false);
  } catch (err) {
    if (isCancellation(err)) await saga.compensate();
    throw err;
  }
}

/** Fails with the ApplicationFailure an activity throws (not caught). */
export async function failingActivity(type: string, message: string): Promise<void> {
  await acts.fail(type, message);
}

/** An activity that outlives its 300 ms start-to-close timeout (no retries). */
export async function timingOutActivity(): Promise<void> {
  await proxyActivities<TestActivities>({ startToCloseTimeout: '300 ms', retry: { maximumAttempts: 1 } }).slow(3_000);
}

/** Waits forever with no timer (for cancellation and execution timeouts). */
export async function waitForever(): Promise<void> {
  await CancellationScope.current().cancelRequested;
}
