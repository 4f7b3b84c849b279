/**
 * The saga pattern for workflow code: record how to undo each step as it succeeds, and undo them
 * all when a later step fails. Imports only `@temporalio/workflow`, so it bundles into the
 * workflow sandbox; it keeps no clock and draws no random numbers, so it replays identically.
 */
import { ApplicationFailure, CancellationScope, inWorkflowContext } from '@temporalio/workflow';

export interface SagaOptions {
  /**
   * Start every compensation at once instead of one after the other in reverse order. Default
   * false. All of them run to the end even when one fails.
   */
  parallelCompensation?: boolean;
  /**
   * Keep compensating after one fails, then throw one {@link SagaCompensationError} listing every
   * failure. Default false: the first failure is rethrown as it was thrown (sequentially, the
   * compensations after it do not run).
   */
  continueOnError?: boolean;
  /**
   * In a workflow, run compensations in a non-cancellable scope, so a cancelled workflow can still
   * undo its steps (activities scheduled from a cancelled scope would be cancelled at once).
   * Default true.
   */
  nonCancellable?: boolean;
}

/** The `ApplicationFailure` type of {@link SagaCompensationError}, as the client sees it. */
export const SAGA_COMPENSATION_ERROR_TYPE = 'SagaCompensationError';

/**
 * Thrown by {@link Saga.compensate} with `continueOnError` when compensations failed. It is an
 * `ApplicationFailure` (type `SagaCompensationError`), so it fails the workflow rather than its
 * task; the first failure is its `cause`, every failure's message is in `details`.
 *
 * ```ts
 * // in the workflow: every failure, as thrown
 * try { await saga.compensate(); } catch (err) { if (err instanceof SagaCompensationError) log.warn('undo incomplete', { failures: err.errors.length }); throw err; }
 * // in the client: an ApplicationFailure of this type
 * isApplicationFailure(err, SAGA_COMPENSATION_ERROR_TYPE); // from '@hourglass/sdk'
 * ```
 */
export class SagaCompensationError extends ApplicationFailure {
  constructor(
    /** Every failure, in the order the compensations were run. */
    public readonly errors: unknown[],
    /** How many compensations ran. */
    public readonly attempted: number,
  ) {
    super(
      `${errors.length} of ${attempted} compensations failed: ${errors.map(describe).join('; ')}`,
      SAGA_COMPENSATION_ERROR_TYPE,
      true,
      errors.map(describe),
      errors.find((e): e is Error => e instanceof Error),
    );
  }
}
Object.defineProperty(SagaCompensationError.prototype, 'name', { value: 'SagaCompensationError', enumerable: true });

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // ActivityFailure says only "Activity task failed": the reason is in its cause.
  let e: Error = err;
  while (e.cause instanceof Error && (e.name === 'ActivityFailure' || e.name === 'ChildWorkflowFailure')) e = e.cause;
  return e === err ? err.message : `${err.message}: ${e.message}`;
}

type Compensation = () => Promise<unknown>;

/**
 * Collects compensations as the steps of a workflow succeed and runs them when one fails.
 *
 * ```ts
 * import { proxyActivities } from '@temporalio/workflow';
 * import { Saga } from '@hourglass/sdk/workflow';
 * import type * as activities from './activities';
 *
 * const { reserve, release, charge, refund, ship } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
 *
 * export async function order(o: Order): Promise<void> {
 *   const saga = new Saga(); // or new Saga({ parallelCompensation: true, continueOnError: true })
 *   try {
 *     const reservation = await reserve(o.items);
 *     saga.addCompensation(release, reservation);
 *     const payment = await charge(o.card, o.total);
 *     saga.addCompensation(refund, payment);
 *     await ship(o);
 *   } catch (err) {
 *     await saga.compensate(); // refund, then release
 *     throw err;
 *   }
 * }
 * ```
 */
export class Saga {
  private compensations: Compensation[] = [];
  private readonly parallel: boolean;
  private readonly continueOnError: boolean;
  private readonly nonCancellable: boolean;

  constructor(options: SagaOptions = {}) {
    this.parallel = options.parallelCompensation ?? false;
    this.continueOnError = options.continueOnError ?? false;
    this.nonCancellable = options.nonCancellable ?? true;
  }

  /**
   * Records how to undo the step that just succeeded: `fn(...args)` is called by
   * {@link Saga.compensate}. `fn` may be an activity, a child workflow start, or any async function.
   *
   * ```ts
   * const payment = await charge(card, total);
   * saga.addCompensation(refund, payment.id, total);
   * ```
   */
  addCompensation<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.compensations.push(async () => fn(...args));
  }

  /** How many compensations are recorded and not yet run. */
  get size(): number {
    return this.compensations.length;
  }

  /**
   * Runs the recorded compensations — the last added first, or all at once with
   * `parallelCompensation` — and forgets them (a second call runs only what was added since).
   * Rejects as {@link SagaOptions.continueOnError} says.
   *
   * ```ts
   * try {
   *   await step3();
   * } catch (err) {
   *   await saga.compensate();
   *   throw err;
   * }
   * ```
   */
  async compensate(): Promise<void> {
    const todo = this.compensations.reverse();
    this.compensations = [];
    const run = (): Promise<void> => (this.parallel ? this.runParallel(todo) : this.runSequentially(todo));
    if (this.nonCancellable && inWorkflowContext()) return CancellationScope.nonCancellable(run);
    return run();
  }

  private async runSequentially(todo: Compensation[]): Promise<void> {
    const errors: unknown[] = [];
    for (const compensation of todo) {
      try {
        await compensation();
      } catch (err) {
        if (!this.continueOnError) throw err;
        errors.push(err);
      }
    }
    this.throwIfFailed(errors, todo.length);
  }

  private async runParallel(todo: Compensation[]): Promise<void> {
    const results = await Promise.allSettled(todo.map((compensation) => compensation()));
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    if (!this.continueOnError && errors.length > 0) throw errors[0];
    this.throwIfFailed(errors, todo.length);
  }

  private throwIfFailed(errors: unknown[], attempted: number): void {
    if (errors.length > 0) throw new SagaCompensationError(errors, attempted);
  }
}
