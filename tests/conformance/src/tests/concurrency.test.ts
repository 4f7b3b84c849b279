// Concurrency: 200 workflows spread over the history shards, each taking several signals that race
// its workflow task completions. Every history ends with contiguous event ids and no signal is lost.
import assert from 'node:assert/strict';
import { assertContiguousHistory, conformanceFile, heavyFile, uniqueName } from '../harness';
import { addItemSignal, cartWorkflow } from '../workflows';

heavyFile('concurrency');
const file = conformanceFile({ name: 'concurrency' });

const WORKFLOWS = 200;
const SIGNALS = 5;

file.test(`${WORKFLOWS} workflows × ${SIGNALS} racing signals: contiguous histories, no lost signal`, async (_t, env) => {
  const handles = await Promise.all(
    Array.from({ length: WORKFLOWS }, (_, i) =>
      env.client.workflow.start(cartWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName(`race-${i}`), args: [SIGNALS, 1000] }),
    ),
  );
  // All signals at once: they land while workflow tasks of the same runs are being completed.
  await Promise.all(handles.flatMap((h) => Array.from({ length: SIGNALS }, (_, s) => h.signal(addItemSignal, s + 1))));
  const results = await Promise.all(handles.map((h) => h.result()));
  for (const [i, result] of results.entries()) {
    assert.equal(result.items, SIGNALS, `workflow ${i} saw every signal`);
    assert.equal(result.sum, (SIGNALS * (SIGNALS + 1)) / 2, `workflow ${i} counted each signal once`);
  }
  for (const handle of handles) await assertContiguousHistory(handle);
}, { timeoutMs: 180_000 });
