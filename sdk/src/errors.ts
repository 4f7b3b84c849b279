/**
 * Questions customer code asks about a failure, answered over the official SDK's error classes.
 * Failures arrive wrapped — `WorkflowFailedError` → `ActivityFailure` → `ApplicationFailure`,
 * `ChildWorkflowFailure` → `TimeoutFailure`, … — so each helper walks the whole `cause` chain.
 */
import { ApplicationFailure, CancelledFailure, TimeoutFailure, type TimeoutType } from '@temporalio/common';

/**
 * The error and its causes, outermost first (`err`, `err.cause`, `err.cause.cause`, …). Stops on
 * a cycle or at the first cause that is not an `Error`'s `cause`.
 *
 * ```ts
 * causeChain(err).map((e) => (e as Error).name); // ['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']
 * ```
 */
export function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== undefined && current !== null && !seen.has(current)) {
    chain.push(current);
    seen.add(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * The innermost cause: what actually went wrong. (Unlike `rootCause` of `@temporalio/common`,
 * which returns a message, this returns the error itself.) Returns `err` when it has no cause.
 *
 * ```ts
 * try {
 *   await client.workflow.execute(order, { taskQueue: 'orders', workflowId, args: [o] });
 * } catch (err) {
 *   console.error('order failed:', (rootCause(err) as Error).message); // e.g. 'card declined'
 * }
 * ```
 */
export function rootCause(err: unknown): unknown {
  const chain = causeChain(err);
  return chain.length > 0 ? chain[chain.length - 1] : err;
}

/**
 * The first `ApplicationFailure` in the cause chain (of type `type`, when given): to read its
 * `details`, `nonRetryable` or `message`.
 *
 * ```ts
 * const declined = findApplicationFailure(err, 'CardDeclined');
 * if (declined) console.log(declined.details); // what the activity passed to ApplicationFailure.create({ details })
 * ```
 */
export function findApplicationFailure(err: unknown, type?: string): ApplicationFailure | undefined {
  return causeChain(err).find((e): e is ApplicationFailure => e instanceof ApplicationFailure && (type === undefined || e.type === type));
}

/**
 * Whether an `ApplicationFailure` (of type `type`, when given) is anywhere in the cause chain: an
 * activity or workflow threw it (`ApplicationFailure.create({ type })`, or a plain `Error` whose
 * `name` became the type).
 *
 * ```ts
 * try {
 *   await handle.result();
 * } catch (err) {
 *   if (isApplicationFailure(err, 'CardDeclined')) return askForAnotherCard();
 *   throw err;
 * }
 * ```
 */
export function isApplicationFailure(err: unknown, type?: string): boolean {
  return findApplicationFailure(err, type) !== undefined;
}

/**
 * The first `TimeoutFailure` in the cause chain (of `timeoutType`, when given).
 *
 * ```ts
 * findTimeoutFailure(err, 'HEARTBEAT')?.lastHeartbeatDetails; // progress the activity reported before it went silent
 * ```
 */
export function findTimeoutFailure(err: unknown, timeoutType?: TimeoutType): TimeoutFailure | undefined {
  return causeChain(err).find((e): e is TimeoutFailure => e instanceof TimeoutFailure && (timeoutType === undefined || e.timeoutType === timeoutType));
}

/**
 * Whether something timed out (with `timeoutType` — `'START_TO_CLOSE'`, `'SCHEDULE_TO_START'`,
 * `'SCHEDULE_TO_CLOSE'`, `'HEARTBEAT'` — when given): an activity or child workflow timeout inside
 * a workflow, or a workflow execution/run timeout seen by the client (reported as
 * `START_TO_CLOSE`, as the official client does).
 *
 * ```ts
 * import { TimeoutType } from '@temporalio/common';
 * try {
 *   await chargeCard(order);
 * } catch (err) {
 *   if (isTimeoutFailure(err, TimeoutType.START_TO_CLOSE)) await refundIfCharged(order);
 *   throw err;
 * }
 * ```
 */
export function isTimeoutFailure(err: unknown, timeoutType?: TimeoutType): boolean {
  return findTimeoutFailure(err, timeoutType) !== undefined;
}

/**
 * Whether the failure is (caused by) a cancellation: a cancelled workflow seen by the client, a
 * cancelled activity or child workflow inside a workflow, or the cancellation an activity sees.
 *
 * ```ts
 * try {
 *   await handle.result();
 * } catch (err) {
 *   if (isCancellation(err)) return 'cancelled by the customer';
 *   throw err;
 * }
 * ```
 */
export function isCancellation(err: unknown): boolean {
  return causeChain(err).some((e) => e instanceof CancelledFailure);
}
