// Workflows for the visibility suite: search attributes and memo changed from workflow code.
import { condition, defineSignal, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';

export const visibilityFinish = defineSignal('finish');

/** Upserts the Tier and Score attributes and a memo key in its first workflow task, then waits for `finish`. */
export async function upsertsThenWaits(tier: string, score: number): Promise<void> {
  let finished = false;
  setHandler(visibilityFinish, () => void (finished = true));
  upsertSearchAttributes({ Tier: [tier], Score: [score] });
  upsertMemo({ note: `tier ${tier}` });
  await condition(() => finished);
}

/** Upserts an attribute the namespace never registered: its workflow task fails (BAD_SEARCH_ATTRIBUTES). */
export async function upsertsUnregistered(): Promise<void> {
  upsertSearchAttributes({ NeverRegistered: ['x'] });
  await condition(() => false);
}
