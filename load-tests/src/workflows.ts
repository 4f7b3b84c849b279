// Workflow code for the benchmarks (runs in the SDK's workflow sandbox).
import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(input: string): Promise<string> }>({ startToCloseTimeout: '30s' });

/** One activity, then return: the cheapest end-to-end unit (omes' workflow_with_single_noop_activity). */
export async function singleActivity(input: string): Promise<string> {
  return noop(input);
}

/** Schedules `count` activities in one workflow task: one tenant's big fan-out. */
export async function fanOut(count: number): Promise<number> {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => noop(`a${i}`)));
  return results.length;
}

export const tick = defineSignal('tick');

/** Takes `target` signals: one tenant's signal storm. */
export async function countSignals(target: number): Promise<number> {
  let ticks = 0;
  setHandler(tick, () => void (ticks += 1));
  await condition(() => ticks >= target);
  return ticks;
}

export const stop = defineSignal('stop');
export const ticksQuery = defineQuery<number>('ticks');
export const ping = defineUpdate<number>('ping');

/**
 * An entity for the k6 load test (load-tests/k6) and the long-history bench: counts `tick` signals,
 * answers the `ticks` query and the `ping` update (one workflow task on the sticky worker, whatever
 * the history's length), and ends on `stop` (or when the soak run's cleanup terminates it).
 */
export async function k6Entity(): Promise<number> {
  let ticks = 0;
  let stopped = false;
  setHandler(tick, () => void (ticks += 1));
  setHandler(ticksQuery, () => ticks);
  setHandler(ping, () => ticks);
  setHandler(stop, () => void (stopped = true));
  await condition(() => stopped);
  return ticks;
}

