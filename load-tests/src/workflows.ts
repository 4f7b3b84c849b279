// Workflow code for the benchmarks (runs in the SDK's workflow sandbox).
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(input: string): Promise<string> }>({ startToCloseTimeout: '30s' });

/** One activity, then return: the cheapest end-to-end unit (omes' workflow_with_single_noop_activity). */
export async function singleActivity(input: string): Promise<string> {
  return noop(input);
}
