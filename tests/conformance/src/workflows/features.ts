// Workflows for the full feature set: signals, queries, updates, cancellation, children,
// continue-as-new, cron, reset and workflow retries. Deterministic; '@temporalio/workflow' only.
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  ActivityCancellationType,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { initialInterval: '200ms', maximumAttempts: 3 } });

// ---- Entity workflow: a cart ----

export interface CartState {
  items: number;
  sum: number;
  runs: number;
}
export const addItemSignal = defineSignal<[number]>('addItem');
export const cartStateQuery = defineQuery<CartState>('cartState');

/** Takes `addItem` signals until it holds `target` items; continues as new every `perRun` signals, carrying its state. */
export async function cartWorkflow(target: number, perRun: number, state: CartState = { items: 0, sum: 0, runs: 1 }): Promise<CartState> {
  let inThisRun = 0;
  setHandler(addItemSignal, (n: number) => {
    state.items += 1;
    state.sum += n;
    inThisRun += 1;
  });
  setHandler(cartStateQuery, () => state);
  await condition(() => state.items >= target || inThisRun >= perRun);
  if (state.items < target) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof cartWorkflow>(target, perRun, { ...state, runs: state.runs + 1 });
  }
  return state;
}

// ---- Approval: a signal or a timeout ----

export const approveSignal = defineSignal<[string]>('approve');

export async function approvalWorkflow(timeoutMs: number): Promise<string> {
  let approver: string | undefined;
  setHandler(approveSignal, (who: string) => {
    approver = who;
  });
  const approved = await condition(() => approver !== undefined, timeoutMs);
  return approved ? `approved by ${approver}` : 'timed out';
}

// ---- Updates and queries: an account ----

export const depositUpdate = defineUpdate<number, [number]>('deposit');
export const balanceQuery = defineQuery<number>('balance');
export const closeSignal = defineSignal('close');

export async function accountWorkflow(): Promise<number> {
  let balance = 0;
  let closed = false;
  setHandler(
    depositUpdate,
    (amount: number) => {
      balance += amount;
      return balance;
    },
    {
      validator: (amount: number) => {
        if (!(amount > 0)) throw new Error(`deposit must be positive, got ${amount}`);
      },
    },
  );
  setHandler(balanceQuery, () => balance);
  setHandler(closeSignal, () => {
    closed = true;
  });
  await condition(() => closed && allHandlersFinished());
  return balance;
}

// ---- Children ----

export async function doubleChild(n: number): Promise<number> {
  await sleep(50);
  return n * 2;
}

/** Fans out `n` children and sums their results. */
export async function fanOutWorkflow(n: number): Promise<number> {
  const id = workflowInfo().workflowId;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => executeChild(doubleChild, { args: [i + 1], workflowId: `${id}-child-${i + 1}` })));
  return results.reduce((a, b) => a + b, 0);
}

/** Sleeps for a long time (a child left running or killed by its parent's close policy). */
export async function longSleepChild(): Promise<void> {
  await sleep('1 hour');
}

/** Starts one long-running child under `policy`, then waits forever (the test terminates it). */
export async function parentOfLongChild(childId: string, policy: 'TERMINATE' | 'ABANDON'): Promise<void> {
  await startChild(longSleepChild, { workflowId: childId, parentClosePolicy: ParentClosePolicy[policy] });
  await condition(() => false);
}

/** Starts a child whose id is already taken by a running workflow. */
export async function childIdConflict(childId: string): Promise<string> {
  try {
    await executeChild(longSleepChild, { workflowId: childId });
    return 'no conflict';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return `conflict: ${err.workflowId}`;
    throw err;
  }
}

// ---- Cancellation ----

const cancellable = proxyActivities<Activities>({
  startToCloseTimeout: '60s',
  heartbeatTimeout: '2s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 1 },
});

/** Runs a heartbeating activity; on cancellation runs its cleanup (not cancellable) and rethrows. */
export async function cancellableWorkflow(): Promise<string> {
  try {
    return await cancellable.waitForCancellation(60_000);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => acts.compensate('cleanup'));
    }
    throw err;
  }
}

/** Cancels another workflow through RequestCancelExternalWorkflowExecution; reports whether the target was found. */
export async function cancelOtherWorkflow(targetId: string): Promise<string> {
  try {
    await getExternalWorkflowHandle(targetId).cancel();
    return 'cancel requested';
  } catch (err) {
    return `failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export const finishSignalName = 'finish';

/** Signals another workflow; reports whether the target was found. */
export async function signalOtherWorkflow(targetId: string, value: string): Promise<string> {
  try {
    await getExternalWorkflowHandle(targetId).signal(finishSignalName, value);
    return 'signalled';
  } catch (err) {
    return `failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

// ---- Cron, reset, workflow retries ----

/** One cron run: records its run id through an activity. */
export async function cronWorkflow(): Promise<string> {
  return acts.echo(workflowInfo().runId);
}

/** Waits for an `approve` signal, then computes with an activity that is buggy until the test fixes it. */
export async function resettableWorkflow(): Promise<string> {
  const approvals: string[] = [];
  setHandler(approveSignal, (who: string) => {
    approvals.push(who);
  });
  await condition(() => approvals.length > 0);
  const result = await acts.compute(approvals.length);
  return `${result} after ${approvals.join(',')}`;
}

export const shipSignal = defineSignal('ship');

/**
 * Waits for an `approve` signal, prices the order with an activity that is wrong until the test
 * fixes it, then stays open until signalled `ship` (so a reset finds it running).
 */
export async function pricedOrderWorkflow(): Promise<string> {
  const approvals: string[] = [];
  let shipped = false;
  setHandler(approveSignal, (who: string) => {
    approvals.push(who);
  });
  setHandler(shipSignal, () => {
    shipped = true;
  });
  await condition(() => approvals.length > 0);
  const price = await acts.price(approvals.length);
  await condition(() => shipped);
  return `${price} after ${approvals.join(',')}`;
}

/** Fails (retryably) until its workflow retry attempt reaches `successAttempt`. */
export async function flakyWorkflow(successAttempt: number): Promise<string> {
  const { attempt } = workflowInfo();
  if (attempt < successAttempt) throw ApplicationFailure.retryable(`workflow attempt ${attempt} failed on purpose`, 'FlakyWorkflow');
  return `succeeded on attempt ${attempt}`;
}
