import { ApplicationFailure, CancelledFailure, Context, activityInfo, heartbeat, sleep } from '@temporalio/activity';
import { ActivityRecorder } from './recorder';

export { ActivityRecorder } from './recorder';
export type { Invocation } from './recorder';

/** What `processWithCheckpoints` returns. */
export interface CheckpointResult {
  attempt: number;
  resumedFrom: number;
  processed: number[];
}

/** The activities the conformance workflows call (through `proxyActivities<Activities>`). */
export interface Activities {
  greet(name: string): Promise<string>;
  add(a: number, b: number): Promise<number>;
  echo(value: string): Promise<string>;
  /** A saga step; the one asked to fail is declined with a non-retryable error. */
  sagaStep(step: string, fail: boolean): Promise<string>;
  compensate(step: string): Promise<void>;
  /** Fails with a retryable error on every attempt before `successAttempt`. */
  failUntilAttempt(successAttempt: number): Promise<string>;
  /** Always throws an ApplicationFailure of the given type. */
  failWith(type: string, message: string, nonRetryable: boolean): Promise<never>;
  /** Sleeps (cancellably) and returns `value`. */
  sleepThenEcho(value: string, ms: number): Promise<string>;
  /** Heartbeats `beats` times, then goes silent for `silentMs`. */
  heartbeatThenGoSilent(beats: number, silentMs: number): Promise<string>;
  /**
   * Heartbeats until cancelled (or `maxMs` passes). Records the step
   * `activity:saw-cancellation:<what it caught>`, so a test can tell a real CancelledFailure
   * (delivered through the heartbeat response) from any other error.
   */
  waitForCancellation(maxMs: number): Promise<string>;
  /** Multiplies by 100 — unless the test's "bug" flag is still set, then fails non-retryably. */
  compute(n: number): Promise<number>;
  /** Prices `n` items at 100 each — or, until the test sets the `priceFixed` flag, wrongly at -1. */
  price(n: number): Promise<number>;
  /**
   * Processes items `[resumeFrom, total)`, heartbeating the index of the next item after each one.
   * On attempt 1 it fails after `failAfter` items; a retry resumes from the heartbeat details.
   */
  processWithCheckpoints(total: number, failAfter: number, stepMs: number): Promise<CheckpointResult>;
}

/**
 * Builds the activity implementations as closures over `recorder`, so a test can count invocations
 * (by workflow id and activity id) and see the order in which steps ran. Every call is recorded
 * with its attempt number, start/end time and outcome before the activity body runs.
 */
export function createActivities(recorder: ActivityRecorder): Activities {
  function tracked<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      const info = activityInfo();
      const record = recorder.begin({
        workflowId: info.workflowExecution?.workflowId ?? '',
        runId: info.workflowExecution?.runId ?? '',
        activityId: info.activityId,
        activityType: info.activityType,
        attempt: info.attempt,
        startedAt: Date.now(),
        heartbeatDetails: info.heartbeatDetails,
      });
      try {
        const result = await fn(...args);
        record.outcome = 'completed';
        return result;
      } catch (err) {
        record.outcome = 'failed';
        throw err;
      } finally {
        record.endedAt = Date.now();
      }
    };
  }

  const workflowId = (): string => activityInfo().workflowExecution?.workflowId ?? '';

  return {
    greet: tracked(async (name: string): Promise<string> => `Hello, ${name}!`),

    add: tracked(async (a: number, b: number): Promise<number> => a + b),

    echo: tracked(async (value: string): Promise<string> => value),

    sagaStep: tracked(async (step: string, fail: boolean): Promise<string> => {
      recorder.step(workflowId(), `do:${step}`);
      if (fail) throw ApplicationFailure.nonRetryable(`${step} was declined`, 'StepDeclined');
      return `${step}-confirmed`;
    }),

    compensate: tracked(async (step: string): Promise<void> => {
      recorder.step(workflowId(), `undo:${step}`);
    }),

    failUntilAttempt: tracked(async (successAttempt: number): Promise<string> => {
      const { attempt } = activityInfo();
      if (attempt < successAttempt) {
        throw ApplicationFailure.retryable(`attempt ${attempt} failed on purpose`, 'TransientError');
      }
      return `succeeded on attempt ${attempt}`;
    }),

    failWith: tracked(async (type: string, message: string, nonRetryable: boolean): Promise<never> => {
      throw ApplicationFailure.create({ type, message, nonRetryable });
    }),

    sleepThenEcho: tracked(async (value: string, ms: number): Promise<string> => {
      await sleep(ms);
      return value;
    }),

    heartbeatThenGoSilent: tracked(async (beats: number, silentMs: number): Promise<string> => {
      for (let i = 0; i < beats; i++) {
        heartbeat(i);
        await sleep(100);
      }
      await sleep(silentMs);
      return 'finished without being timed out';
    }),

    waitForCancellation: tracked(async (maxMs: number): Promise<string> => {
      const ctx = Context.current();
      const until = Date.now() + maxMs;
      try {
        while (Date.now() < until) {
          ctx.heartbeat();
          await ctx.sleep(100);
        }
        return 'never cancelled';
      } catch (err) {
        const caught = err instanceof CancelledFailure ? 'CancelledFailure' : err instanceof Error ? err.name : String(err);
        recorder.step(workflowId(), `activity:saw-cancellation:${caught}`);
        throw err;
      }
    }),

    compute: tracked(async (n: number): Promise<number> => {
      if (!recorder.flags.get('bugFixed')) throw ApplicationFailure.nonRetryable(`cannot compute ${n}: bug`, 'Bug');
      return n * 100;
    }),

    price: tracked(async (n: number): Promise<number> => (recorder.flags.get('priceFixed') ? n * 100 : -n)),

    processWithCheckpoints: tracked(
      async (total: number, failAfter: number, stepMs: number): Promise<CheckpointResult> => {
        const ctx = Context.current();
        const { attempt, heartbeatDetails } = ctx.info;
        const resumedFrom = typeof heartbeatDetails === 'number' ? heartbeatDetails : 0;
        const processed: number[] = [];
        for (let i = resumedFrom; i < total; i++) {
          await ctx.sleep(stepMs);
          processed.push(i);
          recorder.step(workflowId(), `item:${i}@${attempt}`);
          ctx.heartbeat(i + 1);
          if (attempt === 1 && i + 1 === failAfter) {
            // Heartbeats are throttled (100 ms in these workers) and sent in the background; give the
            // last one time to reach the server so "the last heartbeat" is well defined.
            await ctx.sleep(600);
            throw ApplicationFailure.retryable(`crashed after item ${i}`, 'CrashedMidway');
          }
        }
        return { attempt, resumedFrom, processed };
      },
    ),
  };
}
