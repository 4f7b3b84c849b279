// Workflows of eager-start-inline.test.ts: the round trips the server saves (eager start, the next
// workflow task inline in a completion's response).
import { condition, defineSignal, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';

const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });

export const roundTripTick = defineSignal('tick');

/**
 * Runs a local activity of `ms` (its workflow task stays open meanwhile, so signals sent then are
 * buffered by the server), then waits for `ticks` tick signals; returns how many it got.
 */
export async function ticksAfterLocalActivity(ms: number, ticks: number): Promise<number> {
  let got = 0;
  setHandler(roundTripTick, () => void (got += 1));
  await local.sleepThenEcho('local', ms);
  await condition(() => got >= ticks);
  return got;
}
