// Queries right after a worker restart: the old worker's sticky queue is gone, so each query goes
// to the normal queue at once (as Temporal does) and the new worker answers it by replaying —
// never a 20 s wait for a worker that will not come back.
import assert from 'node:assert/strict';
import { conformanceFile, uniqueName } from '../harness';
import { addItemSignal, cartStateQuery, cartWorkflow } from '../workflows';

const file = conformanceFile({ name: 'query-after-restart' });

const QUERIES = 50;
const WITHIN_MS = 2000;

file.test(`a query after a worker restart is answered within ${WITHIN_MS / 1000} s, ${QUERIES} times in a row`, async (_t, env) => {
  const handle = await env.client.workflow.start(cartWorkflow, { taskQueue: env.taskQueue, workflowId: uniqueName('cart'), args: [1000, 1000] });
  await handle.signal(addItemSignal, 5);
  assert.equal((await handle.query(cartStateQuery)).items, 1, 'the first worker answers (sticky)');
  await env.worker!.shutdown();
  await env.startExtraWorker();
  for (let i = 0; i < QUERIES; i++) {
    const started = Date.now();
    const state = await handle.query(cartStateQuery);
    const took = Date.now() - started;
    assert.equal(state.items, 1);
    assert.ok(took < WITHIN_MS, `query ${i + 1} took ${took} ms`);
  }
  await handle.terminate('test done');
});
