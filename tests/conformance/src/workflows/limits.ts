// Workflows for the hardening suite: Temporal's limits seen from workflow code, properties that a
// reset must keep as the workflow left them, and a long-lived lock service that continues as new
// when the server suggests it (Temporal's own mutex pattern).
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '30s' });

/** Schedules `count` activities at once (one workflow task) and returns how many completed. */
export async function fanOutActivities(count: number): Promise<number> {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => acts.echo(`a${i}`)));
  return results.length;
}

/** Sleeps 1 ms at a time until the server suggests continuing as new; returns the history length it saw. */
export async function untilContinueAsNewSuggested(maxTimers: number): Promise<{ suggested: boolean; historyLength: number }> {
  for (let i = 0; i < maxTimers && !workflowInfo().continueAsNewSuggested; i++) await sleep(1);
  return { suggested: workflowInfo().continueAsNewSuggested, historyLength: workflowInfo().historyLength };
}

/** Runs activities one after the other, forever (until the server stops it). */
export async function endlessActivities(): Promise<never> {
  for (;;) await acts.echo('again');
}

export const doneSignal = defineSignal('done');

/** Sets memo keys and search attributes, then unsets one of each in a later workflow task, then waits. */
export async function propertiesSetThenUnset(): Promise<void> {
  let done = false;
  setHandler(doneSignal, () => void (done = true));
  upsertMemo({ keep: 'kept', gone: 'soon gone' });
  upsertSearchAttributes({ CustomKeywordField: ['kept'], CustomIntField: [7] });
  await sleep(1);
  upsertMemo({ gone: undefined });
  upsertSearchAttributes({ CustomIntField: [] });
  await sleep(1);
  await condition(() => done);
}

// ---- A lock service as Temporal's mutex sample writes it ----

export interface LockState {
  /** Clients granted the lock so far, in order, across every run of the chain. */
  granted: string[];
  /** Requests not yet served, carried into the next run. */
  waiting: string[];
  runs: number;
}
export const lockRequestSignal = defineSignal<[string]>('lockRequest');
export const lockStateQuery = defineQuery<LockState>('lockState');

/**
 * Grants the lock to one requester at a time (holding it for a short timer each), and continues as
 * new — carrying the queue — as soon as the server suggests it, instead of growing forever.
 */
export async function lockWorkflow(state: LockState = { granted: [], waiting: [], runs: 1 }): Promise<void> {
  const waiting = [...state.waiting];
  const granted = [...state.granted];
  setHandler(lockRequestSignal, (clientId: string) => void waiting.push(clientId));
  setHandler(lockStateQuery, () => ({ granted, waiting, runs: state.runs }));
  while (!workflowInfo().continueAsNewSuggested) {
    await condition(() => waiting.length > 0);
    const clientId = waiting.shift() as string;
    granted.push(clientId);
    await sleep(1); // the holder's critical section
  }
  await continueAsNew<typeof lockWorkflow>({ granted, waiting, runs: state.runs + 1 });
}

export const tickSignal = defineSignal('tick');

/** Counts `tick` signals until it has `target` of them. */
export async function countSignals(target: number): Promise<number> {
  let ticks = 0;
  setHandler(tickSignal, () => void (ticks += 1));
  await condition(() => ticks >= target);
  return ticks;
}
